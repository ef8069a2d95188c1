"""iCalendar feeds (RFC 5545, with the RFC 7986 calendar properties).

Two kinds of ``.ics``, both built with the ``icalendar`` library:

- an activity page's feed (``<page>/calendar.ics``): one VEVENT for the page, with
  RRULE and EXDATE when it repeats; with ``?occurrence=<id>`` (the "add to
  calendar" button after signing up) a calendar with just that occurrence, as a
  plain VEVENT of its own;
- the 活动日历 feed (``<index>/calendar.ics``, optionally ``?community=&type=``):
  every live, public activity under the index that has an occurrence coming up,
  going on, or started in the last ``RECENT_DAYS`` days. Each page appears once,
  recurring ones with their RRULE, so a calendar app that subscribed computes the
  same dates as ``page.schedule()``.

UIDs are stable: ``activity-<page pk>@<domain>``, where the domain is
``settings.ICAL_UID_DOMAIN`` when set, else the hostname of the Wagtail site that
serves the request (not the request's Host header, which varies). ``SEQUENCE`` is
``page.ical_sequence``, which ``EventPage.save`` bumps when time, place, status or
the schedule change, so subscribers replace their copy.

Times are written in the site's time zone (``TIME_ZONE``, Asia/Shanghai) with its
VTIMEZONE, which every calendar also carries so that it is never empty (RFC 5545
requires at least one component).

Calendar apps poll the feeds every few hours, so the feeds answer conditional GETs
(``If-None-Match``, ``If-Modified-Since``) with 304 Not Modified. The validators are
decided before and without building the calendar (see ``event_feed_version`` and
``index_feed_version``): a 304 costs Wagtail's routing and a cache read.
"""

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from itertools import islice

import icalendar
from django.conf import settings
from django.db.models import Min
from django.http import Http404, HttpResponse
from django.utils import timezone
from django.views.decorators.http import condition
from icalendar import Calendar, Event, Timezone, vDuration, vRecur
from wagtail.models import Site

from core.models import canonical_origin, full_url, private_q
from home.models import CommunityPage, SiteSettings
from portal import pagecache

from . import recurrence
from .models import EVENT_KINDS, EVENT_MODELS, EventStatus, Occurrence
from .occurrences import listed_occurrences

PRODID = "-//Huayuanlu Community Portal//Activities//ZH-CN"
# How often subscribed calendar apps should fetch the feed again.
REFRESH_INTERVAL = timedelta(hours=6)
# The index feed also carries activities that started this many days ago.
RECENT_DAYS = 30
# At most this many activities per feed: the ones that start soonest (a big
# subdistrict's whole programme would be a megabyte and seconds of work per copy).
FEED_LIMIT = 200
KIND_LABELS = dict(EVENT_KINDS)
STATUS = {
    EventStatus.SCHEDULED: "CONFIRMED",
    EventStatus.POSTPONED: "TENTATIVE",
    EventStatus.CANCELLED: "CANCELLED",
}
# Part of every ETag: bump it when the code changes what a feed says (a property
# added or written differently), so subscribers fetch the new form once instead of
# being told their copy is current until the next publish.
FEED_VERSION = 1


# ---------------------------------------------------------------------------
# Views
# ---------------------------------------------------------------------------


def find_occurrence(page, occurrence_id: int) -> Occurrence:
    """The page's occurrence ``occurrence_id`` (one query). Raises Http404 when the
    page has no such occurrence."""
    occurrence = Occurrence.objects.filter(pk=occurrence_id, page_id=page.pk).first()
    if occurrence is None:
        raise Http404("没有找到这一场活动")
    return occurrence


