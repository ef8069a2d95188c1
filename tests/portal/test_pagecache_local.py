"""The page cache's per-process copies (portal/pagecache_local.py) on a real Redis:
a hit needs no round trip, a bump anywhere reaches every process through the
pub/sub channel, and when a message is lost or the channel breaks, the tokens are
read from Redis again (at the latest after ``PAGE_CACHE_VERIFY_SECONDS``).

Redis database 12 is this module's alone. Skipped when no Redis listens on
127.0.0.1:6379, except under ``CI=true``, where it fails."""

import os
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import pytest
import redis
from django.core.cache import cache
from django.test import override_settings

from home.models import HonourIndexPage
from portal import pagecache, pagecache_local

pytestmark = pytest.mark.django_db

REDIS_URL = "redis://127.0.0.1:6379/12"
ROOT = Path(__file__).resolve().parents[2]
HEADER = pagecache.HEADER
CACHES = {
    "default": {
        "BACKEND": "portal.cache.PortalRedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": "portal",
    },
    "pagecache-stale": {"BACKEND": "django.core.cache.backends.dummy.DummyCache"},
    "renditions": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
}


@pytest.fixture(autouse=True)
def redis_page_cache():
    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2)
    try:
        client.ping()
    except redis.RedisError as error:
        if os.environ.get("CI") == "true":
            pytest.fail(f"Redis is not reachable at {REDIS_URL}: {error}")
        pytest.skip(f"Redis is not reachable at {REDIS_URL}: {error}")
    client.flushdb()
    pagecache_local.watch.reset()
    pagecache_local.entries.clear()
    with override_settings(
        CACHES=CACHES, PAGE_CACHE_SECONDS=300, PAGE_CACHE_VERIFY_SECONDS=3600
    ):
        yield client
    pagecache_local.watch.reset()
    pagecache_local.entries.clear()
    client.flushdb()
    client.close()


@pytest.fixture
def honours_url(db):
    return HonourIndexPage.objects.get(slug="honours").url


@contextmanager
def redis_commands_refused():
    """Every command on the cache's connections fails meanwhile (the pub/sub
    connection is not one of them)."""

    def refuse(*args, **kwargs):
        raise AssertionError("a Redis command was sent")

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(redis.Redis, "execute_command", refuse)
        yield


def test_a_hit_is_answered_from_process_memory_without_a_redis_command(
    client, honours_url
):
    first = client.get(honours_url)
    assert first[HEADER] == "MISS"
    with redis_commands_refused():
        second = client.get(honours_url + "?from=timeline")
    assert second[HEADER] == "HIT"
    assert second.content == first.content


def test_an_entry_another_process_stored_is_fetched_once_then_kept(client, honours_url):
    client.get(honours_url)
    pagecache_local.entries.clear()  # as in a process that has not seen it
    assert client.get(honours_url)[HEADER] == "HIT"  # from Redis
    with redis_commands_refused():
        assert client.get(honours_url)[HEADER] == "HIT"  # from memory


BUMP_ELSEWHERE = "import django; django.setup(); from portal import pagecache; "


def run_in_another_process(code: str) -> None:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "portal.settings.test",
        "REDIS_URL": REDIS_URL,
    }
    subprocess.run(
        [sys.executable, "-c", BUMP_ELSEWHERE + code],
        cwd=ROOT,
        env=env,
        check=True,
        timeout=60,
    )


def test_a_bump_in_another_process_reaches_this_one_through_the_channel(
    client, honours_url
):
    """Tokens are not re-read from Redis for an hour in this test: only the
    published message can tell this process."""
    client.get(honours_url)
    assert client.get(honours_url)[HEADER] == "HIT"
    run_in_another_process("pagecache.bump('content')")
    assert client.get(honours_url)[HEADER] == "MISS"
    assert client.get(honours_url)[HEADER] == "HIT"


def test_a_lost_message_lasts_no_longer_than_the_verify_interval(
    client, honours_url, redis_page_cache
):
    client.get(honours_url)
    # A bump whose message never arrived: the token changed in Redis only.
    cache.set("pagecache:gen:content", "lost-message", timeout=None)
    assert client.get(honours_url)[HEADER] == "HIT"  # within the interval
    with override_settings(PAGE_CACHE_VERIFY_SECONDS=0.2):
        time.sleep(0.3)
        assert client.get(honours_url)[HEADER] == "MISS"


def test_a_broken_channel_falls_back_to_reading_redis(client, honours_url, monkeypatch):
    client.get(honours_url)

    def broken(*args, **kwargs):
        raise redis.ConnectionError("Redis restarted")

    monkeypatch.setattr(pagecache_local.watch._pubsub, "get_message", broken)
    cache.set("pagecache:gen:content", "changed-while-broken", timeout=None)
    assert client.get(honours_url)[HEADER] == "MISS"
    monkeypatch.undo()
    assert client.get(honours_url)[HEADER] == "HIT"  # subscribed again


def test_a_bump_in_this_process_is_seen_before_its_message_returns(client, honours_url):
    client.get(honours_url)
    pagecache.bump("content")
    assert client.get(honours_url)[HEADER] == "MISS"


def test_copies_off_reads_redis_for_every_hit(client, honours_url):
    with override_settings(PAGE_CACHE_LOCAL_ENTRIES=0):
        client.get(honours_url)
        with redis_commands_refused(), pytest.raises(AssertionError, match="Redis"):
            client.get(honours_url)


def test_local_entries_expire_with_the_shared_entry_and_keep_the_newest():
    entries = pagecache_local.LocalEntries()
    entries.put("old", {"gens": {}, "expires": time.time() - 1})
    assert entries.get("old") is None
    with override_settings(PAGE_CACHE_LOCAL_ENTRIES=2):
        for key in ("a", "b", "c"):
            entries.put(key, {"gens": {}, "expires": time.time() + 60})
        entries.get("b")
        entries.put("d", {"gens": {}, "expires": time.time() + 60})
    assert [key for key in "abcd" if entries.get(key)] == ["b", "d"]
