"""The search index of the site: one ``SearchDocument`` per live, public page,
and one per route a page lists in ``search_routes()`` (``search/documents.py``).

Why a document table rather than the pages' own ``search_fields``: Wagtail's
database backends (SQLite FTS5's unicode61 tokenizer, PostgreSQL's default parser)
split text on spaces and punctuation only, so a Chinese sentence becomes one long
"word" and 讲堂 never matches 先锋讲堂. Feeding them text that is already segmented
(jieba), normalised (OpenCC, full-width) and enriched with pinyin — tokens joined by
spaces — makes every word a word to them. Doing that in a model of our own keeps:

- the pages' stock ``search_fields`` and Wagtail's admin search untouched (and the
  stock result comparable on the same database);
- the indexing in Wagtail's own backend (FTS5 on SQLite, tsvector on PostgreSQL,
  Elasticsearch by settings when the site outgrows them) — no index code of ours;
- one row per page with what a result line needs (kind, excerpt, next start), so
  the results page costs the same few queries however many pages match.

Documents are written by ``search.documents`` (publish/unpublish/move/delete
signals, ``manage.py rebuild_search_documents``), never by hand.
"""

import re

from django.core.exceptions import ValidationError
from django.db import models
from wagtail.search import index
from wagtail.search.queryset import SearchableQuerySetMixin


class Kind(models.TextChoices):
    ACTIVITY = "activity", "活动"
    COMMUNITY = "community", "社区"
    HONOUR = "honour", "榜样"
    NEWS = "news", "新闻"
    PAGE = "page", "页面"


class SearchDocumentQuerySet(SearchableQuerySetMixin, models.QuerySet):
    pass


class SearchDocument(index.Indexed, models.Model):
    page = models.ForeignKey(
        "wagtailcore.Page",
        on_delete=models.CASCADE,
        related_name="search_documents",
    )
    # "" for the page itself; else one of its routes ("teams/3/", relative to
    # the page's URL) that the page lists in ``search_routes()`` — a routable
    # page whose sub-pages are records rather than pages (志愿服务's teams).
    route = models.CharField("子页面", max_length=120, blank=True, default="")
    # The route's own title ("" for the page: its title is the page's).
    route_title = models.CharField("子页面标题", max_length=120, blank=True, default="")
    kind = models.CharField("类型", max_length=10, choices=Kind.choices)
    # Token text, space separated: the title's words, bigrams and pinyin. Named
    # "title" because Wagtail's database backends treat the field of that name as
    # the document's title (its own column, weighted apart from the body).
    title = models.TextField("标题分词")
    body = models.TextField("正文分词", blank=True)
    # The page's own words (summary, body, brand, lecturer, citation …) as plain
    # text, for the snippet under a result.
    text = models.TextField("摘要原文", blank=True)
    # Activities: the next session when indexed, and the end of the last one, so
    # "upcoming first" needs no query per result.
    next_start = models.DateTimeField(null=True, blank=True)
    ends_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = SearchDocumentQuerySet.as_manager()

    search_fields = [
        index.SearchField("title", boost=3),
        index.SearchField("body"),
        index.FilterField("kind"),
    ]

    class Meta:
        verbose_name = "搜索文档"
        verbose_name_plural = "搜索文档"
        constraints = [
            models.UniqueConstraint(
                fields=["page", "route"], name="search_document_one_per_route"
            )
        ]

    def __str__(self):
        route = f" {self.route}" if self.route else ""
        return f"{self.get_kind_display()} #{self.page_id}{route}"


# Between the words of a synonym group: spaces, commas, 顿号, semicolons.
WORD_SEPARATORS = re.compile(r"[\s,，、;；/|]+")
MAX_GROUP_WORDS = 12
MAX_WORD_LENGTH = 20


def split_words(value: str) -> list[str]:
    """The distinct words of a group as the editor wrote them, in order."""
    return list(dict.fromkeys(w for w in WORD_SEPARATORS.split(value or "") if w))


class SynonymGroup(models.Model):
    """Words residents use for the same thing, added by editors without a deploy
    (搜索同义词 in the admin's 设置 menu). A query holding one of the words also
    finds pages holding another (``search.words``); the programme's own groups
    are in ``search.words.SYNONYM_GROUPS``."""

    words = models.CharField(
        "同义词",
        max_length=200,
        help_text="居民可能用来说同一件事的几个词，用空格或顿号隔开，例如：看病、义诊、量血压。"
        "搜索其中任何一个词，也能找到含有其他词的页面。",
    )
    updated_at = models.DateTimeField("更新时间", auto_now=True)

    class Meta:
        verbose_name = "搜索同义词"
        verbose_name_plural = "搜索同义词"
        ordering = ["pk"]

    def __str__(self):
        return "、".join(self.word_list())

    def word_list(self) -> list[str]:
        return split_words(self.words)

    def clean(self):
        from .text import normalise

        words = self.word_list()
        searchable = [w for w in words if SEARCHABLE.search(normalise(w))]
        if len(searchable) != len(words):
            raise ValidationError(
                {"words": "每个词都要有汉字、字母或数字，标点和表情不能搜索。"}
            )
        if len({normalise(w) for w in words}) < 2:
            raise ValidationError({"words": "请至少写两个不同的词，用空格或顿号隔开。"})
        if len(words) > MAX_GROUP_WORDS:
            raise ValidationError(
                {"words": f"一组最多 {MAX_GROUP_WORDS} 个词，意思不同的词请另建一组。"}
            )
        if any(len(w) > MAX_WORD_LENGTH for w in words):
            raise ValidationError({"words": f"每个词最多 {MAX_WORD_LENGTH} 个字。"})
        self.words = " ".join(words)


SEARCHABLE = re.compile(r"[0-9A-Za-z\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
