"""Shared page cache for anonymous GET/HEAD requests, on Django's cache framework.

Why not Django's own cache middleware: it keys on the full query string (a link
shared into WeChat comes back as ``?from=singlemessage&isappinstalled=0`` and would
miss), knows nothing of editors, and can only expire by time. Why not wagtail-cache:
it does not support Wagtail 8.

How it stays correct:

* **Who is served from cache.** Requests without a session cookie: residents never
  get one (sign-ups are anonymous), editors always have one, so a logged-in editor,
  a preview or the admin is never served or stored. Only GET/HEAD, never /admin/.
* **What is stored.** 200 responses that set no cookie (a form with a CSRF token
  does), vary on nothing the key does not hold and are not marked private/no-store
  (sign-up result and cancel pages are). Anything else passes through untouched.
* **Invalidation by generations.** Every entry records the generation numbers it was
  rendered under: ``content`` (bumped on publish, unpublish, move and delete of any
  page — index pages and feeds list pages from all over the tree, so a site-wide
  bump is the one rule that cannot miss a listing) and ``seats`` (bumped after a
  sign-up, cancellation or promotion commits; only responses that show seats depend
  on it, see :func:`depends_on`). An entry whose generations are not the current ones
  is a miss. Generations are read before rendering, so a bump during a render makes
  the new entry stale at once instead of caching old content.
* **Shared.** The cache is the ``default`` alias: local memory for the single-process
  demo, Redis (``REDIS_URL``) when several processes or machines serve the site —
  then a bump in one process invalidates the page for all of them. With Redis,
  each process also keeps the tokens and its last pages in memory, the tokens
  kept current by a pub/sub message per bump (``portal/pagecache_local.py``), so
  a hit needs no round trip to Redis.
* **A last good copy for outages.** Next to each stored entry a second copy is kept
  for ``PAGE_CACHE_STALE_SECONDS`` (a day by default), whatever the generations do,
  in the ``pagecache-stale`` cache alias (so it never crowds fresh entries out of
  local memory). It is never served while the site works: only
  ``portal/failure.py`` asks for it (:func:`stale_response`), when the database
  failed during a request, because a page that is a few hours old is more use to
  a resident than an error page. Search results (``?q=``: endless keys) get none.
"""

from __future__ import annotations

import hashlib
import time
import uuid
from contextvars import ContextVar
from urllib.parse import parse_qsl, urlencode

from django.conf import settings
from django.core.cache import caches
from django.db import transaction
from django.http import HttpResponse
from django.utils.cache import (
    cc_delim_re,
    get_conditional_response,
    get_max_age,
    patch_vary_headers,
)
from django.utils.http import parse_http_date_safe

from portal import compression, elder, pagecache_local

HEADER = "X-Page-Cache"
GENERATIONS = ("content", "seats")

# Parameters WeChat and trackers append to shared links; they never change a page.
IGNORED_PARAMS = frozenset(
    {
        "from",
        "isappinstalled",
        "scene",
        "subscene",
        "clicktime",
        "enterid",
        "sessionid",
        "nsukey",
        "sharer_sharetime",
        "sharer_shareid",
        "share_source",
        "wxfrom",
        "wx_fmt",
        "spm",
        "fbclid",
        "gclid",
        "_t",
    }
)
IGNORED_PREFIXES = ("utm_",)
# Vary headers the key already accounts for (a request with a session or message
# cookie is never served from the cache; the language is in the key).
KEYED_VARY = {"cookie", "accept-language", ""}
BYPASS_COOKIES = ("messages",)
EXCLUDED_PATHS = ("/admin/", "/documents/", "/share/wechat/", "/django-admin/")


def cache():
    return caches[getattr(settings, "PAGE_CACHE_ALIAS", "default")]


def enabled() -> bool:
    return getattr(settings, "PAGE_CACHE_SECONDS", 0) > 0


def stale_seconds() -> int:
    return getattr(settings, "PAGE_CACHE_STALE_SECONDS", 24 * 3600)


STALE_ALIAS = "pagecache-stale"
STALE_PREFIX = "stale:"
STALE = "STALE"  # the X-Page-Cache value of a last good copy
# Free text makes endless keys, and a search needs the database anyway.
STALE_SKIPPED_PARAMS = frozenset({"q"})


def stale_cache():
    """Where last good copies are kept: their own alias when configured."""
    return caches[STALE_ALIAS if STALE_ALIAS in settings.CACHES else "default"]


