"""我的报名: a resident's sign-ups found again from any phone.

Three ways in, each a proof of holding a sign-up or the phone, never a name
and a phone alone:

- the mobile number plus one 报名码 of that number (``find``): the code is
  shown only to whoever made the sign-up (result page, check-in QR); a wrong
  pair is answered exactly like an unknown number (``None``), so the page tells
  nobody whether a number signed up;
- the sign-ups this browser holds in its signed cookie
  (``events/signup_cookie.py``: those it made, and those a lookup found here)
  (``held``);
- a one-time code sent by SMS to the number, where an SMS provider is set up
  (``notify/login_code.py`` proves the phone, then ``for_phone``).

Either way the list is every sign-up of the number(s) proven, coming and of
the last ``RECENT_DAYS`` days, cancelled ones too, so a resident sees what
happened to each. Sign-ups whose personal data went (erased on cancelling, or
after the retention period) have no phone and are never listed.

Nothing here writes: cancelling is ``registration.cancel`` (its lock, its
waitlist promotion, its audit entry). Phone numbers are never logged.
"""

import re
import unicodedata
from dataclasses import dataclass
from datetime import timedelta

from django.db.models import Q
from django.db.models.functions import Coalesce
from django.utils import timezone
from wagtail.models import Page

from portal.text import clean_text

from .errors import SignupError
from .models import Registration
from .registration import normalise_code, normalise_phone

RECENT_DAYS = 30  # ended sign-ups stay listed this long
MAX_LISTED = 100  # per page view; a phone has a handful

# A code as the service makes it (registration.CODE_ALPHABET, 6 characters),
# loosely: older or imported codes may be of other letters and lengths.
CODE_RE = re.compile(r"[0-9A-Z]{4,8}", re.ASCII)

BAD_CODE = "请填写报名码：报名成功时页面上显示的 6 位字母和数字，如 K7M2QX。"
NOT_FOUND = (
    "没有找到报名。请核对手机号和报名码：报名码要是这个手机号报名时得到的。"
    "如果还是找不到，请联系社区工作人员。"
)


class LookupInputError(ValueError):
    """What was typed cannot be a phone number or a code; ``field`` and
    ``message`` (Chinese) say which and why."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field
        self.message = message


def parse_phone(raw: str) -> str:
    """The 11-digit mobile number as the sign-up service stores it. Raises
    LookupInputError("phone", …)."""
    try:
        return normalise_phone(unicodedata.normalize("NFKC", raw or ""))
    except SignupError as error:
        raise LookupInputError("phone", error.message) from None


def parse_code(raw: str) -> str:
    """The code in upper case without spaces or dashes ("k7m2-qx" is K7M2QX,
    full-width letters too). Raises LookupInputError("code", BAD_CODE)."""
    code = normalise_code(unicodedata.normalize("NFKC", (raw or "").replace("\0", "")))
    if not CODE_RE.fullmatch(code):
        raise LookupInputError("code", BAD_CODE)
    return code


@dataclass
class Entry:
    """One sign-up as 我的报名 lists it."""

    registration: Registration
    page: Page  # the activity, specific (title, venue, URL)
    coming: bool  # its session has not ended

    @property
    def result_url(self) -> str:
        return f"{self.page.url}r/{self.registration.token}/"

    @property
    def ics_url(self) -> str:
        occurrence = self.registration.occurrence_id
        return f"{self.page.url}calendar.ics?occurrence={occurrence}"


@dataclass
class Listing:
    coming: list[Entry]  # soonest first
    recent: list[Entry]  # ended within RECENT_DAYS, latest first

    def __bool__(self) -> bool:
        return bool(self.coming or self.recent)

    @property
    def has_calendar_links(self) -> bool:
        """Some sign-up listed can still be added to a calendar."""
        return any(entry.registration.is_active for entry in self.coming)

    @property
    def ids(self) -> list[int]:
        """The sign-ups listed, oldest session first (for the cookie)."""
        entries = [*reversed(self.recent), *self.coming]
        return [entry.registration.pk for entry in entries]


def find(phone: str, code: str, now=None) -> Listing | None:
    """The sign-ups of ``phone`` when ``code`` is one of its sign-ups' codes
    (cancelled and past ones too, as long as its personal data is kept), else
    None — the same for a wrong code and for a number that never signed up.
    ``phone`` and ``code`` as ``parse_phone`` / ``parse_code`` return them."""
    if not phone or not code:
        return None
    if not Registration.objects.filter(phone=phone, code=code).exists():
        return None
    return _listing(Q(phone=phone), now)


def for_phone(phone: str, now=None) -> Listing:
    """The sign-ups of ``phone``, for a caller that has proven holding it (an
    SMS code)."""
    return _listing(Q(phone=phone), now) if phone else Listing([], [])


def listable(phone: str, now=None) -> bool:
    """Whether ``for_phone`` would list anything (one query)."""
    return bool(phone) and _registrations(Q(phone=phone), now).exists()


def held(ids, now=None) -> Listing:
    """The sign-ups of the phone numbers of the sign-ups ``ids`` (the browser's
    cookie): holding one sign-up of a number proves as much as its code does."""
    if not ids:
        return Listing([], [])
    phones = (
        Registration.objects.filter(pk__in=list(ids)).exclude(phone="").values("phone")
    )
    return _listing(Q(phone__in=phones), now)


def merged(*listings: Listing) -> Listing:
    """One listing of several (a lookup's and the browser's), each sign-up once."""
    seen, coming, recent = set(), [], []
    for listing in listings:
        for source, target in ((listing.coming, coming), (listing.recent, recent)):
            for entry in source:
                if entry.registration.pk not in seen:
                    seen.add(entry.registration.pk)
                    target.append(entry)
    coming.sort(key=lambda e: (e.registration.occurrence.start, e.registration.pk))
    recent.sort(key=lambda e: (e.registration.occurrence.start, e.registration.pk))
    recent.reverse()
    return Listing(coming, recent)


def _registrations(condition: Q, now=None):
    now = now or timezone.now()
    return (
        Registration.objects.filter(condition)
        .exclude(phone="")
        .annotate(ended=Coalesce("occurrence__end", "occurrence__start"))
        .filter(ended__gte=now - timedelta(days=RECENT_DAYS))
    )


def _listing(condition: Q, now=None) -> Listing:
    now = now or timezone.now()
    registrations = list(
        _registrations(condition, now)
        .select_related("occurrence")
        .order_by("occurrence__start", "pk")[:MAX_LISTED]
    )
    pages = Page.objects.filter(pk__in={r.page_id for r in registrations}).specific()
    pages = {page.pk: page for page in pages}
    coming, recent = [], []
    for registration in registrations:
        page = pages.get(registration.page_id)
        if page is None:  # pragma: no cover - sign-ups go with their page
            continue
        entry = Entry(registration, page, coming=registration.ended >= now)
        (coming if entry.coming else recent).append(entry)
    recent.reverse()
    return Listing(coming, recent)


def clean_typed(raw: str, limit: int = 40) -> str:
    """What was typed, to show again in the form: cleaned and cut short."""
    return clean_text(unicodedata.normalize("NFKC", (raw or "").replace("\0", "")))[
        :limit
    ]
