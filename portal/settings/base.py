"""Settings shared by every environment.

Configuration that differs between machines comes from the environment:
``DATABASE_URL`` (default: a SQLite file in the checkout), ``REDIS_URL`` (cache; the
local-memory cache when unset), ``SECRET_KEY``, ``ALLOWED_HOSTS``, ``DEBUG``.
"""

import os
import re
from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent.parent


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item]


DEBUG = env_bool("DEBUG", False)
SECRET_KEY = os.environ.get("SECRET_KEY", "")
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "portal",
    "core",
    "home",
    "events",
    "sharing",
    "search",
    "notify",
    "volunteers",
    "demo",
    "wagtail.contrib.settings",
    "wagtail.contrib.sitemaps",
    "wagtail.contrib.routable_page",
    "wagtail.contrib.redirects",
    "wagtail.embeds",
    "wagtail.sites",
    "wagtail.users",
    "wagtail.snippets",
    "wagtail.documents",
    "wagtail.images",
    "wagtail.search",
    "wagtail.admin",
    "wagtail",
    "modelcluster",
    "taggit",
    "django_filters",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.sitemaps",
    # Wagtail's admin uses its naturaltime ("3 分钟前"); only an installed app's
    # translations are loaded, so without it the admin's relative times are English.
    "django.contrib.humanize",
    "axes",
    "csp",
    # Background tasks (TASKS below): the API, its database backend (a table of
    # queued tasks, `manage.py db_worker`) and its RQ backend (`manage.py rqworker`).
    "django_tasks",
    "django_tasks_db",
    "django_rq",
    "django_tasks_rq",
]

MIDDLEWARE = [
    # gzip for text responses, outermost so that it sees every response as it
    # leaves: a miss is compressed after the page cache stored it, a hit comes
    # compressed from the cache and passes (portal/compression.py).
    "portal.compression.CompressionMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # Content-Security-Policy (portal/security.py). Outermost with the headers
    # above, so every response gets it on the way out: cache hits (the policy in
    # force when they are served, never a stored one), an outage's stale copies
    # and the 503 page. It never needs the database to answer.
    "portal.security.ContentSecurityPolicyMiddleware",
    # NUL and lone surrogates out of request.GET before any view reads it
    # (portal/input.py).
    "portal.input.CleanQueryMiddleware",
    # Next: a cache hit is answered before any other layer runs (no session,
    # user or database); static files and media pass through (portal/pagecache.py).
    "portal.pagecache.PageCacheMiddleware",
    # Database down (portal/failure.py): the page cache's last good copy or a
    # static 503 instead of a 500. Outside everything that can query the database.
    "portal.failure.DatabaseFailureMiddleware",
    # 413 for an oversized public POST before anything reads its body.
    "events.limits.PublicPostSizeMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    # The request's Wagtail Site and its root page, remembered per content
    # generation: two queries fewer on every page (core/sites.py).
    "core.sites.SiteMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "wagtail.contrib.redirects.middleware.RedirectMiddleware",
    # Last, as django-axes asks: turns a refused staff login into the 429 page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "portal.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.debug",
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "wagtail.contrib.settings.context_processors.settings",
                "portal.elder.context",
            ],
        },
    },
]

WSGI_APPLICATION = "portal.wsgi.application"


def database_config() -> dict:
    """DATABASE_URL when set, else a SQLite file (SQLITE_PATH, default db.sqlite3 in
    the checkout). Every SQLite configuration — the default file or any
    ``sqlite:///…`` URL — gets the same tuning for concurrent writers
    (:func:`sqlite_options`); a URL only adds to it (``?timeout=10``)."""
    url = os.environ.get("DATABASE_URL")
    if url:
        # CONN_MAX_AGE (seconds a connection is kept for the next request): 60 by
        # default; the test servers set 0, so that idle servers hold no
        # PostgreSQL connection (tests/server.py).
        config = dj_database_url.parse(
            url,
            conn_max_age=int(os.environ.get("CONN_MAX_AGE", "60")),
            conn_health_checks=True,
        )
        if config["ENGINE"] != "django.db.backends.sqlite3":
            return config
        name, given = config["NAME"], config.get("OPTIONS", {})
    else:
        name = os.environ.get("SQLITE_PATH", str(BASE_DIR / "db.sqlite3"))
        given = {}
    # The same dict whichever way SQLite was named: no persistent-connection
    # settings (dj_database_url's are meant for PostgreSQL).
    return {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": name,
        "OPTIONS": sqlite_options(**given),
    }


