"""The search index of the site: one ``SearchDocument`` per live, public page.

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
    page = models.OneToOneField(
        "wagtailcore.Page",
        on_delete=models.CASCADE,
        related_name="search_document",
    )
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

    def __str__(self):
        return f"{self.get_kind_display()} #{self.page_id}"
