"""Keep search documents in step with the pages.

- published: the page's document (and those repeating its name: a community's
  honours, news and activities; the honours under a renamed programme);
- unpublished: the page's document goes;
- moved, view restriction added or removed: the page and everything below it
  (whether a descendant is public may have changed with it);
- deleted: the document goes with its page (``on_delete=CASCADE``; Wagtail's own
  post_delete handler removes its index entry);
- a lecturer renamed: that lecturer's lectures;
- a synonym group (搜索同义词) saved or deleted: every process reloads its terms
  and synonyms before its next search (no document changes: synonyms are read
  at query time).

Drafts change nothing: a document shows what residents can see.
"""

from django.db.models.signals import post_delete, post_save
from wagtail.models import Page, PageViewRestriction
from wagtail.signals import page_published, page_unpublished, post_page_move

from . import documents, terms


def on_published(sender, instance, **kwargs):
    documents.refresh_document(instance)
    documents.refresh_pages(documents.dependants(instance.specific))


def on_unpublished(sender, instance, **kwargs):
    # Only ever remove here: Wagtail also sends page_unpublished just before it
    # deletes a live page, when the page still looks live. Descendants stay live
    # (and reachable) unless they are unpublished too, which sends this again.
    documents.remove_document(instance)


def on_moved(sender, instance, **kwargs):
    documents.refresh_subtree(instance)


def on_restriction_changed(sender, instance, **kwargs):
    # The restricted page may be deleted along with its restriction.
    page = Page.objects.filter(pk=instance.page_id).first()
    if page is not None:
        documents.refresh_subtree(page)


def on_lecturer_saved(sender, instance, **kwargs):
    if kwargs.get("raw"):
        return
    terms.note_terms([instance.name])
    documents.refresh_pages(instance.lectures.all())


def on_synonyms_changed(sender, instance, **kwargs):
    if kwargs.get("raw"):
        return
    terms.content_changed()


def connect() -> None:
    from events.models import Lecturer

    from .models import SynonymGroup

    page_published.connect(on_published, dispatch_uid="search.published")
    page_unpublished.connect(on_unpublished, dispatch_uid="search.unpublished")
    post_page_move.connect(on_moved, dispatch_uid="search.moved")
    for signal in (post_save, post_delete):
        signal.connect(
            on_restriction_changed,
            sender=PageViewRestriction,
            dispatch_uid=f"search.restriction.{signal is post_save}",
        )
    post_save.connect(
        on_lecturer_saved, sender=Lecturer, dispatch_uid="search.lecturer"
    )
    for signal in (post_save, post_delete):
        signal.connect(
            on_synonyms_changed,
            sender=SynonymGroup,
            dispatch_uid=f"search.synonyms.{signal is post_save}",
        )
