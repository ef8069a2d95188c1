"""What the site answers when its database fails in the middle of a request.

A database that is locked (SQLite's busy timeout ran out), restarting, or gone
(PostgreSQL unreachable, connections killed) raises ``OperationalError``,
``InterfaceError`` or a bare ``DatabaseError`` from wherever the first query of
the request happens: routing, a context processor, the session, the view. Left
alone, Django answers 500 ("something is broken in our code") and logs a
traceback per request. What residents should get instead:

* a public page they asked for (GET/HEAD) from the page cache's last good copy
  (``portal.pagecache.stale_response``), marked ``X-Page-Cache: STALE`` and
  ``no-store`` so nobody keeps it once the database is back;
* otherwise the static Chinese page ``templates/503.html`` with status 503 and
  ``Retry-After``; it is rendered without a request, so no context processor,
  site setting or navigation lookup runs — each would query the database again;
* a sign-up POST gets the same page with the fields the resident typed in a form
  they can send again as it is (nothing of theirs is lost, nothing was stored);
* the admin gets the 503 page too, with a message for editors.

Each such request is logged once at ERROR with the exception.

``DatabaseFailureMiddleware`` comes right after Django's SecurityMiddleware,
outside the page cache and everything else that can touch the database. Its
``process_exception`` answers for exceptions from views and template rendering
before Django's 500 handler is reached. An
exception raised inside another middleware (a session saved on the way out,
Wagtail's redirect lookup on a 404) is turned into a 500 by Django at that
layer, which also logs it; ``got_request_exception`` tells us it was the
database, and the 500 is replaced on its way out.
"""

from __future__ import annotations

import logging
import sqlite3
import sys

from django.core.signals import got_request_exception
from django.db import DatabaseError, InterfaceError, OperationalError
from django.http import HttpResponse
from django.template.loader import render_to_string

from portal import pagecache
from portal.security import is_admin_path

logger = logging.getLogger(__name__)

RETRY_AFTER = 30  # seconds; what the 503 suggests to browsers and proxies
SIGNUP_NOT_SAVED = (
    "报名没有保存成功，请稍后再试。网站的数据暂时连接不上，您填写的内容都还在，"
    "过一两分钟再点一次“提交报名”即可。"
)

try:  # the PostgreSQL driver; Django normally wraps its errors in its own
    import psycopg

    _PG_ERRORS: tuple[type[BaseException], ...] = (
        psycopg.OperationalError,
        psycopg.InterfaceError,
    )
except ImportError:  # pragma: no cover - psycopg is a dependency
    _PG_ERRORS = ()

# SQLite raises OperationalError for a bad statement too ("no such table", an FTS
# syntax error): those are bugs. These primary result codes mean the database
# file could not be used: busy/locked, I/O, full, unopenable, not a database.
SQLITE_OUTAGE_CODES = frozenset({5, 6, 7, 8, 10, 11, 13, 14, 15, 26})
SQLITE_OUTAGE_WORDS = ("locked", "busy", "unable to open", "disk i/o", "readonly")


def _sqlite_outage(error: sqlite3.Error) -> bool:
    code = getattr(error, "sqlite_errorcode", None)
    if code is not None:
        return code & 0xFF in SQLITE_OUTAGE_CODES
    return any(word in str(error).lower() for word in SQLITE_OUTAGE_WORDS)


# Sign-up fields the 503 page gives back to the resident: shown (label) or kept
# hidden. Anything else a POST carried is dropped, not echoed.
SIGNUP_SHOWN = (
    ("name", "姓名"),
    ("phone", "手机号"),
    ("party_size", "人数"),
    ("household", "所在社区/楼院"),
    ("note", "备注"),
)
SIGNUP_HIDDEN = ("csrfmiddlewaretoken", "occurrence", "consent")


def is_outage(error: BaseException | None) -> bool:
    """The database could not be used: locked, unreachable, connection lost. Not
    a constraint or a bad query (IntegrityError, ProgrammingError, an SQLite
    syntax error …): those are bugs and stay 500s. Follows the exception's
    cause/context a few steps, since a failure while handling an outage is an
    outage too."""
    for _ in range(5):
        if error is None:
            return False
        if _is_outage_error(error):
            return True
        if error.__cause__ is not None or error.__suppress_context__:
            error = error.__cause__  # `raise … from …` says what caused it
        else:
            error = error.__context__
    return False


