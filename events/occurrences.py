"""Occurrences: the dated rows behind listings, the calendar and sign-ups.

``sync_occurrences`` rewrites a page's rows from its schedule; the listings (the
index's ``ListedOccurrences``, the home page's ``occurrence_listing``, a community
page's ``coming_and_past``, the month view) take a fixed number of queries: one for
the occurrences (plus one to count them when paginated), one for the pages of all
three activity types (``event_pages``) and one for a series' next sessions. The
occurrence queries' SQL is worked out once per set of filters (``core.prepared``).
"""

import calendar
from collections import defaultdict
from datetime import date, datetime, time, timedelta

from django.db import connection, transaction
from django.db.models import Exists, F, Max, OuterRef, Q, Window
from django.db.models.functions import Coalesce, RowNumber
from django.utils import timezone
from wagtail.models import Page

from core.models import (
    page_link,
    private_q,
    private_sections,
    specific_from,
    specific_query,
)
from core.prepared import prepared

from .models import (
    ACTIVE_STATUSES,
    EVENT_MODELS,
    EventStatus,
    Occurrence,
    Registration,
)
from .signals import sessions_changed


def page_saved(sender, instance, raw=False, update_fields=None, **kwargs) -> None:
    """``post_save`` of the activity page types (connected in ``EventsConfig.ready``):
    a full save carries the page's content — publishing a revision (Wagtail saves
    the page, then sends ``page_published``), creating or copying the page, or
    code that saves a live page — and rewrites its rows. Saving a draft only
    touches a few bookkeeping fields (``update_fields``), and an unpublished page
    changes nothing until it is published. Fixtures (``raw``) bring their rows."""
    if raw or update_fields is not None or not instance.live:
        return
    sync_occurrences(instance)


def connect_signals() -> None:
    from django.db.models.signals import post_save

    for model in EVENT_MODELS:
        post_save.connect(
            page_saved, sender=model, dispatch_uid=f"events-occurrences-{model.kind}"
        )


@transaction.atomic
def sync_occurrences(page) -> None:
    """Make the page's Occurrence rows match its schedule.

    A one-off activity keeps its single row when its time changes, so its sign-ups
    follow it. A recurring one is matched date by date. Rows no longer in the
    schedule (or on an excluded date) are deleted when nobody signed up, otherwise
    kept and marked cancelled so that those residents can still see their sign-up.
    """
    slots = page.schedule()
    existing = list(Occurrence.objects.filter(page_id=page.pk).order_by("start"))
    before = {o.pk: (o.start, o.end, o.all_day, o.cancelled) for o in existing}
    common = {
        "kind": page.kind,
        "community_id": page.community_id,
        "capacity": page.capacity if page.registration_required else None,
        "all_day": page.all_day,
    }
    if not page.repeat and len(existing) <= 1:
        matches = {0: existing[0]} if existing else {}
    else:
        by_date = {timezone.localdate(o.start): o for o in existing}
        matches = {}
        for i, slot in enumerate(slots):
            row = by_date.get(timezone.localdate(slot.start))
            if row is not None:
                matches[i] = row
    with_signups = set(
        Registration.objects.filter(occurrence__page_id=page.pk)
        .values_list("occurrence_id", flat=True)
        .distinct()
    )
    new, changed = [], []
    for i, slot in enumerate(slots):
        row = matches.get(i)
        if row is None:
            if slot.excluded:
                continue
            row = Occurrence(page_id=page.pk, taken=0)
            new.append(row)
        elif slot.excluded and row.pk not in with_signups:
            continue  # deleted below
        else:
            changed.append(row)
        row.start, row.end, row.cancelled = slot.start, slot.end, slot.excluded
        for field, value in common.items():
            setattr(row, field, value)
        if row.capacity is not None and row.taken > row.capacity:
            # Validation refuses this in the editor; code that saves directly
            # keeps the seats already given.
            row.capacity = row.taken
    kept = {row.pk for row in changed}
    stale = [row for row in existing if row.pk not in kept]
    for row in stale:
        if row.pk in with_signups:
            row.cancelled = True
            changed.append(row)
    Occurrence.objects.filter(
        pk__in=[row.pk for row in stale if row.pk not in with_signups]
    ).delete()
    # ``taken`` is left out: only the registration service moves it, under its lock.
    Occurrence.objects.bulk_update(
        changed,
        ["start", "end", "cancelled", "kind", "community", "capacity", "all_day"],
    )
    Occurrence.objects.bulk_create(new)
    _tell_residents(page, changed, before, with_signups)


