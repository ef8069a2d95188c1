"""Background tasks run in the worker, not in the request (portal/tasks.py,
portal/worker.py, settings TASKS).

A real server (``runserver``, dev settings) on a fresh copy of the demo template
(tests/server.py; migrated, no task queued): an editor publishes a page through
the admin (Wagtail's bulk publish), which enqueues ``render_page_images`` after
the commit. Right after the response the task is queued and the page's renditions
do not exist; the worker (``python -m portal.worker``, one-shot: db_worker
``--batch``, rqworker ``--burst``) then runs it and makes them. The same on Redis
with the RQ backend (needs ``redis-server``), and with Redis down: the publish
still succeeds and the task runs in the request.
"""

import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.db import OperationalError
from django.test import override_settings
from django_tasks import TaskResultStatus, default_task_backend
from django_tasks_db.models import DBTaskResult
from wagtail.models import Page

from core import images
from tests.factories import HomePageFactory, ImageFactory
from tests.server import (
    DemoTemplate,
    free_port,
    fresh_database_env,
    http_request,
    real_clock_env,
)

ROOT = Path(__file__).resolve().parent.parent.parent
PASSWORD = "tasks-worker-pw-2026"
CSRF_FIELD = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')

SETUP = f"""
import json
from django.contrib.auth import get_user_model
from wagtail.models import Page
from tests.factories import HomePageFactory, ImageFactory
get_user_model().objects.create_superuser("editor", "editor@example.com", "{PASSWORD}")
root = Page.get_first_root_node()
pages = [
    HomePageFactory(
        parent=root,
        slug=f"tasks-{{name}}",
        banner_image=ImageFactory(file__width=1600, file__height=1000),
    )
    for name in ("database", "rq", "redis-down")
]
print(json.dumps({{p.slug.removeprefix("tasks-"): [p.pk, p.banner_image_id]
                  for p in pages}}))
"""

# What a test reads back: the render tasks of a page and the renditions of its
# picture, through the django-tasks API of the configured backend.
STATE = """
import json
from django_tasks import default_task_backend
from wagtail.images import get_image_model
ids = {ids!r}
results = [default_task_backend.get_result(i) for i in ids]
print(json.dumps({{
    "tasks": [
        {{"status": r.status.name, "worker_ids": list(r.worker_ids),
          "return_value": r.return_value if r.status.name == "SUCCESSFUL" else None}}
        for r in results
    ],
    "renditions": get_image_model().objects.get(pk={image}).renditions.count(),
}}))
"""


