"""gunicorn settings for `make serve` (production settings, several processes).

Workers: with ``REDIS_URL`` set, the cache (shared page cache, rate limits, the
WeChat token) is shared by every process, so we run ``2 × cores + 1`` workers. Without
it the cache is local memory — one per process, and an invalidation in one process
would not reach the others — so a single worker with threads serves instead.
``WEB_CONCURRENCY`` overrides either choice.
"""

import multiprocessing
import os

bind = os.environ.get("BIND", "127.0.0.1:8000")
_shared_cache = bool(os.environ.get("REDIS_URL"))
workers = int(
    os.environ.get(
        "WEB_CONCURRENCY", multiprocessing.cpu_count() * 2 + 1 if _shared_cache else 1
    )
)
threads = int(os.environ.get("GUNICORN_THREADS", "8"))
# A WeChat group opening a link at once: keep a long queue rather than refusing.
backlog = 2048
timeout = 30
graceful_timeout = 20
max_requests = 5000
max_requests_jitter = 500
accesslog = os.environ.get("GUNICORN_ACCESS_LOG") or None
errorlog = "-"
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
raw_env = ["DJANGO_SETTINGS_MODULE=portal.settings.production"]
