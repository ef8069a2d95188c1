"""Writing ``SearchDocument`` rows: what of each page is searchable, and keeping the
rows in step with the pages.

The only code that writes documents. A page may also list routes of its own
(``search_routes()``: ``[{"route", "title", "text", "facts"}]``, e.g. 志愿服务's
team pages): each gets a document of its own (``route``), kept in step with
the page's. Called from the page signals (``signals.py``),
the rebuild command and tests. Every page type is indexed through its stock
``search_fields`` (so a new page type is searchable the day it is added) plus the
extras below that residents search by but the stock index leaves out: a community's
short name and 板块 texts, an honour's year, category, community and programme,
an activity's community, organiser, type and status, an article's tags.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from django.db import transaction
from django.db.models import Manager
from django.utils import timezone
from wagtail.models import Page
from wagtail.search import index
from wagtail.search.backends import get_search_backends

from . import terms
from .models import Kind, SearchDocument
from .text import pinyin_tokens, segment


def _kind(page) -> str:
    from events.models import EventPage
    from home.models import ArticlePage, CommunityPage, HonourPage

    if isinstance(page, EventPage):
        return Kind.ACTIVITY
    if isinstance(page, CommunityPage):
        return Kind.COMMUNITY
    if isinstance(page, HonourPage):
        return Kind.HONOUR
    if isinstance(page, ArticlePage):
        return Kind.NEWS
    return Kind.PAGE


def _strings(value) -> list[str]:
    """A search field's value as strings (StreamField and rich text arrive as lists
    of plain text from Wagtail's own get_searchable_content)."""
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for item in value.values() for s in _strings(item)]
    if isinstance(value, (list, tuple)):
        return [s for item in value for s in _strings(item)]
    return [str(value)]


def _field_texts(obj, fields) -> list[str]:
    texts = []
    for field in fields:
        if isinstance(field, index.SearchField):
            if field.field_name != "title":
                texts += _strings(field.get_value(obj))
        elif isinstance(field, index.RelatedFields):
            related = field.get_value(obj)
            if related is None:
                continue
            items = related.all() if isinstance(related, Manager) else [related]
            for item in items:
                texts += _field_texts(item, field.fields)
    return texts


def _prose(page) -> list[str]:
    """What the page says in sentences, in reading order: the excerpt source."""
    from events.models import EventPage
    from home.models import CommunityPage, HomePage, HonourPage

    texts = []
    if isinstance(page, HomePage):
        texts += [page.banner_title, page.banner_text]
    if isinstance(page, HonourPage):
        texts.append(page.citation)
    if isinstance(page, EventPage) and page.status_reason:
        texts.append(page.status_reason)
    for name in ("summary", "intro"):
        texts.append(getattr(page, name, "") or "")
    if not any(texts) and page.search_description:
        texts.append(page.search_description)
    for name in ("story", "body"):
        value = getattr(page, name, None)
        if value is not None and hasattr(value, "stream_block"):
            texts += value.stream_block.get_searchable_content(value)
    if isinstance(page, CommunityPage):
        for sub in page.sub_brands.all():
            texts += [sub.name, sub.text]
    return [" ".join(t.split()) for t in texts if t and t.strip()]


def _join_prose(pieces: Iterable[str]) -> str:
    """Paragraphs as one text: no space after a sentence that ends in Chinese
    punctuation (it would show in the snippet), one after anything else."""
    out = ""
    for piece in pieces:
        if out and out[-1] not in "。！？；…”」）":
            out += " "
        out += piece
    return out


def _title_extras(page) -> list[str]:
    """Names that are as good as the title: a community's brand and short name."""
    from home.models import CommunityPage

    if isinstance(page, CommunityPage):
        return [page.brand_name, page.short_name]
    return []


