"""Abuse limits on the public forms: sign-up and 我的报名 lookup rate limits per
client address and per phone number, and a size cap on public POST bodies.

Rate limits use django-ratelimit's ``get_usage`` on Django's ``default`` cache (an
atomic ``add`` then ``incr`` per key and fixed window): with ``REDIS_URL`` that is
Redis, shared by every process and machine; without it the local-memory cache of the
single server process (``portal/gunicorn.conf.py`` runs one worker without Redis).
While Redis cannot be reached, the cache falls back to each process's own memory
(portal/cache.py), so the limits then count per process: with N processes a client
may get up to N times a limit until Redis is back.
``django_ratelimit`` is deliberately not in ``INSTALLED_APPS``: its only use there is
a system check that calls the local-memory cache broken (it is per process) and our
``PortalRedisCache`` unsupported (it is Django's Redis backend) — both fine here for
the reasons just given. Keys are sha256 hashes, so neither addresses nor phone
numbers are readable in the cache.

Settings: ``SIGNUP_LIMITS_ENABLED``, ``SIGNUP_LIMIT_PER_ADDRESS`` (``30/10m``),
``SIGNUP_LIMIT_PER_PHONE`` (``5/10m`` sign-ups made), ``MY_SIGNUPS_LIMIT_PER_ADDRESS``
(``20/10m`` lookups), ``MY_SIGNUPS_LIMIT_PER_PHONE`` (``5/1h`` lookups that found
nothing), ``MY_SIGNUPS_CODE_LIMIT_PER_ADDRESS`` (``10/1h``) and
``MY_SIGNUPS_CODE_LIMIT_PER_PHONE`` (``3/1h``) (requests for an SMS code),
``PUBLIC_POST_MAX_BYTES``; see ``portal/settings/base.py``.
"""

import ipaddress
import logging
from dataclasses import dataclass

from django.conf import settings
from django.http import HttpResponse
from django.template.loader import render_to_string
from django_ratelimit.core import get_usage

from portal.client_ip import client_ip
from portal.security import is_admin_path

from .errors import SignupError
from .registration import normalise_phone

log = logging.getLogger(__name__)

TOO_MANY = "提交太频繁，请稍后再试。"