def sqlite_options(**given) -> dict:
    """Connection options for SQLite, ``given`` (a URL's query) taking precedence.

    WAL lets readers run while one writer writes; IMMEDIATE takes the write lock
    at BEGIN, so two writers queue on the busy timeout instead of one failing later
    with "database is locked" when it tries to upgrade a read lock."""
    # SQLITE_BUSY_TIMEOUT (seconds): lowered by the outage tests, which hold the
    # database locked and need requests to give up quickly.
    timeout = float(given.pop("timeout", os.environ.get("SQLITE_BUSY_TIMEOUT", "5")))
    return {
        # Overridable only so a test can show what goes wrong with DEFERRED.
        "transaction_mode": os.environ.get("SQLITE_TRANSACTION_MODE", "IMMEDIATE"),
        "timeout": timeout,
        "init_command": (
            "PRAGMA journal_mode=WAL;PRAGMA synchronous=NORMAL;"
            f"PRAGMA busy_timeout={int(timeout * 1000)}"
        ),
        **given,
    }


DATABASES = {"default": database_config()}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = os.environ.get("REDIS_URL")
# While Redis cannot be reached, each process caches in its own memory (pages,
# sign-up rate limits: per process then) and tries Redis again at most this often
# (seconds); portal/cache.py.
CACHE_REDIS_RETRY_SECONDS = float(os.environ.get("CACHE_REDIS_RETRY_SECONDS", "5"))
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "portal.cache.PortalRedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "portal",
        },
        "renditions": {
            "BACKEND": "portal.cache.PortalRedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "portal-renditions",
        },
        # Last good copies of cached pages (portal/pagecache.py), served only
        # while the database fails.
        "pagecache-stale": {
            "BACKEND": "portal.cache.PortalRedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "portal-stale",
        },
    }
else:
    CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
        "renditions": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": "renditions",
        },
        # Apart from "default", so that day-long copies never crowd fresh entries
        # out of local memory's 300.
        "pagecache-stale": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": "pagecache-stale",
            "OPTIONS": {"MAX_ENTRIES": 1000},
        },
    }

# --- Background tasks (django-tasks; the worker: `python -m portal.worker`) --------
# Renditions of published pages (core/images.py), Wagtail's reference index and
# file clean-up, the purge of personal data (events/tasks.py) run in a worker, not
# in the request that asks for them. TASKS_BACKEND picks where they are queued:
#   database   a table in DATABASE_URL, run by `manage.py db_worker` (default
#              without REDIS_URL);
#   rq         Redis (TASKS_REDIS_URL, default REDIS_URL), run by RQ workers on any
#              machine (default with REDIS_URL). portal.tasks.RQBackend pushes a
#              task when the transaction commits, and runs it in the request,
#              with a warning, when Redis cannot be reached;
#   immediate  in the process that enqueues, as before there was a worker (tests).
TASKS_REDIS_URL = os.environ.get("TASKS_REDIS_URL") or REDIS_URL
TASK_BACKENDS = {
    "immediate": "django_tasks.backends.immediate.ImmediateBackend",
    "database": "django_tasks_db.DatabaseBackend",
    "rq": "portal.tasks.RQBackend",
}


