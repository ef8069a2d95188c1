"""Who may see and change sign-ups in the admin.

- ``events.view_registration``: see the 报名管理 listing and the door page.
- ``events.change_registration``: 签到 and 取消报名.
- ``events.view_personal_data``: full names and phone numbers (listing, export,
  door page); everyone else sees ``masked_name`` / ``masked_phone``.

Community scope: a user whose page permissions all lie under community pages (a
「X社区」宣传员) sees only sign-ups of activities of those communities — the
activities that sit under those pages (events/placement.py). Users with
page permissions that cover the 活动日历 (街道宣传办), and users with no page
permissions at all (e.g. a door-only 签到 account), see every sign-up.

The same scope applies to the sessions offered by the listing's filter and to
the audit log (站点历史): a scoped user sees the entries of the sign-ups they may
see, and of the whole list (导出, 查看完整名单, 到期清除) only those they made; other
apps' models join that rule through the ``register_scoped_log_models`` hook.
"""

from django.contrib.contenttypes.models import ContentType
from django.db.models import CharField, Q
from django.db.models.functions import Cast
from wagtail import hooks
from wagtail.models import GroupPagePermission

from home.models import CommunityPage

from ..models import EventIndexPage, Occurrence, Registration
from .audit import LIST_OBJECT_ID

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


def scoped_occurrences(user):
    """The sessions whose sign-ups ``user`` may see (any, when unscoped)."""
    scope = community_scope(user)
    if scope is None:
        return Occurrence.objects.all()
    return Occurrence.objects.filter(community_id__in=scope)


# Other apps' models whose audit entries a scoped user may see only for the rows in
# their scope: a Wagtail hook returning {model: function(user) -> queryset of the
# rows the user may see} (volunteers/wagtail_hooks.py registers its models).
SCOPED_LOG_MODELS_HOOK = "register_scoped_log_models"


def scoped_log_models() -> dict:
    """Each scoped model and the function that gives a user's visible rows:
    the sign-ups', and those other apps register."""
    models = {Registration: lambda user: scoped(Registration.objects.all(), user)}
    for hook in hooks.get_hooks(SCOPED_LOG_MODELS_HOOK):
        models.update(hook())
    return models


def scoped_log_entries(entries, user):
    """``entries`` (a ``ModelLogEntry`` queryset) without the entries of scoped
    models (sign-ups, and what other apps register) outside the user's scope:
    those of another community's rows, and those of a list as a whole (object
    id 0: an export, a purge) made by someone else."""
    scope = community_scope(user)
    if scope is None:
        return entries
    own_list_entries = Q(object_id=str(LIST_OBJECT_ID), user_id=user.pk)
    for model, visible_rows in scoped_log_models().items():
        visible = (
            visible_rows(user)
            .annotate(object_key=Cast("pk", output_field=CharField()))
            .values("object_key")
        )
        entries = entries.exclude(
            Q(content_type=ContentType.objects.get_for_model(model))
            & ~(Q(object_id__in=visible) | own_list_entries)
        )
    return entries


def in_scope(registration: Registration, user) -> bool:
    scope = community_scope(user)
    return scope is None or registration.occurrence.community_id in scope
