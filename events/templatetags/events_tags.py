"""Template tags of the events app: activity listings for other apps' pages
(the home page, a community's page) and the editor's panels.

``{% upcoming_activities page as events %}`` and ``{% past_activities page
community=page limit=3 as past_events %}`` list the occurrences of live activities
of ``page``'s site, cards ready (``occurrence.event``), with a fixed number of
queries; put them inside a ``{% fragment … depends="seats" %}`` and on a hit they
do not run at all. The page showing them depends on the seats (余 N 个名额)."""

from django import template
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from events.lunar import Festival, next_festival_date
from events.models import Occurrence
from events.models.registrations import day_label
from events.occurrences import active_counts, coming_and_past, occurrence_listing
from events.registration import WAITLIST_RULE
from portal import pagecache

register = template.Library()


def _activities(context, page, *, past: bool, community, limit: int) -> list:
    # The cards show seats left: a sign-up must drop the cached page.
    pagecache.depends_on(context.get("request"), "seats")
    community_id = getattr(community, "pk", community)
    return occurrence_listing(
        page.home_path,
        past=past,
        community=community_id,
        limit=limit,
    )


@register.simple_tag(takes_context=True)
def upcoming_activities(context, page, community=None, limit=4):
    """The next ``limit`` occurrences of live activities in ``page``'s site (of
    one ``community``, a page or its id, if given), soonest first."""
    return _activities(context, page, past=False, community=community, limit=limit)


@register.simple_tag(takes_context=True)
def past_activities(context, page, community=None, limit=3):
    """The last ``limit`` occurrences that have ended, newest first."""
    return _activities(context, page, past=True, community=community, limit=limit)


@register.simple_tag(takes_context=True)
def community_activities(context, page, community, coming=6, past=3):
    """A community page's two lists, ``.coming`` and ``.past`` (as
    ``upcoming_activities`` and ``past_activities`` give them), in the queries
    of one (``occurrences.coming_and_past``)."""
    pagecache.depends_on(context.get("request"), "seats")
    upcoming, ended = coming_and_past(
        page.home_path,
        community=getattr(community, "pk", community),
        coming=coming,
        past=past,
    )
    return {"coming": upcoming, "past": ended}


@register.simple_tag
def waitlist_rule() -> str:
    """How a waitlisted party is promoted (``registration.WAITLIST_RULE``)."""
    return WAITLIST_RULE


@register.simple_tag
def festival_calendar():
    """[(festival, next date), …] sorted by date, for the editor's help panel."""
    today = timezone.localdate()
    dates = [(f.label, next_festival_date(f.value, today)) for f in Festival]
    return sorted(dates, key=lambda item: item[1])


REGISTRATION_PANEL_LIMIT = 12


@register.simple_tag
def registration_counts(page, user=None, limit=REGISTRATION_PANEL_LIMIT):
    """For the 报名 panel of an activity's edit view: its upcoming occurrences (at
    most ``limit``; when none, its last three) with 已报名 / 候补 / 已签到 people
    and seats left, in two or three queries, and the link to its 报名名单 when
    ``user`` may see sign-ups."""
    if page is None or not page.pk:
        return None
    now = timezone.now()
    occurrences = Occurrence.objects.filter(page_id=page.pk)
    not_ended = Q(end__gte=now) | Q(end__isnull=True, start__gte=now)
    upcoming = list(occurrences.filter(not_ended).order_by("start", "pk")[: limit + 1])
    more = len(upcoming) > limit
    upcoming = upcoming[:limit]
    past = not upcoming
    if past:  # after the activity: how its last dates went
        upcoming = list(occurrences.exclude(not_ended).order_by("-start", "-pk")[:3])
        upcoming.reverse()
    counts = active_counts([o.pk for o in upcoming])
    rows = [
        {
            "occurrence": o,
            "confirmed": o.taken,
            "waitlisted": counts[o.pk]["waitlisted"],
            "checked_in": counts[o.pk]["checked_in"],
            "seats_left": o.seats_left,
        }
        for o in upcoming
    ]
    listing_url = ""
    if user is not None and user.has_perm("events.view_registration"):
        listing_url = reverse("events_registrations:index") + f"?page={page.pk}"
        for row in rows:
            row["listing_url"] = f"{listing_url}&occurrence={row['occurrence'].pk}"
    return {"rows": rows, "more": more, "past": past, "listing_url": listing_url}


@register.filter(name="day_label")
def day_label_filter(value, rest: str = "") -> str:
    """``{{ day|day_label }}``: 4月5日, with the year when it is not this year's;
    ``{{ start|day_label:"l H:i" }}``: 2027年4月5日 星期一 09:30
    (``events.models.registrations.day_label``). A datetime is read in the
    current time zone first, as the ``date`` filter reads it."""
    if not value:
        return ""
    if hasattr(value, "tzinfo") and timezone.is_aware(value):
        value = timezone.localtime(value)
    return day_label(value, rest)