def tasks_setting(backend: str) -> dict:
    """The TASKS setting for ``backend`` (a key of TASK_BACKENDS)."""
    if backend not in TASK_BACKENDS:
        raise ImproperlyConfigured(
            f"TASKS_BACKEND={backend!r}：应为 {'、'.join(TASK_BACKENDS)} 之一"
        )
    if backend == "rq" and not TASKS_REDIS_URL:
        raise ImproperlyConfigured("TASKS_BACKEND=rq 需要 REDIS_URL 或 TASKS_REDIS_URL")
    return {"default": {"BACKEND": TASK_BACKENDS[backend], "QUEUES": ["default"]}}


def rq_connection(url: str) -> dict:
    """django-rq's connection settings for ``url``: host, port, database, password
    (or a Unix socket) plus short timeouts and a single retry, so that a request
    enqueueing while Redis is down learns it in about a second, not after redis-py's
    default backoff. The worker raises the read timeout for its blocking pop."""
    from redis.backoff import NoBackoff
    from redis.connection import SSLConnection, UnixDomainSocketConnection, parse_url
    from redis.retry import Retry

    parsed = parse_url(url)
    client = {
        "socket_connect_timeout": 2,
        "socket_timeout": 5,
        "retry": Retry(NoBackoff(), 1),
    }
    config = {
        "DB": int(parsed.get("db", 0)),
        "USERNAME": parsed.get("username"),
        "PASSWORD": parsed.get("password"),
        "REDIS_CLIENT_KWARGS": client,
    }
    if parsed.get("connection_class") is UnixDomainSocketConnection:
        client["unix_socket_path"] = parsed["path"]
        config.update(HOST=None, PORT=None)
    else:
        config.update(
            HOST=parsed.get("host", "localhost"), PORT=parsed.get("port", 6379)
        )
        config["SSL"] = parsed.get("connection_class") is SSLConnection
    return config


TASKS_BACKEND = (os.environ.get("TASKS_BACKEND") or "").strip().lower() or (
    "rq" if TASKS_REDIS_URL else "database"
)
TASKS = tasks_setting(TASKS_BACKEND)
# django-rq: one queue, "default", shared by every machine that has the same Redis.
# Its jobs must not be evicted: a Redis with a maxmemory-policy other than
# noeviction/volatile-* (a pure cache) needs TASKS_REDIS_URL to another instance.
# A job may run TASKS_JOB_TIMEOUT seconds; a result is kept 500 s (RQ's default).
if TASKS_REDIS_URL:
    RQ_QUEUES = {
        "default": {
            **rq_connection(TASKS_REDIS_URL),
            "DEFAULT_TIMEOUT": int(os.environ.get("TASKS_JOB_TIMEOUT", "900")),
        }
    }


AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation." + name}
    for name in (
        "UserAttributeSimilarityValidator",
        "CommonPasswordValidator",
        "NumericPasswordValidator",
    )
] + [
    # Django's default is 8. The lockout below slows guessing from one address
    # only, so staff passwords carry the rest: at least 10 characters.
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 10},
    }
]

# Staff login lockout (django-axes). The first backend refuses a locked-out
# username+address before any password is checked, so a right password does not
# help during the cool-off either.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文")]
WAGTAILADMIN_PERMITTED_LANGUAGES = [("zh-hans", "简体中文")]
# The project's own translations, ahead of every app's: the admin strings Wagtail's
# zh_Hans catalogue lacks (locale/zh_Hans/LC_MESSAGES/django.po and djangojs.po,
# compiled to .mo by `make messages`, which every install step runs).
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
# An editor's account page offers the site's zone only, not 600 English names.
WAGTAIL_USER_TIME_ZONES = ["Asia/Shanghai"]
WAGTAILADMIN_USER_LOGIN_FORM = "portal.admin_forms.LoginForm"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
# Where collectstatic writes and the proxy reads (deploy/nginx-portal.conf).
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT", BASE_DIR / "staticfiles"))
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", BASE_DIR / "media"))
SERVE_MEDIA = env_bool("SERVE_MEDIA", DEBUG)

STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage",
    },
}

DATA_UPLOAD_MAX_NUMBER_FIELDS = 10_000

# --- Abuse limits (events/limits.py, portal/client_ip.py, portal/lockout.py) -------

# Request bodies. The admin posts a page's whole StreamField as form fields (a
# long page is thousands of fields, hence the 10,000 above, and can pass Django's
# 2.5 MB default); uploaded files do not count here (their own caps are
# WAGTAILIMAGES/DOCS_MAX_UPLOAD_SIZE). Public forms are tiny: the largest sign-up
# (a 200-character note, 9 bytes a character percent-encoded) is under 3 KB, so a
# POST outside /admin/ above PUBLIC_POST_MAX_BYTES is answered 413 unread.
DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024
PUBLIC_POST_MAX_BYTES = int(os.environ.get("PUBLIC_POST_MAX_BYTES", str(32 * 1024)))

# The client's address (portal/client_ip.py), what lockouts and limits key on.
# TRUSTED_PROXY_COUNT = the number of reverse proxies of ours in front of gunicorn
# that append to X-Forwarded-For. 0 (default): REMOTE_ADDR, X-Forwarded-For
# ignored — right when nothing is in front, and the only safe value when unsure.
# N: the N-th address from the right of X-Forwarded-For (what our outermost proxy
# saw); the entries further left are the client's own claims and never used. One
# nginx with `proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;` is 1;
# a CDN or load balancer in front of that nginx makes 2. Set it too high and a
# client can choose its address; too low and every client shares the proxy's.
TRUSTED_PROXY_COUNT = int(os.environ.get("TRUSTED_PROXY_COUNT", "0"))

