"""WeChat JS-SDK share card: access token and jsapi ticket, signature, and the
config endpoint the page's script (static/js/wechat-share.js) calls.

Pages never call WeChat while rendering: they only render the script tags (when
``WECHAT_APP_ID`` and ``WECHAT_APP_SECRET`` are set). The browser then asks
``jssdk_config`` to sign the address it actually loaded, and only that view talks
to WeChat — at most once per token lifetime for all processes together, because
the token and ticket live in Django's cache (Redis when several processes serve
the site) and a cache.add() lock lets one request fetch while the others wait.
"""

import hashlib
import http.client
import json
import logging
import secrets
import string
import time
import urllib.request
from functools import lru_cache
from urllib.parse import urldefrag, urlencode, urlsplit

from django.conf import settings
from django.contrib.staticfiles import finders
from django.contrib.staticfiles.storage import staticfiles_storage
from django.core.cache import cache
from django.http import JsonResponse
from django.http.request import split_domain_port
from django.templatetags.static import static
from django.views.decorators.http import require_GET

from portal.security import script_source

logger = logging.getLogger(__name__)

MAX_URL_LENGTH = 2048
# A fetch that fails is remembered this long, so an outage (or a wrong secret)
# costs WeChat one call per interval instead of one per page view; WeChat limits
# token fetches to 2000 a day.
FAILURE_TTL = 30
# Stop using a token or ticket this long before WeChat says it expires (at most;
# a tenth of the lifetime for short ones), so a request never signs with one that
# expires while the browser is still verifying it.
EXPIRY_MARGIN = 300
# Error codes meaning "this access token is no longer valid": drop it and fetch
# a new one (another server using the same AppSecret may have replaced it).
TOKEN_INVALID = {40001, 40014, 42001}

MESSAGES = {
    "not_configured": "本站未启用微信分享。",
    "bad_url": "页面地址无效。",
    "unavailable": "微信分享暂时不可用，请稍后再试。",
}


class WeChatError(Exception):
    """WeChat answered with an error, or could not be reached."""

    def __init__(self, detail: str, errcode: int | None = None):
        super().__init__(detail)
        self.detail = detail
        self.errcode = errcode


# ---------------------------------------------------------------------------
# Settings
# ---------------------------------------------------------------------------


def is_configured() -> bool:
    return bool(
        getattr(settings, "WECHAT_APP_ID", "")
        and getattr(settings, "WECHAT_APP_SECRET", "")
    )


def api_base() -> str:
    return getattr(settings, "WECHAT_API_BASE", "https://api.weixin.qq.com").rstrip("/")


def timeout() -> float:
    return float(getattr(settings, "WECHAT_TIMEOUT", 3))


def jssdk_url() -> str | None:
    """Address of the JS-SDK script, or None when it cannot be served.

    ``WECHAT_JSSDK_URL`` is either a URL or an absolute path, used as given (the
    official host only when a deployer writes it there), or a path inside our
    static files (the default). The local copy is optional (see
    static/js/vendor/README.md): when it is missing, pages get no WeChat scripts
    rather than a script tag that fails — or, with the manifest storage, a page
    that fails."""
    value = getattr(settings, "WECHAT_JSSDK_URL", "") or "js/vendor/jweixin-1.6.0.js"
    if value.startswith(("https://", "http://", "/")):
        return value
    return static_url_if_present(value)


def csp_sources() -> dict[str, list[str]]:
    """What public pages must also allow while WeChat sharing is on: the JS-SDK
    when it is loaded from WeChat's host (``WECHAT_JSSDK_URL`` absolute); a local
    copy is covered by 'self'. The SDK's usage beacon (an image request to
    open.weixin.qq.com carrying the page address) is deliberately not allowed:
    the share card does not need it. Registered with portal/security.py by
    ``SharingConfig.ready``."""
    if not is_configured():
        return {}
    sdk = jssdk_url()
    source = script_source(sdk) if sdk else None
    return {"script-src": [source]} if source else {}


