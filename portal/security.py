"""Content-Security-Policy per area of the site (django-csp 4).

Three policies, chosen by path:

* **Public pages** — ``CONTENT_SECURITY_POLICY`` in settings: scripts only from our
  own origin, no inline script, no eval, no nonce. Pages are stored in the shared
  page cache (portal/pagecache.py) and served to every resident, so a nonce would
  be replayed to all of them and protect nothing. Apps that load a script from
  elsewhere add its source through :func:`add_public_sources` (the sharing app:
  the WeChat JS-SDK, only while WeChat sharing is configured).
* **The Wagtail admin** (``/admin/``, the login page and the page previews in its
  iframe) — ``CONTENT_SECURITY_POLICY_ADMIN``: Wagtail 8's own templates still
  carry inline scripts (inline panels, date pickers), so the admin allows them;
  it is never cached and only staff reach it.
* **Uploaded files served by Django** (``MEDIA_URL`` with ``SERVE_MEDIA``) —
  ``CONTENT_SECURITY_POLICY_MEDIA``: nothing in a file may run or load anything,
  whatever it is; documents are also sent as attachments. In production the
  reverse proxy serves ``/media/`` and must send the same headers (see README).

The middleware sits above PageCacheMiddleware: the header is added to every
response on its way out, cache hits included, and is never stored with a cached
page, so a policy change (WeChat configured) applies to pages cached before it.
"""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Callable
from functools import cache
from urllib.parse import quote, urlsplit

from csp.constants import HEADER
from csp.middleware import CSPMiddleware, PolicyParts
from csp.utils import build_policy
from django.conf import settings
from django.core.signals import setting_changed
from django.db import DatabaseError
from django.dispatch import receiver
from django.template.loader import get_template
from django.urls import reverse

# Characters a CSP source expression may carry unencoded in its path: ";" and ","
# end a directive or a policy, so they (and spaces) must never reach the header.
PATH_SAFE = "/-._~!$&'()*+=:@%"


def script_source(url: str) -> str | None:
    """The CSP source for an absolute script address: the exact file (scheme, host
    and path; a path-specific source admits nothing else of that host), or None
    for a path on our own origin."""
    parts = urlsplit(url)
    if not parts.netloc:
        return None
    path = quote(parts.path, safe=PATH_SAFE)
    # Protocol-relative ("//host/…"): a scheme-less source matches the page's own.
    prefix = f"{parts.scheme}://" if parts.scheme else ""
    return f"{prefix}{parts.netloc}{path}"


# What public pages must also allow, by the app that needs it: functions returning
# {directive: [sources]}, asked on every response so a setting changed at run time
# (WeChat configured) applies at once. The portal sits under the content apps, so
# they register here (``AppConfig.ready``) instead of the portal importing them.
_public_sources: list[Callable[[], dict[str, list[str]]]] = []


def add_public_sources(provider: Callable[[], dict[str, list[str]]]) -> None:
    """Register ``provider`` (idempotent): its sources are added to the public
    pages' policy."""
    if provider not in _public_sources:
        _public_sources.append(provider)


def public_sources() -> dict[str, list[str]]:
    """The registered extra sources of public pages, merged by directive."""
    merged: dict[str, list[str]] = {}
    for provider in _public_sources:
        for directive, sources in provider().items():
            merged.setdefault(directive, []).extend(sources)
    return merged


STYLE_RE = re.compile(r"<style>(.*?)</style>", re.S)


@cache
def error_page_style_hashes() -> tuple[str, ...]:
    """CSP hashes of the inline <style> of templates/500.html. That page is
    self-contained on purpose (it must look right when whatever broke the site
    broke static files too), so server errors allow exactly its CSS."""
    try:
        source = get_template("500.html").template.source
    except Exception:  # noqa: BLE001 - an error page must not fail on its header
        return ()
    styles = STYLE_RE.findall(source)
    digests = (hashlib.sha256(css.encode()).digest() for css in styles)
    return tuple(f"'sha256-{base64.b64encode(d).decode()}'" for d in digests)


def site_origins() -> list[str]:
    """The public origins of the Wagtail sites (Wagtail's cached list). A preview
    is rendered for the page's own site, so its absolute URLs (the share image)
    point there, which is another origin when the admin is reached under another
    host name than the site."""
    from wagtail.models import Site

    try:
        roots = Site.get_site_root_paths()  # from the cache, else one query
    except DatabaseError:
        # The middleware sits outside portal/failure.py: an outage's 503 page for
        # the admin still gets its policy, just without the sites' origins.
        return []
    return sorted({root.root_url for root in roots})


