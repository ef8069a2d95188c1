"""Background tasks of the events app (``django_tasks``, as in home/images.py).

``purge_expired_personal_data`` is the retention purge as a task, for a
deployment that runs a task worker with a scheduler; without one, the daily
systemd timer in ``deploy/`` runs ``manage.py purge_personal_data``, which calls
the same service.
"""

from django_tasks import task

from . import registration


@task()
def purge_expired_personal_data(days: int | None = None) -> int:
    """Anonymise sign-ups past the retention period; the number purged."""
    return registration.purge_personal_data(days=days).purged