def _tell_residents(page, rows, before, with_signups) -> None:
    """Send ``sessions_changed`` for the rows with sign-ups whose time or place
    changed, or which were cancelled (a date out of the schedule, or the whole
    activity now 已取消), compared with the rows and page as stored before."""
    previous = getattr(page, "_stored_before_save", None) or {}
    page.__dict__.pop("_stored_before_save", None)
    was = previous.get("status", page.status)
    page_cancelled = page.status == EventStatus.CANCELLED != was
    moved_all = previous.get("venue", page.venue) != page.venue or (
        page.status == EventStatus.POSTPONED != was
    )
    changed, cancelled = [], []
    for row in rows:
        if row.pk not in with_signups or row.pk not in before:
            continue
        *old_time, was_cancelled = before[row.pk]
        if was_cancelled:
            continue
        if row.cancelled or page_cancelled:
            cancelled.append(row.pk)
        elif moved_all or old_time != [row.start, row.end, row.all_day]:
            changed.append(row.pk)
    if changed or cancelled:
        sessions_changed.send(
            Occurrence, page=page, changed=changed, cancelled=cancelled
        )


def fully_booked(page, now=None) -> bool:
    """Whether the page has coming sessions and every one of them has all its
    seats taken (a new sign-up could only join the waitlist)."""
    now = now or timezone.now()
    coming = Occurrence.objects.filter(page_id=page.pk, cancelled=False, start__gte=now)
    has_seats = Q(capacity__isnull=True) | Q(taken__lt=F("capacity"))
    return coming.exists() and not coming.filter(has_seats).exists()


def most_confirmed(page) -> int:
    """The largest number of people confirmed for any occurrence of the page."""
    return (
        Occurrence.objects.filter(page_id=page.pk).aggregate(m=Max("taken"))["m"] or 0
    )


def listed_occurrences(
    within: str,
    *,
    now=None,
    past: bool = False,
    community: int | None = None,
    kinds: list[str] | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
    series_once: bool = True,
):
    """Occurrences of live activity pages under the tree path ``within``, in date
    order (past ones newest first). Coming (or past) ones list a recurring
    activity once, by its nearest session, unless ``series_once`` is False; a
    date range (``start``, ``end``: the month view) lists every session. A
    queryset: slice or paginate it, then call ``attach_events``."""
    now = now or timezone.now()
    qs = Occurrence.objects.filter(
        page__path__startswith=within, page__live=True, cancelled=False
    )
    if start is not None or end is not None:
        if start is not None:
            qs = qs.filter(start__gte=start)
        if end is not None:
            qs = qs.filter(start__lt=end)
        return _filtered(qs.order_by("start", "pk"), community, kinds)
    if past:
        when, nearer = ended(now), "start__gt"
        qs = qs.filter(when).order_by("-start", "-pk")
    else:
        when, nearer = not_ended(now), "start__lt"
        qs = qs.filter(when).order_by("start", "pk")
    if series_once:
        # A recurring activity is one card: its nearest session (the next one,
        # or for past ones the last), not one card per date.
        nearer_session = Occurrence.objects.filter(
            when, page_id=OuterRef("page_id"), cancelled=False
        ).filter(**{nearer: OuterRef("start")})
        qs = qs.filter(~Exists(nearer_session))
    return _filtered(qs, community, kinds)


def not_ended(now) -> Q:
    return Q(end__gte=now) | Q(end__isnull=True, start__gte=now)


def ended(now) -> Q:
    return Q(end__lt=now) | Q(end__isnull=True, start__lt=now)


def _filtered(qs, community, kinds):
    if community is not None:
        qs = qs.filter(community_id=community)
    if kinds:
        qs = qs.filter(kind__in=kinds)
    return qs


def attach_events(occurrences, *, sessions_from=None) -> list[Occurrence]:
    """Give every occurrence its specific page as ``.event``: one query for the
    pages of every activity type (``event_pages``), whatever their number. With
    ``sessions_from`` (a time), each occurrence of a recurring activity also gets
    ``.sessions``: its next ``SERIES_SESSIONS`` sessions not ended by then
    (``attach_sessions``)."""
    occurrences = list(occurrences)
    pages = event_pages({occurrence.page_id for occurrence in occurrences})
    result = []
    for occurrence in occurrences:
        occurrence.event = pages.get(occurrence.page_id)
        if occurrence.event is not None:
            result.append(occurrence)
    if sessions_from is not None:
        attach_sessions(result, sessions_from)
    else:  # the card asks for them: a missing attribute is a slow lookup
        for occurrence in result:
            occurrence.sessions = []
    return result


