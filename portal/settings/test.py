"""pytest: fast hashing, media in a temporary folder, whatever DATABASE_URL says."""

import os
import tempfile

from .base import *  # noqa: F403

DEBUG = False
SECRET_KEY = "test-only"
ALLOWED_HOSTS = ["*"]
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
MEDIA_ROOT = os.environ.get("MEDIA_ROOT") or tempfile.mkdtemp(prefix="portal-media-")
STORAGES["staticfiles"]["BACKEND"] = (  # noqa: F405
    "django.contrib.staticfiles.storage.StaticFilesStorage"
)
WAGTAILADMIN_BASE_URL = "http://testserver"
SERVE_MEDIA = True
# Serve static files from the finders, no collectstatic needed.
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True
# Tests count queries of rendered pages; the page cache has its own tests.
PAGE_CACHE_SECONDS = 0
FRAGMENT_CACHE_SECONDS = 0
# Many tests sign up from one address (127.0.0.1); the limits have their own tests
# (tests/events/test_signup_limits.py), which turn them on. The staff login lockout
# stays on everywhere: tests log in with force_login, which it does not see.
SIGNUP_LIMITS_ENABLED = False
# Tasks run in the process that enqueues them (django-tasks' immediate backend),
# so tests stay synchronous, unless TASKS_BACKEND says otherwise. Set in the
# environment too, so that the servers tests start in subprocesses (tests/server.py,
# dev or production settings) inherit it; tests/portal/test_tasks_worker.py gives
# its own servers TASKS_BACKEND=database or rq.
os.environ.setdefault("TASKS_BACKEND", "immediate")
TASKS_BACKEND = os.environ["TASKS_BACKEND"]
TASKS = tasks_setting(TASKS_BACKEND)  # noqa: F405