def event_feed_response(page, request, occurrence=None) -> HttpResponse:
    """The ``.ics`` of one activity page, or of one of its occurrences (from
    ``find_occurrence``)."""
    site_settings = SiteSettings.for_request(request)
    context = FeedContext(request)
    url = full_url(page, request)
    if occurrence is not None:
        event = occurrence_event(page, occurrence, context, url)
        day = timezone.localtime(occurrence.start)
        filename = f"activity-{page.pk}-{day:%Y%m%d}.ics"
    else:
        event = page_event(page, context, url)
        filename = f"activity-{page.pk}.ics"
    calendar = new_calendar(f"{site_settings.site_name} · {page.title}", url)
    if event is not None:
        calendar.add_component(event)
    return calendar_response(calendar, [page.start], filename)


def index_feed_response(index, request, community=None, kinds=None) -> HttpResponse:
    """The 活动日历 feed: activities under ``index`` that are coming up, going on or
    started in the last ``RECENT_DAYS`` days, each page once. A fixed number of
    queries: see ``feed_pages``, plus one for the community's name when
    filtered."""
    site_settings = SiteSettings.for_request(request)
    context = FeedContext(request)
    pages = feed_pages(index.home_path, community=community, kinds=kinds)

    name = [site_settings.site_name, index.title]
    if community is not None:
        title = (
            CommunityPage.objects.filter(pk=community)
            .values_list("title", flat=True)
            .first()
        )
        if title:
            name.append(title)
    for kind in kinds or []:
        if kind in KIND_LABELS:
            name.append(KIND_LABELS[kind])
    calendar = new_calendar(
        " · ".join(name), full_url(index, request), description=index.intro
    )
    for page in pages:
        event = page_event(page, context, full_url(page, request))
        if event is not None:
            calendar.add_component(event)

    filename = "activities"
    if community is not None:
        filename += f"-community-{community}"
    for kind in kinds or []:
        if kind in KIND_LABELS:
            filename += f"-{kind}"
    return calendar_response(calendar, [p.start for p in pages], filename + ".ics")


def feed_pages(within: str, *, community=None, kinds=None, now=None) -> list:
    """The specific pages of the index feed, by start date. The Occurrence table
    says which pages (one query, however many dates they have); then one query
    for the view restrictions and one per activity type present."""
    now = now or timezone.now()
    filters = {"community": community, "kinds": kinds}
    # coming or going on, every session (the feed groups them by page itself)
    current = listed_occurrences(within, now=now, series_once=False, **filters)
    recent = listed_occurrences(
        within, start=now - timedelta(days=RECENT_DAYS), **filters
    )
    rows = (
        (current | recent)
        .order_by()
        .values("page_id", "kind")
        .annotate(first=Min("start"))
        .order_by("first", "page_id")[:FEED_LIMIT]
    )
    ids_by_kind: dict[str, set[int]] = {}
    for row in rows:
        ids_by_kind.setdefault(row["kind"], set()).add(row["page_id"])
    if not ids_by_kind:
        return []
    private = private_q()  # built once for all the types
    pages = []
    for model in EVENT_MODELS:
        ids = ids_by_kind.get(model.kind)
        if not ids:
            continue
        related = ["community"]
        if any(f.name == "lecturer" for f in model._meta.concrete_fields):
            related.append("lecturer")
        pages.extend(
            model.objects.listed(within, private)
            .filter(pk__in=ids)
            .select_related(*related)
        )
    pages.sort(key=lambda page: (page.start, page.pk))
    return pages


# ---------------------------------------------------------------------------
# Conditional GET
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class FeedVersion:
    """The validators of one feed response: a weak ETag (DTSTAMP makes every body
    differ by a few bytes, so the same calendar is never byte-identical) and, where
    it can be trusted, Last-Modified."""

    etag: str
    last_modified: datetime | None = None


def feed_etag(request, *parts) -> str:
    """A weak ETag over ``parts`` and what every feed depends on: the content
    generation, the code's ``FEED_VERSION`` and icalendar's (which writes the
    bytes), the UID domain setting, the address the links are on and the
    request's kept query (its filters and ``?occurrence=``; WeChat's and
    trackers' parameters dropped, as in the page cache key)."""
    raw = repr(
        (
            pagecache.generation("content"),
            FEED_VERSION,
            icalendar.__version__,
            settings.ICAL_UID_DOMAIN,
            canonical_origin(request),  # the links' scheme and host (full_url)
            pagecache.kept_params(request.META.get("QUERY_STRING", "")),
            parts,
        )
    )
    return f'W/"{hashlib.sha256(raw.encode()).hexdigest()[:32]}"'


