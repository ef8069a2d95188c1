"""The background task worker for whatever ``TASKS_BACKEND`` is configured.

    python -m portal.worker [options of the worker command]

runs, with the settings ``manage.py`` would use (``DJANGO_SETTINGS_MODULE``,
default ``portal.settings.dev``):

* ``database`` → ``manage.py db_worker`` (django-tasks-db): polls the task table
  every second; several workers may run, each claims a task under a row lock;
* ``rq`` → ``manage.py rqworker --job-class django_tasks_rq.Job --with-scheduler
  default`` (django-rq): waits on the Redis queue, shared by every machine;
* ``immediate`` → nothing to run (tasks run where they are enqueued): says so and
  exits 0.

Extra arguments go to the command, e.g. ``--batch`` (db_worker: run what is
queued, then exit) or ``--burst`` (rqworker). Used by ``make run`` (beside
``runserver``) and ``deploy/portal-tasks.service``.
"""

import os
import sys


def worker_argv(backend: str, extra: list[str]) -> list[str] | None:
    """The manage.py arguments that run the worker of ``backend``."""
    if backend == "database":
        return ["db_worker", *extra]
    if backend == "rq":
        job_class = ["--job-class", "django_tasks_rq.Job"]
        return ["rqworker", *job_class, "--with-scheduler", *extra, "default"]
    return None


def main(argv: list[str]) -> int:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings.dev")
    import django
    from django.conf import settings
    from django.core.management import execute_from_command_line

    django.setup()
    backend = getattr(settings, "TASKS_BACKEND", "immediate")
    command = worker_argv(backend, argv)
    if command is None:
        print(f"TASKS_BACKEND={backend}：任务在入队的进程里执行，无需 worker。")
        return 0
    if os.environ.get("RUN_MAIN") != "true":  # not again in the autoreloader's child
        print(
            f"后台任务 worker（{backend}）：manage.py {' '.join(command)}", flush=True
        )
    execute_from_command_line(["manage.py", *command])
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
