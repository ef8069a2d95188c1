"""长辈模式: larger text (20 px and up), larger targets (60 px tall), one plain column,
the facts that decide "can I go" first — the mode the MIIT 《互联网网站适老化通用设计
规范》 asks a site to offer beside its standard one.

How it works:

* **The choice is a cookie** (``portal_mode=elder``), set by following the switch
  in every page's header: ``GET /mode/elder/?next=<this page>`` (and
  ``/mode/standard/`` to go back, which deletes it). A plain link, so it works
  without JavaScript and leaves the page free of a CSRF token (a form with one
  could not be kept by the page cache). A GET that changes only how this browser
  shows the site is harmless: the worst another site can do by linking to it is
  make the text larger. The answer is a redirect to ``next`` when that is a path
  on this site, else to ``/`` — never to another host.
* **The page is the same page**: the mode adds a class on ``<body>`` and one more
  stylesheet (``static/css/elder.css``, loaded only in this mode). Listing
  fragments (``portal.pagecache.fragment``) are shared by both modes.
* **The page cache keeps each mode as its own variant**: ``is_elder`` is part of
  ``portal.pagecache.cache_key``, so a page stored for one mode is never served to
  the other, and visitors in the standard mode (no cookie) keep the key they had.
"""

from __future__ import annotations

from urllib.parse import urlencode

from django.http import Http404, HttpResponseRedirect
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_safe

COOKIE = "portal_mode"
ELDER = "elder"
STANDARD = "standard"
MODES = (ELDER, STANDARD)
COOKIE_MAX_AGE = 365 * 24 * 3600


def is_elder(request) -> bool:
    """Whether this request asks for the 长辈模式."""
    return request is not None and request.COOKIES.get(COOKIE) == ELDER


def safe_next(request, target: str | None) -> str:
    """``target`` when it is a path on this site (``/…``, not ``//host`` nor a
    scheme, nor a backslash browsers read as a slash), else ``/``."""
    if (
        target
        and target.startswith("/")
        and not target.startswith(("//", "/\\"))
        and url_has_allowed_host_and_scheme(
            target,
            allowed_hosts={request.get_host()},
            require_https=request.is_secure(),
        )
    ):
        return target
    return "/"


@require_safe
def switch(request, mode: str):
    """Remember ``mode`` for this browser and go back to ``?next=``."""
    if mode not in MODES:
        raise Http404
    response = HttpResponseRedirect(safe_next(request, request.GET.get("next")))
    # Per visitor: no cache may keep this answer.
    response["Cache-Control"] = "private, no-store"
    response["X-Robots-Tag"] = "noindex"
    if mode == ELDER:
        response.set_cookie(
            COOKIE,
            ELDER,
            max_age=COOKIE_MAX_AGE,
            secure=request.is_secure(),
            httponly=True,
            samesite="Lax",
        )
    else:
        response.delete_cookie(COOKIE, samesite="Lax")
    return response


def switch_url(request, mode: str) -> str:
    """The switch to ``mode`` that comes back to the page ``request`` asked for:
    its path and only the query that selects content (what the page cache keys
    on), so the link is the same in every copy of a cached page."""
    from portal.pagecache import kept_params  # pagecache imports this module

    target = request.path
    query = urlencode(kept_params(request.META.get("QUERY_STRING", "")))
    if query:
        target += "?" + query
    return reverse("switch_mode", args=[mode]) + "?" + urlencode({"next": target})


def context(request) -> dict:
    """Template context: ``elder_mode`` for every template (base.html)."""
    return {"elder_mode": is_elder(request)}