def keeps_stale_copy(request) -> bool:
    names = {key for key, _ in kept_params(request.META.get("QUERY_STRING", ""))}
    return stale_seconds() > 0 and not names & STALE_SKIPPED_PARAMS


def kept_params(query_string: str) -> list[tuple[str, str]]:
    """The query parameters that select content, sorted, WeChat's and trackers'
    dropped."""
    pairs = parse_qsl(query_string, keep_blank_values=True)
    return sorted(
        (key, value)
        for key, value in pairs
        if key.lower() not in IGNORED_PARAMS
        and not key.lower().startswith(IGNORED_PREFIXES)
    )


def in_wechat(request) -> bool:
    return "micromessenger" in request.META.get("HTTP_USER_AGENT", "").lower()


def cache_key(request) -> str:
    """One key per host, path, content-selecting query, browser family (pages
    show an 'open in the system browser' hint inside WeChat) and display mode
    (长辈模式, portal/elder.py: its own variant of every page)."""
    query = urlencode(kept_params(request.META.get("QUERY_STRING", "")))
    parts = [
        request.get_host(),
        request.path,
        query,
        "wx" if in_wechat(request) else "",
        getattr(request, "LANGUAGE_CODE", ""),
    ]
    if elder.is_elder(request):  # the standard mode keeps the key it always had
        parts.append(elder.ELDER)
    raw = "|".join(parts)
    return "pagecache:" + hashlib.sha256(raw.encode()).hexdigest()


def generation_keys(names=GENERATIONS) -> list[str]:
    return [f"pagecache:gen:{name}" for name in names]


def shared_store():
    """The cache when it is Redis and reachable now (a bump is then published to
    every process's copy of the tokens), else None. While Redis is down
    (portal/cache.py) each process caches on its own: nothing to tell the others."""
    store = cache()
    available = getattr(store, "available", None)
    return store if available is not None and available() else None


def generation_timeout() -> float | None:
    """How long generation tokens are kept: for good, except in a process's own
    memory while Redis is down. Then a change made in another process (a publish,
    a sign-up) cannot reach this one, so its tokens are made anew every
    ``PAGE_CACHE_OUTAGE_SECONDS`` (10): the longest it serves a page, part or
    lookup older than such a change."""
    available = getattr(cache(), "available", None)
    if available is None or available():
        return None
    return getattr(settings, "PAGE_CACHE_OUTAGE_SECONDS", 10)


def redis_client():
    """The Redis client when this process keeps its own copies of tokens and
    pages (portal/pagecache_local.py): the cache is Redis, reachable, and copies
    are on."""
    if pagecache_local.local_entries_limit() <= 0:
        return None
    store = shared_store()
    return store.redis_client() if store is not None else None


def watched_generations() -> dict[str, str] | None:
    """This process's current tokens when it keeps them (no round trip), else
    None: read them from the cache. Subscribes to bumps first when it is to keep
    them, so none falls between the subscription and the read."""
    client = redis_client()
    if client is None:
        return None
    tokens = pagecache_local.watch.tokens()
    if tokens is None:
        pagecache_local.watch.subscribe(client)
    return tokens


# What this request has already read from the cache: the generation tokens and
# ``remember`` values, so a page reads each once however many listings ask.
# Set by the middleware around each request; emptied by ``bump``.
_request_memo: ContextVar[dict | None] = ContextVar("pagecache_memo", default=None)


def current_generations(found: dict | None = None) -> dict[str, str]:
    """The current generation tokens, in one cache round trip (two when one is
    missing), or from ``found``, the result of a ``get_many`` that asked for them
    too. Tokens are random rather than counters: if the cache evicts or loses a
    generation key, a fresh token invalidates everything instead of a counter
    restarting at 0 and reviving entries stored under an old 0."""
    memo = _request_memo.get()
    if found is None and memo is not None and "generations" in memo:
        return memo["generations"]
    tokens = watched_generations() if found is None else None
    if tokens is None:
        tokens = read_generations(found)
    if memo is not None:
        memo["generations"] = tokens
    return tokens


def read_generations(found: dict | None = None) -> dict[str, str]:
    """The tokens as the cache holds them (``found``: already fetched), made
    where missing; a process keeping its own copy takes them as current."""
    store = cache()
    keys = generation_keys()
    if found is None:
        found = store.get_many(keys)
    made = {}
    for name, key in zip(GENERATIONS, keys, strict=True):
        if key not in found:
            store.add(key, uuid.uuid4().hex, timeout=generation_timeout())
            found[key] = made[name] = store.get(key)
    tokens = {name: found[key] for name, key in zip(GENERATIONS, keys, strict=True)}
    shared = shared_store()
    if shared is not None and made:
        pagecache_local.publish(shared, made)
    if redis_client() is not None:
        pagecache_local.watch.confirm(tokens)
    return tokens