# Staff login lockout (django-axes; the page: portal/lockout.py). AXES_FAILURE_LIMIT
# failed logins for one username from one address lock that pair for
# AXES_COOLOFF_TIME from the failure that locked it. Nothing tried during the lock
# counts or extends it (AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False):
# the right password after the cool-off always works. Failures are counted while
# they come less than AXES_COOLOFF_TIME apart (axes keeps one row per pair with
# the last failure's time), so slow guessing still locks; each lock ends on time. Keyed
# on the pair, not the username alone (anyone could then lock an editor out from
# anywhere) nor the address alone (an office behind one NAT would lock each other
# out). Attempts are kept in the database (AccessAttempt), so every process and
# machine sees the same counts; with REDIS_URL unset there is no shared cache.
# Clear a lockout: `manage.py axes_reset_username <name>` (or axes_reset,
# axes_reset_ip, axes_list_attempts).
AXES_FAILURE_LIMIT = int(os.environ.get("AXES_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = timedelta(
    minutes=max(1, int(os.environ.get("AXES_COOLOFF_MINUTES", "15")))
)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_CLIENT_IP_CALLABLE = "portal.client_ip.client_ip"
AXES_LOCKOUT_CALLABLE = "portal.lockout.lockout_response"
AXES_HANDLER = "axes.handlers.database.AxesDatabaseHandler"
AXES_RESET_ON_SUCCESS = True
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
# Successful logins are not logged with their address (no use here that would
# justify keeping staff addresses); failed attempts live only until they expire.
AXES_DISABLE_ACCESS_LOG = True
AXES_ENABLE_ADMIN = False  # no Django admin on this site


def limit_rate(name: str, default: str) -> str | None:
    """A sign-up limit from the environment: "count/period", e.g. ``30/10m`` is 30
    per 10 minutes (s, m, h, d); ``off`` → None (no limit)."""
    value = os.environ.get(name, default).strip().lower()
    if value in {"off", "0", "none", ""}:
        return None
    if not re.fullmatch(r"[1-9]\d*/\d*[smhd]", value):
        raise ImproperlyConfigured(f"{name}={value!r}: expected e.g. 30/10m or off")
    return value


# Sign-up rate limits (events/limits.py, django-ratelimit on the default cache:
# Redis shared by all processes when REDIS_URL is set). Generous per address,
# since a WeChat group's phones can share one carrier NAT address; tight per phone
# number. Over the limit: 429, Retry-After, the form again with the input kept.
SIGNUP_LIMITS_ENABLED = env_bool("SIGNUP_LIMITS_ENABLED", True)
SIGNUP_LIMIT_PER_ADDRESS = limit_rate("SIGNUP_LIMIT_PER_ADDRESS", "30/10m")
SIGNUP_LIMIT_PER_PHONE = limit_rate("SIGNUP_LIMIT_PER_PHONE", "5/10m")
# 我的报名 (events/my_views.py): finding one's sign-ups by phone number and 报名码.
# Every lookup counts against its address; only lookups that found nothing count
# against the phone typed (a code has 32⁶ values: 5 guesses an hour is no attack,
# and a resident's own lookups never lock them out). SIGNUP_LIMITS_ENABLED
# switches these too.
MY_SIGNUPS_LIMIT_PER_ADDRESS = limit_rate("MY_SIGNUPS_LIMIT_PER_ADDRESS", "20/10m")
MY_SIGNUPS_LIMIT_PER_PHONE = limit_rate("MY_SIGNUPS_LIMIT_PER_PHONE", "5/1h")
# 我的报名 by a one-time code sent by SMS (notify/login_code.py, /my/sms/): each
# request for a code counts against its address and against the phone typed
# (every request: each may send a message, which costs money and must not be
# usable to flood a stranger's phone); a phone gets one code per
# MY_SIGNUPS_CODE_RESEND_SECONDS. A code is good for MY_SIGNUPS_CODE_SECONDS and
# MY_SIGNUPS_CODE_ATTEMPTS wrong tries. Checking a code counts like a lookup.
MY_SIGNUPS_CODE_LIMIT_PER_ADDRESS = limit_rate(
    "MY_SIGNUPS_CODE_LIMIT_PER_ADDRESS", "10/1h"
)
MY_SIGNUPS_CODE_LIMIT_PER_PHONE = limit_rate("MY_SIGNUPS_CODE_LIMIT_PER_PHONE", "3/1h")
MY_SIGNUPS_CODE_RESEND_SECONDS = int(
    os.environ.get("MY_SIGNUPS_CODE_RESEND_SECONDS", "60")
)
MY_SIGNUPS_CODE_SECONDS = int(os.environ.get("MY_SIGNUPS_CODE_SECONDS", "600"))
MY_SIGNUPS_CODE_ATTEMPTS = int(os.environ.get("MY_SIGNUPS_CODE_ATTEMPTS", "5"))
# The door page's lookup by the phone's last four digits, per staff account
# (events/staff/door.py): a busy door checks in a few people a minute.
DOOR_LOOKUP_LIMIT = limit_rate("DOOR_LOOKUP_LIMIT", "120/10m")
# A cache that fails to count lets the sign-up through (logged): the limits are a
# brake on abuse, not a reason to turn residents away.
RATELIMIT_FAIL_OPEN = True

WAGTAIL_SITE_NAME = "花园路街道社区门户"
WAGTAILADMIN_BASE_URL = os.environ.get("WAGTAILADMIN_BASE_URL", "http://127.0.0.1:8000")
WAGTAIL_I18N_ENABLED = False
WAGTAIL_ENABLE_UPDATE_CHECK = False
# No third-party requests from the admin either (gravatar is unreachable in China).
WAGTAIL_GRAVATAR_PROVIDER_URL = None
WAGTAIL_ENABLE_WHATS_NEW_BANNER = False
WAGTAILSEARCH_BACKENDS = {"default": {"BACKEND": "wagtail.search.backends.database"}}
WAGTAILDOCS_EXTENSIONS = ["csv", "docx", "pdf", "pptx", "txt", "xlsx", "zip"]
WAGTAILIMAGES_EXTENSIONS = ["gif", "jpg", "jpeg", "png", "webp"]
WAGTAILIMAGES_MAX_UPLOAD_SIZE = 10 * 1024 * 1024
WAGTAILDOCS_MAX_UPLOAD_SIZE = 20 * 1024 * 1024
WAGTAIL_MODERATION_ENABLED = True
WAGTAIL_WORKFLOW_ENABLED = True
# Documents always go through Wagtail's view (/documents/<id>/<name>), which
# checks collection privacy and sends them as attachments with nosniff and
# "default-src 'none'": none opens inline, not even a PDF (a document is not a
# page of this site, and an old .html/.svg upload must never run as one).
WAGTAILDOCS_SERVE_METHOD = "serve_view"
WAGTAILDOCS_INLINE_CONTENT_TYPES = []

# --- Security headers (Django's SecurityMiddleware; CSP: portal/security.py) ------
# HTTPS, HSTS and secure cookies are production's (portal/settings/production.py).
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
# Nothing of ours is framed by another site. Wagtail's preview views override this
# with SAMEORIGIN for the admin's own preview iframe.
X_FRAME_OPTIONS = "DENY"

_SELF, _NONE = "'self'", "'none'"
# Public pages (portal/security.py adds the WeChat JS-SDK when sharing is on).
# Scripts: static/js only — no inline script, no on* attributes, no eval, no nonce
# (pages are shared through the page cache). Styles: our stylesheet only for
# <style>/<link> (style-src-elem); style *attributes* are allowed, because the
# 一社一品 pages colour themselves with style="--brand: #RRGGBB" from the
# community's brand colour (a field validated as #RRGGBB). A style attribute can
# only restyle its own element; the CSS that could read the page (selectors in an
# injected <style>) stays blocked. Browsers without CSP 3 fall back to style-src.
# Images: our own files only (QR codes are inline <svg>, renditions are under
# /media/ and /images/); nothing uses data: URLs, the editors' Wagtail user bar
# included (checked in Chromium, tests/e2e/test_csp.py).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [_SELF],
        "script-src": [_SELF],
        "style-src": [_SELF, "'unsafe-inline'"],
        "style-src-elem": [_SELF],
        "style-src-attr": ["'unsafe-inline'"],
        "img-src": [_SELF],
        "font-src": [_SELF],
        "connect-src": [_SELF],
        "media-src": [_SELF],
        "frame-src": [_NONE],
        "worker-src": [_NONE],
        "object-src": [_NONE],
        "base-uri": [_SELF],
        "form-action": [_SELF],
        "frame-ancestors": [_NONE],
    }
}
# The Wagtail admin (/admin/, its preview iframe included): Wagtail 8's own
# templates still write inline scripts (the page editor alone has seven: inline
# panels, date and time pickers) and its JavaScript injects inline scripts and
# styles (chooser modals); without 'unsafe-inline' the editor and the image
# chooser stop working. Nothing from another origin, no eval; it frames only
# itself (preview) and is framed only by itself. portal/security.py adds the
# sites' public origins to img-src for previews.
CONTENT_SECURITY_POLICY_ADMIN = {
    "DIRECTIVES": {
        "default-src": [_SELF],
        "script-src": [_SELF, "'unsafe-inline'"],
        "style-src": [_SELF, "'unsafe-inline'"],
        # blob: the thumbnails of pictures being uploaded (multiple upload).
        "img-src": [_SELF, "blob:"],
        "font-src": [_SELF],
        "connect-src": [_SELF],
        "media-src": [_SELF],
        "frame-src": [_SELF],
        "worker-src": [_SELF],
        "object-src": [_NONE],
        "base-uri": [_SELF],
        "form-action": [_SELF],
        "frame-ancestors": [_SELF],
    }
}
# Uploaded files Django serves itself (SERVE_MEDIA): whatever a file turns out to
# be, nothing in it runs or loads, and it cannot be framed. Pictures still show
# (an image opened on its own is not affected by img-src).
CONTENT_SECURITY_POLICY_MEDIA = {
    "DIRECTIVES": {
        "default-src": [_NONE],
        "frame-ancestors": [_NONE],
        "sandbox": True,
    }
}

