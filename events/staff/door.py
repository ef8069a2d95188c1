"""The door page's second way in: a sign-up found by the session and the last
four digits of the phone (for residents without a smartphone, who cannot show
the QR code and forgot the code), the name's first character choosing among
several.

Scope and privacy are those of the code lookup: only sessions of the user's
communities are offered or accepted, another community's session is answered as
an unknown one (the same 404 and words), names and phones are masked without
``events.view_personal_data``, and full ones shown go to the audit log. What
staff type is read with ``NFKC`` (full-width ``１２３４`` is ``1234``) and checked
by hand: anything that is not four digits is a Chinese message, never a 500.

Lookups count against ``DOOR_LOOKUP_LIMIT`` per user (django-ratelimit on the
default cache, as the sign-up limits): four digits are only 10,000 guesses.
"""

import logging
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import timedelta

from django.conf import settings
from django.utils import timezone
from django_ratelimit.core import get_usage

from portal.text import clean_text, has_visible

from ..models import ACTIVE_STATUSES, Occurrence, Registration
from . import access

log = logging.getLogger(__name__)

LAST4 = re.compile(r"[0-9]{4}", re.ASCII)
SESSIONS_SHOWN = 60  # the session list offers at most this many (the chosen one too)

NO_SESSION = "请先选择场次。"
UNKNOWN_SESSION = "没有找到这个场次，请重新选择。"
BAD_LAST4 = "请输入手机号的最后四位数字，如 1234。"
BAD_INITIAL = "姓名第一个字请输入一个汉字或字母。"
TOO_MANY = "查找太频繁，请稍后再试。"


class DoorLookupError(ValueError):
    """A lookup that cannot be made; ``message`` is what staff are told."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def parse_last4(raw: str) -> str:
    """Four ASCII digits from what was typed ("１２３４", " 12 34 " are fine).
    Raises DoorLookupError (BAD_LAST4) for anything else."""
    text = unicodedata.normalize("NFKC", raw or "")
    if "\x00" in text:
        raise DoorLookupError(BAD_LAST4)
    digits = re.sub(r"[\s\-]", "", clean_text(text))
    if not LAST4.fullmatch(digits):
        raise DoorLookupError(BAD_LAST4)
    return digits


def parse_initial(raw: str) -> str:
    """The name's first character ("" when nothing was typed). Only the first
    visible character counts: staff without the permission cannot narrow by
    more of a name than the masked list shows them."""
    text = clean_text(unicodedata.normalize("NFKC", (raw or "").replace("\x00", "")))
    text = "".join(text.split())
    if not text:
        if (raw or "").strip():
            raise DoorLookupError(BAD_INITIAL)
        return ""
    if not has_visible(text[0]) or not (text[0].isalpha()):
        raise DoorLookupError(BAD_INITIAL)
    return text[0]


def parse_session_id(raw: str) -> int | None:
    raw = (raw or "").strip()
    if not raw:
        return None
    if not raw.isascii() or not raw.isdigit() or len(raw) > 12:
        raise DoorLookupError(UNKNOWN_SESSION)
    return int(raw)


def find_session(user, session_id: int) -> Occurrence:
    """The session if the user may see its sign-ups; another community's and a
    missing one alike raise DoorLookupError(UNKNOWN_SESSION)."""
    session = (
        access.scoped_occurrences(user)
        .select_related("page")
        .filter(pk=session_id)
        .first()
    )
    if session is None:
        raise DoorLookupError(UNKNOWN_SESSION)
    return session


def session_choices(user, chosen: Occurrence | None = None, now=None):
    """The sessions offered at the door: those of the user's communities with
    active sign-ups, from yesterday on, soonest first (and ``chosen``)."""
    now = now or timezone.now()
    active = Registration.objects.filter(status__in=ACTIVE_STATUSES)
    sessions = list(
        access.scoped_occurrences(user)
        .filter(start__gte=now - timedelta(days=1))
        .filter(pk__in=active.values("occurrence_id"))
        .select_related("page")
        .order_by("start", "pk")[:SESSIONS_SHOWN]
    )
    if chosen is not None and all(s.pk != chosen.pk for s in sessions):
        sessions.insert(0, chosen)
    return sessions


def default_session(sessions, now=None) -> Occurrence | None:
    """The one to preselect: the first not yet ended (today's, at the door)."""
    now = now or timezone.now()
    for session in sessions:
        if not session.has_ended(now) and not session.cancelled:
            return session
    return None


@dataclass
class LookupResult:
    session: Occurrence
    last4: str
    initial: str
    matches: list[Registration] = field(default_factory=list)
    # More than one with these last four digits, and the initial did not
    # narrow them to one (or none was given).
    narrowed_out: bool = False  # an initial was given and none had it

    @property
    def found(self) -> Registration | None:
        return self.matches[0] if len(self.matches) == 1 else None


def lookup(user, session: Occurrence, last4: str, initial: str = "") -> LookupResult:
    """The active sign-ups of ``session`` whose phone ends in ``last4``; with
    ``initial``, those whose name starts with it — unless none does, then all
    of them again (``narrowed_out``) so that staff can still choose."""
    matches = list(
        access.scoped(Registration.objects.select_related("page", "occurrence"), user)
        .filter(
            occurrence=session,
            status__in=ACTIVE_STATUSES,
            phone__endswith=last4,
        )
        .exclude(phone="")
        .order_by("name", "created_at", "pk")
    )
    result = LookupResult(session=session, last4=last4, initial=initial)
    if initial and len(matches) > 1:
        narrowed = [r for r in matches if r.name.startswith(initial)]
        if narrowed:
            matches = narrowed
        else:
            result.narrowed_out = True
    elif initial and matches and not matches[0].name.startswith(initial):
        result.narrowed_out = True
    result.matches = matches
    return result


def not_found_message(last4: str) -> str:
    return f"本场次没有手机号后四位为 {last4} 的报名，请核对。"


def over_limit(request) -> bool:
    """Count one lookup against the user's ``DOOR_LOOKUP_LIMIT``; True when over
    it. A cache failure lets staff through."""
    rate = getattr(settings, "DOOR_LOOKUP_LIMIT", None)
    if not rate:
        return False
    try:
        usage = get_usage(
            request,
            group="door-lookup",
            key=lambda group, request: str(request.user.pk),
            rate=rate,
            increment=True,
        )
    except Exception:  # noqa: BLE001 - the cache is down: let staff through
        log.warning("door lookup limit not counted", exc_info=True)
        return False
    return bool(usage) and usage["count"] > usage["limit"]


def sessions_offered(user, chosen: Occurrence | None, asked: int | None):
    """(the sessions for the lookup form, the one selected): ``chosen``, else
    the session ``asked`` for (after a check-in, to go on with the same one) if
    the user may see it, else today's (``default_session``)."""
    if chosen is None and asked is not None:
        try:
            chosen = find_session(user, asked)
        except DoorLookupError:
            chosen = None
    sessions = session_choices(user, chosen)
    return sessions, chosen or default_session(sessions)
