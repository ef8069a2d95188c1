"""Share metadata of every page: <title>, description, canonical URL, Open Graph
and the WeChat share card."""

from datetime import date
from urllib.parse import urlencode

from django import template
from django.templatetags.static import static
from django.urls import reverse
from django.utils.html import format_html
from wagtail.models import Page

from core import images
from core.models import canonical_origin, is_share_image, plain_excerpt
from portal import pagecache
from sharing import wechat

register = template.Library()


# ---------------------------------------------------------------------------
# Share metadata: <title>, description, canonical, Open Graph, WeChat share card
# ---------------------------------------------------------------------------

def without_tracking(request) -> str:
    """The request's query minus the parameters WeChat and trackers append
    (?from=singlemessage&isappinstalled=0 …), in the page cache's order: a page
    cached for one address is served for the others, so its canonical URL must
    be worked out from exactly what the cache key keeps."""
    return urlencode(pagecache.kept_params(request.META.get("QUERY_STRING", "")))


def canonical_url(request, page) -> str:
    """The absolute address of what is shown.

    A page is its own URL whatever query it was loaded with (filters, page
    numbers, WeChat's ?from=…). A route of the page without arguments (the month
    view) is its own URL with its query minus tracking parameters; a route with
    arguments (a resident's sign-up result) is private and points to the page.
    A view that is no page (search) keeps its query minus tracking parameters.
    A route that is content of its own says so in ``share_meta`` (share_data)."""
    if isinstance(page, Page) and hasattr(page, "get_canonical_url"):
        url = page.get_canonical_url(request)
        match = getattr(request, "routable_resolver_match", None)
        own_route = (
            match is not None
            and getattr(match, "route", "")
            and not match.args
            and not match.kwargs
            and request.method in ("GET", "HEAD")
        )
        if not own_route:
            return url
    query = without_tracking(request)
    return (
        canonical_origin(request) + request.path + (f"?{query}" if query else "")
    )


def share_title(context, page, site_name: str) -> str:
    if not isinstance(page, Page):
        return context.get("title") or site_name
    title = page.seo_title or page.title
    month = context.get("month")
    if isinstance(month, date) and context.get("weeks") is not None:
        # The month view of the activity calendar.
        title = f"{title} · {month.year}年{month.month}月"
    return title


def share_data(context) -> dict:
    """Everything the head, the hidden share image and the WeChat script need;
    worked out once per request (the tags below share it)."""
    request = context["request"]
    page = context.get("page")
    memo = request.__dict__.setdefault("_portal_share", {})
    key = page.pk if isinstance(page, Page) else None
    if key in memo:
        return memo[key]
    settings = context["settings"]["home"]["SiteSettings"]
    site_name = settings.site_name
    title = share_title(context, page, site_name)
    image = None
    if isinstance(page, Page):
        if hasattr(page, "get_meta_description"):
            description = page.get_meta_description()
            image = page.get_share_image()
        else:
            description = plain_excerpt(page.search_description)
    else:
        description = plain_excerpt(context.get("description", ""))
    if image is None and is_share_image(settings.default_share_image):
        image = settings.default_share_image
    image_meta = None
    if image is not None:
        # Made on publish (core/images.py); drawn here only if it is missing.
        share = images.SIZES["share"].filters[0]
        rendition = images.existing_renditions(image, [share]).get(share)
        if rendition is None:
            rendition = image.get_rendition(share)
        image_meta = {
            "url": request.build_absolute_uri(rendition.url),
            "width": rendition.width,
            "height": rendition.height,
        }
    canonical = canonical_url(request, page)
    # A route of a page that is content of its own (a team of the 志愿服务
    # page, the 时间银行, a 微心愿 on its board) names it in the context as
    # ``share_meta``: {"title", "description", "url"}; without "url" the
    # route's own path, without a query, is its address. The picture stays
    # the page's.
    own = context.get("share_meta")
    if own:
        title = own["title"]
        description = plain_excerpt(own.get("description") or "")
        canonical = own.get("url") or canonical_origin(request) + request.path
    memo[key] = data = {
        "title": title,
        "full_title": title if title == site_name else f"{title} - {site_name}",
        "site_name": site_name,
        "description": description or plain_excerpt(settings.subdistrict_name),
        "canonical": canonical,
        "image": image_meta,
    }
    return data


@register.inclusion_tag("includes/share_meta.html", takes_context=True)
def share_meta(context):
    """<title>, description, canonical and Open Graph tags, all URLs absolute."""
    return share_data(context)


@register.simple_tag(takes_context=True)
def share_image(context):
    """The share image as the first <img> of the body, inside WeChat only: WeChat
    versions without the JS-SDK card (or a page whose JS-SDK signature fails) take
    the first picture of at least 300×300 as the card's. Any other browser would
    download it for nothing (it was the largest file of most pages), so it is
    not there; the page cache keeps WeChat's copy of a page apart anyway
    (``pagecache.cache_key``). Hidden from sight and from screen readers."""
    if not pagecache.in_wechat(context["request"]):
        return ""
    image = share_data(context)["image"]
    if not image:
        return ""
    return format_html(
        '<img class="share-image" src="{}" width="{}" height="{}" alt="" '
        'aria-hidden="true" decoding="async" fetchpriority="low">',
        image["url"],
        image["width"],
        image["height"],
    )


@register.simple_tag(takes_context=True)
def wechat_share(context):
    """The JS-SDK and our share script, only when a WeChat account is configured.
    The script reads the card from its data attributes (no inline script), and
    asks the server to sign the address the browser loaded; rendering the page
    never calls WeChat."""
    if not wechat.is_configured():
        return ""
    sdk = wechat.jssdk_url()
    if not sdk:
        return ""
    data = share_data(context)
    return format_html(
        '<script src="{}" defer></script>\n'
        '<script src="{}" defer data-wechat-config="{}" data-title="{}" '
        'data-desc="{}" data-link="{}" data-img-url="{}"></script>',
        sdk,
        static("js/wechat-share.js"),
        reverse("sharing:wechat_config"),
        data["title"],
        data["description"],
        data["canonical"],
        data["image"]["url"] if data["image"] else "",
    )