# Log lines never carry a resident's result/cancel token, a staff search (the
# query string of an /admin/ address) or a full phone (portal/redact.py): every
# handler here filters its records ("Not Found: /…/r/<token>/" reaches the root
# logger's console; runserver's request lines keep Django's own format).
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"redact": {"()": "portal.redact.RedactingFilter"}},
    "formatters": {
        "django.server": {
            "()": "django.utils.log.ServerFormatter",
            "format": "[{server_time}] {message}",
            "style": "{",
        }
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "filters": ["redact"]},
        "django.server": {
            "class": "logging.StreamHandler",
            "formatter": "django.server",
            "filters": ["redact"],
        },
    },
    "loggers": {
        # Its records also reach Django's own console handler (DEBUG only).
        "django.request": {"filters": ["redact"]},
        "django.server": {
            "handlers": ["django.server"],
            "level": "INFO",
            "propagate": False,
        },
        # "Redis 已恢复" is an info line; it belongs beside the warning that Redis
        # was lost (portal/cache.py).
        "portal.cache": {"level": "INFO"},
        # Each SMS sent, retried or given up on (phones masked: notify/).
        "notify": {"level": "INFO"},
    },
    "root": {"handlers": ["console"], "level": "WARNING"},
}

# iCalendar UIDs (activity-<id>@<domain>) must never change, so they use a fixed
# domain rather than whatever host a request came in on.
ICAL_UID_DOMAIN = os.environ.get("ICAL_UID_DOMAIN", "community-portal.local")

