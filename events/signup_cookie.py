"""The sign-ups this browser made: a signed cookie, so that sending the form again
returns the existing sign-up to the browser that made it and to nobody else.

A name and a phone number are not a key to someone's sign-up (anyone may know
both); the cookie is. It holds the ids of the last ``MAX_IDS`` sign-ups made in
this browser, signed with ``SECRET_KEY`` (``django.core.signing`` through
Django's signed cookies, so it cannot be forged or extended) and read back only
within ``MAX_AGE`` of the last sign-up. ``HttpOnly``, ``SameSite=Lax`` and
``Secure`` with the session cookie (production). It carries no personal data;
an id alone opens nothing (the result page needs its token).

A browser that lost it (another phone, cleared cookies, WeChat's in-app
browser forgetting) gets the neutral answer of ``AlreadySignedUpError`` and
finds its sign-up again in 我的报名 (``events/my_views.py``) with the phone
number and one 报名码: a lookup that matches adds that phone's sign-ups here
(``remember_all``), so 我的报名 lists them without typing next time.
"""

from datetime import timedelta

from django.conf import settings

COOKIE_NAME = "portal_signups"
SALT = "events.signup_cookie"
MAX_IDS = 20
MAX_AGE = timedelta(days=180)


def held(request) -> list[int]:
    """The ids of the sign-ups this browser made, oldest first ([] when there is
    no cookie, or it is forged, damaged or older than ``MAX_AGE``)."""
    value = request.get_signed_cookie(
        COOKIE_NAME, default="", salt=SALT, max_age=MAX_AGE
    )
    ids = []
    for part in value.split(","):
        if part.isascii() and part.isdigit():
            ids.append(int(part))
    return ids[-MAX_IDS:]


def remember(request, response, registration_id: int):
    """Add one sign-up to the browser's cookie (the newest last, the oldest
    dropped beyond ``MAX_IDS``) and return the response."""
    return remember_all(request, response, [registration_id])


def remember_all(request, response, registration_ids):
    """Add sign-ups to the browser's cookie, in the order given (so the last
    ones are kept when they are more than ``MAX_IDS``), and return the
    response."""
    new = list(dict.fromkeys(registration_ids))
    ids = [i for i in held(request) if i not in new] + new
    response.set_signed_cookie(
        COOKIE_NAME,
        ",".join(str(i) for i in ids[-MAX_IDS:]),
        salt=SALT,
        max_age=int(MAX_AGE.total_seconds()),
        secure=settings.SESSION_COOKIE_SECURE,
        httponly=True,
        samesite="Lax",
    )
    return response


def forget(response):
    """Remove the cookie (我的报名's 不在本机显示, for a shared phone) and return
    the response."""
    response.delete_cookie(COOKIE_NAME, samesite="Lax")
    return response
