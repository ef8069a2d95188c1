"""gunicorn settings for `make serve` (production settings, several processes).

Workers: with ``REDIS_URL`` set, the cache (shared page cache, rate limits, the
WeChat token) is shared by every process, so we run ``cores + 1`` single-threaded
workers: rendering a page is CPU work under Python's GIL, and threads in one
process wait for each other's GIL after every query. ``make bench`` on the 2-core
machine, req/s uncached (home, activity) / cached (home): 3 sync workers 98.3,
77.7 / 2,647; 2 gthread workers × 4 threads with keep-alive 51.6, 31.7 / 3,126.
Without Redis the cache is local memory — one per process, and an invalidation in
one process would not reach the others — so a single worker with threads serves
instead. ``WEB_CONCURRENCY`` and ``GUNICORN_THREADS`` override either choice.
"""

import gc
import logging
import multiprocessing
import os
import tempfile

bind = os.environ.get("BIND", "127.0.0.1:8000")
_shared_cache = bool(os.environ.get("REDIS_URL"))
workers = int(
    os.environ.get(
        "WEB_CONCURRENCY", multiprocessing.cpu_count() + 1 if _shared_cache else 1
    )
)
threads = int(os.environ.get("GUNICORN_THREADS", "1" if _shared_cache else "8"))
# A WeChat group opening a link at once: keep a long queue rather than refusing.
backlog = 2048
timeout = 30
# Request head limits. The request line is at gunicorn's maximum (default 4094):
# the WeChat signing endpoint takes the page address, up to 2,048 characters and
# percent-encoded once more, as a query parameter. Header count and size keep the
# defaults, which WeChat's browser and the admin's cookies stay well inside.
# Bodies: public POSTs are capped by events.limits.PublicPostSizeMiddleware; set
# the proxy's cap (nginx client_max_body_size) to the largest upload, 25m.
limit_request_line = 8190
limit_request_fields = 100
limit_request_field_size = 8190
graceful_timeout = 20
# A fresh worker loads Django and Wagtail again (~1.5 s of CPU): at a few
# thousand cached pages a second, 5,000 requests meant a restart every few seconds.
max_requests = 50000
max_requests_jitter = 5000
accesslog = os.environ.get("GUNICORN_ACCESS_LOG") or None
# Access and error log lines without result/cancel tokens, without the query
# strings of admin, sign-up and result addresses (staff searches for a phone or
# a name), and with phones masked: portal/access_log.py, portal/redact.py.
logger_class = "portal.access_log.PrivateLogger"
errorlog = "-"
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
raw_env = ["DJANGO_SETTINGS_MODULE=portal.settings.production"]


def on_starting(server):
    """Load the big dictionaries of the libraries search and slugs use once, here
    in the master, before the workers are forked: jieba's word list (~65 MB
    parsed, search/text.py takes jieba's default tokenizer, this one) and
    pypinyin's readings (~60 MB; 拼音 slugs, search's homophones). Each worker
    loaded its own copy on its first search and grew from 186 to ~270 MB; forked
    afterwards, they share the master's pages until they write to them. Only
    these libraries are loaded here, none of the site's code: ``systemctl reload``
    (HUP) must still start workers on a new checkout's code (``preload_app``
    would keep the old one). ``gc.freeze()``: the collector in the workers then
    never walks (and so never copies) what the master loaded."""
    import jieba
    import opencc
    import pypinyin

    jieba.setLogLevel(logging.WARNING)
    jieba.dt.tmp_dir = tempfile.gettempdir()
    jieba.dt.cache_file = "portal-jieba.cache"  # search.text.JIEBA_CACHE_FILE
    jieba.dt.initialize()
    pypinyin.lazy_pinyin("花园路")
    opencc.OpenCC("t2s").convert("園")
    gc.freeze()
