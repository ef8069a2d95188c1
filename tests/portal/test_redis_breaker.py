"""The Redis cache's circuit breaker (portal/cache.py), in this process: with Redis
unreachable every cache call is answered from this process's memory, Redis is
tried again at most every ``CACHE_REDIS_RETRY_SECONDS``, each change of state is
logged once, and the page cache and the sign-up limits keep working on top of it.
The served site through a real kill and restart: tests/portal/test_redis_outage.py.
"""

import logging
import shutil
import subprocess
import time

import pytest
import redis
from django.core.cache import caches
from django.test import override_settings

from events.models import EventIndexPage, Occurrence, Registration
from home.models import HonourIndexPage
from portal import cache as portal_cache
from portal import pagecache, pagecache_local
from tests.factories import ActivityPageFactory
from tests.server import free_port, real_clock_env

pytestmark = pytest.mark.django_db


def redis_caches(url: str) -> dict:
    return {
        alias: {
            "BACKEND": "portal.cache.PortalRedisCache",
            "LOCATION": url,
            "KEY_PREFIX": f"breaker-{alias}",
        }
        for alias in ("default", "renditions", "pagecache-stale")
    }


@pytest.fixture(autouse=True)
def fresh_breakers():
    portal_cache.reset_breakers()
    pagecache_local.watch.reset()
    pagecache_local.entries.clear()
    yield
    portal_cache.reset_breakers()
    pagecache_local.watch.reset()
    pagecache_local.entries.clear()


@pytest.fixture
def nowhere():
    """Caches on a Redis address nothing listens on."""
    with override_settings(
        CACHES=redis_caches(f"redis://127.0.0.1:{free_port()}/0"),
        CACHE_REDIS_RETRY_SECONDS=5,
    ):
        yield caches["default"]


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


@pytest.fixture
def clock(monkeypatch):
    clock = Clock()
    monkeypatch.setattr(portal_cache.time, "monotonic", clock)
    return clock


def down_lines(caplog):
    return [r for r in caplog.records if "Redis 不可用" in r.getMessage()]


def back_lines(caplog):
    return [r for r in caplog.records if "Redis 已恢复" in r.getMessage()]


def test_an_unreachable_redis_is_answered_from_process_memory(nowhere, caplog):
    caplog.set_level(logging.INFO, logger="portal.cache")
    store = nowhere
    assert store.get("a") is None
    assert store.add("a", 1, 60) is True
    assert store.incr("a") == 2
    store.set_many({"b": "two", "c": [3]}, 60)
    assert store.get_many(["a", "b", "c", "d"]) == {"a": 2, "b": "two", "c": [3]}
    assert store.has_key("b") and store.touch("b", 10)
    store.delete("b")
    assert store.get_or_set("e", "made") == "made" and store.decr("a") == 1
    # the other aliases on the same Redis: one breaker, one fallback each
    caches["renditions"].set("a", "rendition")
    assert caches["renditions"].get("a") == "rendition" and store.get("a") == 1
    assert store.available() is False
    (line,) = down_lines(caplog)
    assert line.levelno == logging.WARNING and not line.exc_info
    assert "改用进程内缓存" in line.getMessage()


def test_redis_is_tried_again_at_most_every_retry_period(nowhere, clock, monkeypatch):
    calls = []
    real_ping = portal_cache.PortalRedisCache.ping

    def ping(self):
        calls.append(clock.now)
        real_ping(self)

    monkeypatch.setattr(portal_cache.PortalRedisCache, "ping", ping)
    sent = []
    real_get = portal_cache.RedisCache.get
    monkeypatch.setattr(
        portal_cache.RedisCache,
        "get",
        lambda *a, **k: sent.append(1) or real_get(*a, **k),
    )
    monkeypatch.setattr(
        portal_cache.PortalRedisCache, "get", portal_cache._guarded("get")
    )
    store = nowhere
    store.get("x")  # trips
    assert len(sent) == 1
    for _ in range(50):
        clock.now += 0.09
        store.get("x")
    assert calls == [] and len(sent) == 1  # 4.5 s: nothing sent to Redis
    clock.now += 0.6
    for _ in range(10):
        store.get("x")
    assert len(calls) == 1  # one try, the others kept to memory
    clock.now += 5.1
    store.get("x")
    assert len(calls) == 2


@pytest.fixture
def redis_server(tmp_path):
    """A redis-server of this test's own; ``.kill()`` and ``.start()`` again."""
    if not shutil.which("redis-server"):
        pytest.skip("redis-server is not installed")

    class Server:
        port = free_port()
        process = None

        def start(self):
            self.process = subprocess.Popen(
                [
                    "redis-server",
                    "--port",
                    str(self.port),
                    "--save",
                    "",
                    "--dir",
                    str(tmp_path),
                    "--daemonize",
                    "no",
                ],
                env=real_clock_env(),
                stdout=subprocess.DEVNULL,
            )
            client = redis.Redis(port=self.port)
            for _ in range(200):
                try:
                    client.ping()
                    return
                except redis.ConnectionError:
                    time.sleep(0.05)
            raise RuntimeError("redis-server did not start")

        def kill(self):
            self.process.kill()
            self.process.wait(timeout=10)

    server = Server()
    server.start()
    yield server
    if server.process.poll() is None:
        server.kill()


