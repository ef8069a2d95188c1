"""Shared fixtures. The demo site is built once per test session (tests/server.py,
``DemoTemplate``: ``migrate`` + ``load_demo`` as `make run` does) and the test
database starts as a copy of it; each test runs in a transaction that is rolled
back, so tests may change demo content freely. Served demos (browser tests,
several processes) copy the same template."""

import os
import shutil
import threading
import time
import types
import uuid
from unittest import mock

import hypothesis
import pytest
from django.apps import apps
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.contrib.contenttypes.models import ContentType
from wagtail.models import Site

from home.models import HomePage
from tests.server import (
    DEFAULT_DEMO_PASSWORD,
    RUN_ENV,
    DemoTemplate,
    test_run,
    worker_suffix,
)

_template_build: threading.Thread | None = None


def pytest_configure(config):
    """One id per test run, set before pytest-xdist starts its workers (they
    inherit the environment), so they share one demo template.

    With workers (`make test`), the controller starts building the template at
    once, in a thread (the build is two ``manage.py`` subprocesses, about 45 s):
    the workers start, collect and run the tests that need no database on the
    second core meanwhile (``pytest_collection_modifyitems`` puts those first),
    and the first test that needs the demo waits for the build under its file
    lock, as before."""
    global _template_build
    if hasattr(config, "workerinput"):
        return
    os.environ[RUN_ENV] = uuid.uuid4().hex[:10]
    if getattr(config.option, "numprocesses", None):
        _template_build = threading.Thread(
            target=_build_template, name="demo-template", daemon=True
        )
        _template_build.start()


def _build_template() -> None:
    try:
        demo_template()
    except Exception:  # noqa: BLE001 - a worker builds it again and reports why
        pass


def pytest_unconfigure(config):
    if not hasattr(config, "workerinput"):
        if _template_build is not None:
            _template_build.join()
        DemoTemplate.remove_run(test_run())


# The fuzz tests' hypothesis settings: ``@settings(settings.get_profile("fuzz"),
# max_examples=N)``. Reproducible (derandomized, no example database); no
# deadline, and no health check about fixtures, slow or large examples, since
# each example is a request through the whole site.
hypothesis.settings.register_profile(
    "fuzz",
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[
        hypothesis.HealthCheck.function_scoped_fixture,
        hypothesis.HealthCheck.too_slow,
        hypothesis.HealthCheck.data_too_large,
    ],
)


# Files whose servers share the local Redis (127.0.0.1:6379): each has a database
# number of its own, but pub/sub channels (the page cache's bumps) are server-wide.
SHARED_REDIS = {
    "tests/portal/test_pagecache_local.py",
    "tests/portal/test_scale_out.py",
    "tests/portal/test_limits_across_processes.py",
}


# What a test needs the demo template for: the test database (pytest-django's
# fixtures) or a served demo (tests/server.py: the browser tests' ``demo_server``,
# or a file's own fixtures).
DEMO_FIXTURES = {"db", "transactional_db", "django_db_setup", "demo_server"}


def needs_demo(item) -> bool:
    if DEMO_FIXTURES & set(getattr(item, "fixturenames", ())):
        return True
    if item.get_closest_marker("django_db"):
        return True
    module = getattr(item, "module", None)
    return module is not None and (
        "DemoServer" in vars(module) or "DemoTemplate" in vars(module)
    )


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items):
    """Before pytest-xdist's own hook, which turns the ``xdist_group`` markers into
    the node ids' ``@group`` suffix (after it, the markers came too late and every
    test was scheduled on its own: a file's servers started on both workers, and
    the shared-Redis files ran at the same time).

    With pytest-xdist (`make test` runs two workers, ``--dist loadgroup``), a
    file's tests stay together, so its served demos start once (the browser
    files spread over both workers: each worker serves its own demo, started once
    for the session, which costs seconds against minutes of browser walks), and
    the files on the shared Redis run one after the other. Files none of whose
    tests need the demo come first, so that workers have work while the demo
    template is built (``pytest_configure``)."""
    demo_files = {item.nodeid.split("::")[0] for item in items if needs_demo(item)}
    items.sort(key=lambda item: item.nodeid.split("::")[0] in demo_files)
    for item in items:
        path = item.nodeid.split("::")[0]
        if path in SHARED_REDIS:
            group = "shared-redis"
        else:
            group = path
        item.add_marker(pytest.mark.xdist_group(group))