@cache
def admin_prefix() -> str:
    return reverse("wagtailadmin_home")


def is_admin_path(path: str) -> bool:
    """Whether ``path`` is the Wagtail admin's: the one test the CSP, the public
    POST size cap and the outage page share."""
    return path.startswith(admin_prefix())


# Built headers by policy. django-csp builds the header anew for every response
# (~45 µs here, a tenth of a whole page-cache hit); there are only a handful of
# distinct policies, so each is built once (~12 µs a response with the lookup).
_built: dict[tuple, str] = {}

# What a view decorated with django-csp's decorators leaves on its response; such
# a response takes django-csp's own (slower, uncached) path.
DECORATOR_ATTRS = tuple(
    f"_csp_{kind}{suffix}"
    for kind in ("config", "update", "replace", "exempt")
    for suffix in ("", "_ro")
)


@receiver(setting_changed)
def forget_policies(**kwargs) -> None:
    """Tests change settings (WeChat, the policies, URLs) on the fly."""
    _built.clear()
    admin_prefix.cache_clear()
    error_page_style_hashes.cache_clear()


def frozen(directives: dict | None) -> tuple:
    return tuple(sorted((k, tuple(v)) for k, v in (directives or {}).items()))


class ContentSecurityPolicyMiddleware(CSPMiddleware):
    """django-csp's middleware with the policy chosen by area (see module doc).
    A view decorated with ``csp.decorators.csp`` / ``csp_replace`` keeps what it
    asked for."""

    @staticmethod
    def is_plain(request, response) -> bool:
        """Nothing special about this response: no header yet, no decorator, no
        report-only policy or excluded prefixes configured, not a debug page."""
        if HEADER in response or any(hasattr(response, a) for a in DECORATOR_ATTRS):
            return False
        if getattr(settings, "CONTENT_SECURITY_POLICY_REPORT_ONLY", None):
            return False
        if settings.CONTENT_SECURITY_POLICY.get("EXCLUDE_URL_PREFIXES"):
            return False
        return not (settings.DEBUG and response.status_code in (404, 500))

    def get_policy_parts(
        self, request, response, report_only: bool = False
    ) -> PolicyParts:
        parts = super().get_policy_parts(request, response, report_only)
        if report_only:
            return parts
        path = request.path_info
        # Wagtail renders a preview by running a made-up request for the page's
        # public URL through the middleware (``is_dummy``); the result is shown in
        # the admin's preview iframe, so it is the admin's and may be framed.
        if is_admin_path(path) or getattr(request, "is_dummy", False):
            if parts.config is None:
                parts.config = settings.CONTENT_SECURITY_POLICY_ADMIN["DIRECTIVES"]
                parts.update = {"img-src": site_origins(), **(parts.update or {})}
            return parts
        # Public pages and files: never a nonce, whatever touched request.csp_nonce.
        parts.nonce = None
        if settings.SERVE_MEDIA and path.startswith(settings.MEDIA_URL):
            if parts.config is None:
                parts.config = settings.CONTENT_SECURITY_POLICY_MEDIA["DIRECTIVES"]
            return parts
        extra = public_sources()
        if response.status_code == 500:  # templates/500.html
            extra["style-src-elem"] = list(error_page_style_hashes())
        if extra:
            update = dict(parts.update or {})
            for directive, sources in extra.items():
                update[directive] = [*update.get(directive, ()), *sources]
            parts.update = update
        return parts

    def process_response(self, request, response):
        if self.is_plain(request, response):
            parts = self.get_policy_parts(request, response)
            key = (id(parts.config), frozen(parts.update))
            header = _built.get(key)
            if header is None:
                header = _built[key] = build_policy(
                    config=parts.config, update=parts.update
                )
            response[HEADER] = header
        else:
            response = super().process_response(request, response)
        if (
            settings.SERVE_MEDIA
            and request.path_info.startswith(settings.MEDIA_URL + "documents/")
            and response.status_code == 200
        ):
            # Wagtail's own document view (/documents/…) already sends documents
            # as attachments; the same files reached directly under /media/ must
            # not open inline either (an uploaded .html or .svg would run as a
            # page of this site).
            response["Content-Disposition"] = "attachment"
        return response
