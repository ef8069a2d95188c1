"""Background tasks of the events app (``django_tasks``, as in core/images.py).

``purge_expired_personal_data`` is the retention purge as a task: enqueued (e.g.
from ``manage.py shell``) it runs in the task worker (``python -m portal.worker``,
deploy/portal-tasks.service). The daily run is not enqueued: django-tasks has no
scheduler, so the systemd timer in ``deploy/`` runs ``manage.py
purge_personal_data`` directly, which calls the same service — it does not depend
on the worker or Redis being up, and its count and any failure land in that unit's
journal and status.
"""

from django_tasks import task

from . import registration


@task()
def purge_expired_personal_data(days: int | None = None) -> int:
    """Anonymise sign-ups past the retention period; the number purged."""
    return registration.purge_personal_data(days=days).purged
