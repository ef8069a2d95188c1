from django import template
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from events.lunar import Festival, next_festival_date
from events.models import Occurrence
from events.occurrences import active_counts

register = template.Library()


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
