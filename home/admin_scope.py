"""What an editor may see of pages outside their part of the tree in Wagtail's own
admin views.

Wagtail's explorer shows a 「X社区宣传员」 only their community's pages (the page
permission policy's ``explorable_instances``), but some stock views list any page:
the page chooser (browse, search, chosen-multiple), the bulk actions' confirmation
pages, the move confirmation, the copy form's parent and the page-types report.
For an unpublished page the title there is the draft's: another community's work
in progress. Here every one of them is limited to ``visible_pages(user)``:

- the pages the explorer shows the user (their own and those pages' ancestors), and
- published pages that anyone may read, as long as their admin title is the title
  the site shows (so an editor may still link to the privacy notice or the news).

A page outside those answers 404, as a page that does not exist. Superusers see
everything. The views here replace Wagtail's at the same paths (home/admin_urls.py,
mounted by portal/urls.py before Wagtail's admin URLs); the hooks are registered
in home/wagtail_hooks.py.
"""

from django.core.exceptions import PermissionDenied
from django.db.models import F, Q
from django.http import Http404
from django.shortcuts import get_list_or_404, get_object_or_404
from django.urls import reverse
from wagtail.admin.views import chooser
from wagtail.admin.views.pages.bulk_actions import (
    DeleteBulkAction,
    MoveBulkAction,
    PublishBulkAction,
    UnpublishBulkAction,
)
from wagtail.admin.views.pages.move import MoveConfirmView
from wagtail.admin.views.reports.page_types_usage import PageTypesUsageReportView
from wagtail.models import Page
from wagtail.permissions import policy_registry


def visible_pages(user):
    """The pages whose admin title ``user`` may see (see the module docstring)."""
    if user.is_superuser:
        return Page.objects.all()
    explorable = policy_registry.get_by_type(Page).explorable_instances(user)
    public = Page.objects.live().public().filter(draft_title=F("title"))
    return Page.objects.filter(
        Q(pk__in=explorable.values("pk")) | Q(pk__in=public.values("pk"))
    )


def can_see(user, page_id) -> bool:
    return visible_pages(user).filter(pk=page_id).exists()


def visible_or_404(user, page_id) -> Page:
    return get_object_or_404(visible_pages(user), pk=page_id)


# ---------------------------------------------------------------------------
# Hooks (registered in home/wagtail_hooks.py)
# ---------------------------------------------------------------------------


def scope_chooser_queryset(pages, request):
    """``construct_page_chooser_queryset``: browse and search list visible pages."""
    if request.user.is_superuser:
        return pages
    return pages.filter(pk__in=visible_pages(request.user).values("pk"))


def scope_copy(request, page):
    """``before_copy_page``: a copy form sent back (e.g. refused: no permission to
    add there) shows the chosen parent page by title. (The page copied is one the
    user may edit: Wagtail checks that.)"""
    parent_id = request.POST.get("new_parent_page", "")
    if parent_id:
        if not parent_id.isdigit():
            raise Http404
        visible_or_404(request.user, parent_id)


# ---------------------------------------------------------------------------
# Bulk actions: the confirmation page lists the chosen pages with their titles,
# those the user may not act on too.
# ---------------------------------------------------------------------------


class VisiblePagesBulkActionMixin:
    def get_queryset(self, model, object_ids):
        # An instance method in place of the base's classmethod: it needs the user.
        ids = [pk for pk in object_ids if str(pk).isdigit()]
        return get_list_or_404(visible_pages(self.request.user), pk__in=ids)


class ScopedPublishBulkAction(VisiblePagesBulkActionMixin, PublishBulkAction):
    pass


class ScopedUnpublishBulkAction(VisiblePagesBulkActionMixin, UnpublishBulkAction):
    pass


class ScopedDeleteBulkAction(VisiblePagesBulkActionMixin, DeleteBulkAction):
    pass


class ScopedMoveBulkAction(VisiblePagesBulkActionMixin, MoveBulkAction):
    def get_form(self, form_class=None):
        # The destination chosen is shown by title when the form comes back
        # (refused, or with pages that cannot go there), valid choice or not.
        chosen = self.request.POST.get("chooser", "")
        if chosen and not (chosen.isdigit() and can_see(self.request.user, chosen)):
            raise Http404
        return super().get_form(form_class)


BULK_ACTIONS = [
    ScopedPublishBulkAction,
    ScopedUnpublishBulkAction,
    ScopedDeleteBulkAction,
    ScopedMoveBulkAction,
]


# ---------------------------------------------------------------------------
# Views in place of Wagtail's (same paths, mounted first)
# ---------------------------------------------------------------------------


class BrowseView(chooser.BrowseView):
    """The chooser's listing of a parent page's children: the parent (its title
    heads the listing) must be visible, the children are filtered by the hook."""

    def get(self, request, parent_page_id=None):
        user = request.user
        if parent_page_id is not None:
            visible_or_404(user, parent_page_id)
        elif request.GET.get("page_type"):
            # Wagtail starts at the common ancestor of all pages of the types
            # asked for; start at that of the visible ones instead.
            try:
                classes = chooser.page_models_from_string(request.GET["page_type"])
            except (ValueError, LookupError) as error:
                raise Http404 from error
            if classes != (Page,):
                pages = visible_pages(user).type(*classes)
                parent = pages.first_common_ancestor() if pages.exists() else None
                if parent is None or not can_see(user, parent.pk):
                    parent = Page.get_first_root_node()
                parent_page_id = parent.pk
        return super().get(request, parent_page_id)


class ChosenMultipleView(chooser.ChosenMultipleView):
    """Several pages chosen at once, returned with their titles: visible ones only."""

    def get(self, request):
        ids = [pk for pk in request.GET.getlist("id") if pk.isdigit()]
        pages = visible_pages(request.user).filter(pk__in=ids).specific()
        result = [
            {
                "id": page.pk,
                "parentId": page.get_parent().pk,
                "adminTitle": page.get_admin_display_title(),
                "editUrl": reverse("wagtailadmin_pages:edit", args=(page.pk,)),
                "url": page.url,
            }
            for page in pages
        ]
        return self.render_chosen_response(result)


class ScopedMoveConfirmView(MoveConfirmView):
    """移动 confirmation, which Wagtail shows without checking permissions: both
    pages must be visible (404), and the user allowed to make that move (403),
    before anything about either page is said."""

    def dispatch(self, request, page_to_move_id, destination_id, *args, **kwargs):
        page = visible_or_404(request.user, page_to_move_id)
        destination = visible_or_404(request.user, destination_id)
        if not page.permissions_for_user(request.user).can_move_to(destination):
            raise PermissionDenied
        return super().dispatch(
            request, page_to_move_id, destination_id, *args, **kwargs
        )


class ScopedPageTypesUsageReportView(PageTypesUsageReportView):
    """页面类型使用情况 names the last edited page of each type: the last edited
    visible one."""

    def decorate_paginated_queryset(self, page_types):
        page_types = super().decorate_paginated_queryset(page_types)
        if self.request.user.is_superuser:
            return page_types
        visible = visible_pages(self.request.user)
        shown = [item.last_edited_page for item in page_types if item.last_edited_page]
        allowed = set(
            visible.filter(pk__in=[page.pk for page in shown]).values_list(
                "pk", flat=True
            )
        )
        for item in page_types:
            page = item.last_edited_page
            if page is not None and page.pk not in allowed:
                item.last_edited_page = (
                    visible.filter(content_type_id=item.pk)
                    .order_by(
                        F("latest_revision_created_at").desc(nulls_last=True),
                        "title",
                        "-pk",
                    )
                    .specific()
                    .first()
                )
        return page_types
