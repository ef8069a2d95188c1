"""The answer to a staff login refused by django-axes (``AXES_LOCKOUT_CALLABLE``).

The same page whatever was typed: it never repeats the username nor says whether
such an account exists (axes counts failures for unknown usernames exactly like
known ones). Every failure, including one during the lockout, restarts the
cool-off (axes' ``AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT``), so "try again
in the full cool-off" is exactly true from this answer on.
"""

import math

from axes.helpers import get_cool_off
from django.shortcuts import render
from django.urls import reverse


def lockout_response(request, original_response=None, credentials=None):
    cool_off = get_cool_off(request)
    seconds = int(cool_off.total_seconds())
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
