"""Where an activity sits in the page tree decides its community.

A community's activities are children of its ``CommunityPage`` — where that
community's editors hold their one page permission, so Wagtail's own page
permissions let them add, edit, preview and submit them, and nothing elsewhere.
The subdistrict's own (全街道) activities are children of the 活动日历. The
``community`` field follows: ``EventPage.save`` sets it from the parent, and
``page_moved`` (``post_page_move``) when 街道宣传办 moves an activity.

``place_community_activities`` moves activities that still sit under the 活动日历
with a community (as before this layout) to that community's page; Wagtail
creates a redirect from the old URL on each move, and ``EventIndexPage.route``
follows it for the old URL's sub-routes too. ``load_demo`` runs it; so can
``manage.py place_activities`` on a site that has such activities.
"""

from django.db import transaction
from wagtail.actions.move_page import MovePageAction
from wagtail.models import Page

from home.models import CommunityPage

from .models import EVENT_MODELS, EventIndexPage, Occurrence
from .models.pages import community_of_parent


def page_moved(sender, instance, parent_page_after, **kwargs) -> None:
    """``post_page_move``: the moved activity (and its sessions) now belong to the
    community it sits under, or to the whole subdistrict under the 活动日历."""
    if sender not in EVENT_MODELS:
        return
    community_id = community_of_parent(parent_page_after.path)
    sender.objects.filter(pk=instance.pk).update(community_id=community_id)
    Occurrence.objects.filter(page_id=instance.pk).update(community_id=community_id)


def connect_signals() -> None:
    from wagtail.signals import post_page_move

    post_page_move.connect(page_moved, dispatch_uid="events-placement-moved")


def free_slug(parent: Page, slug: str) -> str:
    """``slug``, or ``slug-2``, ``slug-3`` … if a child of ``parent`` has it."""
    taken = set(parent.get_children().values_list("slug", flat=True))
    candidate, n = slug, 1
    while candidate in taken:
        n += 1
        candidate = f"{slug}-{n}"
    return candidate


@transaction.atomic
def place_community_activities(index: EventIndexPage) -> list[Page]:
    """Move each activity under ``index`` that names a community to that
    community's page (renamed ``-2`` … if the slug is taken there). Idempotent:
    a second run finds nothing to move. Returns the pages moved."""
    moved = []
    for model in EVENT_MODELS:
        pages = model.objects.child_of(index).filter(community__isnull=False)
        for page in pages.order_by("path"):
            community = CommunityPage.objects.get(pk=page.community_id)
            slug = free_slug(community, page.slug)
            if slug != page.slug:
                page.slug = slug
                page.save(update_fields=["slug"])
            MovePageAction(page, community, pos="last-child").execute(
                skip_permission_checks=True
            )
            moved.append(page)
    return moved
