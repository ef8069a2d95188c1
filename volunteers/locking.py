"""The services' transaction and row locks, as the sign-up service takes them
(``events/registration.py``): PostgreSQL ``SELECT … FOR UPDATE`` with a
``lock_timeout``; SQLite's ``BEGIN IMMEDIATE`` (every transaction of the
project) takes the write lock first, bounded by the busy timeout. A lock not had
in time is a ``BusyError``, recognised by the driver's error type and code
(``events.registration._lock_not_available``), never by its words."""

from contextlib import ExitStack, contextmanager

from django.db import OperationalError, connection, transaction

from events.registration import LOCK_TIMEOUT
from events.registration import _lock_not_available as lock_not_available

from .errors import BusyError


@contextmanager
def service_transaction():
    with ExitStack() as stack:
        try:
            stack.enter_context(transaction.atomic())
        except OperationalError as error:
            if lock_not_available(error):
                raise BusyError() from error
            raise
        yield


def lock_rows(queryset):
    """The rows of ``queryset`` locked in primary-key order (so two services that
    lock the same two accounts never wait for each other); call inside
    ``service_transaction``. Raises BusyError."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(f"SET LOCAL lock_timeout = '{int(LOCK_TIMEOUT * 1000)}ms'")
    try:
        return list(queryset.select_for_update().order_by("pk"))
    except OperationalError as error:
        if lock_not_available(error):
            raise BusyError() from error
        raise