def _is_outage_error(error: BaseException) -> bool:
    if isinstance(error, sqlite3.Error):
        return isinstance(error, sqlite3.DatabaseError) and _sqlite_outage(error)
    if isinstance(error, _PG_ERRORS):
        return True
    if isinstance(error, (OperationalError, InterfaceError)) or (
        type(error) is DatabaseError
    ):
        # Django's wrapper: the driver's error, when there is one, decides.
        cause = error.__cause__
        if isinstance(cause, sqlite3.Error):
            return _is_outage_error(cause)
        return True
    return False


def log_outage(request, error: BaseException) -> None:
    """Log the failure of this request at ERROR, once however many places see
    it (the sign-up view, then this middleware)."""
    if request.__dict__.get("_db_outage_logged"):
        return
    request._db_outage_logged = True
    logger.error(
        "Database unavailable: %s %s answered 503 (%s)",
        request.method,
        request.path,
        type(error).__name__,
        exc_info=(type(error), error, error.__traceback__),
    )


def _signup_fields(request) -> tuple[list, list]:
    try:
        data = request.POST
    except Exception:  # noqa: BLE001 - an unreadable body: nothing to give back
        return [], []
    shown = [
        {"name": name, "label": label, "value": data.get(name, "")}
        for name, label in SIGNUP_SHOWN
        if name in data
    ]
    hidden = [
        {"name": name, "value": data.get(name, "")}
        for name in SIGNUP_HIDDEN
        if name in data
    ]
    return shown, hidden


def unavailable_page(request) -> HttpResponse:
    """The static 503 page: nothing in it reads the database."""
    is_admin = is_admin_path(request.path)
    is_signup = (
        request.method == "POST" and not is_admin and request.path.endswith("/signup/")
    )
    shown, hidden = _signup_fields(request) if is_signup else ([], [])
    html = render_to_string(
        "503.html",
        {
            "is_admin": is_admin,
            "is_signup": is_signup,
            "is_read": request.method in ("GET", "HEAD"),
            "action": request.path,
            "shown": shown,
            "hidden": hidden,
            "retry_after": RETRY_AFTER,
        },
    )
    response = HttpResponse(html, status=503)
    response["Retry-After"] = str(RETRY_AFTER)
    response["Cache-Control"] = "no-store"
    response["X-Robots-Tag"] = "noindex"
    return response


def outage_response(request) -> HttpResponse:
    """The last good copy of a public page, else the 503 page."""
    response = pagecache.stale_response(request) or unavailable_page(request)
    response._db_outage = True
    # Logged already (log_outage, or Django's own line for a 500 it made):
    # Django's "Service Unavailable" line for the same request would be a second.
    response._has_been_logged = True
    return response


def _note_unhandled(sender, request=None, **kwargs):
    """An exception reached Django's own handler (raised in a middleware layer, or
    while rendering an error page): remember whether it was the database."""
    if request is not None and is_outage(sys.exc_info()[1]):
        request._db_outage_unhandled = True


got_request_exception.connect(_note_unhandled, dispatch_uid="portal-failure")


class DatabaseFailureMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if (
            request.__dict__.get("_db_outage_unhandled")
            and response.status_code == 500
            and not getattr(response, "_db_outage", False)
        ):
            # Django logged it already (django.request, with the traceback).
            request._db_outage_logged = True
            response = outage_response(request)
        if getattr(response, "_db_outage", False) and response.status_code == 200:
            # Layers in between may have marked a stale copy PASS or private.
            response[pagecache.HEADER] = pagecache.STALE
            response["Cache-Control"] = "no-store"
        return response

    def process_exception(self, request, exception):
        return handle_outage(request, exception)


def handle_outage(request, exception) -> HttpResponse | None:
    """For an exception that means the database is gone: logged once, and the
    last good copy or the 503 page; None for any other exception. Also for a
    middleware layer's own lookup (core/sites.py), which no ``process_exception``
    sees."""
    if not is_outage(exception):
        return None
    log_outage(request, exception)
    return outage_response(request)