# Shared page cache (portal/pagecache.py): seconds an anonymous page may be served
# from the cache; 0 turns it off. Publishing and sign-ups invalidate earlier.
PAGE_CACHE_SECONDS = int(os.environ.get("PAGE_CACHE_SECONDS", "300"))
# Cached parts of pages (``{% fragment %}``: the card listings a page shows of
# other pages), kept under the same generations, so a page that has to be rendered
# again (expired, or its seats changed) reuses the listings nothing has changed in.
# 0 turns them off.
FRAGMENT_CACHE_SECONDS = int(os.environ.get("FRAGMENT_CACHE_SECONDS", "300"))
# With Redis, each process keeps its last pages and the generation tokens in memory
# (portal/pagecache_local.py); 0 entries turns that off. The tokens follow a pub/sub
# message per change and are read from Redis again at least this often (seconds).
PAGE_CACHE_LOCAL_ENTRIES = int(os.environ.get("PAGE_CACHE_LOCAL_ENTRIES", "256"))
PAGE_CACHE_VERIFY_SECONDS = float(os.environ.get("PAGE_CACHE_VERIFY_SECONDS", "1"))
# How long the last good copy of each cached page is kept, served only while the
# database fails (portal/failure.py); 0: no copies, the 503 page instead.
PAGE_CACHE_STALE_SECONDS = int(os.environ.get("PAGE_CACHE_STALE_SECONDS", "86400"))
# While Redis is down (portal/cache.py) each process caches pages on its own and
# hears of no change made by another; it renders them afresh at least this often
# (seconds).
PAGE_CACHE_OUTAGE_SECONDS = int(os.environ.get("PAGE_CACHE_OUTAGE_SECONDS", "10"))

# Posters (海报, sharing/posters.py) are drawn with this CJK font: Debian's
# fonts-noto-cjk, installed by `make system-deps`. "index" picks the face inside a
# .ttc collection; 2 is Noto Sans CJK SC (Simplified Chinese glyph shapes). Without
# the font the poster views answer 503 and log why; nothing is downloaded.
POSTER_FONT = {
    "regular": os.environ.get(
        "POSTER_FONT", "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"
    ),
    "bold": os.environ.get(
        "POSTER_FONT_BOLD", "/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc"
    ),
    "index": int(os.environ.get("POSTER_FONT_INDEX", "2")),
}

