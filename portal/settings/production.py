"""Production: everything comes from the environment; nothing has a usable default.

Required: ``SECRET_KEY`` and ``WAGTAILADMIN_BASE_URL`` (the site's public address,
e.g. ``https://huayuanlu.example.cn``); set ``ALLOWED_HOSTS`` to the public host
name(s). With only those set, ``manage.py check --deploy --fail-level WARNING``
passes (tests/portal/test_security_headers.py runs it). The headers every
environment sends (nosniff, Referrer-Policy, X-Frame-Options, COOP, CSP) are in
base.py; what follows is what only a public HTTPS deployment can do.
"""

import os
from urllib.parse import urlsplit

from django.core.exceptions import ImproperlyConfigured

from .base import *  # noqa: F403
from .base import env_bool


def required(name: str) -> str:
    value = os.environ.get(name, "").strip()
    if not value:
        raise ImproperlyConfigured(
            f"生产环境必须设置环境变量 {name}（见 portal/settings/production.py）。"
        )
    return value


DEBUG = env_bool("DEBUG", False)
SECRET_KEY = required("SECRET_KEY")

# Wagtail writes this address into notification e-mails and the admin's links to
# the site. A default (base.py's 127.0.0.1:8000) would quietly send editors to
# their own machine, so production refuses to start without it.
WAGTAILADMIN_BASE_URL = required("WAGTAILADMIN_BASE_URL").rstrip("/")
_admin_url = urlsplit(WAGTAILADMIN_BASE_URL)
if _admin_url.scheme not in ("http", "https") or not _admin_url.hostname:
    raise ImproperlyConfigured(
        f"WAGTAILADMIN_BASE_URL={WAGTAILADMIN_BASE_URL!r}：应为站点的完整地址，"
        "如 https://huayuanlu.example.cn"
    )

# --- HTTPS ----------------------------------------------------------------------
# The site is served over HTTPS, normally with TLS ending at a reverse proxy
# (nginx) in front of gunicorn. Django must still know which requests arrived over
# HTTPS — to redirect the others, to send HSTS only on HTTPS, and for the CSRF
# origin check of every admin form — so the proxy sends X-Forwarded-Proto, and
# either
#   * gunicorn turns it into the request's scheme: it does so for requests from
#     FORWARDED_ALLOW_IPS (portal/gunicorn.conf.py; 127.0.0.1 by default, i.e. an
#     nginx on the same machine) — nothing to set here; or
#   * Django reads it: SECURE_PROXY_SSL_HEADER=X-Forwarded-Proto (or
#     "Header-Name: value", the value defaulting to https). Set it only if the
#     proxy overwrites that header on every request: otherwise a client could
#     claim HTTPS by sending it.
# SECURE_COOKIES=false declares a plain-HTTP try-out (`make serve` on 127.0.0.1,
# the benchmark): cookies lose the Secure flag and nothing redirects to an HTTPS
# that nobody serves; `check --deploy` then warns, rightly.
SESSION_COOKIE_SECURE = env_bool("SECURE_COOKIES", True)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE

_proxy_header = os.environ.get("SECURE_PROXY_SSL_HEADER", "").strip()
if _proxy_header:
    _name, _, _value = _proxy_header.partition(":")
    SECURE_PROXY_SSL_HEADER = (
        "HTTP_" + _name.strip().upper().replace("-", "_"),
        _value.strip() or "https",
    )

SILENCED_SYSTEM_CHECKS = [*globals().get("SILENCED_SYSTEM_CHECKS", [])]

# http:// → https://. Django redirects unless the proxy already answers every
# plain-HTTP request with that redirect itself (HTTPS_REDIRECT_AT_PROXY=true):
# then the request never reaches Django and check security.W008 ("SSL redirect
# off") is silenced — that is the only case it is silenced in.
HTTPS_REDIRECT_AT_PROXY = env_bool("HTTPS_REDIRECT_AT_PROXY", False)
SECURE_SSL_REDIRECT = env_bool(
    "SECURE_SSL_REDIRECT", SESSION_COOKIE_SECURE and not HTTPS_REDIRECT_AT_PROXY
)
if HTTPS_REDIRECT_AT_PROXY and not SECURE_SSL_REDIRECT:
    SILENCED_SYSTEM_CHECKS.append("security.W008")

# HSTS: browsers that saw the site once over HTTPS use nothing else for a year.
# Sent by Django on HTTPS responses (SecurityMiddleware), or by the proxy
# (HSTS_AT_PROXY=true: Django sends none, and security.W004 is silenced because
# the proxy does the job). includeSubDomains and preload only when configured:
# a subdistrict's site is often one host name under a government domain whose
# other hosts are not ours to force onto HTTPS, and preload lists the whole
# domain in browsers for good — so, left off, their checks (W005, W021) are
# silenced rather than the headers sent by default.
HSTS_AT_PROXY = env_bool("HSTS_AT_PROXY", False)
SECURE_HSTS_SECONDS = int(
    os.environ.get("SECURE_HSTS_SECONDS", "0" if HSTS_AT_PROXY else "31536000")
)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", False)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", False)
if HSTS_AT_PROXY and not SECURE_HSTS_SECONDS:
    SILENCED_SYSTEM_CHECKS.append("security.W004")
if SECURE_HSTS_SECONDS and not SECURE_HSTS_INCLUDE_SUBDOMAINS:
    SILENCED_SYSTEM_CHECKS.append("security.W005")
if SECURE_HSTS_SECONDS and not SECURE_HSTS_PRELOAD:
    SILENCED_SYSTEM_CHECKS.append("security.W021")
