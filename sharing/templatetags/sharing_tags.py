"""The share panel under every page: the page's QR code and, for page types that
have one, a link to its poster (海报)."""

from django import template
from django.urls import reverse
from django.utils.safestring import mark_safe
from wagtail.models import Page

from sharing import content, qr

register = template.Library()


@register.simple_tag(takes_context=True)
def share_panel_data(context):
    """What the panel shows for the page in the context, or None where sharing
    makes no sense: previews and drafts (no public URL yet), private pages (the
    QR and poster routes would 404), views that are not a page."""
    page = context.get("page")
    request = context.get("request")
    if (
        not isinstance(page, Page)
        or request is None
        or not page.pk
        or not page.live
        or getattr(request, "is_preview", False)
    ):
        return None
    # One query, the same for every page (README: queries per page).
    if not content.is_public(page):
        return None
    url = content.canonical_url(page, request)
    if not url:
        return None
    return {
        "url": url,
        "qr_svg": mark_safe(qr.inline_svg(url)),  # paths only: no text from the page
        "qr_png_url": reverse("sharing:qr_png", args=[page.pk]),
        "qr_svg_url": reverse("sharing:qr_svg", args=[page.pk]),
        "poster_url": (
            reverse("sharing:poster_page", args=[page.pk])
            if content.has_poster(page)
            else ""
        ),
    }