def event_feed_version(page, request, occurrence=None) -> FeedVersion:
    """Validators of an activity's ``.ics``, from the page row and occurrence the
    view already holds (no query).

    The content generation covers everything else the body shows and is bumped when
    it changes: the site's name and host, the community's title, the lecturer, the
    page's URL (a parent moved or renamed) and its Occurrence rows (only written
    when the page is saved). It is read before the body is built, so a publish
    during a build gives an ETag the next poll no longer matches; the page's own
    revision, sequence and status fields, taken from the row the body is built
    from, cover the page even against a generation read after it changed. The year
    is there because the VTIMEZONE spans the current year; nothing else in this
    body depends on the date.

    Last-Modified is the page's last publication: editors change an activity by
    publishing it. (A client that sends If-None-Match as well is answered by the
    ETag alone, which also sees changes made elsewhere.)"""
    parts = [
        "event",
        timezone.localdate().year,
        page.pk,
        page.live_revision_id,
        page.last_published_at,
        page.ical_sequence,
        page.status,
        page.status_reason,
    ]
    if occurrence is not None:
        parts += [
            occurrence.pk,
            occurrence.start,
            occurrence.end,
            occurrence.all_day,
            occurrence.cancelled,
        ]
    return FeedVersion(feed_etag(request, *parts), page.last_published_at)


def index_feed_version(index, request) -> FeedVersion:
    """Validators of the 活动日历 feed (no query): the content generation (bumped
    by every publish, unpublish, move and delete anywhere in the tree, and by view
    restrictions, site settings and lecturers: the feed lists pages from all over
    it), the index page's own revision, the filters and today's date in the site's
    time zone. Seats are not in the feed.

    The date is there because time passing takes activities out of the feed (once
    over, or ``RECENT_DAYS`` after they started) and moves the VTIMEZONE's years. It
    only ever removes past activities, so a subscriber may keep one until midnight.

    No Last-Modified: the newest publication among the listed pages does not move
    when a page leaves the feed (unpublished, deleted, moved, aged out), so a client
    that sends only If-Modified-Since would be told its copy is current."""
    return FeedVersion(
        feed_etag(
            request,
            "index",
            timezone.localdate().isoformat(),
            index.pk,
            index.live_revision_id,
            index.last_published_at,
        )
    )


def conditional_response(
    request, version: FeedVersion, build: Callable[[], HttpResponse]
) -> HttpResponse:
    """``build()``, or 304 Not Modified (412 on a failed If-Match) when the
    client's copy is current by ``version``; ETag and Last-Modified are set on
    both. Django's ``condition`` decides, as for the posters."""

    @condition(
        etag_func=lambda request: version.etag,
        last_modified_func=lambda request: version.last_modified,
    )
    def view(request):
        return build()

    return view(request)


# ---------------------------------------------------------------------------
# Calendar and events
# ---------------------------------------------------------------------------


class FeedContext:
    """What every VEVENT of one response shares: the UID domain and DTSTAMP."""

    def __init__(self, request):
        self.domain = uid_domain(request)
        self.stamp = timezone.now().astimezone(UTC).replace(microsecond=0)


def uid_domain(request) -> str:
    domain = getattr(settings, "ICAL_UID_DOMAIN", "")
    if domain:
        return domain
    site = Site.find_for_request(request)
    if site is not None:
        return site.hostname
    return request.get_host().split(":")[0]


def page_uid(page, domain: str) -> str:
    return f"activity-{page.pk}@{domain}"


