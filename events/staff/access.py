"""Who may see and change sign-ups in the admin.

- ``events.view_registration``: see the 报名管理 listing and the door page.
- ``events.change_registration``: 签到 and 取消报名.
- ``events.view_personal_data``: full names and phone numbers (listing, export,
  door page); everyone else sees ``masked_name`` / ``masked_phone``.

Community scope: a user whose page permissions all lie under community pages (a
「X社区」宣传员) sees only sign-ups of activities of those communities. Users with
page permissions that cover the 活动日历 (街道宣传办), and users with no page
permissions at all (e.g. a door-only 签到 account), see every sign-up.
"""

from django.db.models import Q
from wagtail.models import GroupPagePermission

from home.models import CommunityPage

from ..models import EventIndexPage, Registration

VIEW = "events.view_registration"
CHANGE = "events.change_registration"
PERSONAL = "events.view_personal_data"


def can_view(user) -> bool:
    return user.has_perm(VIEW)


def can_change(user) -> bool:
    return user.has_perm(CHANGE)


def can_see_personal_data(user) -> bool:
    return user.has_perm(PERSONAL)


def community_scope(user) -> list[int] | None:
    """None when the user may see every sign-up, else the ids of the communities
    whose activities' sign-ups they may see (possibly none). Cached on the user
    object for the request."""
    if hasattr(user, "_registration_scope"):
        return user._registration_scope
    scope = None
    if not user.is_superuser:
        roots = list(
            GroupPagePermission.objects.filter(group__user=user)
            .values_list("page__path", flat=True)
            .distinct()
        )
        if roots:
            index_paths = EventIndexPage.objects.values_list("path", flat=True)
            covers_events = any(
                index_path.startswith(root)
                for root in roots
                for index_path in index_paths
            )
            if not covers_events:
                under = Q()
                for root in roots:
                    under |= Q(path__startswith=root)
                scope = list(
                    CommunityPage.objects.filter(under).values_list("pk", flat=True)
                )
    user._registration_scope = scope
    return scope


def scoped(queryset, user):
    """``queryset`` of registrations restricted to the user's community scope."""
    scope = community_scope(user)
    if scope is None:
        return queryset
    return queryset.filter(occurrence__community_id__in=scope)


def visible_registrations(user):
    """The registrations ``user`` may see in the admin (permissions aside)."""
    return scoped(Registration.objects.select_related("page", "occurrence"), user)


def in_scope(registration: Registration, user) -> bool:
    scope = community_scope(user)
    return scope is None or registration.occurrence.community_id in scope
