"""The background task that sends one message (``notify/service.py``): enqueued
after the commit that recorded it, and again, deferred, after a failed try."""

from django_tasks import task

from . import service


@task()
def deliver_message(message_id: int) -> str:
    """Send message ``message_id`` if it is still due; what happened."""
    return service.deliver(message_id)
