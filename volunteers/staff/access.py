"""Who may see and change volunteers' data in the admin.

Community scope is the sign-ups' (``events.staff.access.community_scope``): a
「X社区」宣传员 sees and manages only the teams, volunteers, service records,
time-bank lines and posts of their own communities; subdistrict-wide ones
(no community) only the unscoped (街道宣传办, superusers) see. Names and
phones are shown in full only with ``volunteers.view_volunteer_personal_data``
(查看志愿者姓名和手机号); everyone else sees 王** / 138****1234.
"""

from django.db.models import Q

from events.staff.access import community_scope

from ..models import (
    PostSignup,
    ServiceRecord,
    Team,
    TimeBankEntry,
    Volunteer,
    VolunteerPost,
    Wish,
)

PERSONAL = "volunteers.view_volunteer_personal_data"


def can_see_personal_data(user) -> bool:
    return user.has_perm(PERSONAL)


def scope(user) -> list[int] | None:
    return community_scope(user)


# The path from each model to the community that scopes it.
COMMUNITY_PATHS = {
    Team: "community_id",
    Volunteer: "community_id",
    ServiceRecord: "community_id",
    TimeBankEntry: "account__volunteer__community_id",
    VolunteerPost: "occurrence__community_id",
    PostSignup: "occurrence__community_id",
    Wish: "community_id",
}


def scoped(queryset, user):
    """``queryset`` (of any model above) restricted to the user's communities."""
    ids = scope(user)
    if ids is None:
        return queryset
    return queryset.filter(Q(**{f"{COMMUNITY_PATHS[queryset.model]}__in": ids}))


def in_scope(user, community_id) -> bool:
    ids = scope(user)
    return ids is None or community_id in ids


def communities(user):
    """The community pages the user may put teams and volunteers in."""
    from home.models import CommunityPage

    pages = CommunityPage.objects.order_by("path")
    ids = scope(user)
    return pages if ids is None else pages.filter(pk__in=ids)


def display_name(volunteer, personal: bool) -> str:
    return volunteer.name if personal else volunteer.masked_name


def display_phone(volunteer, personal: bool) -> str:
    return volunteer.phone if personal else volunteer.masked_phone
