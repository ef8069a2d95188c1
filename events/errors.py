"""The one exception of the sign-up service, and what residents and staff read.

Every refusal of ``events/registration.py`` is a ``SignupError``: a stable
``code`` (for code and tests), a Chinese ``message`` from ``MESSAGES`` (shown as
is, in the form or as an admin message) and, where it belongs to one, the form
``field``. Callers catch ``SignupError`` only; the subclasses group the codes
for callers that answer differently (``BusyError``: a 503 with the form kept;
``RegistrationNotFoundError``: a 404). When one is raised, nothing was stored.
"""

from portal.services import ServiceError

# code → the user-facing text; ``{name}`` placeholders are filled from the
# keyword arguments the error is raised with.
MESSAGES = {
    # What the resident typed
    "name_missing": "请填写姓名。",
    "name_too_long": "姓名最多 30 个字。",
    "name_invisible": (
        "姓名里没有能看清的文字（可能是复制来的特殊符号），请直接输入姓名。"
    ),
    "phone_invalid": "请填写正确的 11 位手机号码，如 138 0000 1234。",
    "party_size_too_small": "人数至少为 1。",
    "party_size_too_large": "每份报名最多 {max_party_size} 人，人多请分开报名。",
    "party_size_over_capacity": (
        "每场只有 {capacity} 个名额，一份报名最多 {capacity} 人。"
    ),
    "occurrence_missing": "请选择要报名的场次。",
    # Sign-up closed for this activity or date
    "no_signup_needed": "本活动无需报名，直接到场参加即可。",
    "page_offline": "活动页面已下线，不能报名。",
    "event_cancelled": "活动已取消，不能报名。",
    "occurrence_cancelled": "这一场已取消，不能报名。",
    "occurrence_elsewhere": "报名的场次不属于本活动。",
    "not_open_yet": "报名将于 {opens:%-m月%-d日 %H:%M} 开始。",
    "closed": "报名已截止。",
    # Decided under the lock
    # The same answer whether or not the name matches, so that it tells nobody
    # whose sign-up it is (events/signup_cookie.py). The sign-up form shows a
    # link to 我的报名 (events/my_views.py) under it.
    "already_signed_up": (
        "这个手机号不能再报名这一场。如果您已经报过名，请到“我的报名”输入手机号和"
        "报名码查看或取消，或联系社区工作人员。"
    ),
    "full": "名额已满（剩余 {left} 个名额），本活动不设候补。",
    # Check-in at the door
    "checkin_cancelled": "这份报名已取消，不能签到。",
    "checkin_waitlisted": "这份报名还在候补中，没有确认名额，不能签到。",
    # Everything else
    "not_found": "没有找到这份报名。",
    "busy": "系统繁忙，请稍后再试。",
}

# The form field a code belongs to (the rest are shown above the form).
FIELDS = {
    "name_missing": "name",
    "name_too_long": "name",
    "name_invisible": "name",
    "phone_invalid": "phone",
    "party_size_too_small": "party_size",
    "party_size_too_large": "party_size",
    "party_size_over_capacity": "party_size",
    "occurrence_missing": "occurrence",
    "already_signed_up": "phone",
}


def message(code: str, **params) -> str:
    """The catalogue's text for ``code``, its placeholders filled."""
    return MESSAGES[code].format(**params)


class SignupError(ServiceError):
    """A sign-up, cancellation or check-in refused, for a reason the resident or
    staff member can act on. Raised with a catalogue ``code``; ``message`` is the
    Chinese text to show, ``field`` the form field it belongs to (or None)."""

    messages = MESSAGES
    fields = FIELDS


class InvalidSignupError(SignupError):
    """What was typed cannot be stored (name, phone, party size, date)."""


class SignupClosedError(SignupError):
    """The activity or this date takes no sign-ups (now)."""


class AlreadySignedUpError(SignupError):
    """The phone already holds an active sign-up for this date, and the caller
    did not show it is theirs (another browser, or another name)."""

    code = "already_signed_up"


class EventFullError(SignupError):
    """No seats left and the activity keeps no waitlist."""

    code = "full"


class CheckInRefusedError(SignupError):
    """A cancelled or waitlisted sign-up cannot be checked in."""


class RegistrationNotFoundError(SignupError):
    """The sign-up does not exist (any more)."""

    code = "not_found"


class BusyError(SignupError):
    """The occurrence's lock could not be had in time (PostgreSQL's
    ``lock_timeout``, SQLite's busy timeout at ``BEGIN IMMEDIATE``); nothing was
    stored and the same request may simply be sent again."""

    code = "busy"
