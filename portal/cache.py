"""Django's Redis cache backend, reusing one client per pool and surviving a Redis
outage.

**One client per pool.** Django builds a new ``redis.Redis`` for every cache call,
and redis-py fills a case-insensitive table of some 170 response callbacks in each
constructor: about a third of the time it takes to serve a page from the shared
page cache. A ``redis.Redis`` only wraps its (thread-safe) connection pool, so one
per pool is kept and reused; the pools themselves are Django's.

**Redis down is not a site down.** Every process keeps a circuit breaker per Redis
server (:class:`RedisBreaker`, shared by the cache aliases on that server). When a
command fails to reach Redis (connection refused or lost, a timeout), the breaker
opens: that call and every later one go to a local-memory cache of this process
instead (one per alias, emptied at each change of state), so pages are rendered
and cached per process, and the sign-up rate limits count per process. At most
every ``CACHE_REDIS_RETRY_SECONDS`` (5) one request tries Redis again (``PING``);
when it answers, the breaker closes and the hooks given to :func:`on_reconnect`
run (the page cache drops everything stored before the outage: changes made
meanwhile were never broadcast). Each change is logged once per process: a
warning when Redis is lost, an info line when it is back. Connections time out
after 1 s (connect) and 2 s (command), so a Redis that hangs instead of refusing
costs one request at most that long per retry.

Why not a library: django-redis's ``IGNORE_EXCEPTIONS`` turns every failed call
into a miss or a no-op — no per-process cache (every page rendered on every
request) and no rate limit at all (``incr`` of nothing); django-cache-fallback
tries the main cache on every call and logs a traceback each time; pybreaker holds
a lock around the protected call, which would serialize a worker's threads on
Redis.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from urllib.parse import urlsplit

import redis
from django.conf import settings
from django.core.cache.backends.locmem import LocMemCache
from django.core.cache.backends.redis import RedisCache, RedisCacheClient

log = logging.getLogger(__name__)

# What "Redis cannot be reached" looks like through redis-py (BusyLoadingError, a
# Redis still loading its data after a restart, is a ConnectionError).
UNREACHABLE = (redis.ConnectionError, redis.TimeoutError, OSError)

# Connection options unless the alias's OPTIONS say otherwise (seconds).
DEFAULT_OPTIONS = {"socket_connect_timeout": 1, "socket_timeout": 2}

# Entries a process keeps per alias while Redis is down.
FALLBACK_ENTRIES = 1000


def retry_seconds() -> float:
    return getattr(settings, "CACHE_REDIS_RETRY_SECONDS", 5)


def shown_location(location: str) -> str:
    """``location`` for the log: scheme, host, port and database, no password."""
    parts = urlsplit(location)
    host = parts.hostname or parts.path
    port = f":{parts.port}" if parts.port else ""
    path = parts.path if parts.hostname else ""
    return f"{parts.scheme}://{host}{port}{path}"


_reconnect_hooks: list = []


def on_reconnect(hook) -> None:
    """Call ``hook()`` in each process whenever its Redis comes back after an
    outage (after the breaker closed, in the request that found Redis again)."""
    if hook not in _reconnect_hooks:
        _reconnect_hooks.append(hook)


class RedisBreaker:
    """Whether this process uses one Redis server now, or its local fallbacks."""

    def __init__(self, location: str):
        self.location = location
        self._lock = threading.Lock()
        self.down = False
        self._retry_at = 0.0
        self._recovered_at = float("-inf")
        self._fallbacks: dict[str, LocMemCache] = {}

    def add_fallback(self, name: str, fallback: LocMemCache) -> None:
        with self._lock:
            self._fallbacks.setdefault(name, fallback)

    def allows(self, ping) -> bool:
        """True: send the call to Redis. While down, False, except for the one
        call per retry period that first gets Redis to answer ``ping()``."""
        if not self.down:
            return True
        now = time.monotonic()
        with self._lock:
            if not self.down:
                return True
            if now < self._retry_at:
                return False
            # This call tries; the others keep to the fallback meanwhile.
            self._retry_at = now + retry_seconds()
        try:
            ping()
        except UNREACHABLE:
            return False
        self.recovered()
        return True

    def failed(self, error: BaseException, started: float) -> None:
        """A call made at ``started`` (``time.monotonic()``) could not reach
        Redis: use the fallbacks from now on, unless Redis answered since then (a
        call that was waiting out its timeout when another found Redis back)."""
        with self._lock:
            if self.down or started < self._recovered_at:
                return
            self.down = True
            self._retry_at = time.monotonic() + retry_seconds()
            self._clear_fallbacks()
        log.warning(
            "Redis 不可用（%s，进程 %d），本进程改用进程内缓存（页面缓存、"
            "报名频率限制暂按进程计），每 %g 秒重试一次。原因：%s",
            shown_location(self.location),
            os.getpid(),
            retry_seconds(),
            error,
        )

    def recovered(self) -> None:
        with self._lock:
            if not self.down:
                return
            self.down = False
            self._recovered_at = time.monotonic()
            self._clear_fallbacks()
        log.info(
            "Redis 已恢复（%s，进程 %d），本进程重新使用共享缓存。",
            shown_location(self.location),
            os.getpid(),
        )
        for hook in list(_reconnect_hooks):
            try:
                hook()
            except Exception:  # noqa: BLE001 - a hook must not fail the request
                log.exception("Redis 恢复后的处理 %r 失败", hook)

    def _clear_fallbacks(self) -> None:
        # What a process cached on its own is not what the others did meanwhile
        # (a bump, a count): start each period of its own empty.
        for fallback in self._fallbacks.values():
            fallback.clear()


_breakers: dict[str, RedisBreaker] = {}
_breakers_lock = threading.Lock()


def breaker_for(location: str) -> RedisBreaker:
    with _breakers_lock:
        breaker = _breakers.get(location)
        if breaker is None:
            breaker = _breakers[location] = RedisBreaker(location)
        return breaker


def reset_breakers() -> None:
    """Forget every breaker's state (tests)."""
    with _breakers_lock:
        for breaker in _breakers.values():
            with breaker._lock:
                breaker.down = False
                breaker._clear_fallbacks()