def occurrence_uid(page, occurrence, domain: str) -> str:
    day = timezone.localtime(occurrence.start)
    return f"activity-{page.pk}-{day:%Y%m%d}@{domain}"


def new_calendar(name: str, url: str, description: str = "") -> Calendar:
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    calendar.calendar_name = name  # NAME and X-WR-CALNAME
    if description:
        calendar.add("x-wr-caldesc", description)
    calendar.add("x-wr-timezone", settings.TIME_ZONE)
    calendar.add("url", url)
    # RFC 7986 requires VALUE=DURATION on REFRESH-INTERVAL; icalendar leaves it
    # out unless the parameter is given. X-PUBLISHED-TTL (Outlook, Apple) is an
    # unknown property to icalendar, so give it a typed duration as well.
    calendar.add(
        "refresh-interval", vDuration(REFRESH_INTERVAL, params={"VALUE": "DURATION"})
    )
    calendar.add("x-published-ttl", vDuration(REFRESH_INTERVAL))
    return calendar


def page_event(page, context: FeedContext, url: str) -> Event | None:
    """The page as one VEVENT; a recurring page with its RRULE and EXDATEs (None
    for a recurring page whose rule gives no date at all)."""
    event = Event()
    event.add("uid", page_uid(page, context.domain))
    event.add("dtstamp", context.stamp)
    event.add("sequence", page.ical_sequence)
    if page.repeat:
        slots = page.schedule()
        if not slots:
            return None
        # RFC 5545 counts DTSTART as an occurrence even when the rule does not
        # give it (a Sunday start with BYDAY=TU,TH); dateutil, and so the
        # schedule, does not. Starting at the first date of the rule, which
        # counts towards COUNT either way, gives the same dates everywhere.
        add_times(event, slots[0].start, slots[0].end, page.all_day)
        event.add("rrule", recurrence_rule(page))
        for slot in slots:
            if slot.excluded:
                event.add("exdate", ical_start(slot.start, page.all_day))
    else:
        add_times(event, page.start, page.end, page.all_day)
    add_details(event, page, url, status=STATUS.get(page.status, "CONFIRMED"))
    return event


def occurrence_event(page, occurrence, context: FeedContext, url: str) -> Event:
    """One occurrence as a VEVENT of its own (no RRULE, no RECURRENCE-ID), with a
    UID of its own: imported on its own, it must not be taken for an exception to
    a series the calendar does not have."""
    event = Event()
    event.add("uid", occurrence_uid(page, occurrence, context.domain))
    event.add("dtstamp", context.stamp)
    event.add("sequence", page.ical_sequence)
    add_times(event, occurrence.start, occurrence.end, occurrence.all_day)
    status = STATUS.get(page.status, "CONFIRMED")
    if occurrence.cancelled:
        status = "CANCELLED"
    add_details(
        event, page, url, status=status, occurrence_cancelled=occurrence.cancelled
    )
    return event


def ical_start(start: datetime, all_day: bool) -> datetime | date:
    """A start as written in the feed: local date-time with its TZID, or a date."""
    local = timezone.localtime(start)
    return local.date() if all_day else local


def add_times(event: Event, start: datetime, end: datetime | None, all_day: bool):
    if all_day:
        first = timezone.localdate(start)
        last = first
        if end is not None:
            local_end = timezone.localtime(end)
            last = local_end.date()
            if local_end.time() == time.min and last > first:
                last -= timedelta(days=1)  # ends at midnight: the day before
        event.add("dtstart", first)
        event.add("dtend", last + timedelta(days=1))  # exclusive
    else:
        event.add("dtstart", timezone.localtime(start))
        if end is not None:
            event.add("dtend", timezone.localtime(end))