class Site:
    """A database prepared once, served by a server process per backend."""

    def __init__(self, workdir: Path):
        self.workdir = workdir
        template = DemoTemplate.for_url(os.environ.get("DATABASE_URL"))
        self.env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "portal.settings.dev",
            "DEBUG": "false",
            "SERVE_MEDIA": "true",
            "MEDIA_ROOT": str(workdir / "media"),
            "SIGNUP_LIMITS_ENABLED": "false",
            **fresh_database_env(workdir, "tasks", template=template.database),
        }
        for name in ("DATABASE_URL", "REDIS_URL", "TASKS_REDIS_URL"):
            if not self.env.get(name):
                self.env.pop(name, None)
        self.log = open(workdir / "server.log", "a")  # noqa: SIM115
        template.copy_into(self.env)
        self.pages = self.shell(SETUP, TASKS_BACKEND="immediate")

    def environment(self, **extra) -> dict[str, str]:
        return {**self.env, **extra}

    def run(self, argv, timeout=300, real_clock=False, **extra):
        env = self.environment(**extra)
        return subprocess.run(
            [sys.executable, *argv],
            cwd=ROOT,
            env=real_clock_env(env) if real_clock else env,
            check=True,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            timeout=timeout,
        )

    def shell(self, code: str, **extra):
        result = subprocess.run(
            [sys.executable, "manage.py", "shell", "--no-imports", "-c", code],
            cwd=ROOT,
            env=self.environment(**extra),
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert result.returncode == 0, result.stderr[-3000:]
        return json.loads(result.stdout.strip().splitlines()[-1])

    def log_text(self) -> str:
        self.log.flush()
        return (self.workdir / "server.log").read_text()


class Server:
    def __init__(self, site: Site, **extra):
        self.site, self.extra = site, extra
        self.port = free_port()
        self.process = subprocess.Popen(
            [
                sys.executable,
                "manage.py",
                "runserver",
                "--noreload",
                f"127.0.0.1:{self.port}",
            ],
            cwd=ROOT,
            env=site.environment(**extra),
            stdout=site.log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 60
        while True:
            try:
                if http_request(self, "/robots.txt").status == 200:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline or self.process.poll() is not None:
                self.stop()
                raise RuntimeError(f"server did not start: {site.log_text()[-3000:]}")
            time.sleep(0.2)
        self.cookies = {}

    def stop(self):
        if self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=20)

    def get(self, path):
        reply = http_request(self, path, cookies=self.cookies)
        self.keep(reply)
        return reply

    def post(self, path, form):
        token = CSRF_FIELD.search(self.get(path).text).group(1)
        reply = http_request(
            self,
            path,
            form={**form, "csrfmiddlewaretoken": token},
            cookies=self.cookies,
        )
        self.keep(reply)
        return reply

    def keep(self, reply):
        self.cookies.update(
            {name: morsel.value for name, morsel in reply.cookies.items()}
        )

    def log_in(self):
        reply = self.post("/admin/login/", {"username": "editor", "password": PASSWORD})
        assert reply.status == 302, reply.text[:2000]

    def publish(self, page_id: int):
        """Wagtail's bulk publish (/admin/bulk/…/publish/): the page's latest
        revision published in one transaction, as an editor does from a listing."""
        path = f"/admin/bulk/wagtailcore/page/publish/?id={page_id}&next=/admin/"
        started = time.monotonic()
        reply = self.post(path, {})
        return reply, time.monotonic() - started

    def render_task_ids(self, page_id: int) -> list[str]:
        """Ids of the render_page_images tasks enqueued for ``page_id``, from the
        worker's point of view: the task_enqueued lines logged at DEBUG are not on,
        so the backend is asked (database: the table; RQ: the queue's jobs)."""
        return self.site.shell(
            f"""
import json
from django.conf import settings
ids = []
if settings.TASKS_BACKEND == "database":
    from django_tasks_db.models import DBTaskResult
    for row in DBTaskResult.objects.filter(
        task_path="core.images.render_page_images"
    ).order_by("enqueued_at"):
        if row.args_kwargs["args"] == [{page_id}]:
            ids.append(str(row.id))
else:
    import django_rq
    from rq.registry import FinishedJobRegistry
    queue = django_rq.get_queue("default")
    job_ids = list(queue.job_ids) + FinishedJobRegistry(queue=queue).get_job_ids()
    for job in queue.job_class.fetch_many(job_ids, connection=queue.connection):
        if job and job.func_name == "core.images.render_page_images" \\
                and list(job.args) == [{page_id}]:
            ids.append(job.id)
print(json.dumps(ids))
""",
            **self.extra,
        )

    def state(self, ids: list[str], image_id: int) -> dict:
        return self.site.shell(STATE.format(ids=ids, image=image_id), **self.extra)

    def worker(self, *args: str, real_clock=False) -> None:
        self.site.run(
            ["-m", "portal.worker", *args],
            timeout=180,
            real_clock=real_clock,
            **self.extra,
        )


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    return Site(tmp_path_factory.mktemp("tasks-site"))


@pytest.fixture
def server(site, request):
    servers = []

    def start(**extra):
        servers.append(Server(site, **extra))
        servers[-1].log_in()
        return servers[-1]

    yield start
    for running in servers:
        running.stop()


def test_a_task_enqueued_by_a_publish_runs_in_the_db_worker(site, server):
    page_id, image_id = site.pages["database"]
    web = server(TASKS_BACKEND="database")
    assert web.state([], image_id)["renditions"] == 0

    reply, _seconds = web.publish(page_id)
    assert reply.status == 302, reply.text[:2000]

    # Right after the response: queued, not run; no rendition made in the request.
    ids = web.render_task_ids(page_id)
    assert len(ids) == 1
    before = web.state(ids, image_id)
    assert before["tasks"] == [
        {"status": "READY", "worker_ids": [], "return_value": None}
    ]
    assert before["renditions"] == 0

    web.worker("--batch", "--no-startup-delay", "--no-reload")

    after = web.state(ids, image_id)
    [task] = after["tasks"]
    assert task["status"] == "SUCCESSFUL" and len(task["worker_ids"]) == 1
    assert task["return_value"] == after["renditions"]
    assert after["renditions"] == len(images.specs("banner", "share"))


@pytest.fixture
def redis_url(tmp_path):
    if shutil.which("redis-server") is None:
        pytest.skip("redis-server is not installed (Debian package redis-server)")
    port = free_port()
    process = subprocess.Popen(
        ["redis-server", "--port", str(port), "--bind", "127.0.0.1"]
        + ["--save", "", "--appendonly", "no", "--dir", str(tmp_path)],
        stdout=subprocess.DEVNULL,
        env=real_clock_env(),
    )
    import redis

    client = redis.Redis(port=port)
    for _ in range(100):
        try:
            client.ping()
            break
        except redis.ConnectionError:
            time.sleep(0.05)
    yield f"redis://127.0.0.1:{port}/0"
    process.terminate()
    process.wait(timeout=10)


def test_with_redis_the_task_waits_in_the_queue_for_an_rq_worker(
    site, server, redis_url
):
    page_id, image_id = site.pages["rq"]
    web = server(TASKS_BACKEND="rq", REDIS_URL=redis_url)

    reply, _seconds = web.publish(page_id)
    assert reply.status == 302, reply.text[:2000]

    ids = web.render_task_ids(page_id)
    assert len(ids) == 1
    before = web.state(ids, image_id)
    assert before["tasks"] == [
        {"status": "READY", "worker_ids": [], "return_value": None}
    ]
    assert before["renditions"] == 0

    # On Redis's clock: RQ's scheduler keeps its locks in Redis, and a worker on a
    # clock moved by `make test-dates` never agrees with it (the task is not
    # about dates; the web process that queued it stays on the moved clock).
    web.worker("--burst", real_clock=True)

    after = web.state(ids, image_id)
    [task] = after["tasks"]
    assert task["status"] == "SUCCESSFUL" and len(task["worker_ids"]) == 1
    assert task["return_value"] == after["renditions"]
    assert after["renditions"] == len(images.specs("banner", "share"))


def test_with_redis_down_a_publish_succeeds_and_runs_the_task_in_the_request(
    site, server
):
    page_id, image_id = site.pages["redis-down"]
    # The queue's Redis only (TASKS_REDIS_URL): the cache stays in local memory.
    nothing_listens = f"redis://127.0.0.1:{free_port()}/0"
    web = server(TASKS_BACKEND="rq", TASKS_REDIS_URL=nothing_listens)

    reply, seconds = web.publish(page_id)

    assert reply.status == 302, reply.text[:2000]
    assert seconds < 15  # one failed connection, then Redis is left alone for 30 s
    assert web.state([], image_id)["renditions"] == len(images.specs("banner", "share"))
    log = web.site.log_text()
    assert "Redis 不可用，后台任务 core.images.render_page_images" in log
    assert "Internal Server Error" not in log


# In-process: what enqueueing does with the database backend.

DATABASE_TASKS = {
    "default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}
}


@pytest.mark.django_db
@override_settings(TASKS=DATABASE_TASKS)
def test_publishing_only_queues_the_render_task(django_capture_on_commit_callbacks):
    page = HomePageFactory(
        parent=Page.get_first_root_node(),
        slug="tasks-in-process",
        banner_image=ImageFactory(file__width=1600, file__height=1000),
    )
    with django_capture_on_commit_callbacks(execute=True):
        page.save_revision().publish()
    row = DBTaskResult.objects.get(task_path="core.images.render_page_images")
    assert row.args_kwargs == {"args": [page.pk], "kwargs": {}}
    result = default_task_backend.get_result(str(row.id))
    assert result.status == TaskResultStatus.READY
    assert not page.banner_image.renditions.exists()


@pytest.mark.django_db
@override_settings(TASKS=DATABASE_TASKS)
def test_a_queue_that_refuses_the_task_is_logged_and_skipped(
    django_capture_on_commit_callbacks, monkeypatch, caplog
):
    def refuse(*args, **kwargs):
        raise OperationalError("connection to server was lost")

    monkeypatch.setattr(DBTaskResult.objects, "create", refuse)
    with django_capture_on_commit_callbacks(execute=True):
        images.enqueue_page(12345)  # no exception: a warning, then nothing
    assert "core.images.render_page_images(12345,) 未能入队，已跳过" in caplog.text
    assert "OperationalError" in caplog.text


def test_rq_connection_settings_follow_the_url_with_short_timeouts():
    from django_rq.connection_utils import get_redis_connection
    from redis.connection import SSLConnection, UnixDomainSocketConnection

    from portal.settings.base import rq_connection

    pool = get_redis_connection(
        rq_connection("rediss://portal:p%40ss@redis.example:6380/4")
    ).connection_pool
    assert pool.connection_class is SSLConnection
    kwargs = pool.connection_kwargs
    assert (kwargs["host"], kwargs["port"], kwargs["db"]) == ("redis.example", 6380, 4)
    assert (kwargs["username"], kwargs["password"]) == ("portal", "p@ss")
    assert (kwargs["socket_connect_timeout"], kwargs["socket_timeout"]) == (2, 5)
    assert kwargs["retry"].get_retries() == 1

    pool = get_redis_connection(
        rq_connection("unix:///run/redis/redis.sock?db=2")
    ).connection_pool
    assert pool.connection_class is UnixDomainSocketConnection
    assert (pool.connection_kwargs["path"], pool.connection_kwargs["db"]) == (
        "/run/redis/redis.sock",
        2,
    )


def test_the_worker_command_follows_the_backend():
    from portal.worker import worker_argv

    assert worker_argv("database", ["--batch"]) == ["db_worker", "--batch"]
    assert worker_argv("rq", ["--burst"]) == [
        "rqworker",
        "--job-class",
        "django_tasks_rq.Job",
        "--with-scheduler",
        "--burst",
        "default",
    ]
    assert worker_argv("immediate", []) is None


@pytest.mark.django_db
def test_rq_pushes_a_task_when_the_transaction_commits_and_never_on_rollback(
    redis_url, django_capture_on_commit_callbacks
):
    import django_rq
    from django.db import transaction

    from events.tasks import purge_expired_personal_data
    from portal.settings.base import rq_connection

    rq_settings = {
        "TASKS": {"default": {"BACKEND": "portal.tasks.RQBackend"}},
        "RQ_QUEUES": {"default": rq_connection(redis_url)},
    }
    with override_settings(**rq_settings):
        queue = django_rq.get_queue("default")
        # The test's transaction stands for the request's; its commit runs the
        # callbacks.
        with django_capture_on_commit_callbacks(execute=True) as callbacks:
            result = purge_expired_personal_data.enqueue(days=30)
            with pytest.raises(RuntimeError), transaction.atomic():
                purge_expired_personal_data.enqueue(days=31)
                raise RuntimeError("rolled back")
            assert queue.count == 0  # nothing before the commit
        assert len(callbacks) == 1  # the rolled-back one is gone
        assert queue.job_ids == [result.id]
        assert default_task_backend.get_result(result.id).status == (
            TaskResultStatus.READY
        )