def bump(*names: str) -> None:
    """Invalidate every cached response (and cached lookup, see
    :func:`generation`) that depends on ``names``: at once, so code later in the
    same transaction sees fresh data, and again after the transaction commits,
    because a request that rendered from the not-yet-committed database in between
    may have stored the old state under the first new generation."""
    unknown = set(names) - set(GENERATIONS)
    if unknown:
        raise ValueError(f"unknown page cache generations: {sorted(unknown)}")

    def do_bump():
        store_tokens({name: uuid.uuid4().hex for name in names})

    do_bump()
    transaction.on_commit(do_bump)


def store_tokens(tokens: dict[str, str]) -> None:
    """Make ``tokens`` the current generations, here and in every process."""
    names = list(tokens)
    keyed = {
        key: tokens[name]
        for name, key in zip(names, generation_keys(names), strict=True)
    }
    timeout = generation_timeout()
    cache().set_many(keyed, timeout=timeout)
    if timeout is None and generation_timeout() is not None:
        # Redis was lost by this very call: the tokens went to memory for good.
        cache().set_many(keyed, timeout=generation_timeout())
    shared = shared_store()
    if shared is not None:  # other processes' copies, then this one's
        pagecache_local.publish(shared, tokens)
        pagecache_local.watch.bumped(tokens)
    memo = _request_memo.get()
    if memo is not None:
        memo.clear()


def redis_reconnected() -> None:
    """Redis is back after an outage (portal/cache.py): whatever was published or
    signed up for meanwhile was bumped only in the process that did it, so every
    page stored in Redis before the outage may be out of date. New tokens for
    all generations, and this process's copies start afresh (its pub/sub
    connection, which lost messages, too)."""
    pagecache_local.watch.reset()
    pagecache_local.entries.clear()
    store_tokens({name: uuid.uuid4().hex for name in GENERATIONS})


def generation(name: str = "content") -> str:
    """The current token of one generation, for keys of other cached lookups that
    must be dropped when it changes."""
    return current_generations()[name]


_MISSING = object()


def remember(name: str, build, timeout: int = 3600, keep=None):
    """``build()``, kept in the cache under the current content generation: for
    what every page shows of the site's structure (navigation, section links,
    settings, view restrictions, where a URL leads), which only a content change
    can change. ``keep(value)`` false: this value is returned but not stored."""
    memo = _request_memo.get()
    if memo is not None and ("remember", name) in memo:
        return memo["remember", name]
    store = cache()
    key = f"pagecache:remember:{name}:{generation('content')}"
    value = store.get(key, _MISSING)
    if value is _MISSING:
        value = build()
        if keep is None or keep(value):
            store.set(key, value, timeout)
    if memo is not None:
        memo["remember", name] = value
    return value


def fragment_seconds() -> int:
    return getattr(settings, "FRAGMENT_CACHE_SECONDS", 0)


def fragment_key(request, name: str, depends=(), vary=()) -> str:
    """Key of a cached part of a page (``{% fragment %}``, portal/templatetags/
    fragment_tags.py): its name and ``vary`` values, the host and language the links
    in it were made for, and the current tokens of ``content`` and ``depends``, so a
    publish (or, for a part that shows seats, a sign-up) makes a new key."""
    unknown = set(depends) - set(GENERATIONS)
    if unknown:
        raise ValueError(f"unknown page cache generations: {sorted(unknown)}")
    tokens = current_generations()
    names = ["content", *(n for n in GENERATIONS if n in depends and n != "content")]
    raw = "|".join(
        (
            request.get_host() if request is not None else "",
            getattr(request, "LANGUAGE_CODE", ""),
            name,
            *(str(value) for value in vary),
            *(f"{n}={tokens[n]}" for n in names),
        )
    )
    return "pagecache:fragment:" + hashlib.sha256(raw.encode()).hexdigest()


