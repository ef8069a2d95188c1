"""Recall@5 over the relevance set (tests/search/relevance.py): ours must find
every expected page of the titles, names, traditional characters, pinyin … in its
first five results, and at least 95% of those of residents' own words (colloquial
words, homophone slips, phrases of common words). Wagtail's stock
backend over the pages' own index is measured on the same set for comparison
(reported, not asserted). Both figures are printed at the end of the run and
written to test-output/search-recall.json."""

import json
import os
from pathlib import Path

import pytest
from django.db import connection
from wagtail.models import Page

from search import engine
from search.models import SearchDocument

from .relevance import QUERIES, RESIDENT_KINDS

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]
OUTPUT = Path(os.environ.get("TEST_OUTPUT", ROOT / "test-output"))
TOP = 5


def our_top(query: str, root_path: str) -> list[str]:
    ids = engine.search(query, within=root_path).ids[:TOP]
    slugs = dict(
        SearchDocument.objects.filter(pk__in=ids).values_list("pk", "page__slug")
    )
    return [slugs[pk] for pk in ids]


def stock_top(query: str) -> list[str]:
    try:
        pages = Page.objects.live().public().specific().search(query)[:TOP]
        return [page.slug for page in pages]
    except Exception:  # the stock backend may reject what a resident typed
        return []


def test_relevance_set_is_big_and_varied():
    assert len(QUERIES) >= 40
    kinds = {kind for _, _, kind in QUERIES}
    assert {"title", "body", "traditional", "pinyin", "initials", "mixed"} <= kinds
    assert "synonym" in kinds
    own = [kind for _, _, kind in QUERIES if kind in RESIDENT_KINDS]
    assert len(own) >= 30 and set(own) == RESIDENT_KINDS
    expected = {slug for _, slug, _ in QUERIES}
    assert Page.objects.filter(slug__in=expected).count() == len(expected)


def test_recall_at_5(home, recall_reports):
    ours, stock, misses = [], [], []
    for query, slug, kind in QUERIES:
        found = our_top(query, home.url_path)
        ours.append(slug in found)
        stock.append(slug in stock_top(query))
        if slug not in found:
            misses.append(
                {"query": query, "expected": slug, "kind": kind, "top": found}
            )
    recall = sum(ours) / len(QUERIES)
    stock_recall = sum(stock) / len(QUERIES)
    resident = [i for i, (_, _, kind) in enumerate(QUERIES) if kind in RESIDENT_KINDS]
    others = [i for i in range(len(QUERIES)) if i not in set(resident)]

    def share(found, indices):
        return round(sum(found[i] for i in indices) / len(indices), 3)

    report = {
        "database": connection.vendor,
        "queries": len(QUERIES),
        "recall_at_5": round(recall, 3),
        "stock_recall_at_5": round(stock_recall, 3),
        "residents_words": {
            "queries": len(resident),
            "recall_at_5": share(ours, resident),
            "stock_recall_at_5": share(stock, resident),
            **{
                kind: share(ours, [i for i in resident if QUERIES[i][2] == kind])
                for kind in sorted(RESIDENT_KINDS)
            },
        },
        "others_recall_at_5": share(ours, others),
        "misses": misses,
    }
    OUTPUT.mkdir(parents=True, exist_ok=True)
    path = OUTPUT / "search-recall.json"
    previous = json.loads(path.read_text()) if path.exists() else {}
    previous[connection.vendor] = report
    path.write_text(json.dumps(previous, ensure_ascii=False, indent=2) + "\n")
    recall_reports.append(report)
    assert report["others_recall_at_5"] == 1.0, misses
    assert report["residents_words"]["recall_at_5"] >= 0.95, misses