@lru_cache(maxsize=8)
def static_url_if_present(path: str) -> str | None:
    # Static files only change with a deploy (and a restart), so look once.
    try:
        found = staticfiles_storage.exists(path) or finders.find(path)
        url = static(path) if found else None
    except ValueError:  # not in the manifest of collected files
        url = None
    if url is None:
        logger.warning(
            "WeChat sharing is configured but static/%s is missing; pages render "
            "without the JS-SDK (see static/js/vendor/README.md)",
            path,
        )
    return url


# ---------------------------------------------------------------------------
# WeChat API: token and ticket, cached for every process
# ---------------------------------------------------------------------------


def api_get(path: str, params: dict) -> dict:
    """GET ``path`` of the WeChat API; the decoded JSON, or WeChatError for a
    network failure, an unreadable answer or a non-zero ``errcode``."""
    url = f"{api_base()}{path}?{urlencode(params)}"
    try:
        with urllib.request.urlopen(url, timeout=timeout()) as response:
            data = json.loads(response.read().decode("utf-8"))
    except (OSError, ValueError, http.client.HTTPException) as exc:
        # URLError/HTTPError, timeouts, refused connections, bad JSON
        raise WeChatError(f"{path}: {exc.__class__.__name__}: {exc}") from exc
    if not isinstance(data, dict):
        raise WeChatError(f"{path}: unexpected answer {data!r:.200}")
    errcode = data.get("errcode") or 0
    if errcode:
        raise WeChatError(
            f"{path}: errcode {errcode} {data.get('errmsg', '')}", errcode=errcode
        )
    return data


def fetch_access_token() -> tuple[str, int]:
    data = api_get(
        "/cgi-bin/token",
        {
            "grant_type": "client_credential",
            "appid": settings.WECHAT_APP_ID,
            "secret": settings.WECHAT_APP_SECRET,
        },
    )
    return answer_value(data, "access_token")


def fetch_jsapi_ticket(access_token: str) -> tuple[str, int]:
    data = api_get(
        "/cgi-bin/ticket/getticket", {"access_token": access_token, "type": "jsapi"}
    )
    return answer_value(data, "ticket")


def answer_value(data: dict, field: str) -> tuple[str, int]:
    value = data.get(field)
    try:
        expires_in = int(data.get("expires_in", 7200))
    except (TypeError, ValueError):
        expires_in = 7200
    if not value or not isinstance(value, str):
        raise WeChatError(f"answer without {field}: {sorted(data)}")
    return value, expires_in


def cache_key(name: str) -> str:
    # The AppID is part of the key so that changing accounts never reuses a ticket.
    return f"wechat:{name}:{settings.WECHAT_APP_ID}"


def lifetime(expires_in: int) -> int:
    return max(1, int(expires_in - min(EXPIRY_MARGIN, expires_in / 10)))


def shared_value(name: str, fetch) -> str:
    """The cached value ``name``, fetched with ``fetch() -> (value, expires_in)``
    by one request at a time across all processes sharing the cache.

    The request that wins ``cache.add(lock)`` fetches; the others poll the cache
    for as long as that fetch may take (three WeChat calls). A failed fetch is
    cached for FAILURE_TTL seconds so that the waiting requests and the next ones
    fail at once. Raises WeChatError."""
    key = cache_key(name)
    value = cache.get(key)
    if value:
        return value
    failure_key, lock_key = key + ":failed", key + ":lock"
    # The ticket's fetch may take three calls (token, ticket, retry with a new
    # token); a process that dies holding the lock frees it soon after.
    lock_ttl = int(3 * timeout()) + 5
    deadline = time.monotonic() + 3 * timeout() + 1
    while True:
        failure = cache.get(failure_key)
        if failure:
            raise WeChatError(f"recent failure: {failure}")
        owner = secrets.token_hex(8)
        if cache.add(lock_key, owner, lock_ttl):
            try:
                # Another process may have stored it between our get and add.
                value = cache.get(key)
                if value:
                    return value
                try:
                    value, expires_in = fetch()
                except WeChatError as exc:
                    cache.set(failure_key, exc.detail[:300], FAILURE_TTL)
                    raise
                cache.set(key, value, lifetime(expires_in))
                return value
            finally:
                if cache.get(lock_key) == owner:
                    cache.delete(lock_key)
        if time.monotonic() > deadline:
            raise WeChatError(f"timed out waiting for another process to fetch {name}")
        time.sleep(0.05)
        value = cache.get(key)
        if value:
            return value


