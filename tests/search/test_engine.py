"""search/engine.py and search/terms.py against the demo."""

import pytest
from django.core.cache import cache

from home.models import CommunityIndexPage, CommunityPage
from search import engine, terms, text
from search.models import SearchDocument

pytestmark = pytest.mark.django_db


def slugs(ids):
    found = dict(
        SearchDocument.objects.filter(pk__in=ids).values_list("pk", "page__slug")
    )
    return [found[pk] for pk in ids]


def test_every_concept_first_then_pages_with_some_when_few_have_all(monkeypatch):
    # one page holds both: it comes first, the pages holding either follow
    both = slugs(engine.search("中秋 重阳").ids)
    assert both[0] == "cixiao-wenhuajie-2026"
    assert {"zhongqiu-yuebing", "chongyang-jinglao"} <= set(both[1:])
    # enough pages hold every word: no second query, nothing else added
    calls = []
    real = engine.candidates
    monkeypatch.setattr(
        engine,
        "candidates",
        lambda groups, limit: calls.append(groups) or real(groups, limit),
    )
    many = engine.search("党员 社区")
    assert len(calls) == 1 and len(many.ids) >= engine.RELAX_BELOW
    monkeypatch.undo()
    # nothing holds both words: pages with either
    either = slugs(engine.search("月饼 民事调解").ids)
    assert {"zhongqiu-yuebing", "minshi-tiaojie"} <= set(either)


def test_substring_fallback_for_a_character_inside_words():
    outcome = engine.search("饺")
    assert outcome.substring and "dongzhi-jiaozi" in slugs(outcome.ids)


def test_wagtail_api_path_gives_the_same_pages(monkeypatch):
    """Another backend (Elasticsearch) is asked through Wagtail's search() API;
    run that path on the database backend and compare."""
    # Every match (no cut at the limit: two backends order equal scores apart;
    # the index also holds the pages' stock entries, which the scan counts).
    every = 100 * (SearchDocument.objects.count() + 1)
    for query in ["月饼", "jiayuan", "2025 花园榜样", "戊院社區"]:
        groups = text.parse_query(query).groups
        direct = {c.id for c in engine.candidates(groups, limit=every, scan=every)}
        monkeypatch.setattr(engine, "_database_candidates", lambda *a: None)
        via_api = {c.id for c in engine.candidates(groups, limit=every, scan=every)}
        monkeypatch.undo()
        assert via_api == direct, query


def test_scan_limit_bounds_the_work_for_a_word_on_every_page():
    groups = text.parse_query("社区").groups
    assert len(engine.candidates(groups, limit=100, scan=20)) <= 20
    assert len(engine.candidates(groups, limit=5)) == 5


def test_a_new_name_reaches_every_process_dictionary(monkeypatch):
    index = CommunityIndexPage.objects.get()
    page = CommunityPage(
        title="榆林苑社区", slug="yulinyuan", short_name="榆林苑", brand_name="榆香满院"
    )
    index.add_child(instance=page)
    page.save_revision().publish()
    assert {"榆林苑社区", "榆林苑", "榆香满院"} <= text.known_terms()
    # Another process had loaded an older version: it reloads on its next search.
    monkeypatch.setattr(terms, "_loaded_version", "older")
    calls = []
    monkeypatch.setattr(terms, "content_terms", lambda: calls.append(1) or [])
    engine.search("榆林苑")
    assert calls == [1]
    engine.search("榆林苑")
    assert calls == [1]  # once per change, not per search
    assert cache.get(terms.CACHE_KEY) == terms._loaded_version
    assert "yulinyuan" in slugs(engine.search("榆香满院").ids)


def test_a_pages_routes_beyond_two_follow_the_other_results():
    """Two dozen team pages of 志愿服务 must not fill the first screen."""

    def doc(id, page_id, route):
        return engine.Candidate(
            id, 0.0, "page", "", "", None, None, page_id=page_id, route=route
        )

    teams = [doc(n, 7, True) for n in range(1, 5)]
    honour, article = doc(10, 3, False), doc(11, 4, False)
    ordered = engine._routes_spread([*teams, honour, article])
    assert [c.id for c in ordered] == [1, 2, 10, 11, 3, 4]
