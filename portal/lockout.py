"""The answer to a staff login refused by django-axes (``AXES_LOCKOUT_CALLABLE``).

The same page whatever was typed: it never repeats the username nor says whether
such an account exists (axes counts failures for unknown usernames exactly like
known ones).

The lock lasts a fixed time: ``AXES_COOLOFF_TIME`` from the failure that locked
the pair (username + address). Nothing tried during the lock is counted
(``AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False``), so neither a wrong
password nor the right one extends it, and the right password after it works.
The page and ``Retry-After`` give the time the lock has left.
"""

import math
from datetime import timedelta

from axes.handlers.proxy import AxesProxyHandler
from axes.helpers import get_cool_off
from django.db.models import Max
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone


def lock_remaining(request, credentials=None) -> timedelta:
    """How long this request's lock still lasts: the cool-off from the last
    failure counted for its username and address (with no failure counted
    during a lock, that is the one that locked it). A lock never lasts longer;
    it may end sooner when failures from another user agent expire first."""
    cool_off = get_cool_off(request)
    handler = AxesProxyHandler.get_implementation()
    get_attempts = getattr(handler, "get_user_attempts", None)
    if get_attempts is None:  # not the database handler: say the whole cool-off
        return cool_off
    times = [
        attempts.aggregate(last=Max("attempt_time"))["last"]
        for attempts in get_attempts(request, credentials)
    ]
    times = [t for t in times if t is not None]
    if not times:
        # Expired this very instant (axes counts an attempt exactly one cool-off
        # old, then deletes it as expired while answering), or just reset.
        return timedelta(0)
    remaining = max(times) + cool_off - timezone.now()
    return min(cool_off, max(remaining, timedelta(0)))


def lockout_response(request, original_response=None, credentials=None):
    seconds = max(1, math.ceil(lock_remaining(request, credentials).total_seconds()))
    response = render(
        request,
        "limits/login_locked.html",
        {
            "minutes": max(1, math.ceil(seconds / 60)),
            "login_url": reverse("wagtailadmin_login"),
        },
        status=429,
    )
    response["Retry-After"] = str(seconds)
    response["Cache-Control"] = "no-store"
    return response
