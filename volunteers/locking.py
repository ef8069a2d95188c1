"""The volunteer services' transaction and row locks: ``portal.services``' (the
sign-up service's), with the volunteers' ``BusyError``."""

from portal import services

from .errors import BusyError


def service_transaction():
    """The service's transaction; a write lock not had in time (SQLite) is a
    BusyError."""
    return services.service_transaction(BusyError)


def lock_rows(queryset):
    """The rows of ``queryset`` locked in primary-key order (so two services that
    lock the same two accounts never wait for each other); call inside
    ``service_transaction``. Raises BusyError."""
    return services.lock_rows(queryset, BusyError)