def event_pages(ids) -> dict:
    """{id: specific page} of the live, public activity pages among ``ids``, with
    their community's title (``community_title``, for the cards): the three
    activity types in one query (``core.models.specific_query``), none for no
    ids. The view restrictions come from ``tree_facts``, without a query; the
    SQL is kept per number of ids and restrictions (``core.prepared``:
    compiling the join of four page tables cost more than running it)."""
    if not ids:
        return {}
    rows = _event_page_rows(
        None, ids=sorted(ids), private=tuple(private_sections())
    )
    pages = specific_from(rows, EVENT_MODELS, ["community_title"])
    return {page.pk: page for page in pages}


@prepared(values=("ids",))
def _event_page_rows(now, *, ids, private):
    links = [page_link(model) for model in EVENT_MODELS]
    pages = Page.objects.live().filter(pk__in=ids)
    if private:
        pages = pages.exclude(private_q(private))
    pages = pages.annotate(
        community_title=Coalesce(*(F(f"{link}__community__title") for link in links))
    )
    return specific_query(pages, EVENT_MODELS)


SERIES_SESSIONS = 3  # sessions a recurring activity's card offers to tap


def attach_sessions(occurrences, now) -> None:
    """Set ``.sessions`` on each occurrence of a recurring activity: the first
    ``SERIES_SESSIONS`` sessions of its page that have not ended at ``now``,
    soonest first ([] for a one-off). One query for all of them (a window
    function numbers each page's sessions), none when no card is a series."""
    ids = {o.page_id for o in occurrences if o.event.repeat}
    by_page = defaultdict(list)
    if ids:
        for session in _session_rows(now, ids=sorted(ids)):
            by_page[session.page_id].append(session)
    for occurrence in occurrences:
        occurrence.sessions = by_page.get(occurrence.page_id, [])


@prepared(values=("ids",))
def _session_rows(now, *, ids):
    """The rows behind ``attach_sessions``, soonest first; the SQL kept per
    number of pages (``core.prepared``: compiling the window function cost
    more than running it)."""
    numbered = Occurrence.objects.filter(
        not_ended(now), page_id__in=ids, cancelled=False
    ).annotate(
        number=Window(
            RowNumber(), partition_by=[F("page_id")], order_by=[F("start"), F("pk")]
        )
    )
    return numbered.filter(number__lte=SERIES_SESSIONS).order_by("start", "pk")


def occurrence_listing(within: str, *, limit: int, now=None, **filters):
    """The first ``limit`` of ``listed_occurrences`` (``listed_rows``) with
    their pages attached, and the coming sessions of recurring ones."""
    now = now or timezone.now()
    rows = listed_rows(within, now=now, limit=limit, **filters)
    return attach_events(rows, sessions_from=None if filters.get("past") else now)


@prepared
def _listed(now, *, within, past, community, kinds):
    return listed_occurrences(
        within, now=now, past=past, community=community, kinds=list(kinds)
    )


@prepared
def _listed_unordered(now, *, within, past, community, kinds):
    """``_listed`` without its order, which a count does not need (SQLite
    sorted all the coming occurrences for it: 1.4 ms against 0.8 ms on the
    bench site)."""
    return _listed.__wrapped__(
        now, within=within, past=past, community=community, kinds=kinds
    ).order_by()


def listed_rows(
    within: str,
    *,
    now=None,
    limit: int,
    offset: int = 0,
    past: bool = False,
    community: int | None = None,
    kinds=(),
) -> list[Occurrence]:
    """``listed_occurrences(…)[offset:offset + limit]`` (series once) as a list,
    the SQL worked out once per set of filters (``core.prepared``; building and
    compiling it cost more than running it)."""
    model, sql, params = _listed.sql(
        now or timezone.now(),
        within=within,
        past=past,
        community=community,
        kinds=tuple(kinds or ()),
    )
    rows = model._default_manager.raw(
        f"{sql} LIMIT %s OFFSET %s", [*params, limit, offset]
    )
    return list(rows)


class ListedOccurrences:
    """``listed_occurrences`` as Django's Paginator pages it: ``count()`` and
    slices, one query each (``listed_rows``), for the activity index."""

    def __init__(self, within: str, *, now, **filters):
        self.within, self.now, self.filters = within, now, filters

    def count(self) -> int:
        model, sql, params = _listed_unordered.sql(
            self.now,
            within=self.within,
            past=self.filters.get("past", False),
            community=self.filters.get("community"),
            kinds=tuple(self.filters.get("kinds") or ()),
        )
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT COUNT(*) FROM ({sql}) listed", params)
            return cursor.fetchone()[0]

    def __len__(self) -> int:
        return self.count()

    def __getitem__(self, index: slice) -> list[Occurrence]:
        start, stop, _ = index.indices(self.count() if index.stop is None else 2**62)
        return listed_rows(
            self.within,
            now=self.now,
            limit=max(stop - start, 0),
            offset=start,
            **self.filters,
        )


