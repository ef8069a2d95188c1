"""Unfinished drafts offered on the create form.

Wagtail 8 autosaves the create form in the background: as soon as an editor has
typed a title, the page exists as a draft. An editor who leaves the form and
later starts again would write the same page twice (the slugs no longer collide:
core/forms.py adds ``-2``). So the create form names the editor's own drafts of
that type under that parent that were never published and are not waiting for
approval, with a button to continue one of them.
"""

from django.urls import reverse
from django.utils import timezone
from wagtail.admin import messages

# The newest few: a long list would bury the form.
SHOWN = 3


def unfinished_drafts(user, parent_page, page_class):
    """The user's never-published drafts of ``page_class`` under ``parent_page``
    not in a workflow, newest first."""
    drafts = (
        page_class.objects.child_of(parent_page)
        .filter(owner=user, live=False, first_published_at__isnull=True)
        .order_by("-latest_revision_created_at", "-pk")[: SHOWN * 3]
    )
    return [draft for draft in drafts if not draft.workflow_in_progress][:SHOWN]


def offer_unfinished_drafts(request, parent_page, page_class):
    """``before_create_page`` hook: on the empty form (GET), a message with a
    button per unfinished draft. Returns None: the form is shown as usual."""
    if request.method != "GET":
        return None
    for draft in unfinished_drafts(request.user, parent_page, page_class):
        saved = draft.latest_revision_created_at
        when = (
            timezone.localtime(saved).strftime("（%-m月%-d日 %H:%M 保存）")
            if saved
            else ""
        )
        messages.warning(
            request,
            f"您在这里有一份还没发布的草稿“{draft.get_admin_display_title()}”"
            f"{when}。要接着写，请打开它，不必重新新建。",
            buttons=[
                messages.button(
                    reverse("wagtailadmin_pages:edit", args=[draft.pk]),
                    "继续编辑这份草稿",
                    new_window=False,
                )
            ],
        )
    return None