def fragment(request, name: str, render, depends=(), vary=()) -> str:
    """``render()``, the HTML of one part of a page, kept for
    ``FRAGMENT_CACHE_SECONDS`` under :func:`fragment_key`. For the listings of other
    pages (cards) that a page shows: when the page itself has to be rendered again
    (its cached copy expired, or a sign-up changed the seats it shows), the parts
    nothing has changed in come from the cache instead of their queries. A
    fragment must show the same to everyone (no form, nothing personal, nothing
    of the page's own draft: previews render the live listings anyway)."""
    seconds = fragment_seconds()
    if seconds <= 0:
        return render()
    store = cache()
    key = fragment_key(request, name, depends, vary)
    html = store.get(key)
    if html is None:
        html = render()
        store.set(key, html, seconds)
    if request is not None and depends:
        depends_on(request, *depends)
    return html


def depends_on(request, *names: str) -> None:
    """Declare that the response being rendered shows data covered by ``names``
    (e.g. ``"seats"``) so it is dropped when they change."""
    if request is None:
        return
    deps = request.__dict__.setdefault("_page_cache_depends", {"content"})
    deps.update(names)


def public_read(request) -> bool:
    """A GET/HEAD of a public path: what a stored page may answer. Static files
    and media are WhiteNoise's and the web server's (no cache lookup for them)."""
    return (
        request.method in ("GET", "HEAD")
        and not request.path.startswith(EXCLUDED_PATHS)
        and not request.path.startswith(
            (settings.STATIC_URL or "/static/", settings.MEDIA_URL or "/media/")
        )
    )


def cacheable_request(request) -> bool:
    if not public_read(request):
        return False
    # A session means an editor (or a half-finished login): never share their view.
    # A messages cookie carries a one-off notice for this browser.
    cookies = (settings.SESSION_COOKIE_NAME, *BYPASS_COOKIES)
    return not any(name in request.COOKIES for name in cookies)


def storable(response) -> bool:
    if response.status_code != 200 or response.streaming:
        return False
    # A CSRF token in a form always comes with its cookie (Django refreshes it on
    # every use), so "sets a cookie" covers forms. ``Vary: Cookie`` alone only says
    # the session was looked at: requests with a session are never served from here.
    if response.cookies:
        return False
    if response.has_header("Vary"):
        varies = {v.strip().lower() for v in cc_delim_re.split(response["Vary"])}
        if varies - KEYED_VARY:
            return False
    cache_control = {
        part.split("=", 1)[0].strip().lower()
        for part in cc_delim_re.split(response.get("Cache-Control", ""))
    }
    if cache_control & {"private", "no-store", "no-cache"}:
        return False
    return get_max_age(response) != 0


def current(entry: dict | None, generations: dict[str, str]) -> bool:
    """A stored entry rendered under the current generations it depends on."""
    return entry is not None and all(
        generations[name] == token for name, token in entry["gens"].items()
    )


class PageCacheMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        memo = _request_memo.set({})
        try:
            return self.serve(request)
        finally:
            _request_memo.reset(memo)

    def serve(self, request):
        if not enabled():
            return self.get_response(request)
        if public_read(request):
            # Kept for stale_response: the key must be the one computed here,
            # before later middleware (locale) adds to the request.
            request._page_cache_key = cache_key(request)
        if not cacheable_request(request):
            return self.get_response(request)
        key = request._page_cache_key
        store = cache()
        local = redis_client() is not None
        generations = watched_generations() if local else None
        if generations is not None:  # this process's copies (pagecache_local)
            _request_memo.get()["generations"] = generations
            entry = pagecache_local.entries.get(key)
            if not current(entry, generations):
                entry = store.get(key)
        else:
            found = store.get_many([*generation_keys(), key])  # one round trip
            generations = current_generations(found)
            entry = found.get(key)
        if current(entry, generations):
            if local:
                pagecache_local.entries.put(key, entry)
            return self.conditional(request, self.replay(entry, "HIT", request))

        response = self.get_response(request)
        if hasattr(response, "render") and not response.is_rendered:
            response.render()
        if storable(response):
            deps = request.__dict__.get("_page_cache_depends", {"content"})
            # One copy, gzipped once here (portal/compression.py): a hit is
            # sent as stored to the browsers that take gzip (nearly all).
            packed = compression.compressible(response)
            entry = {
                "gens": {name: generations[name] for name in deps},
                "status": response.status_code,
                "headers": [
                    (k, v)
                    for k, v in response.items()
                    if k.lower() not in ("set-cookie", "content-length", HEADER.lower())
                ],
                "content": (
                    compression.compress(response.content)
                    if packed
                    else response.content
                ),
                "encoding": "gzip" if packed else "",
                "expires": time.time() + settings.PAGE_CACHE_SECONDS,
            }
            store.set(key, entry, settings.PAGE_CACHE_SECONDS)
            if local:
                pagecache_local.entries.put(key, entry)
            if keeps_stale_copy(request):
                stale_cache().set(STALE_PREFIX + key, entry, stale_seconds())
            response[HEADER] = "MISS"
        elif HEADER not in response:  # an outage's STALE copy keeps its mark
            response[HEADER] = "PASS"
        return response

    @staticmethod
    def conditional(request, response):
        """A stored response with an ETag or Last-Modified (feeds, posters, QR
        codes) answers a matching If-None-Match / If-Modified-Since with 304,
        as the view would have."""
        etag = response.get("ETag")
        modified = response.get("Last-Modified")
        if response.status_code != 200 or not (etag or modified):
            return response
        result = get_conditional_response(
            request,
            etag=etag,
            last_modified=parse_http_date_safe(modified) if modified else None,
            response=response,
        )
        result[HEADER] = response[HEADER]
        return result

    @staticmethod
    def replay(entry, state: str, request) -> HttpResponse:
        """The stored response; a gzipped one as it is to a browser that takes
        gzip, unpacked for one that does not (both ``Vary: Accept-Encoding``, as
        a miss answered by the compression middleware)."""
        content = entry["content"]
        encoded = entry.get("encoding") == "gzip"
        if encoded and not compression.accepts_gzip(request):
            content, encoded = compression.decompress(content), False
        response = HttpResponse(content, status=entry["status"])
        for name, value in entry["headers"]:
            response[name] = value
        if entry.get("encoding"):
            patch_vary_headers(response, ("Accept-Encoding",))
        if encoded:
            response["Content-Encoding"] = "gzip"
            etag = response.get("ETag")
            if etag and etag.startswith('"'):
                response["ETag"] = "W/" + etag  # as GZipMiddleware does
        response["Content-Length"] = str(len(content))
        response[HEADER] = state
        return response


