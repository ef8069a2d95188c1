"""What is shared for a page: whether it may be shared at all, its canonical URL,
and — for the page types that have a poster — the poster's texts.

The one place that knows page types: ``POSTER_BUILDERS`` maps each poster page
class to the function that turns a page into ``PosterData``; everything else (views,
the share panel, the store) asks this module.
"""

from __future__ import annotations

from datetime import datetime

from django.http import Http404
from django.utils import dateformat, timezone, translation
from wagtail.models import Page

from core.models import is_private
from events.models import (
    ActivityPage,
    EventPage,
    EventStatus,
    FestivalActivityPage,
    LecturePage,
)
from events.occurrences import fully_booked
from home.models import CommunityPage, HonourIndexPage, HonourPage, SiteSettings

from .posters import DEFAULT_COLOUR, PosterData

# ---------------------------------------------------------------------------
# Which pages may be shared
# ---------------------------------------------------------------------------


def is_public(page: Page) -> bool:
    """No view restriction on the page or an ancestor — the test Wagtail's
    ``PageQuerySet.public()`` applies, for one page, from the cached sections."""
    return not is_private(page)


def shareable_page(page_id: int) -> Page:
    """The live, public page ``page_id`` (specific). Raises Http404 otherwise:
    drafts and private pages are not to be found through their QR code or poster."""
    page = Page.objects.live().filter(pk=page_id, depth__gt=1).first()
    if page is None or not is_public(page):
        raise Http404("没有找到这个页面")
    return page.specific


def canonical_url(page: Page, request) -> str | None:
    """The page's canonical URL — the one its share metadata gives — or None for
    a page outside every site. Pages of the portal say it themselves
    (``get_canonical_url``: the site's address when the request came in on the
    site's host name, else the request's); any other page is its full URL."""
    if page.get_url_parts(request) is None:
        return None
    own = getattr(page, "get_canonical_url", None)
    return own(request) if own else page.get_full_url(request)


def canonical_url_or_404(page: Page, request) -> str:
    url = canonical_url(page, request)
    if not url:
        raise Http404("这个页面没有公开地址")
    return url


# ---------------------------------------------------------------------------
# Posters
# ---------------------------------------------------------------------------


def has_poster(page) -> bool:
    """A poster page type of ``POSTER_BUILDERS``, or a page that says its own
    poster's texts (``poster_fields(now=…)`` → PosterData fields: an app above
    this one, e.g. 志愿服务)."""
    return isinstance(page, tuple(POSTER_BUILDERS)) or hasattr(page, "poster_fields")


def poster_data(page, request, now: datetime | None = None) -> PosterData:
    """Everything drawn on ``page``'s poster. ``now`` decides a recurring
    activity's next date."""
    now = now or timezone.now()
    settings = SiteSettings.for_request(request)
    common = {
        "url": canonical_url_or_404(page, request),
        "site_name": settings.site_name,
        "subdistrict_name": settings.subdistrict_name,
        **picture(page.get_share_image()),
    }
    own = getattr(page, "poster_fields", None)
    if own is not None and not isinstance(page, tuple(POSTER_BUILDERS)):
        return PosterData(**{**common, **own(now=now)})
    for page_class, build in POSTER_BUILDERS.items():
        if isinstance(page, page_class):
            with translation.override("zh-hans"):  # weekday names
                return build(page, now=now, **common)
    raise ValueError(f"{type(page).__name__} has no poster")


def changed_at(page, now: datetime | None = None) -> datetime:
    """When the poster's content last changed: the last publication, or for a
    recurring activity the start of the session that just passed (its “下一场”
    moved on then). Used for Last-Modified."""
    now = now or timezone.now()
    moments = [page.last_published_at or page.first_published_at or now]
    if isinstance(page, EventPage) and page.repeat:
        passed = [slot.start for slot in page.schedule() if slot.start < now]
        if passed:
            moments.append(passed[-1])
    return max(moments)


def picture(image) -> dict:
    """PosterData fields for a Wagtail image: a cache key naming the file and focal
    point, and an opener that reads the file only when the poster is drawn."""
    if image is None:
        return {}
    focus = None
    if image.focal_point_x is not None and image.width and image.height:
        focus = (
            round(image.focal_point_x / image.width, 3),
            round(image.focal_point_y / image.height, 3),
        )

    def open_picture():
        from PIL import Image

        with image.open_file() as handle:
            picture = Image.open(handle)
            # A phone photo may be 4000 px wide; JPEG can decode at 1/2…1/8 size.
            picture.draft("RGB", (1500, 1500))
            picture.load()
        return picture

    return {
        "image_key": f"{image.pk}:{image.file.name}:{focus}",
        "focus": focus,
        "image": open_picture,
    }


