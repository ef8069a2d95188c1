"""What every service of the project shares (the sign-up service
``events/registration.py``, the volunteer services ``volunteers/``): the refusal
with a catalogue of Chinese messages, and the transaction and row locks.

**Refusals.** A service refuses with a ``ServiceError`` subclass of its own app
(``events.errors.SignupError``, ``volunteers.errors.VolunteerError``), which names
its catalogue: ``messages`` (code → Chinese text, ``{name}`` placeholders filled
from the keyword arguments) and ``fields`` (code → the form field it belongs to).
An unknown code is a programming error (``ValueError``), never a blank message.

**Locks.** PostgreSQL: ``SELECT … FOR UPDATE`` with a ``lock_timeout`` so that a
person waits at most ``LOCK_TIMEOUT`` seconds. SQLite: ``select_for_update`` does
nothing there, but the project opens every transaction with ``BEGIN IMMEDIATE``
(``portal/settings/base.py``), which takes the database's write lock first,
bounded by the busy timeout. A lock not had in time is the caller's busy error,
recognised by the driver's error type and code, never by its words.
"""

import sqlite3
from contextlib import ExitStack, contextmanager

from django.db import OperationalError, connection, transaction

try:  # the PostgreSQL driver's "could not obtain lock" (SQLSTATE 55P03)
    from psycopg.errors import LockNotAvailable
except ImportError:  # pragma: no cover - psycopg is a dependency
    LockNotAvailable = None

LOCK_TIMEOUT = 4  # seconds a person waits for a row's lock
SQLITE_LOCK_CODES = (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED)


class ServiceError(Exception):
    """A change refused for a reason the person can act on. Raised with a
    catalogue ``code``; ``message`` is the Chinese text to show, ``field`` the
    form field it belongs to (or None). Subclasses set ``messages``, ``fields``
    and, for a fixed reason, ``code``."""

    messages: dict[str, str] = {}
    fields: dict[str, str] = {}
    code = ""

    def __init__(self, code: str | None = None, *, field: str | None = None, **params):
        self.code = code or self.code
        if self.code not in self.messages:
            raise ValueError(f"no message for {type(self).__name__} code {self.code!r}")
        self.params = params
        self.message = self.messages[self.code].format(**params)
        self.field = field if field is not None else self.fields.get(self.code)
        super().__init__(self.message)

    def __repr__(self):
        return f"{type(self).__name__}({self.code!r})"


def lock_not_available(error: OperationalError) -> bool:
    """The driver said the lock could not be had: PostgreSQL's LockNotAvailable
    (``lock_timeout`` ran out), SQLite's SQLITE_BUSY / SQLITE_LOCKED (the busy
    timeout ran out). Decided by the driver's error type and code, never by the
    text; anything else (a lost connection, a full disk) is not a lock."""
    cause = error.__cause__
    if LockNotAvailable is not None and isinstance(cause, LockNotAvailable):
        return True
    if isinstance(cause, sqlite3.OperationalError):
        code = getattr(cause, "sqlite_errorcode", None)
        return code is not None and code & 0xFF in SQLITE_LOCK_CODES
    return False


@contextmanager
def service_transaction(busy_error: type[Exception]):
    """The service's transaction. On SQLite its ``BEGIN IMMEDIATE`` is where the
    write lock is taken: not had within the busy timeout, it is ``busy_error``."""
    with ExitStack() as stack:
        try:
            stack.enter_context(transaction.atomic())
        except OperationalError as error:
            if lock_not_available(error):
                raise busy_error() from error
            raise
        yield


def set_lock_timeout() -> None:
    """Bound the wait for row locks in the current transaction (PostgreSQL)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(f"SET LOCAL lock_timeout = '{int(LOCK_TIMEOUT * 1000)}ms'")


def lock_rows(queryset, busy_error: type[Exception]) -> list:
    """The rows of ``queryset`` locked in primary-key order (so two services that
    lock the same two rows never wait for each other); call inside
    ``service_transaction``. Raises ``busy_error``."""
    set_lock_timeout()
    try:
        return list(queryset.select_for_update().order_by("pk"))
    except OperationalError as error:
        if lock_not_available(error):
            raise busy_error() from error
        raise
