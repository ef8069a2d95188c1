"""The user dictionary built from the content: community names, 一社一品 brands and
板块, lecturers, honourees, programme names, lecture series, festivals, honour
categories and news tags; and the editors' synonym groups (搜索同义词), loaded
along with them.

Every process keeps its own jieba dictionary, so a process must learn when another
one published a page with a new name. A version number in the cache (Redis when
several processes run) says when the terms changed; a process reloads them from
the database when its loaded version differs. Correctness does not hang on it:
``text.segment`` also indexes the bigrams of long words, so a page whose name a
process does not know yet is still found — the dictionary makes results sharper.
"""

from __future__ import annotations

import threading
import uuid

from django.core.cache import cache

from . import text

CACHE_KEY = "search:terms-version"
_NOT_LOADED = object()
_loaded_version = _NOT_LOADED
_lock = threading.Lock()


def content_terms() -> list[str]:
    """Every term of the content (a handful of small queries)."""
    from events.lunar import Festival
    from events.models import Lecturer, LectureSeries
    from home.models import (
        ArticlePageTag,
        CommunityPage,
        CommunitySubBrand,
        HonourCategory,
        HonourIndexPage,
        HonourPage,
    )

    found = [*LectureSeries.values, *Festival.values, *HonourCategory.values]
    for row in CommunityPage.objects.values_list("title", "short_name", "brand_name"):
        found += row
    found += CommunitySubBrand.objects.values_list("name", flat=True)
    found += Lecturer.objects.values_list("name", flat=True)
    found += HonourPage.objects.values_list("person_name", flat=True)
    found += HonourIndexPage.objects.values_list("programme_name", flat=True)
    found += ArticlePageTag.objects.values_list("tag__name", flat=True).distinct()
    return [term for term in found if term]


def editor_synonym_groups() -> list[list[str]]:
    """The editors' synonym groups (one query)."""
    from .models import SynonymGroup, split_words

    return [
        split_words(words)
        for words in SynonymGroup.objects.values_list("words", flat=True)
    ]


def page_terms(page) -> list[str]:
    """The terms one page brings (``page`` is the specific page)."""
    from home.models import ArticlePage, CommunityPage, HonourIndexPage, HonourPage

    if isinstance(page, CommunityPage):
        return [
            page.title,
            page.short_name,
            page.brand_name,
            *(sub.name for sub in page.sub_brands.all()),
        ]
    if isinstance(page, HonourPage):
        return [page.person_name]
    if isinstance(page, HonourIndexPage):
        return [page.programme_name]
    if isinstance(page, ArticlePage):
        return list(page.tags.names())
    return []


def note_terms(candidates: list[str]) -> None:
    """Tell every process to reload when ``candidates`` holds a term this process
    does not know yet."""
    known = text.known_terms()
    pieces = {p for term in candidates for p in text.term_pieces(term or "")}
    if not pieces <= known:
        content_changed()


def content_changed() -> None:
    cache.set(CACHE_KEY, uuid.uuid4().hex, None)


def ensure_loaded() -> None:
    """Load the content's terms and the editors' synonym groups into this
    process when they changed since it last did (one cache read when nothing
    changed)."""
    global _loaded_version
    version = cache.get(CACHE_KEY)
    if version == _loaded_version:
        return
    with _lock:
        if version != _loaded_version:
            text.add_terms(content_terms())
            text.set_synonym_groups(editor_synonym_groups())
            _loaded_version = version