def recurrence_rule(page) -> vRecur:
    """The page's RRULE, taken from the same dateutil rule that ``page.schedule()``
    expands (``events.recurrence.rule``), so both give the same dates. The rule is
    in naive local time; UNTIL becomes UTC (or a date for all-day activities), and
    an UNTIL that would give more than ``MAX_OCCURRENCES`` dates, which the
    schedule stops at, becomes that COUNT."""
    rule = recurrence.rule(
        page.start,
        repeat=page.repeat,
        weekdays=page.repeat_weekdays,
        until=page.repeat_until,
        count=page.repeat_count,
    )
    line = next(line for line in str(rule).splitlines() if line.startswith("RRULE:"))
    recur = vRecur.from_ical(line.removeprefix("RRULE:"))
    if "UNTIL" in recur:
        if len(list(islice(rule, recurrence.MAX_OCCURRENCES + 1))) > (
            recurrence.MAX_OCCURRENCES
        ):
            del recur["UNTIL"]
            recur["COUNT"] = [recurrence.MAX_OCCURRENCES]
        else:
            (until,) = recur["UNTIL"]
            if page.all_day:
                recur["UNTIL"] = [until.date()]
            else:
                aware = timezone.make_aware(until.replace(tzinfo=None))
                recur["UNTIL"] = [aware.astimezone(UTC)]
    return recur


def add_details(event, page, url, *, status, occurrence_cancelled=False):
    event.add("summary", page.title)
    event.add("location", page.venue)
    event.add("url", url)
    event.add("status", status)
    event.add("description", description(page, url, occurrence_cancelled))
    categories = [page.kind_label]
    if page.community_name:
        categories.append(page.community_name)
    event.add("categories", categories)
    event.add("class", "PUBLIC")
    if page.first_published_at:
        event.add("created", page.first_published_at.astimezone(UTC))
    if page.last_published_at:
        event.add("last-modified", page.last_published_at.astimezone(UTC))


def description(page, url: str, occurrence_cancelled: bool = False) -> str:
    lines = []
    if page.status == EventStatus.CANCELLED:
        lines.append(f"【活动已取消】{page.status_reason}".strip())
    elif page.status == EventStatus.POSTPONED:
        lines.append(f"【活动延期】{page.status_reason}".strip())
    elif occurrence_cancelled:
        lines.append("【本场活动取消】")
    summary = page.get_summary_text()
    if summary:
        lines.append(summary)
    if page.repeat:
        lines.append(f"时间：{page.repeat_description}")
    lecturer = page.lecturer if getattr(page, "lecturer_id", None) else None
    if lecturer is not None:
        lines.append(f"主讲：{lecturer}")
    if page.organiser:
        lines.append(f"主办：{page.organiser}")
    if page.registration_required:
        lines.append("本活动需要报名，请在活动页面报名。")
    lines.append(f"详情：{url}")
    return "\n".join(lines)


# ---------------------------------------------------------------------------
# Serialising
# ---------------------------------------------------------------------------


@lru_cache(maxsize=16)
def vtimezone_ical(tzid: str, first_year: int, last_year: int) -> bytes:
    """The VTIMEZONE of ``tzid`` for those years (slow to compute, so cached)."""
    return Timezone.from_tzid(
        tzid, first_date=date(first_year, 1, 1), last_date=date(last_year, 1, 1)
    ).to_ical()


def add_timezone(calendar: Calendar, starts: list[datetime]) -> None:
    """Put the site's VTIMEZONE first, covering every start in the calendar (a
    recurring activity runs at most a few years past its start)."""
    years = [timezone.localtime(start).year for start in starts]
    years.append(timezone.localdate().year)
    component = Timezone.from_ical(
        vtimezone_ical(settings.TIME_ZONE, min(years), max(years) + 10)
    )
    calendar.subcomponents.insert(0, component)
    calendar.add_missing_timezones()  # nothing, unless some other zone crept in


def calendar_response(calendar: Calendar, starts, filename: str) -> HttpResponse:
    add_timezone(calendar, starts)
    response = HttpResponse(
        calendar.to_ical(), content_type="text/calendar; charset=utf-8"
    )
    response["Content-Disposition"] = f'inline; filename="{filename}"'
    return response