@dataclass(frozen=True)
class Limited:
    """A request over one of the limits: what to tell the resident and when the
    window ends."""

    limit: str  # "address" or "phone"
    retry_after: int  # seconds
    message: str = TOO_MANY

    @property
    def minutes(self) -> int:
        return max(1, -(-self.retry_after // 60))

    @property
    def text(self) -> str:
        return f"{self.message}请 {self.minutes} 分钟后再提交，您填写的内容都还在。"


def address_key(group, request) -> str:
    """The client's address; IPv6 by its /64, the block one home or phone is given
    (every address in it is the same subscriber's to choose)."""
    address = client_ip(request)
    if ":" in address:
        return str(ipaddress.ip_network(f"{address}/64", strict=False).network_address)
    return address


def phone_key(group, request) -> str | None:
    """The phone number as the sign-up service stores it (``138 0000 1234`` and
    ``+86 13800001234`` are one number); None when it is not a mobile number (the
    form refuses it anyway, and it cannot hold a sign-up)."""
    try:
        return normalise_phone(request.POST.get("phone", ""))
    except SignupError:
        return None


def check_signup(request, group: str = "signup") -> Limited | None:
    """Count one sign-up POST against the per-address limit, then see whether its
    phone number has used up the per-phone limit; return the first limit it is
    over, else None. Call it once per POST, before the form is validated: every
    POST counts against its address (bad and bot posts too). The phone's count
    holds only sign-ups that were made (``count_signup``), so nobody can use up
    a resident's number by posting it, from anywhere."""
    if not settings.SIGNUP_LIMITS_ENABLED:
        return None
    checks = (
        ("address", settings.SIGNUP_LIMIT_PER_ADDRESS, address_key, True),
        ("phone", settings.SIGNUP_LIMIT_PER_PHONE, phone_key, False),
    )
    for name, rate, key, increment in checks:
        usage = _usage(request, name, rate, key, increment=increment, group=group)
        if usage is None:
            continue
        # Counted now: over when this one went past the limit. Only looked at
        # (the phone): over when the limit is used up already.
        over = usage["count"] > usage["limit"] or (
            not increment and usage["count"] >= usage["limit"]
        )
        if over:
            # The window's last second still belongs to it: the count resets
            # one second after ``time_left`` runs out.
            return Limited(limit=name, retry_after=max(1, usage["time_left"] + 1))
    return None


def count_signup(request, group: str = "signup") -> None:
    """Count a sign-up that was made (its transaction committed) against its phone
    number's limit. A resubmission that returned an existing sign-up, and every
    refusal, are not counted. ``group``: another public form with the same limits
    counts apart (volunteers' application form)."""
    if settings.SIGNUP_LIMITS_ENABLED:
        _usage(
            request,
            "phone",
            settings.SIGNUP_LIMIT_PER_PHONE,
            phone_key,
            increment=True,
            group=group,
        )


def _usage(
    request, name, rate, key, *, increment: bool, group: str = "signup"
) -> dict | None:
    """django-ratelimit's count for one limit (None: the limit is off, the request
    has no such key, or the cache failed — then residents are let through)."""
    if not rate:
        return None
    value = key(None, request)
    if not value:
        return None
    try:
        return get_usage(
            request,
            group=f"{group}-{name}",
            key=lambda group, request, value=value: value,
            rate=rate,
            method="POST",
            increment=increment,
        )
    except Exception:  # noqa: BLE001 - the cache is down: let residents through
        what = "sign-up" if group == "signup" else f"{group} lookup"
        log.warning("%s limit %s not counted", what, name, exc_info=True)
        return None


# ---------------------------------------------------------------------------
# 我的报名: looking sign-ups up by phone number and code
# ---------------------------------------------------------------------------

LOOKUP_TOO_MANY = "查找太频繁，请稍后再试。"


def check_lookup(request, group: str = "my") -> Limited | None:
    """Count one 我的报名 lookup POST against its address
    (``MY_SIGNUPS_LIMIT_PER_ADDRESS``, every POST), then see whether its phone
    number has used up ``MY_SIGNUPS_LIMIT_PER_PHONE`` (lookups that found
    nothing, ``count_failed_lookup``); return the first limit it is over, else
    None. Over the phone's limit, even the right code is refused: otherwise the
    answer would still tell a guess right from wrong. Only failed lookups count
    against a phone, so its owner's own lookups never use it up."""
    if not settings.SIGNUP_LIMITS_ENABLED:
        return None
    checks = (
        ("address", settings.MY_SIGNUPS_LIMIT_PER_ADDRESS, address_key, True),
        ("phone", settings.MY_SIGNUPS_LIMIT_PER_PHONE, phone_key, False),
    )
    for name, rate, key, increment in checks:
        usage = _usage(request, name, rate, key, increment=increment, group=group)
        if usage is None:
            continue
        over = usage["count"] > usage["limit"] or (
            not increment and usage["count"] >= usage["limit"]
        )
        if over:
            return Limited(
                limit=name,
                retry_after=max(1, usage["time_left"] + 1),
                message=LOOKUP_TOO_MANY,
            )
    return None


def count_failed_lookup(request, group: str = "my") -> None:
    """Count a lookup whose phone and code matched no sign-up against the phone
    number (known or not: the count must not tell). ``group``: another lookup
    with the same limits counts apart (志愿者查询)."""
    if settings.SIGNUP_LIMITS_ENABLED:
        _usage(
            request,
            "phone",
            settings.MY_SIGNUPS_LIMIT_PER_PHONE,
            phone_key,
            increment=True,
            group=group,
        )


CODE_TOO_MANY = "验证码短信要得太频繁，请稍后再试，或用报名码查找。"


def check_code_request(request) -> Limited | None:
    """Count one request for a 我的报名 SMS code against its address
    (``MY_SIGNUPS_CODE_LIMIT_PER_ADDRESS``) and against the phone typed
    (``MY_SIGNUPS_CODE_LIMIT_PER_PHONE``), both on every request, known number
    or not: each may send a message, and the count must not tell. Returns the
    first limit it is over, else None."""
    if not settings.SIGNUP_LIMITS_ENABLED:
        return None
    checks = (
        ("address", settings.MY_SIGNUPS_CODE_LIMIT_PER_ADDRESS, address_key),
        ("phone", settings.MY_SIGNUPS_CODE_LIMIT_PER_PHONE, phone_key),
    )
    for name, rate, key in checks:
        usage = _usage(request, name, rate, key, increment=True, group="my-code")
        if usage is not None and usage["count"] > usage["limit"]:
            return Limited(
                limit=name,
                retry_after=max(1, usage["time_left"] + 1),
                message=CODE_TOO_MANY,
            )
    return None


def too_many(response: HttpResponse, limited: Limited) -> HttpResponse:
    """Mark a response (the sign-up page shown again) as the over-limit answer."""
    response.status_code = 429
    response["Retry-After"] = str(limited.retry_after)
    return response


# ---------------------------------------------------------------------------
# Public POST body size
# ---------------------------------------------------------------------------


class PublicPostSizeMiddleware:
    """413 for a POST (PUT, PATCH) outside the admin whose declared body is larger
    than ``PUBLIC_POST_MAX_BYTES``, before anything reads the body. Django reads no
    more than ``Content-Length`` (a chunked body without it reads as empty), so the
    declared length is the bound. The admin keeps Django's own limits: its page
    forms are large on purpose."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.method in {"POST", "PUT", "PATCH"} and not is_admin_path(
            request.path
        ):
            try:
                length = int(request.META.get("CONTENT_LENGTH") or 0)
            except ValueError:
                length = 0
            if length > settings.PUBLIC_POST_MAX_BYTES:
                return too_large()
        return self.get_response(request)


def too_large() -> HttpResponse:
    # No request in the template's context: this must not read the body (the CSRF
    # token would) nor the database.
    response = HttpResponse(render_to_string("limits/413.html"), status=413)
    response["Cache-Control"] = "no-store"
    return response
