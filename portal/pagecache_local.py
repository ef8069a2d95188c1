"""Per-process copies for the shared page cache (portal/pagecache.py) on Redis.

With the cache in Redis, every hit cost one round trip (the generation tokens and
the stored page in one ``MGET``): about half of a gunicorn worker's time for a
cached page on the 2-core bench machine, most of it waiting for Redis to be
scheduled. Each process therefore keeps:

* **the generation tokens** (:class:`GenerationWatch`), kept current by a Redis
  pub/sub channel every :func:`portal.pagecache.bump` publishes to. Each request
  first reads what has arrived on that connection (a non-blocking read, no round
  trip), so a bump in another process is seen as soon as Redis has delivered it:
  on one machine, well before another request can get there. Pub/sub delivers at
  most once (a reconnect loses messages), so the tokens are also read from Redis
  again at least every ``PAGE_CACHE_VERIFY_SECONDS`` (default 1): that is the
  longest an old token can outlive a lost message. While the channel is not
  connected (Redis restarting), every request reads the tokens from Redis as
  before. While Redis is down altogether (portal/cache.py), neither part is
  used; when it is back, both start afresh (``pagecache.redis_reconnected``).
* **the last pages it served or stored** (:class:`LocalEntries`, least recently
  used first out, ``PAGE_CACHE_LOCAL_ENTRIES``, default 256; 0 turns both parts
  off), each kept no longer than the shared entry (``expires``). A copy is only
  served while its generations are the current ones, like the shared entry.

With the local-memory cache (the demo, the tests) neither is used: that cache is
in the process already.
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections import OrderedDict

from django.conf import settings

CHANNEL = "pagecache:generations"


def local_entries_limit() -> int:
    return getattr(settings, "PAGE_CACHE_LOCAL_ENTRIES", 256)


def verify_seconds() -> float:
    return getattr(settings, "PAGE_CACHE_VERIFY_SECONDS", 1.0)


class GenerationWatch:
    """This process's copy of the generation tokens (see the module docstring)."""

    def __init__(self):
        self._lock = threading.Lock()
        self._pid = None
        self._pubsub = None
        self._tokens: dict[str, str] | None = None
        self._verified = 0.0

    def tokens(self) -> dict[str, str] | None:
        """The current tokens, or None when they have to be read from Redis
        (not subscribed, the channel failed, or not verified for a while)."""
        with self._lock:
            if self._pid != os.getpid() or self._pubsub is None:
                return None
            try:
                while True:
                    message = self._pubsub.get_message(
                        ignore_subscribe_messages=True, timeout=0
                    )
                    if message is None:
                        break
                    if message.get("type") == "message":
                        self._apply(json.loads(message["data"]))
            except Exception:  # noqa: BLE001 - any failure: read from Redis instead
                self._close()
                return None
            if self._tokens is None:
                return None
            if time.monotonic() - self._verified > verify_seconds():
                return None
            return dict(self._tokens)

    def subscribe(self, client) -> bool:
        """Listen on the channel (once per process; again after a failure) before
        the tokens are read from Redis, so no bump falls between the two. False
        when Redis refused."""
        with self._lock:
            if self._pid == os.getpid() and self._pubsub is not None:
                return True
            self._pid = os.getpid()
            self._tokens = None
            try:
                pubsub = client.pubsub()
                pubsub.subscribe(CHANNEL)
                # Wait for the confirmation: only then are later bumps delivered.
                deadline = time.monotonic() + 1
                while time.monotonic() < deadline:
                    message = pubsub.get_message(timeout=0.1)
                    if message and message.get("type") == "subscribe":
                        self._pubsub = pubsub
                        return True
                pubsub.close()
            except Exception:  # noqa: BLE001 - Redis down: no local copies
                pass
            return False

    def confirm(self, tokens: dict[str, str]) -> None:
        """Tokens just read from Redis (after :meth:`subscribe`): they are current."""
        with self._lock:
            if self._pubsub is not None and self._pid == os.getpid():
                self._tokens = dict(tokens)
                self._verified = time.monotonic()

    def bumped(self, tokens: dict[str, str]) -> None:
        """This process changed ``tokens``: use them at once, not after its own
        message comes back."""
        with self._lock:
            self._apply(tokens)

    def _apply(self, tokens: dict[str, str]) -> None:
        if self._tokens is not None:
            self._tokens.update(tokens)

    def _close(self) -> None:
        try:
            self._pubsub.close()
        except Exception:  # noqa: BLE001 - closing a broken connection
            pass
        self._pubsub = None
        self._tokens = None

    def reset(self) -> None:
        with self._lock:
            if self._pubsub is not None:
                self._close()
            self._pid = None


def publish(store, tokens: dict[str, str]) -> None:
    """Tell every process's watch about new tokens (after they are stored), through
    the cache ``store`` (portal/cache.py: nothing is sent while Redis is down)."""
    store.publish(CHANNEL, json.dumps(tokens))


class LocalEntries:
    """The last pages this process served or stored, least recently used out."""

    def __init__(self):
        self._lock = threading.Lock()
        self._entries: OrderedDict[str, dict] = OrderedDict()
        self._pid = os.getpid()

    def get(self, key: str) -> dict | None:
        with self._lock:
            if self._pid != os.getpid():  # forked: start empty
                self._entries.clear()
                self._pid = os.getpid()
            entry = self._entries.get(key)
            if entry is None:
                return None
            if entry.get("expires", 0) <= time.time():
                del self._entries[key]
                return None
            self._entries.move_to_end(key)
            return entry

    def put(self, key: str, entry: dict) -> None:
        limit = local_entries_limit()
        if limit <= 0 or "expires" not in entry:
            return
        with self._lock:
            self._entries[key] = entry
            self._entries.move_to_end(key)
            while len(self._entries) > limit:
                self._entries.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


watch = GenerationWatch()
entries = LocalEntries()
