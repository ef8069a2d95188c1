"""Search latency benchmark: generate pages, then time our search against a plain
title lookup over the same queries (``manage.py bench_search``, ``make
bench-search``).

Generated pages are built from the demo's own sentences and names (seeded, so the
same count always gives the same site) under a separate home page ``bench``, so
the command can run in any database; ``make bench-search`` gives it a database of
its own. Pages are created without search auto-update, then indexed in bulk: the
stock page index (so the index tables hold what a real site's would) and our
documents (``rebuild_documents``).
"""

from __future__ import annotations

import gc
import random
import re
import statistics
import time
from datetime import datetime, timedelta

from django.db import connection, transaction
from django.test.utils import override_settings
from django.utils import timezone
from wagtail.models import Page
from wagtail.search.backends import get_search_backends

from demo import content

BENCH_SLUG = "bench"
PER_RESULT_PAGE = 10

# What residents type: words from titles and bodies, names, traditional
# characters, pinyin and initials, digits with words, synonyms, colloquial
# words, homophone slips, phrases of common words, misses.
QUERIES = [
    "讲堂",
    "先锋讲堂",
    "榜样",
    "花园榜样",
    "月饼",
    "重阳节",
    "中秋",
    "社区",
    "甲院",
    "戊院社區",
    "志愿者",
    "老人",
    "孩子",
    "义诊",
    "红色物业",
    "时间银行",
    "九在楼组",
    "垃圾分类",
    "防诈骗",
    "书画课",
    "邻里节",
    "饺子",
    "党建引领",
    "好邻居",
    "jiayuan",
    "xfjt",
    "huayuan",
    "2025 花园榜样",
    "２０２６",
    "老旧小区改造",
    "四点钟课堂",
    "张桂兰",
    "红旗渠",
    # residents' own words: colloquial, homophone slips, common-words phrases
    "量血压",
    "写对联",
    "农业园",
    "五院社区",
    "孩子放学去哪",
    "家里电器坏了找谁修",
    "不存在的词",
]


def _sentences() -> list[str]:
    """Every sentence of the demo content."""
    texts = []
    for community in content.COMMUNITIES:
        texts += community["story"]
        texts += [sub["text"] for sub in community["sub_brands"]]
    for honour in content.HONOURS:
        texts += [honour["citation"], *honour["story"]]
    for article in content.ARTICLES:
        texts += [article["summary"], *article["body"]]
    texts += [a["summary"] for a in content.ACTIVITIES]
    texts += content.ABOUT["body"]
    sentences = []
    for text in texts:
        sentences += [s + "。" for s in re.split(r"[。！？]", text) if len(s) > 6]
    return sentences


def _phrases() -> list[str]:
    """Short title-like phrases from the demo's titles."""
    titles = [a["title"] for a in content.ARTICLES]
    titles += [a["title"] for a in content.ACTIVITIES]
    titles += [h["title"] for h in content.HONOURS]
    phrases = []
    for title in titles:
        phrases += [p for p in re.split(r"[：:\s“”、，]+", title) if 2 <= len(p) <= 14]
    return phrases


class Generator:
    """Creates ``count`` pages of every kind under a ``bench`` home page."""

    def __init__(self, seed: int = 20261):
        self.random = random.Random(seed)
        self.sentences = _sentences()
        self.phrases = _phrases()
        self.communities = [c["title"] for c in content.COMMUNITIES]
        self.people = content.DEMO_RESIDENTS + [h["person"] for h in content.HONOURS]

    def paragraph(self, n: int) -> str:
        return "".join(self.random.choice(self.sentences) for _ in range(n))

    def title(self, n: int) -> str:
        parts = [self.random.choice(self.phrases) for _ in range(2)]
        return f"{parts[0]} {parts[1]}（{n}）"

    def tree(self):
        from events.models import EventIndexPage
        from home.models import (
            CommunityIndexPage,
            HomePage,
            HonourIndexPage,
            NewsIndexPage,
        )

        root = Page.get_first_root_node()
        home = root.get_children().filter(slug=BENCH_SLUG).first()
        if home is None:
            home = root.add_child(
                instance=HomePage(
                    title="基准测试", slug=BENCH_SLUG, banner_title="基准"
                )
            )
        home = home.specific
        parents = {}
        for model, slug, title in (
            (NewsIndexPage, "news", "街道动态"),
            (EventIndexPage, "activities", "活动日历"),
            (HonourIndexPage, "honours", "花园榜样"),
            (CommunityIndexPage, "communities", "一社一品"),
        ):
            page = home.get_children().filter(slug=slug).first()
            parents[slug] = (
                page.specific
                if page
                else home.add_child(instance=model(title=title, slug=slug))
            )
        return home, parents

    def page(self, n: int, parents: dict, now: datetime):
        from events.models import ActivityPage, FestivalActivityPage, LecturePage
        from home.models import ArticlePage, CommunityPage, HonourPage

        r = self.random
        paragraphs = [("paragraph", f"<p>{self.paragraph(3)}</p>") for _ in range(3)]
        community = r.choice(self.communities)
        kind = r.random()
        slug = f"p{n}"
        if kind < 0.4:
            return parents["news"], ArticlePage(
                title=self.title(n),
                slug=slug,
                date=(now - timedelta(days=r.randint(0, 900))).date(),
                summary=self.paragraph(1)[:120],
                body=paragraphs,
            )
        if kind < 0.7:
            start = now + timedelta(days=r.randint(-120, 120), hours=r.randint(0, 10))
            common = {
                "title": f"{community}{self.title(n)}",
                "slug": slug,
                "start": start,
                "end": start + timedelta(hours=2),
                "venue": f"{community}党群服务中心",
                "summary": self.paragraph(1)[:120],
                "body": paragraphs,
            }
            which = r.random()
            if which < 0.3:
                return parents["activities"], LecturePage(
                    series="先锋讲堂", topic=self.random.choice(self.phrases), **common
                )
            if which < 0.45:
                return parents["activities"], FestivalActivityPage(
                    festival="中秋节", **common
                )
            return parents["activities"], ActivityPage(**common)
        if kind < 0.9:
            person = r.choice(self.people)
            return parents["honours"], HonourPage(
                title=f"{person}：{r.choice(self.phrases)}（{n}）",
                slug=slug,
                person_name=person,
                year=r.randint(2019, 2026),
                category=r.choice(content.HONOUR_CATEGORIES),
                citation=self.paragraph(2)[:280],
                body=paragraphs,
            )
        return parents["communities"], CommunityPage(
            title=f"{community[:-2]}{n}社区",
            slug=slug,
            short_name=f"{community[:-2]}{n}"[:20],
            brand_name=r.choice(self.phrases)[:60],
            summary=self.paragraph(1)[:180],
            story=paragraphs,
        )

    def ensure(self, count: int, stdout=None) -> Page:
        """At least ``count`` generated pages exist; returns the bench home."""
        home, parents = self.tree()
        existing = Page.objects.descendant_of(home).count() - len(parents)
        if existing >= count:
            return home
        now = timezone.now()
        for n in range(existing):  # replay the generator so new pages continue it
            self.page(n, parents, now)
        with override_settings(
            WAGTAILSEARCH_BACKENDS=_without_auto_update(),
        ):
            for n in range(existing, count):
                parent, page = self.page(n, parents, now)
                with transaction.atomic():
                    parent.add_child(instance=page)
                if stdout and (n + 1) % 500 == 0:
                    stdout.write(f"  已生成 {n + 1} / {count} 个页面")
        _index_pages(home)
        return home


