"""The ``.ics`` of one resident's sign-up (``<page>/r/<token>/calendar.ics``,
the result page's 添加到我的日历): the occurrence as in the activity's feed
(``events/ical.py``), plus what only this resident should have — the 报名码,
the address of their result page (to view or cancel) and two reminders (VALARM)
one day and two hours before. Personal, so never cached or indexed.

Its UID is the sign-up's own (``signup-<id>@<domain>``): imported beside the
public occurrence's ``.ics`` it is a separate entry, and a later copy of the same
sign-up (moved by staff: a higher SEQUENCE) replaces it."""

from datetime import timedelta

from django.utils import timezone
from icalendar import Alarm

from home.models import SiteSettings

from .ical import (
    FeedContext,
    calendar_response,
    new_calendar,
    occurrence_event,
)

# Calendar reminders, before the start.
ALARMS = (
    (timedelta(days=1), "明天"),
    (timedelta(hours=2), "两小时后"),
)


def signup_calendar(page, registration, request, result_url: str):
    """The icalendar Calendar of ``registration`` (an absolute ``result_url``)."""
    occurrence = registration.occurrence
    context = FeedContext(request)
    event = occurrence_event(page, occurrence, context, result_url)
    event["uid"] = f"signup-{registration.pk}@{context.domain}"
    lines = [
        f"报名码：{registration.code}（签到时报出或出示二维码）",
        f"查看或取消报名：{result_url}",
    ]
    if not registration.is_active:
        event["status"] = "CANCELLED"
        lines.insert(0, "【报名已取消】")
    event["description"] = "\n".join([*lines, str(event.get("description", ""))])
    if registration.is_active and not occurrence.cancelled and not page.is_cancelled:
        for before, when in ALARMS:
            alarm = Alarm()
            alarm.add("action", "DISPLAY")
            alarm.add("trigger", -before)
            alarm.add(
                "description",
                f"{when}：{page.title}，{page.venue}，报名码 {registration.code}",
            )
            event.add_component(alarm)
    site_name = SiteSettings.for_request(request).site_name
    calendar = new_calendar(f"{site_name} · {page.title}", result_url)
    calendar.add_component(event)
    day = timezone.localtime(occurrence.start)
    return calendar, f"signup-{registration.code}-{day:%Y%m%d}.ics"


def signup_calendar_response(page, registration, request, result_url: str):
    calendar, filename = signup_calendar(page, registration, request, result_url)
    response = calendar_response(calendar, [registration.occurrence.start], filename)
    response["Cache-Control"] = "private, no-store"
    response["X-Robots-Tag"] = "noindex, nofollow"
    return response