class ReusingRedisCacheClient(RedisCacheClient):
    def get_client(self, key=None, *, write=False):
        index = self._get_connection_pool_index(write)
        clients = self.__dict__.setdefault("_clients", {})
        client = clients.get(index)
        if client is None:
            pool = self._get_connection_pool(write)
            client = clients[index] = self._client(connection_pool=pool)
        return client


def _guarded(name: str):
    redis_method = getattr(RedisCache, name)

    def method(self, *args, **kwargs):
        if self.breaker.allows(self.ping):
            started = time.monotonic()
            try:
                return redis_method(self, *args, **kwargs)
            except UNREACHABLE as error:
                self.breaker.failed(error, started)
        return getattr(self.fallback, name)(*args, **kwargs)

    method.__name__ = name
    method.__doc__ = f"``{name}`` on Redis, or on this process's fallback."
    return method


class PortalRedisCache(RedisCache):
    def __init__(self, server, params):
        params = dict(params)
        params["OPTIONS"] = {**DEFAULT_OPTIONS, **params.get("OPTIONS", {})}
        super().__init__(server, params)
        self._class = ReusingRedisCacheClient
        location = self._servers[0]
        self.breaker = breaker_for(location)
        # Django makes a cache object per thread; local-memory caches of one name
        # share their storage, so all threads of a process share one fallback.
        name = f"redis-fallback|{location}|{self.key_prefix}|{self.version}"
        self.fallback = LocMemCache(
            name,
            {
                "TIMEOUT": params.get("TIMEOUT", 300),
                "KEY_PREFIX": self.key_prefix,
                "VERSION": self.version,
                "KEY_FUNCTION": self.key_func,
                "OPTIONS": {"MAX_ENTRIES": FALLBACK_ENTRIES},
            },
        )
        self.breaker.add_fallback(name, self.fallback)

    def ping(self) -> None:
        self._cache.get_client(write=True).ping()

    def available(self) -> bool:
        """Redis is in use now (no round trip: the breaker's state)."""
        return not self.breaker.down

    def redis_client(self):
        """The redis-py client of the server writes go to, for what Django's cache
        API has no call for (the page cache's pub/sub channel)."""
        return self._cache.get_client(write=True)

    def publish(self, channel: str, message: str) -> None:
        """Publish on Redis; nothing while Redis is down (no one would hear)."""
        if not self.breaker.allows(self.ping):
            return
        started = time.monotonic()
        try:
            self.redis_client().publish(channel, message)
        except UNREACHABLE as error:
            self.breaker.failed(error, started)


# Every call Django's Redis backend implements; the others (decr, get_or_set,
# incr_version …) are made of these.
GUARDED = (
    "add",
    "get",
    "set",
    "touch",
    "delete",
    "get_many",
    "has_key",
    "incr",
    "set_many",
    "delete_many",
    "clear",
)
for _name in GUARDED:
    setattr(PortalRedisCache, _name, _guarded(_name))
del _name
