"""Request addresses as the logs keep them: no key to a resident's sign-up, no
staff search, no full phone number.

A resident's result page (``…/r/<token>/``), its QR code and its cancel page are
opened by their token alone, so a logged token is a logged key: it becomes
``***``, as does any path segment of 32 or more URL-safe characters with a digit
among them (a password-reset token, a signed value under another route; a long
slug of words stays). The query string of an ``/admin/`` address (报名管理
searched for a phone or a name, the door page's ``?code=``) and of a sign-up or
result address is dropped; elsewhere (the public search) a full mobile number is
masked like the site masks it (138****1234).

Used by gunicorn's access log (``portal/access_log.py``) and, as
``RedactingFilter``, by Django's loggers (``LOGGING`` in portal/settings/base.py:
"Not Found: /…/r/<token>/", runserver's request lines).
"""

import logging
import re

TOKEN = re.compile(r"(/r/)[^/?#\s\"]+")
# A token or signed value: 32+ URL-safe characters with a digit among them
# (a password-reset token; not a long pinyin slug, not a percent-encoded one).
LONG_SEGMENT = re.compile(
    r"(?<=/)(?=[A-Za-z_\-:=]*[0-9])[A-Za-z0-9_\-:=]{32,}(?=[/?#\s\"]|$)"
)
PHONE = re.compile(r"(?<![0-9])(1[3-9][0-9])[0-9]{4}([0-9]{4})(?![0-9])")
SIGNUP_PATH = re.compile(r"/signup/?$")
PRIVATE_QUERY_PREFIXES = ("/admin/", "/admin?")
ORIGIN = re.compile(r"^[a-z][a-z0-9+.\-]*://[^/?#\s\"']*", re.I)
# An address in free text: "/path…", "http://host/path…"; ends at a space or quote.
ADDRESS = re.compile(r"(?:\b[a-z][a-z0-9+.\-]*://[^/\s\"']+)?/[^\s\"']*", re.I)

HIDDEN = "***"


def mask_phones(text: str) -> str:
    return PHONE.sub(r"\1****\2", text)


def has_private_query(path: str) -> bool:
    """Addresses whose query string never goes to a log."""
    return (
        path.startswith(PRIVATE_QUERY_PREFIXES)
        or bool(SIGNUP_PATH.search(path))
        or "/r/" in path
    )


def redact_path(address: str) -> str:
    """``/path?query`` (or a full ``http://host/path?query``) for a log line."""
    if not address:
        return address
    origin = ORIGIN.match(address)
    prefix = origin.group() if origin else ""
    path, question, query = address[len(prefix) :].partition("?")
    path = TOKEN.sub(r"\1" + HIDDEN, path)
    path = LONG_SEGMENT.sub(HIDDEN, path)
    path = mask_phones(path)
    if question and has_private_query(path):
        query, question = "", ""
    return prefix + path + question + mask_phones(query)


def redact_query(path: str, query: str) -> str:
    """A query string for a log line (gunicorn's ``%(q)s``)."""
    return "" if has_private_query(path) else mask_phones(query or "")


def redact_text(text: str) -> str:
    """Every address in a log message redacted, and phones anywhere masked."""
    return mask_phones(ADDRESS.sub(lambda m: redact_path(m.group()), text))


class RedactingFilter(logging.Filter):
    """A logging filter that rewrites each record's message (arguments merged in)
    and its traceback text through ``redact_text``. On a handler it covers every
    record the handler writes; on a logger, every record logged there."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001 - a malformed record: leave it as it is
            return True
        record.msg, record.args = redact_text(message), ()
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact_text(record.exc_text)
        return True