def get_access_token() -> str:
    return shared_value("access_token", fetch_access_token)


def get_jsapi_ticket() -> str:
    """The jsapi ticket, from the cache or fetched (with the access token) from
    WeChat. Raises WeChatError."""

    def fetch():
        try:
            return fetch_jsapi_ticket(get_access_token())
        except WeChatError as exc:
            if exc.errcode not in TOKEN_INVALID:
                raise
            # The cached token was replaced or revoked: one retry with a new one.
            cache.delete(cache_key("access_token"))
            return fetch_jsapi_ticket(get_access_token())

    return shared_value("jsapi_ticket", fetch)


# ---------------------------------------------------------------------------
# Signature and the config endpoint
# ---------------------------------------------------------------------------


def sign(ticket: str, noncestr: str, timestamp: int | str, url: str) -> str:
    """WeChat's JS-SDK signature: sha1 of ``key=value`` pairs sorted by key (in
    ASCII order) and joined with ``&``; values are used raw, not URL-encoded."""
    fields = {
        "jsapi_ticket": ticket,
        "noncestr": noncestr,
        "timestamp": str(timestamp),
        "url": url,
    }
    raw = "&".join(f"{key}={fields[key]}" for key in sorted(fields))
    return hashlib.sha1(raw.encode("utf-8")).hexdigest()


def nonce(length: int = 16) -> str:
    alphabet = string.ascii_letters + string.digits
    return "".join(secrets.choice(alphabet) for _ in range(length))


def signed_url(request, value: str | None) -> str | None:
    """The address to sign — ``location.href`` as the browser sent it, without
    the fragment — or None when it is not an http(s) address on this site."""
    if not value or len(value) > MAX_URL_LENGTH:
        return None
    url = urldefrag(value)[0]
    if any(ch.isspace() or ord(ch) < 32 or ord(ch) == 127 for ch in url):
        return None
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or "@" in parts.netloc:
        return None
    url_domain, url_port = split_domain_port(parts.netloc.lower())
    our_domain, our_port = split_domain_port(request.get_host().lower())
    # Only the host must be ours: behind a proxy the browser's scheme and port
    # (https, 443) differ from what reaches us (http, 8000).
    if not url_domain or url_domain != our_domain:
        return None
    if (
        url_port
        and our_port
        and url_port != our_port
        and url_port
        not in {
            "80",
            "443",
        }
    ):
        return None
    return url


def json_error(key: str, status: int) -> JsonResponse:
    response = JsonResponse({"error": MESSAGES[key]}, status=status)
    response["Cache-Control"] = "no-store"
    return response


@require_GET
def jssdk_config(request):
    """GET ``?url=<location.href without #>`` → ``{appId, timestamp, nonceStr,
    signature}`` for ``wx.config``. 404 when WeChat sharing is not configured,
    400 for an address that is not on this site, 503 when WeChat fails."""
    if not is_configured():
        return json_error("not_configured", 404)
    url = signed_url(request, request.GET.get("url"))
    if url is None:
        return json_error("bad_url", 400)
    try:
        ticket = get_jsapi_ticket()
    except WeChatError as exc:
        logger.warning("WeChat JS-SDK ticket unavailable: %s", exc)
        return json_error("unavailable", 503)
    except Exception:
        # E.g. the shared cache is down. The share card is an extra: the page
        # works without it, so this answer must not be a server error page.
        logger.exception("WeChat JS-SDK config failed")
        return json_error("unavailable", 503)
    timestamp = int(time.time())
    noncestr = nonce()
    response = JsonResponse(
        {
            "appId": settings.WECHAT_APP_ID,
            "timestamp": timestamp,
            "nonceStr": noncestr,
            "signature": sign(ticket, noncestr, timestamp, url),
        }
    )
    # Each answer is for one address and moment; a cached one is a bad signature.
    response["Cache-Control"] = "no-store"
    return response