# WeChat JS-SDK share card (sharing/wechat.py). Off unless both the AppID and
# the AppSecret of the official account are set; pages then carry the share
# script, and /share/wechat/config/ signs the address the browser loaded.
WECHAT_APP_ID = os.environ.get("WECHAT_APP_ID", "")
WECHAT_APP_SECRET = os.environ.get("WECHAT_APP_SECRET", "")
WECHAT_API_BASE = os.environ.get("WECHAT_API_BASE", "https://api.weixin.qq.com")
# A path in our static files (default: the optional local copy, see
# static/js/vendor/README.md), or a URL used as given — the official
# https://res.wx.qq.com/open/js/jweixin-1.6.0.js only if written here.
WECHAT_JSSDK_URL = os.environ.get("WECHAT_JSSDK_URL", "js/vendor/jweixin-1.6.0.js")
# Seconds to wait for WeChat's API: the config request of a page waits this long.
WECHAT_TIMEOUT = float(os.environ.get("WECHAT_TIMEOUT", "3"))

# SMS to residents who opted in at sign-up (notify/): 候补转正, a new time or
# place, a cancelled session, the reminder the day before. SMS_BACKEND is
# notify.backends.LogBackend (log the text, phone masked, send nothing: the
# default) or notify.backends.AliyunBackend (阿里云短信 SendSms, with the access
# key, the approved signature and one approved template per kind; each template
# gets the parameters ${title} ${time} ${place} ${code}; the 验证码 template of
# login_code, 我的报名's one-time code, gets ${code}).
SMS_BACKEND = os.environ.get("SMS_BACKEND", "notify.backends.LogBackend")
# host[:port], or http(s)://host[:port]; empty: dysmsapi.aliyuncs.com over HTTPS.
SMS_ENDPOINT = os.environ.get("SMS_ENDPOINT", "")
SMS_ACCESS_KEY_ID = os.environ.get("SMS_ACCESS_KEY_ID", "")
SMS_ACCESS_KEY_SECRET = os.environ.get("SMS_ACCESS_KEY_SECRET", "")
SMS_SIGN_NAME = os.environ.get("SMS_SIGN_NAME", "")
SMS_TEMPLATES = {
    kind: os.environ.get(f"SMS_TEMPLATE_{kind.upper()}", "")
    for kind in ("promoted", "changed", "cancelled", "reminder", "login_code")
}
# 我的报名 offers "用短信验证码查找" when a real SMS backend and the login_code
# template are configured (MY_SIGNUPS_SMS_CODE=true/false decides otherwise).
MY_SIGNUPS_SMS_CODE = env_bool(
    "MY_SIGNUPS_SMS_CODE",
    SMS_BACKEND != "notify.backends.LogBackend" and bool(SMS_TEMPLATES["login_code"]),
)
# Seconds to wait for the provider (connect, then read).
SMS_TIMEOUT = float(os.environ.get("SMS_TIMEOUT", "5"))
# A failed send is tried again after SMS_RETRY_SECONDS, doubling each time up to
# SMS_RETRY_MAX_SECONDS, SMS_MAX_ATTEMPTS tries in all (then 发送失败).
SMS_RETRY_SECONDS = float(os.environ.get("SMS_RETRY_SECONDS", "60"))
SMS_RETRY_MAX_SECONDS = float(os.environ.get("SMS_RETRY_MAX_SECONDS", "3600"))
SMS_MAX_ATTEMPTS = int(os.environ.get("SMS_MAX_ATTEMPTS", "8"))
# The reminder goes out from this hour (local time) on the day before.
SMS_REMINDER_HOUR = int(os.environ.get("SMS_REMINDER_HOUR", "10"))
