"""The site search page (/search/): Chinese-aware, see ``search/engine.py``.

A fixed number of queries however many pages match: the candidates come in one
query, the ten documents shown (with their pages, for title and URL) in one more.
Whatever the query — empty, one character, 200 characters, emoji, quotes, FTS or
SQL syntax — the page answers 200 with a message in plain Chinese.
"""

from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.safestring import SafeString
from wagtail.models import Site

from core.models import filter_query, paginate

from . import engine
from .highlight import highlight, snippet
from .models import Kind
from .text import MAX_QUERY_LENGTH, pinyin_matches

PER_PAGE = 10
EXAMPLES = ["讲堂", "重阳节", "花园榜样", "甲院", "jiayuan", "xfjt"]


@dataclass
class Result:
    url: str
    kind: str
    kind_label: str
    title: SafeString
    snippet: SafeString
    upcoming_start: datetime | None
    ended: bool


def _roots(request):
    """(current site, Wagtail's cached site root paths) — no database query once
    the request knows its site."""
    return Site.find_for_request(request), Site.get_site_root_paths()


def page_url(url_path: str, site, roots) -> str | None:
    """What ``Page.get_url(request)`` returns for a page with ``url_path`` (our page
    types keep Wagtail's URL scheme), without building the Page: relative on the
    current site, absolute on another, None when no site holds it."""
    possible = [root for root in roots if url_path.startswith(root.root_path)]
    if not possible:
        return None
    chosen = next(
        (root for root in possible if site and root.site_id == site.pk), possible[0]
    )
    path = reverse("wagtail_serve", args=(url_path[len(chosen.root_path) :],))
    if not getattr(settings, "WAGTAIL_APPEND_SLASH", True) and path != "/":
        path = path.rstrip("/")
    single_site = len({root.site_id for root in roots}) == 1
    if single_site or (site and chosen.site_id == site.pk):
        return path
    return chosen.root_url + path


def _site_root(site, roots) -> str:
    """The url_path of the requesting site's home page ("" for any site)."""
    for root in roots:
        if site and root.site_id == site.pk:
            return root.root_path
    return ""


def _results(hits, query, now, site, roots) -> list[Result]:
    marks = query.highlight_terms
    ascii_words = [c.word for c in query.concepts if c.word.isascii()]
    results = []
    for hit in hits:
        url = page_url(hit.url_path, site, roots)
        if url is None:  # not under any site: nothing to link to
            continue
        title_marks = marks + pinyin_matches(hit.title, ascii_words)
        is_activity = hit.kind == Kind.ACTIVITY
        upcoming = is_activity and hit.ends_at and hit.ends_at >= now
        start = hit.next_start if upcoming else None
        if start is not None and start < now:
            start = None  # a recurring activity indexed a while ago
        results.append(
            Result(
                url=url,
                kind=hit.kind,
                kind_label=hit.get_kind_display(),
                title=highlight(hit.title, title_marks),
                snippet=snippet(hit.text, title_marks),
                upcoming_start=start,
                ended=bool(is_activity and hit.ends_at and not upcoming),
            )
        )
    return results


def search(request):
    raw = request.GET.get("q") or ""
    query_text = " ".join(raw.split())[:MAX_QUERY_LENGTH]
    kind = request.GET.get("type") or ""
    if kind not in Kind.values:
        kind = ""
    now = timezone.now()
    outcome = None
    results = None
    items = []
    if query_text:
        site, roots = _roots(request)
        outcome = engine.search(
            query_text, kind=kind, within=_site_root(site, roots), now=now
        )
        results = paginate(request, outcome.ids, PER_PAGE)
        hits = engine.load_hits(list(results.object_list))
        items = _results(hits, outcome.query, now, site, roots)
    counts = outcome.counts if outcome else {}
    kinds = [
        {
            "value": value,
            "label": label,
            "count": counts.get(value, 0),
            "query": filter_query(q=query_text, type=value).rstrip("&"),
        }
        for value, label in Kind.choices
    ]
    return TemplateResponse(
        request,
        "search/search.html",
        {
            "query": query_text,
            "too_long": len(" ".join(raw.split())) > MAX_QUERY_LENGTH,
            "searchable": bool(outcome and outcome.query),
            "outcome": outcome,
            "results": results,
            "items": items,
            "total": sum(counts.values()),
            "kind": kind,
            "kind_label": Kind(kind).label if kind else "",
            "kinds": kinds,
            "all_query": filter_query(q=query_text).rstrip("&"),
            "examples": EXAMPLES,
            "max_length": MAX_QUERY_LENGTH,
            "title": f"搜索：{query_text}" if query_text else "搜索",
            "query_prefix": filter_query(q=query_text, type=kind),
        },
    )