def test_a_restarted_redis_is_used_again_and_the_change_logged_once(
    redis_server, clock, caplog
):
    caplog.set_level(logging.INFO, logger="portal.cache")
    url = f"redis://127.0.0.1:{redis_server.port}/0"
    with override_settings(CACHES=redis_caches(url), CACHE_REDIS_RETRY_SECONDS=5):
        store = caches["default"]
        store.set("k", "in redis")
        redis_server.kill()
        assert store.get("k") is None  # from memory now
        store.set("k", "in memory")
        assert store.get("k") == "in memory"
        redis_server.start()
        assert store.get("k") == "in memory"  # not tried before the period
        clock.now += 5.1
        assert store.get("k") is None  # Redis again (restarted empty)
        store.set("k", "in redis again")
        assert redis.Redis(port=redis_server.port).exists(store.make_key("k"))
        assert store.available()
        for _ in range(3):
            store.get("k")
    assert len(down_lines(caplog)) == 1 and len(back_lines(caplog)) == 1
    assert "Traceback" not in caplog.text


def test_reconnect_hooks_run_once_per_recovery(nowhere, clock, monkeypatch):
    calls = []
    monkeypatch.setattr(portal_cache, "_reconnect_hooks", [lambda: calls.append(1)])
    store = nowhere
    store.get("x")
    monkeypatch.setattr(portal_cache.PortalRedisCache, "ping", lambda self: None)
    clock.now += 6
    monkeypatch.setattr(portal_cache.RedisCache, "get", lambda *a, **k: "from redis")
    monkeypatch.setattr(
        portal_cache.PortalRedisCache, "get", portal_cache._guarded("get")
    )
    assert store.get("x") == "from redis"
    assert store.get("x") == "from redis"
    assert calls == [1]


def test_a_call_that_failed_before_redis_came_back_does_not_trip_it_again(
    nowhere, clock, monkeypatch, caplog
):
    """A call waiting out its timeout while another found Redis back: its
    failure is old news, not a new outage."""
    caplog.set_level(logging.INFO, logger="portal.cache")
    monkeypatch.setattr(portal_cache, "_reconnect_hooks", [])  # Redis is not there
    store = nowhere
    store.get("x")
    started = clock.now + 5.5
    clock.now += 6
    monkeypatch.setattr(portal_cache.PortalRedisCache, "ping", lambda self: None)
    assert store.breaker.allows(store.ping) and not store.breaker.down
    store.breaker.failed(redis.TimeoutError("late"), started)
    assert not store.breaker.down
    store.breaker.failed(redis.ConnectionError("lost again"), clock.now)
    assert store.breaker.down
    assert len(down_lines(caplog)) == 2 and len(back_lines(caplog)) == 1


# ---------------------------------------------------------------------------
# The page cache and the sign-up limits on top of it
# ---------------------------------------------------------------------------


@pytest.fixture
def page_cache_on():
    with override_settings(PAGE_CACHE_SECONDS=300, PAGE_CACHE_OUTAGE_SECONDS=10):
        yield


def test_pages_are_served_and_cached_per_process_while_redis_is_down(
    client, nowhere, page_cache_on, caplog
):
    url = HonourIndexPage.objects.get(slug="honours").url
    first = client.get(url)
    assert first.status_code == 200 and first[pagecache.HEADER] == "MISS"
    second = client.get(url)
    assert second.status_code == 200 and second[pagecache.HEADER] == "HIT"
    assert second.content == first.content
    pagecache.bump("content")  # a publish: stored here, sent nowhere
    assert client.get(url)[pagecache.HEADER] == "MISS"
    assert client.get("/admin/login/").status_code == 200
    assert len(down_lines(caplog)) == 1


def test_generations_made_while_redis_is_down_last_the_outage_period(
    nowhere, page_cache_on, monkeypatch
):
    """A process hears of no other's change while Redis is down: its tokens, and
    so every page, part and lookup it keeps, are made anew at least every
    PAGE_CACHE_OUTAGE_SECONDS."""
    store = nowhere
    assert pagecache.generation_timeout() is None  # not known to be down yet
    store.get("trip")
    assert pagecache.generation_timeout() == 10
    seen = {}
    real_add = type(store.fallback).add

    def add(self, key, value, timeout=None, version=None):
        seen[key] = timeout
        return real_add(self, key, value, timeout, version)

    monkeypatch.setattr(type(store.fallback), "add", add)
    pagecache.read_generations()
    assert set(seen.values()) == {10}


def test_a_bump_while_redis_is_down_publishes_nothing(nowhere, monkeypatch):
    sent = []
    monkeypatch.setattr(redis.Redis, "publish", lambda *a, **k: sent.append(a) or 0)
    nowhere.get("trip")
    pagecache.bump("content")
    assert sent == []
    assert pagecache.redis_client() is None


def test_sign_up_limits_count_per_process_while_redis_is_down(
    client, nowhere, settings
):
    """Before, a failing cache let every sign-up through uncounted; now the
    process's own memory counts them."""
    settings.SIGNUP_LIMITS_ENABLED = True
    settings.SIGNUP_LIMIT_PER_ADDRESS = "3/10m"
    settings.SIGNUP_LIMIT_PER_PHONE = "off"
    page = ActivityPageFactory(
        parent=EventIndexPage.objects.get(slug="activities"),
        registration_required=True,
        capacity=50,
    )
    occurrence = Occurrence.objects.get(page_id=page.pk)

    def post(n):
        return client.post(
            page.url + "signup/",
            {
                "occurrence": str(occurrence.pk),
                "name": "王秀兰",
                "phone": f"1390000{n:04d}",
                "party_size": "1",
                "consent": "on",
                "website": "",
            },
            REMOTE_ADDR="203.0.113.7",
        )

    assert [post(n).status_code for n in range(5)] == [303, 303, 303, 429, 429]
    assert Registration.objects.filter(page_id=page.pk).count() == 3


def test_the_log_shows_no_password():
    shown = portal_cache.shown_location("redis://user:s3cret@cache.example:6380/2")
    assert shown == "redis://cache.example:6380/2"