def _without_auto_update() -> dict:
    from django.conf import settings

    return {
        name: {**params, "AUTO_UPDATE": False}
        for name, params in settings.WAGTAILSEARCH_BACKENDS.items()
    }


def _index_pages(home) -> None:
    """The stock page index for the generated pages, one bulk pass per type."""
    pages = Page.objects.descendant_of(home, inclusive=True).specific()
    by_model: dict[type, list] = {}
    for page in pages.iterator(chunk_size=500):
        by_model.setdefault(type(page), []).append(page)
    for backend in get_search_backends(with_auto_update=True):
        for model, items in by_model.items():
            backend.add_bulk(model, items)


def analyse() -> None:
    """Fresh statistics (and, on PostgreSQL, no dead rows from the bulk load) for
    both methods alike, as autovacuum would have on a running site."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # VACUUM cannot run in a transaction (the short run in the tests).
            atomic = connection.in_atomic_block
            cursor.execute("ANALYZE" if atomic else "VACUUM ANALYZE")
        elif connection.vendor == "sqlite":
            cursor.execute("ANALYZE")


def percentile(values: list[float], fraction: float) -> float:
    """The value below which ``fraction`` of ``values`` fall (nearest rank)."""
    ordered = sorted(values)
    index = max(0, min(len(ordered) - 1, round(fraction * len(ordered) + 0.5) - 1))
    return ordered[index]


def run_ours(query: str, within: str) -> int:
    """One search as the results page runs it: segment the query, ask the index,
    order, load the first page of results with their pages."""
    from search import engine

    outcome = engine.search(query, within=within)
    return len(engine.load_hits(outcome.ids[:PER_RESULT_PAGE]))


def run_title_lookup(query: str) -> int:
    return len(list(Page.objects.live().filter(title__icontains=query)[:10]))


def measure(queries: list[str], rounds: int, within: str) -> dict:
    """Milliseconds per query for both methods, interleaved so that both see the
    same caches; one unmeasured warm-up round first."""
    for query in queries:
        run_ours(query, within)
        run_title_lookup(query)
    ours: dict[str, list[float]] = {q: [] for q in queries}
    title: dict[str, list[float]] = {q: [] for q in queries}
    hits: dict[str, tuple[int, int]] = {}
    # Like timeit: the garbage collector stays off while timing (it would pause
    # whichever call happens to cross its threshold) and runs between rounds.
    gc.collect()
    gc.disable()
    try:
        for _ in range(rounds):
            for query in queries:
                start = time.perf_counter()
                found = run_ours(query, within)
                middle = time.perf_counter()
                found_title = run_title_lookup(query)
                end = time.perf_counter()
                ours[query].append((middle - start) * 1000)
                title[query].append((end - middle) * 1000)
                hits[query] = (found, found_title)
            gc.collect()
    finally:
        gc.enable()
    all_ours = [t for times in ours.values() for t in times]
    all_title = [t for times in title.values() for t in times]
    summary = {
        "ours": {"p50": percentile(all_ours, 0.5), "p95": percentile(all_ours, 0.95)},
        "title_lookup": {
            "p50": percentile(all_title, 0.5),
            "p95": percentile(all_title, 0.95),
        },
    }
    summary["ratio"] = {
        key: summary["ours"][key] / summary["title_lookup"][key]
        for key in ("p50", "p95")
    }
    summary["per_query"] = [
        {
            "query": query,
            "ours_ms": statistics.median(ours[query]),
            "title_lookup_ms": statistics.median(title[query]),
            "ours_results": hits[query][0],
            "title_lookup_results": hits[query][1],
        }
        for query in queries
    ]
    summary["database"] = connection.vendor
    return summary
