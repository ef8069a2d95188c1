"""Admin hooks of the volunteers app: the 志愿服务 menu group (teams,
volunteers, posts, service records, the time bank), the forms that write
through the services, the door page 志愿者签到, the audit-log actions, and
the 志愿岗位 section of activity pages."""

from django.core.cache import cache
from django.template.loader import render_to_string
from django.urls import path, reverse
from wagtail import hooks
from wagtail.admin.menu import MenuItem

from events.views import PAGE_SECTIONS_HOOK
from portal import pagecache

from . import audit, report
from .models import (
    VolunteerPost,
)
from .pages import VolunteerIndexPage
from .staff import access, views
from .staff.viewsets import VolunteerViewSetGroup
from .staff.wish_admin import WishViewSet


class VolunteerMenu(VolunteerViewSetGroup):
    """The 志愿服务 group with 微心愿 (volunteers/staff/wish_admin.py) last."""

    items = (*VolunteerViewSetGroup.items, WishViewSet)


@hooks.register("register_admin_viewset")
def register_volunteer_viewsets():
    return VolunteerMenu()


@hooks.register("register_admin_urls")
def register_volunteer_urls():
    return [
        path("volunteers/door/", views.DoorView.as_view(), name=views.DOOR_URL_NAME),
        path(
            "volunteers/hours/",
            views.RecordHoursView.as_view(),
            name="volunteers_record_hours",
        ),
        path(
            "volunteers/hours/<int:pk>/correct/",
            views.CorrectHoursView.as_view(),
            name="volunteers_correct_hours",
        ),
        path(
            "volunteers/bank/withdraw/",
            views.WithdrawView.as_view(),
            name="volunteers_withdraw",
        ),
        path(
            "volunteers/bank/transfer/",
            views.TransferView.as_view(),
            name="volunteers_transfer",
        ),
    ]


class DoorMenuItem(MenuItem):
    def is_shown(self, request):
        return request.user.has_perm("volunteers.view_postsignup")


@hooks.register("register_admin_menu_item")
def register_door_menu_item():
    return DoorMenuItem(
        "志愿者签到",
        reverse(views.DOOR_URL_NAME),
        name="volunteers-door",
        icon_name="calendar-check",
        order=252,
    )


@hooks.register("register_log_actions")
def register_volunteer_log_actions(actions):
    for action, formatter in audit.FORMATTERS.items():
        actions.register_action(action)(formatter)


@hooks.register("register_scoped_log_models")
def register_scoped_log_models():
    """站点历史: a community editor sees the volunteer and 微心愿 entries of
    their own communities' rows only (events/staff/access.py
    scoped_log_entries); every model access.py scopes."""
    return {
        model: (lambda user, model=model: access.scoped(model.objects.all(), user))
        for model in access.COMMUNITY_PATHS
    }


@hooks.register("year_report_sections")
def volunteer_hours_section(year, *, community_ids=None, now=None):
    """志愿服务时长 by community in 活动统计 (events/report_sections.py)."""
    return report.hours_section(year, community_ids=community_ids, now=now)


@hooks.register("year_report_sections")
def wishes_section(year, *, community_ids=None, now=None):
    """微心愿 by community in 活动统计."""
    return report.wishes_section(year, community_ids=community_ids, now=now)


# ---------------------------------------------------------------------------
# The activity page's 志愿岗位 section (events/views.py PAGE_SECTIONS_HOOK)
# ---------------------------------------------------------------------------


def _sessions_with_posts() -> frozenset[int]:
    """Ids of the sessions that have posts, kept under the ``seats`` generation
    (bumped by every change of posts, volunteers/signals.py): an activity page
    without posts costs no query."""
    key = f"volunteers:posted-sessions:{pagecache.generation('seats')}"
    found = cache.get(key)
    if found is None:
        found = frozenset(
            VolunteerPost.objects.values_list("occurrence_id", flat=True).distinct()
        )
        cache.set(key, found, 3600)
    return found


@hooks.register(PAGE_SECTIONS_HOOK)
def activity_posts_section(page, request, occurrences):
    """岗位 ×N with places left for each coming session, each linking to its
    sign-up form on the 志愿服务 page (phone + 志愿者编号). Two queries, only on
    pages whose sessions have posts."""
    posted = _sessions_with_posts()
    ids = [o.pk for o in occurrences if o.pk in posted and not o.cancelled]
    if not ids:
        return ""
    pagecache.depends_on(request, "seats")
    index = (
        VolunteerIndexPage.objects.live()
        .filter(path__startswith=page.home_path)
        .first()
    )
    if index is None:
        return ""
    by_id = {o.pk: o for o in occurrences}
    rows = VolunteerPost.objects.filter(occurrence_id__in=ids).order_by(
        "occurrence__start", "pk"
    )
    sessions = {}
    for post in rows:
        post.occurrence = by_id[post.occurrence_id]
        sessions.setdefault(post.occurrence_id, []).append(post)
    return render_to_string(
        "volunteers/includes/activity_posts.html",
        {
            "sessions": [(by_id[pk], items) for pk, items in sessions.items()],
            "index_url": index.url,
            # Which date the posts are for, unless the activity has one session.
            "several": len(occurrences) > 1,
        },
        request=request,
    )
