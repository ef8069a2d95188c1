"""Template tags shared by every page: navigation, breadcrumbs, share metadata."""

from django import template
from wagtail.models import Page, Site

register = template.Library()

SHARE_RENDITION = "fill-600x600|format-jpeg|jpegquality-80"


@register.simple_tag(takes_context=True)
def site_root(context):
    """The current site's home page (cached on the request by Wagtail)."""
    request = context.get("request")
    site = Site.find_for_request(request) if request else None
    if site is None:
        return None
    cache = request.__dict__.setdefault("_portal_site_root", {})
    if site.pk not in cache:
        cache[site.pk] = site.root_page
    return cache[site.pk]


@register.inclusion_tag("includes/main_nav.html", takes_context=True)
def main_nav(context):
    root = site_root(context)
    items = []
    if root is not None:
        items = list(root.get_children().live().in_menu())
    return {
        "request": context.get("request"),
        "root": root,
        "items": items,
        "current": context.get("page"),
    }


@register.inclusion_tag("includes/breadcrumbs.html", takes_context=True)
def breadcrumbs(context):
    page = context.get("page")
    ancestors = []
    if isinstance(page, Page) and page.depth > 2:
        ancestors = list(page.get_ancestors().filter(depth__gte=2))
    return {"request": context.get("request"), "ancestors": ancestors, "page": page}


@register.inclusion_tag("includes/share_meta.html", takes_context=True)
def share_meta(context, page=None):
    """<title>, description, canonical and Open Graph tags, all URLs absolute."""
    request = context["request"]
    settings = context["settings"]["home"]["SiteSettings"]
    page = page or context.get("page")
    site_name = settings.site_name
    title = description = canonical = ""
    image = None
    if isinstance(page, Page):
        title = page.seo_title or page.title
        description = page.get_meta_description()
        canonical = page.get_full_url(request)
        image = page.get_share_image()
    else:
        title = context.get("title", site_name)
        description = context.get("description", "")
        canonical = request.build_absolute_uri(request.path)
    image = image or settings.default_share_image
    image_meta = None
    if image is not None:
        rendition = image.get_rendition(SHARE_RENDITION)
        image_meta = {
            "url": request.build_absolute_uri(rendition.url),
            "width": rendition.width,
            "height": rendition.height,
        }
    return {
        "title": title,
        "full_title": title if title == site_name else f"{title} - {site_name}",
        "site_name": site_name,
        "description": description or settings.subdistrict_name,
        "canonical": canonical,
        "image": image_meta,
    }
