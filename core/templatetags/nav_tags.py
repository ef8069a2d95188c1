"""Site-wide navigation tags: the current site's root page, the main menu and
the breadcrumbs (``{% load nav_tags %}``)."""

from django import template
from wagtail.models import Page, Site

from portal import pagecache

register = template.Library()


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
        items = pagecache.remember(
            f"main-nav:{root.pk}", lambda: list(root.get_children().live().in_menu())
        )
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
        # The site's structure, like the menu: kept until the next content change.
        ancestors = pagecache.remember(
            f"crumbs:{page.path}",
            lambda: list(page.get_ancestors().filter(depth__gte=2)),
        )
    return {"request": context.get("request"), "ancestors": ancestors, "page": page}