def stale_response(request) -> HttpResponse | None:
    """The last good copy of the page this request asks for, or None. Only for
    when the database failed (``portal/failure.py``): it may be hours old, so it
    says so (``X-Page-Cache: STALE``) and no browser or proxy may keep it."""
    if not enabled() or not public_read(request) or stale_seconds() <= 0:
        return None
    key = request.__dict__.get("_page_cache_key") or cache_key(request)
    try:
        entry = stale_cache().get(STALE_PREFIX + key)
    except Exception:  # noqa: BLE001 - the cache may be down as well: no copy
        return None
    if entry is None:
        return None
    response = PageCacheMiddleware.replay(entry, STALE, request)
    response["Cache-Control"] = "no-store"
    return response


# Models whose saved rows appear on public pages. Pages themselves are covered by
# Wagtail's publish/unpublish/move signals and their own save/delete.
CONTENT_MODELS = (
    "home.SiteSettings",
    "events.Lecturer",
    "wagtailimages.Image",
    "wagtailcore.Site",
    "wagtailcore.PageViewRestriction",
    "wagtailredirects.Redirect",
)


# Bookkeeping saves that change nothing a page shows (Wagtail fills in an image's
# size and hash the first time it renders it).
BOOKKEEPING_FIELDS = frozenset({"file_size", "file_hash"})


def content_changed(update_fields=None, **kwargs) -> None:
    if update_fields and set(update_fields) <= BOOKKEEPING_FIELDS:
        return
    bump("content")


def connect_signals() -> None:
    """Bump the ``content`` generation whenever something a public page shows
    changes. Called once from ``PortalConfig.ready``."""
    from django.apps import apps
    from django.db.models.signals import post_delete, post_save
    from wagtail.models import Page
    from wagtail.signals import page_published, page_unpublished, post_page_move

    page_published.connect(content_changed, dispatch_uid="pagecache-published")
    page_unpublished.connect(content_changed, dispatch_uid="pagecache-unpublished")
    post_page_move.connect(content_changed, dispatch_uid="pagecache-moved")

    # Every page type has its own sender, so listen to all and filter.
    def page_saved_or_deleted(sender, **kwargs):
        if issubclass(sender, Page):
            bump("content")

    post_save.connect(page_saved_or_deleted, dispatch_uid="pagecache-page-saved")
    post_delete.connect(page_saved_or_deleted, dispatch_uid="pagecache-page-deleted")
    for label in CONTENT_MODELS:
        model = apps.get_model(label)
        post_save.connect(content_changed, sender=model, dispatch_uid=f"pc-s-{label}")
        post_delete.connect(content_changed, sender=model, dispatch_uid=f"pc-d-{label}")