def local(value: datetime, fmt: str) -> str:
    return dateformat.format(timezone.localtime(value), fmt)


def event_time(page: EventPage, now: datetime) -> str:
    """The activity's time as its page shows it; a recurring activity's rule and
    its next date."""
    hours = ""
    if not page.all_day:
        hours = local(page.start, "H:i")
        if page.end:
            hours += "–" + local(page.end, "H:i")
    if page.repeat:
        lines = [page.repeat_description, hours]
        upcoming = [s for s in page.schedule() if not s.excluded and s.start >= now]
        if upcoming and not page.is_cancelled:
            lines.append("下一场：" + local(upcoming[0].start, "n月j日 l"))
        else:
            lines.append(local(page.first_local_start, "Y年n月j日") + "起")
        return "\n".join(line for line in lines if line)
    day = local(page.start, "Y年n月j日 l")
    if page.all_day:
        return day + "（全天）"
    if page.end and timezone.localdate(page.end) != timezone.localdate(page.start):
        return f"{day} {local(page.start, 'H:i')}\n至 {local(page.end, 'n月j日 H:i')}"
    # Date and hours on lines of their own: easier to read at a glance.
    return f"{day}\n{hours}"


def event_poster(page: EventPage, *, now, **common) -> PosterData:
    community = page.community
    if isinstance(page, LecturePage):
        kicker = page.series or page.kind_label
    elif isinstance(page, FestivalActivityPage) and page.festival:
        kicker = f"{page.kind_label} · {page.get_festival_display()}"
    else:
        kicker = page.kind_label
    facts = [("时间", event_time(page, now)), ("地点", page.venue)]
    subtitle = ""
    if isinstance(page, LecturePage):
        if page.topic and page.topic not in page.title:
            subtitle = f"主题：{page.topic}"
        if page.lecturer:
            facts.append(("主讲", str(page.lecturer)))
    if community:
        # “甲院社区党群服务中心” already says which community.
        if community.title not in page.venue:
            facts.append(("社区", community.title))
    elif page.organiser:
        facts.append(("主办", page.organiser))
    status = status_text = ""
    if page.status == EventStatus.CANCELLED:
        status, status_text = "cancelled", "活动已取消"
    elif page.status == EventStatus.POSTPONED:
        status, status_text = "postponed", "活动延期"
    if status_text and page.status_reason:
        status_text += "：" + page.status_reason
    signup = page.registration_required and not page.is_cancelled
    if signup and fully_booked(page, now):
        detail = (
            "名额已满 · 可报名候补" if page.waitlist_enabled else "名额已满 · 查看详情"
        )
    else:
        detail = "在线报名 · 查看详情" if signup else "查看活动详情"
    return PosterData(
        title=page.title,
        kicker=kicker,
        subtitle=subtitle,
        facts=tuple(facts),
        quote=page.summary,
        status=status,
        status_text=status_text,
        colour=community.brand_color if community else DEFAULT_COLOUR,
        caption="长按识别二维码",
        caption_detail=detail,
        **common,
    )


def community_poster(page: CommunityPage, *, now, **common) -> PosterData:
    facts = [("地址", page.address), ("电话", page.phone)]
    return PosterData(
        title=page.brand_name or page.title,
        kicker=f"一社一品 · {page.title}",
        subtitle=page.slogan,
        facts=tuple(fact for fact in facts if fact[1]),
        quote=page.summary,
        colour=page.brand_color,
        caption="长按识别二维码",
        caption_detail="看品牌故事和社区活动",
        **common,
    )


def honour_poster(page: HonourPage, *, now, **common) -> PosterData:
    index = HonourIndexPage.objects.filter(path=page.path[: -page.steplen]).values_list(
        "programme_name", flat=True
    )
    programme = index.first() or "榜样"
    community = page.community
    about = [f"{page.year}年度", page.get_category_display()]
    if community:
        about.append(community.title)
    return PosterData(
        title=page.title,
        kicker=programme,
        person=page.person_name,
        subtitle=" · ".join(about),
        quote=page.citation,
        colour=community.brand_color if community else DEFAULT_COLOUR,
        layout="portrait",
        caption="长按识别二维码",
        caption_detail="阅读榜样事迹",
        **common,
    )


# Page class → poster builder. Subclasses are matched by isinstance, so every
# activity type (ActivityPage, LecturePage, FestivalActivityPage) uses
# event_poster; EventPage itself is abstract.
POSTER_BUILDERS = {
    ActivityPage: event_poster,
    LecturePage: event_poster,
    FestivalActivityPage: event_poster,
    CommunityPage: community_poster,
    HonourPage: honour_poster,
}