def _facts(page) -> list[str]:
    """Words residents search by that are not sentences: names, years, types."""
    from events.models import EventPage, LecturePage
    from home.models import (
        ArticlePage,
        CommunityPage,
        HonourIndexPage,
        HonourPage,
    )

    facts = [page.seo_title, page.search_description]
    community = getattr(page, "community", None)
    if community is not None:
        facts += [community.title, community.short_name, community.brand_name]
    if isinstance(page, CommunityPage):
        facts += [page.slogan, page.address]
        facts += [image.caption for image in page.gallery_images.all()]
    if isinstance(page, HonourPage):
        parent = page.get_parent().specific
        programme = getattr(parent, "programme_name", "")
        facts += [str(page.year), page.category, page.person_name, programme]
    if isinstance(page, HonourIndexPage):
        # The index is browsed by year: "2025 花园榜样" should find it first.
        years = HonourPage.objects.child_of(page).live().values_list("year", flat=True)
        facts += [page.programme_name, *sorted({str(y) for y in years})]
    if isinstance(page, ArticlePage):
        facts += [str(page.date.year), *page.tags.names()]
    if isinstance(page, EventPage):
        facts += [page.kind_label, page.organiser, page.venue]
        facts.append(str(timezone.localtime(page.start).year))
        if page.status != "scheduled":
            facts.append(page.get_status_display())
    if isinstance(page, LecturePage) and page.lecturer is not None:
        facts += [page.lecturer.name, page.lecturer.title]
    return [f for f in facts if f]


def _schedule(page, now: datetime) -> tuple[datetime | None, datetime | None]:
    """(next session start, end of the last session) of an activity, or Nones."""
    from events.models import EventPage

    if not isinstance(page, EventPage) or page.is_cancelled:
        return None, None
    slots = page.schedule()
    if not slots:
        return None, None
    to_come = [s for s in slots if (s.end or s.start) >= now]
    last = slots[-1]
    return (to_come[0].start if to_come else None), (last.end or last.start)


def document_fields(page, now: datetime | None = None) -> dict:
    """The values of a page's document (``page`` is the specific page)."""
    now = now or timezone.now()
    prose = _prose(page)
    title_texts = [page.title, *_title_extras(page)]
    title_tokens = [t for text in title_texts for t in segment(text)]
    title_tokens += [t for text in title_texts for t in pinyin_tokens(text)]
    body_texts = prose + _facts(page) + _field_texts(page, page.get_search_fields())
    body_tokens = [t for text in dict.fromkeys(body_texts) for t in segment(text)]
    next_start, ends_at = _schedule(page, now)
    return {
        "kind": _kind(page),
        "title": " ".join(title_tokens),
        "body": " ".join(body_tokens),
        "text": _join_prose(dict.fromkeys(prose)),
        "next_start": next_start,
        "ends_at": ends_at,
    }


def route_fields(page, route: dict) -> dict:
    """The values of the document of one of ``page``'s routes, from what
    ``page.search_routes()`` says of it: ``route`` (relative to the page's URL),
    ``title``, and optionally ``label`` (the title a result shows, when it
    says more than the indexed title: a team's community), ``text`` (sentences,
    the snippet's source) and ``facts`` (names and words residents search by).
    The page's title counts as a fact, so a route is found by the page's name
    too."""
    title = route["title"]
    prose = [" ".join(t.split()) for t in [route.get("text") or ""] if t.strip()]
    facts = [*route.get("facts", ()), page.title]
    body_texts = [*prose, *(f for f in facts if f)]
    return {
        "kind": _kind(page),
        "title": " ".join([*segment(title), *pinyin_tokens(title)]),
        "body": " ".join(
            t for text in dict.fromkeys(body_texts) for t in segment(text)
        ),
        "text": _join_prose(prose),
        "next_start": None,
        "ends_at": None,
        "route_title": route.get("label", title)[:120],
    }


def routes_of(page) -> dict[str, dict]:
    """{route: document values} of the routes ``page`` lists (none for a page
    without ``search_routes``)."""
    listed = getattr(page, "search_routes", None)
    if listed is None:
        return {}
    return {route["route"]: route_fields(page, route) for route in listed()}


def is_indexable(page) -> bool:
    """Live, public, routable content: not the tree root, not an alias (its
    original is indexed), not under a view restriction."""
    return (
        page.live
        and page.depth > 1
        and page.alias_of_id is None
        and not page.get_view_restrictions().exists()
    )