def coming_and_past(
    within: str, *, community: int | None, coming: int, past: int, now=None
) -> tuple[list[Occurrence], list[Occurrence]]:
    """The next ``coming`` and the last ``past`` listed occurrences (as
    ``occurrence_listing`` gives each, series once) of a community's page, with
    their pages and, for a recurring activity, its next sessions
    (``attach_sessions``): one occurrence query for both lists and the sessions
    (``coming_and_past_rows``), then one query for the pages."""
    now = now or timezone.now()
    rows = coming_and_past_rows(
        now, within=within, community=community, coming=coming, past=past
    )
    listed = attach_events(rows)

    def has_ended(o):
        return o.end < now if o.end is not None else o.start < now

    by_page = defaultdict(list)
    for occurrence in listed:
        if not has_ended(occurrence):
            by_page[occurrence.page_id].append(occurrence)
    upcoming = sorted(
        (page_sessions[0] for page_sessions in by_page.values()),
        key=lambda o: (o.start, o.pk),
    )
    for occurrence in upcoming:
        occurrence.sessions = (
            by_page[occurrence.page_id] if occurrence.event.repeat else []
        )
    ended_ones = sorted(
        (o for o in listed if has_ended(o)), key=lambda o: (o.start, o.pk), reverse=True
    )
    return upcoming, ended_ones


@prepared
def coming_and_past_rows(now, *, within, community, coming, past):
    """The rows behind ``coming_and_past``, in start order: three limited
    subqueries in one query, its SQL worked out once per community
    (``core.prepared``: building and compiling it cost four times running it).

    The sessions are the first ``SERIES_SESSIONS`` not-ended ones of each page
    of the coming list, numbered by a window function; a page's first one is
    the occurrence that lists it (its nearest session), so the coming list is
    each such page's first session, and the past list is the rows that ended."""
    ahead = listed_occurrences(within, now=now, community=community)
    behind = listed_occurrences(within, now=now, community=community, past=True)
    sessions = (
        Occurrence.objects.filter(
            not_ended(now),
            cancelled=False,
            page_id__in=Occurrence.objects.filter(
                pk__in=ahead.values("pk")[:coming]
            ).values("page_id"),
        )
        .annotate(
            number=Window(
                RowNumber(), partition_by=[F("page_id")], order_by=[F("start"), F("pk")]
            )
        )
        .filter(number__lte=SERIES_SESSIONS)
    )
    return Occurrence.objects.filter(
        Q(pk__in=sessions.values("pk")) | Q(pk__in=behind.values("pk")[:past])
    ).order_by("start", "pk")


def group_by_day(occurrences) -> list[tuple]:
    """[(date, [occurrences that start that day]), …] in local time."""
    days: dict = {}
    for occurrence in occurrences:
        days.setdefault(occurrence.local_start.date(), []).append(occurrence)
    return list(days.items())


def month_bounds(month: date) -> tuple[datetime, datetime]:
    first = month.replace(day=1)
    following = (first + timedelta(days=32)).replace(day=1)
    return (
        timezone.make_aware(datetime.combine(first, time.min)),
        timezone.make_aware(datetime.combine(following, time.min)),
    )


def month_grid(month: date, occurrences) -> list[list[tuple[date, list]]]:
    """Weeks (Monday first) of (day, [occurrences]) covering the month."""
    by_day = dict(group_by_day(occurrences))
    weeks = calendar.Calendar(firstweekday=0).monthdatescalendar(
        month.year, month.month
    )
    return [[(day, by_day.get(day, [])) for day in week] for week in weeks]


def active_counts(occurrence_ids) -> dict:
    """{occurrence_id: {"waitlisted": n, "checked_in": n}} for the staff views."""
    counts = defaultdict(lambda: {"waitlisted": 0, "checked_in": 0})
    rows = Registration.objects.filter(
        occurrence_id__in=occurrence_ids, status__in=ACTIVE_STATUSES
    ).values_list("occurrence_id", "status", "party_size", "checked_in_at")
    for occurrence_id, status, size, checked_in_at in rows:
        if status == "waitlisted":
            counts[occurrence_id]["waitlisted"] += size
        if checked_in_at:
            counts[occurrence_id]["checked_in"] += size
    return counts