def demo_template() -> DemoTemplate:
    return DemoTemplate.for_url(os.environ.get("DATABASE_URL"))


@pytest.fixture(scope="session")
def django_db_keepdb() -> bool:
    """The test database is made from the demo template before Django looks at
    it; "keep" makes Django use it as it is (its migrations are all applied)."""
    return True


@pytest.fixture(scope="session")
def django_db_modify_db_settings(tmp_path_factory) -> None:
    template = demo_template()
    database = settings.DATABASES["default"]
    test = database.setdefault("TEST", {})
    if template.url:
        test["NAME"] = f"test_{database['NAME']}{worker_suffix()}"
        template.copy_postgres(test["NAME"])
    else:
        path = tmp_path_factory.mktemp("test-database") / "test.sqlite3"
        template.copy_sqlite(path)
        test["NAME"] = str(path)
    shutil.copytree(template.media, settings.MEDIA_ROOT, dirs_exist_ok=True)


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """The template's accounts have the served demo's password hashes; the test
    settings hash with MD5, so give them the same password that way. Django keeps
    content types per process, as a served site has them after its first requests:
    look them all up once, so that no test's query count depends on the tests that
    ran before it."""
    with django_db_blocker.unblock():
        get_user_model().objects.update(password=make_password(DEFAULT_DEMO_PASSWORD))
        ContentType.objects.get_for_models(*apps.get_models())


@pytest.fixture(autouse=True)
def fresh_site_root_paths():
    """Wagtail caches the list of sites; a test that adds a site (rolled back
    afterwards) would otherwise leave it there for the next test's page URLs."""
    Site.clear_site_root_paths_cache()


@pytest.fixture
def home(db) -> HomePage:
    return HomePage.objects.get(slug="home")


@pytest.fixture
def site(db) -> Site:
    return Site.objects.get(is_default_site=True)


@pytest.fixture(autouse=True)
def fresh_caches():
    """Each test starts with empty caches, whichever tests ran before it on its
    worker: a test's changes are rolled back, but what the site remembered of them
    (the page cache's generations and memos — a view restriction, a new site —
    and renditions, whose image ids rolled-back tests reuse) would stay."""
    from django.core.cache import caches
    from django.core.cache.backends.locmem import LocMemCache

    for alias in ("default", "renditions"):
        # Local memory only: a Redis cache's clear() empties its whole database.
        if isinstance(caches[alias], LocMemCache):
            caches[alias].clear()


@pytest.fixture
def signup_limits(settings):
    """Turns the sign-up rate limits on (the test settings turn them off), at the
    rates given, for requests straight from the client (no trusted proxy), with a
    clean count: ``signup_limits(per_address="3/10m", per_phone="2/10m")``."""
    from django.core.cache import cache

    def turn_on(*, per_address: str, per_phone: str):
        settings.SIGNUP_LIMITS_ENABLED = True
        settings.SIGNUP_LIMIT_PER_ADDRESS = per_address
        settings.SIGNUP_LIMIT_PER_PHONE = per_phone
        settings.TRUSTED_PROXY_COUNT = 0
        cache.clear()
        return settings

    yield turn_on
    cache.clear()


@pytest.fixture(autouse=True)
def ratelimit_window_held():
    """django-ratelimit counts in fixed windows (``_get_window``: the period's
    end, per key, from ``time.time()``); a test whose requests straddle a window's
    end sees its count start again (seen: 30 posts for a "30/10m" limit, the 31st
    allowed). In this process the limiter's clock stands at the test's start, so
    every request of a test falls in one window whatever the time of day; a test
    that travels in time (time-machine) moves it. Servers the tests start run the
    real clock."""
    import django_ratelimit.core
    from time_machine import escape_hatch

    held = int(time.time())

    def now() -> float:
        return time.time() if escape_hatch.is_travelling() else held

    with mock.patch.object(
        django_ratelimit.core, "time", types.SimpleNamespace(time=now)
    ):
        yield