def refresh_document(page, now: datetime | None = None) -> SearchDocument | None:
    """Create, update or delete ``page``'s document to match the page as it is
    now. Returns the document, or None when the page is not searchable."""
    page = page.specific
    if not is_indexable(page):
        remove_document(page)
        return None
    terms.note_terms(terms.page_terms(page))
    terms.ensure_loaded()
    document, _ = SearchDocument.objects.update_or_create(
        page_id=page.pk, route="", defaults=document_fields(page, now)
    )
    routes = routes_of(page)
    for route, fields in routes.items():
        SearchDocument.objects.update_or_create(
            page_id=page.pk, route=route, defaults=fields
        )
    # Routes no longer listed (a team deleted); through the queryset, so that
    # Wagtail's post_delete handler removes their index entries.
    SearchDocument.objects.filter(page_id=page.pk).exclude(
        route__in=["", *routes]
    ).delete()
    return document


def remove_document(page) -> None:
    # Deleting through the queryset sends post_delete, which is how Wagtail's
    # signal handler removes the index entry.
    SearchDocument.objects.filter(page_id=page.pk).delete()


def refresh_pages(pages: Iterable[Page]) -> None:
    for page in pages:
        refresh_document(page)


def refresh_subtree(page: Page) -> None:
    """Documents of ``page`` and every page below it (after a move, unpublish or a
    change of view restriction, which change whether descendants are public)."""
    refresh_pages(Page.objects.descendant_of(page, inclusive=True).specific())


def dependants(page) -> list[Page]:
    """Pages whose document repeats something of ``page``: the honours, news and
    activities of a community (its name), the honours under a 榜样 index (the
    programme name), the index above an honour (the years it lists)."""
    from events.models import EVENT_MODELS
    from home.models import ArticlePage, CommunityPage, HonourIndexPage, HonourPage

    if isinstance(page, CommunityPage):
        pages = list(HonourPage.objects.filter(community=page))
        pages += ArticlePage.objects.filter(community=page)
        for model in EVENT_MODELS:
            pages += model.objects.filter(community=page)
        return pages
    if isinstance(page, HonourIndexPage):
        return list(HonourPage.objects.child_of(page))
    if isinstance(page, HonourPage):
        return [page.get_parent()]
    return []


def rebuild_documents(now: datetime | None = None) -> dict[str, int]:
    """Make the documents match the pages exactly: one per indexable page, none
    for any other; then (re)index them all in every search backend. Safe to run
    at any time and as often as wanted."""
    now = now or timezone.now()
    terms.content_changed()
    terms.ensure_loaded()
    pages = (
        Page.objects.live()
        .public()
        .filter(depth__gt=1, alias_of__isnull=True)
        .specific()
    )
    existing = {(d.page_id, d.route): d for d in SearchDocument.objects.all()}
    created, updated, keep = [], [], set()
    field_names = [
        "kind",
        "title",
        "body",
        "text",
        "next_start",
        "ends_at",
        "route_title",
    ]
    for page in pages.iterator(chunk_size=500):
        wanted = {"": {**document_fields(page, now), "route_title": ""}}
        wanted.update(routes_of(page))
        for route, fields in wanted.items():
            keep.add((page.pk, route))
            document = existing.get((page.pk, route))
            if document is None:
                created.append(SearchDocument(page_id=page.pk, route=route, **fields))
            elif any(getattr(document, k) != v for k, v in fields.items()):
                for name, value in fields.items():
                    setattr(document, name, value)
                document.updated_at = timezone.now()
                updated.append(document)
    stale = [d.pk for key, d in existing.items() if key not in keep]
    with transaction.atomic():
        # Bulk writes send no signals; the index is brought up to date below in
        # one pass per backend instead of one write per document.
        SearchDocument.objects.bulk_create(created, batch_size=500)
        SearchDocument.objects.bulk_update(
            updated, [*field_names, "updated_at"], batch_size=500
        )
        SearchDocument.objects.filter(pk__in=stale).delete()
        documents = list(SearchDocument.objects.all())
        for backend in get_search_backends(with_auto_update=True):
            backend.add_bulk(SearchDocument, documents)
    return {
        "created": len(created),
        "updated": len(updated),
        "deleted": len(stale),
        "total": len(documents),
    }
