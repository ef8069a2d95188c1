"""Share routes (``/share/<page id>/…``): the page's QR code as PNG and SVG, its
poster (海报) as PNG and a poster page to save it from inside WeChat.

Only live pages without view restrictions are found; anything else is a 404.
"""

from __future__ import annotations

import hashlib
import logging
import re
from dataclasses import dataclass

from django.core.files.storage import default_storage
from django.http import FileResponse, Http404, HttpResponse
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import get_conditional_response, patch_cache_control
from django.utils.http import content_disposition_header
from django.views.decorators.http import condition, require_safe

from . import content, posters, qr, store

logger = logging.getLogger(__name__)

QR_MAX_AGE = 3600
# An unversioned poster URL may show an old poster for this long after the page is
# republished; the poster page links to a versioned URL (?v=) that can be cached
# for good, since a new version gets a new URL.
POSTER_MAX_AGE = 600
VERSIONED_MAX_AGE = 365 * 24 * 3600


def filename(page, suffix: str) -> str:
    """A download name residents and staff recognise: the page title."""
    title = re.sub(r'[\\/:*?"<>|\s]+', "", page.title)[:40] or page.slug
    return f"{title}-{suffix}"


# ---------------------------------------------------------------------------
# QR codes
# ---------------------------------------------------------------------------


def _qr_response(request, page_id, kind: str):
    page = content.shareable_page(page_id)
    url = content.canonical_url_or_404(page, request)
    digest = hashlib.sha256(f"{qr.VERSION}:{kind}:{url}".encode()).hexdigest()
    etag = f'"{digest[:32]}"'
    response = get_conditional_response(request, etag=etag)
    if response is None:
        if kind == "png":
            response = HttpResponse(qr.png_file(url), content_type="image/png")
            response["Content-Disposition"] = content_disposition_header(
                True, filename(page, "二维码.png")
            )
        else:
            response = HttpResponse(
                qr.svg_file(url), content_type="image/svg+xml; charset=utf-8"
            )
            response["Content-Disposition"] = content_disposition_header(
                False, filename(page, "二维码.svg")
            )
    response["ETag"] = etag
    patch_cache_control(response, public=True, max_age=QR_MAX_AGE)
    return response


@require_safe
def qr_png(request, page_id):
    return _qr_response(request, page_id, "png")


@require_safe
def qr_svg(request, page_id):
    return _qr_response(request, page_id, "svg")


# ---------------------------------------------------------------------------
# Posters
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class PosterState:
    page: object
    data: posters.PosterData
    file: store.PosterFile


def poster_state(request, page_id) -> PosterState:
    """The page, its poster's content and file name — worked out once per request
    (the ETag and Last-Modified functions and the view all need it)."""
    memo = request.__dict__.setdefault("_sharing_posters", {})
    if page_id not in memo:
        page = content.shareable_page(page_id)
        if not content.has_poster(page):
            raise Http404("这个页面没有海报")
        now = timezone.now()
        data = content.poster_data(page, request, now)
        memo[page_id] = PosterState(
            page, data, store.poster_file(page, data, content.changed_at(page, now))
        )
    return memo[page_id]


def unavailable(request, state: PosterState, error: Exception):
    """The font is missing: say so in the logs (in Chinese, for whoever runs the
    server) and give residents a page that says so, never a 500."""
    logger.error("无法生成海报（页面 %s）：%s", state.page.pk, error)
    response = TemplateResponse(
        request,
        "sharing/poster_page.html",
        {"page": state.page, "unavailable": True},
        status=503,
    )
    response["Retry-After"] = "3600"
    response["Cache-Control"] = "no-store"
    return response


@require_safe
def poster_png(request, page_id):
    state = poster_state(request, page_id)
    try:
        posters.check_font()
    except posters.PosterFontError as error:
        # Before the conditional-GET decorator, so a 503 never carries an ETag.
        return unavailable(request, state, error)
    return _poster_png(request, page_id)


@condition(
    etag_func=lambda request, page_id: poster_state(request, page_id).file.etag,
    last_modified_func=lambda request, page_id: (
        poster_state(request, page_id).file.last_modified
    ),
)
def _poster_png(request, page_id):
    state = poster_state(request, page_id)
    try:
        store.ensure(state.file, state.data)
    except posters.PosterFontError as error:
        return unavailable(request, state, error)
    response = FileResponse(
        default_storage.open(state.file.name, "rb"),
        content_type="image/png",
        as_attachment=request.GET.get("download") == "1",
        filename=filename(state.page, "海报.png"),
    )
    if request.GET.get("v") == state.file.version:
        patch_cache_control(response, public=True, max_age=VERSIONED_MAX_AGE)
        patch_cache_control(response, immutable=True)
    else:
        patch_cache_control(response, public=True, max_age=POSTER_MAX_AGE)
    return response


@require_safe
def poster_page(request, page_id):
    """A page with the poster as an <img>: inside WeChat a download link does
    nothing, but a long press on an image offers 保存图片 / 发送给朋友."""
    state = poster_state(request, page_id)
    try:
        posters.check_font()
    except posters.PosterFontError as error:
        return unavailable(request, state, error)
    src = reverse("sharing:poster_png", args=[state.page.pk])
    version = state.file.version
    response = TemplateResponse(
        request,
        "sharing/poster_page.html",
        {
            "page": state.page,
            "poster_src": f"{src}?v={version}",
            "download_url": f"{src}?v={version}&download=1",
            "poster_alt": f"《{state.page.title}》海报",
        },
    )
    response["X-Robots-Tag"] = "noindex"
    return response
