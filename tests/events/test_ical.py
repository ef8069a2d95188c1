"""iCalendar feeds (events/ical.py): an activity page's .ics, one occurrence's .ics
and the 活动日历 feed, checked on the bytes, with ``icalendar`` and with Mozilla's
ical.js (``tests/events/ical_check.mjs`` run by node), whose expansion of every
RRULE/EXDATE must give exactly the dates of ``page.schedule()``."""

import importlib.util
import itertools
import json
import shutil
import subprocess
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from dateutil import rrule as dateutil_rrule
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import timezone
from icalendar import Calendar
from wagtail.models import Page, PageViewRestriction

from events.models import (
    ActivityPage,
    EventIndexPage,
    FestivalActivityPage,
    LecturePage,
    Occurrence,
)
from home.models import CommunityPage, SiteSettings
from tests import factories
from tests.factories import (
    CommunityIndexPageFactory,
    CommunityPageFactory,
    EventIndexPageFactory,
    HomePageFactory,
    make_site,
)

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]
CHECK_SCRIPT = ROOT / "tests" / "events" / "ical_check.mjs"
HOST = "ical.test"
REFRESH_LINE = b"\r\nREFRESH-INTERVAL;VALUE=DURATION:PT6H\r\n"


# ---------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------


def ical_js(data: bytes) -> dict:
    """What Mozilla's ical.js makes of the feed (see ical_check.mjs)."""
    if shutil.which("node") is None:
        pytest.fail("node is not installed; the iCalendar tests need Node ≥ 18.")
    if not (ROOT / "node_modules" / "ical.js" / "package.json").exists():
        pytest.fail(
            "node_modules/ical.js is missing: run `npm ci` (or `make node-deps`) "
            f"in {ROOT} first."
        )
    result = subprocess.run(
        ["node", str(CHECK_SCRIPT)],
        input=data,
        capture_output=True,
        cwd=ROOT,
        timeout=60,
        check=False,
    )
    if result.returncode != 0:
        pytest.fail(
            "ical.js rejected the feed: " + result.stderr.decode(errors="replace")
        )
    return json.loads(result.stdout)


def path_of(page) -> str:
    return urlsplit(page.get_full_url()).path


def get(client, url: str, host: str = HOST, status: int = 200):
    response = client.get(url, HTTP_HOST=host)
    assert response.status_code == status, response.content[:500]
    return response


def page_feed(client, page, query: str = "", host: str = HOST) -> bytes:
    return get(client, path_of(page) + "calendar.ics" + query, host).content


def index_feed(client, index, query: str = "", host: str = HOST) -> bytes:
    return get(client, path_of(index) + "calendar.ics" + query, host).content


def vevents(data: bytes) -> list:
    return Calendar.from_ical(data).walk("VEVENT")


def by_uid(events, uid):
    matches = [e for e in events if str(e.get("uid")) == uid]
    assert len(matches) == 1, [str(e.get("uid")) for e in events]
    return matches[0]


def js_event(parsed: dict, uid: str) -> dict:
    matches = [e for e in parsed["events"] if e["uid"] == uid]
    assert len(matches) == 1, [e["uid"] for e in parsed["events"]]
    return matches[0]


def uid(page) -> str:
    return f"activity-{page.pk}@{settings.ICAL_UID_DOMAIN}"


def local_iso(value: datetime) -> str:
    return timezone.localtime(value).replace(tzinfo=None).isoformat()


def expected_occurrences(page) -> list[dict]:
    """page.schedule() without the excluded dates, as ical_check.mjs prints it."""
    rows = []
    for slot in page.schedule():
        if slot.excluded:
            continue
        if page.all_day:
            first = timezone.localdate(slot.start)
            length = 1
            if slot.end is not None:
                end = timezone.localtime(slot.end)
                last = end.date()
                if end.time() == time.min and last > first:
                    last -= timedelta(days=1)
                length = (last - first).days + 1
            rows.append(
                {
                    "start": first.isoformat(),
                    "end": (first + timedelta(days=length)).isoformat(),
                    "start_utc": None,
                    "end_utc": None,
                }
            )
        else:
            end = slot.end or slot.start
            rows.append(
                {
                    "start": local_iso(slot.start),
                    "end": local_iso(end),
                    "start_utc": slot.start.astimezone(UTC).strftime(
                        "%Y-%m-%dT%H:%M:%SZ"
                    ),
                    "end_utc": end.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
                }
            )
    return rows


def icalendar_starts(vevent) -> list:
    """The VEVENT's start dates as ``icalendar`` reads them, expanded with
    recurring_ical_events when that is installed (it is not a dependency),
    otherwise with dateutil from the parsed DTSTART, RRULE and EXDATE."""
    start = vevent.decoded("dtstart")
    if importlib.util.find_spec("recurring_ical_events"):  # pragma: no cover
        import recurring_ical_events

        calendar = Calendar()
        calendar.add_component(vevent)
        return [
            e.decoded("dtstart")
            for e in recurring_ical_events.of(calendar).between(
                date(1970, 1, 1), date(2100, 1, 1)
            )
        ]
    if "RRULE" not in vevent:
        return [start]
    all_day = not isinstance(start, datetime)
    first = datetime.combine(start, time.min) if all_day else start
    rule_text = vevent["RRULE"].to_ical().decode()
    rule = dateutil_rrule.rrulestr(rule_text, dtstart=first, forceset=True)
    rule.rdate(first)  # RFC 5545: DTSTART always counts (dateutil skips it)
    exdates = vevent.get("EXDATE", [])
    if not isinstance(exdates, list):
        exdates = [exdates]
    for prop in exdates:
        for value in prop.dts:
            excluded = value.dt
            if all_day:
                excluded = datetime.combine(excluded, time.min)
            rule.exdate(excluded)
    starts = list(rule)
    return [s.date() for s in starts] if all_day else starts


def expected_starts(page) -> list:
    starts = [s.start for s in page.schedule() if not s.excluded]
    if page.all_day:
        return [timezone.localdate(s) for s in starts]
    return starts


_slugs = itertools.count()


def _unique(kwargs: dict) -> dict:
    # The factories count slugs per class, so two types under one parent clash.
    kwargs.setdefault("slug", f"ical-{next(_slugs)}")
    return kwargs


def ActivityPageFactory(**kwargs):  # noqa: N802
    return factories.ActivityPageFactory(**_unique(kwargs))


def LecturePageFactory(**kwargs):  # noqa: N802
    return factories.LecturePageFactory(**_unique(kwargs))


def FestivalActivityPageFactory(**kwargs):  # noqa: N802
    # The factory's default festival "中秋" is not a choice ("中秋节" is).
    kwargs.setdefault("festival", "中秋节")
    return factories.FestivalActivityPageFactory(**_unique(kwargs))


def at(day: date, hour: int, minute: int = 0) -> datetime:
    return timezone.make_aware(datetime.combine(day, time(hour, minute)))


def next_weekday(weekday: int, weeks: int = 1) -> date:
    """A date at least a few days away that falls on ``weekday`` (0 = Monday)."""
    today = timezone.localdate()
    return today + timedelta(days=(weekday - today.weekday()) % 7 + 7 * weeks)


# ---------------------------------------------------------------------------
# Fixtures
# ---------------------------------------------------------------------------


@pytest.fixture
def index(db) -> EventIndexPage:
    """A 活动日历 of its own on a second site (only one per site is allowed)."""
    root = Page.get_first_root_node()
    home = HomePageFactory(parent=root, slug="ical-home")
    make_site(HOST, home)
    return EventIndexPageFactory(parent=home, slug="activities", intro="本街道活动")


@pytest.fixture
def communities(index) -> list[CommunityPage]:
    """Two communities of the index's site: their activities sit under them."""
    parent = CommunityIndexPageFactory(parent=index.get_parent())
    return [
        CommunityPageFactory(parent=parent, slug=slug, title=title)
        for slug, title in (("jia", "甲院社区"), ("yi", "乙院社区"))
    ]


# ---------------------------------------------------------------------------
# One activity
# ---------------------------------------------------------------------------


def test_one_off_activity_feed_fields(client, index, communities):
    start = at(next_weekday(5), 9, 30)
    page = ActivityPageFactory(
        parent=communities[0],
        title="邻里节：百家宴",
        slug="neighbours",
        start=start,
        end=start + timedelta(hours=2, minutes=30),
        venue="甲院社区广场",
        summary="一起包饺子，邻里一家亲；欢迎参加",
        organiser="甲院社区居委会",
    )
    response = get(client, path_of(page) + "calendar.ics")
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    assert (
        response["Content-Disposition"] == f'inline; filename="activity-{page.pk}.ics"'
    )
    data = response.content
    assert data.startswith(b"BEGIN:VCALENDAR\r\n")
    assert data.endswith(b"END:VCALENDAR\r\n")
    assert data.count(b"\n") == data.count(b"\r\n")  # CRLF everywhere
    assert REFRESH_LINE in data
    assert b"\r\nX-PUBLISHED-TTL:PT6H\r\n" in data
    assert b"\r\nMETHOD:PUBLISH\r\n" in data
    assert b"\r\nVERSION:2.0\r\n" in data
    assert b"\r\nX-WR-TIMEZONE:Asia/Shanghai\r\n" in data
    assert f"DTSTART;TZID=Asia/Shanghai:{start:%Y%m%d}T093000".encode() in data
    assert f"DTEND;TZID=Asia/Shanghai:{start:%Y%m%d}T120000".encode() in data
    assert b"RRULE" not in data and b"EXDATE" not in data
    for line in data.split(b"\r\n"):
        assert len(line) <= 75, line  # folded at 75 octets
        line.decode()  # and never inside a UTF-8 sequence

    calendar = Calendar.from_ical(data)
    site_name = SiteSettings.for_site(index.get_site()).site_name
    assert str(calendar["X-WR-CALNAME"]) == f"{site_name} · 邻里节：百家宴"
    assert str(calendar["PRODID"])
    assert [tz["TZID"] for tz in calendar.walk("VTIMEZONE")] == ["Asia/Shanghai"]
    (event,) = calendar.walk("VEVENT")
    assert str(event["UID"]) == uid(page)
    assert str(event["SUMMARY"]) == "邻里节：百家宴"
    assert str(event["LOCATION"]) == "甲院社区广场"
    assert str(event["URL"]) == f"http://{HOST}/communities/jia/neighbours/"
    assert str(event["STATUS"]) == "CONFIRMED"
    assert event["SEQUENCE"] == 0
    assert "一起包饺子，邻里一家亲；欢迎参加" in str(event["DESCRIPTION"])
    assert "主办：甲院社区居委会" in str(event["DESCRIPTION"])
    assert event.decoded("dtstart") == start
    assert str(event.decoded("dtstart").tzinfo) == "Asia/Shanghai"
    assert event.decoded("dtend") == page.end
    stamp = event.decoded("dtstamp")
    assert stamp.utcoffset() == timedelta(0)
    assert abs(stamp - timezone.now()) < timedelta(minutes=1)
    assert communities[0].title in event["CATEGORIES"].cats

    parsed = ical_js(data)
    assert parsed["name"] == f"{site_name} · 邻里节：百家宴"
    assert parsed["timezone"] == "Asia/Shanghai"
    assert parsed["method"] == "PUBLISH"
    assert parsed["version"] == "2.0"
    assert parsed["refresh_interval"] == "PT6H"
    assert parsed["timezones"] == ["Asia/Shanghai"]
    js = js_event(parsed, uid(page))
    assert js["summary"] == "邻里节：百家宴"
    assert js["status"] == "CONFIRMED"
    assert js["sequence"] == 0
    assert js["location"] == "甲院社区广场"
    assert js["url"] == f"http://{HOST}/communities/jia/neighbours/"
    assert js["recurring"] is False
    assert js["occurrences"] == expected_occurrences(page)


def test_weekly_recurring_page_expands_like_the_schedule(client, index):
    monday = next_weekday(0)
    start = at(monday, 19)
    excluded = monday + timedelta(days=9)  # the second Wednesday
    page = LecturePageFactory(
        parent=index,
        title="书画课",
        start=start,
        end=start + timedelta(minutes=90),
        repeat="WEEKLY",
        repeat_weekdays=["MO", "WE"],
        repeat_count=10,
        excluded_dates=f"{excluded:%Y-%m-%d}\n2000-01-01",  # one not in the rule
    )
    data = page_feed(client, page)
    assert b"\r\nRRULE:FREQ=WEEKLY;COUNT=10;BYDAY=MO,WE\r\n" in data
    assert f"\r\nEXDATE;TZID=Asia/Shanghai:{excluded:%Y%m%d}T190000\r\n".encode() in (
        data
    )
    assert data.count(b"EXDATE") == 1

    expected = expected_occurrences(page)
    assert len(expected) == 9
    assert excluded.isoformat() not in json.dumps(expected)
    js = js_event(ical_js(data), uid(page))
    assert js["recurring"] is True
    assert js["exdates"] == [f"{excluded.isoformat()}T19:00:00"]
    assert js["occurrences"] == expected

    (event,) = vevents(data)
    assert icalendar_starts(event) == expected_starts(page)
    listed = Occurrence.objects.filter(page_id=page.pk, cancelled=False)
    assert [o.start for o in listed.order_by("start")] == expected_starts(page)


def test_recurring_dtstart_is_the_first_date_of_the_rule(client, index):
    sunday = next_weekday(6)
    page = ActivityPageFactory(
        parent=index,
        start=at(sunday, 14, 30),
        end=at(sunday, 16, 30),
        repeat="WEEKLY",
        repeat_weekdays=["TU", "TH"],
        repeat_count=4,
    )
    tuesday = sunday + timedelta(days=2)
    assert page.schedule()[0].start == at(tuesday, 14, 30)
    data = page_feed(client, page)
    # Not the Sunday: RFC 5545 clients would show it as an extra occurrence.
    assert f"DTSTART;TZID=Asia/Shanghai:{tuesday:%Y%m%d}T143000".encode() in data
    assert f"DTEND;TZID=Asia/Shanghai:{tuesday:%Y%m%d}T163000".encode() in data
    expected = expected_occurrences(page)
    assert len(expected) == 4
    assert js_event(ical_js(data), uid(page))["occurrences"] == expected
    assert icalendar_starts(vevents(data)[0]) == expected_starts(page)

    # A rule that gives no date at all is refused when the page is saved.
    monday = next_weekday(0)
    with pytest.raises(ValidationError) as error:
        ActivityPageFactory(
            parent=index,
            start=at(monday, 9),
            repeat="WEEKLY",
            repeat_weekdays=["SA"],
            repeat_until=monday + timedelta(days=2),
        )
    assert "repeat_weekdays" in error.value.message_dict


def test_daily_until_is_utc_and_expands_like_the_schedule(client, index):
    first = timezone.localdate() + timedelta(days=2)
    start = at(first, 8)
    page = ActivityPageFactory(
        parent=index,
        title="民事调解",
        start=start,
        end=start + timedelta(hours=3),
        repeat="DAILY",
        repeat_until=first + timedelta(days=9),
        excluded_dates=f"{first + timedelta(days=4):%Y-%m-%d}",
    )
    data = page_feed(client, page)
    until = first + timedelta(days=9)
    # 23:59:59 on the last day in Shanghai is 15:59:59 UTC.
    assert f"RRULE:FREQ=DAILY;UNTIL={until:%Y%m%d}T155959Z\r\n".encode() in data
    expected = expected_occurrences(page)
    assert len(expected) == 9
    assert js_event(ical_js(data), uid(page))["occurrences"] == expected
    assert icalendar_starts(vevents(data)[0]) == expected_starts(page)


def test_daily_until_beyond_the_cap_stops_where_the_schedule_does(client, index):
    first = timezone.localdate() + timedelta(days=1)
    page = ActivityPageFactory(
        parent=index,
        start=at(first, 15),
        end=at(first, 17),
        repeat="DAILY",
        repeat_until=first + timedelta(days=400),
    )
    data = page_feed(client, page)
    assert b"\r\nRRULE:FREQ=DAILY;COUNT=200\r\n" in data
    expected = expected_occurrences(page)
    assert len(expected) == 200
    assert js_event(ical_js(data), uid(page))["occurrences"] == expected
    assert icalendar_starts(vevents(data)[0]) == expected_starts(page)


def test_all_day_activities_use_dates(client, index):
    day = next_weekday(6)
    one_day = FestivalActivityPageFactory(
        parent=index, title="重阳游园", start=at(day, 9), end=at(day, 17), all_day=True
    )
    data = page_feed(client, one_day)
    assert f"\r\nDTSTART;VALUE=DATE:{day:%Y%m%d}\r\n".encode() in data
    nxt = day + timedelta(days=1)
    assert f"\r\nDTEND;VALUE=DATE:{nxt:%Y%m%d}\r\n".encode() in data
    assert b"TZID=Asia/Shanghai:" not in data.split(b"BEGIN:VEVENT")[1]
    js = js_event(ical_js(data), uid(one_day))
    assert js["occurrences"] == [
        {"start": day.isoformat(), "end": nxt.isoformat(), "start_utc": None}
        | {"end_utc": None}
    ]

    # Three days, ending at midnight after the third: DTEND is that midnight.
    fair = ActivityPageFactory(
        parent=index,
        title="文化庙会",
        start=at(day, 0),
        end=at(day + timedelta(days=3), 0),
        all_day=True,
    )
    data = page_feed(client, fair)
    assert f"DTEND;VALUE=DATE:{day + timedelta(days=3):%Y%m%d}".encode() in data
    assert js_event(ical_js(data), uid(fair))["occurrences"] == (
        expected_occurrences(fair)
    )


def test_all_day_recurring_uses_date_until_and_exdate(client, index):
    saturday = next_weekday(5)
    page = ActivityPageFactory(
        parent=index,
        title="周末义诊",
        start=at(saturday, 9),
        end=at(saturday, 16),
        all_day=True,
        repeat="WEEKLY",
        repeat_weekdays=["SA", "SU"],
        repeat_until=saturday + timedelta(days=29),
        excluded_dates=f"{saturday + timedelta(days=8):%Y-%m-%d}",
    )
    data = page_feed(client, page)
    until = saturday + timedelta(days=29)
    assert (
        f"\r\nRRULE:FREQ=WEEKLY;UNTIL={until:%Y%m%d};BYDAY=SA,SU\r\n".encode() in data
    )
    sunday = saturday + timedelta(days=8)
    assert f"\r\nEXDATE;VALUE=DATE:{sunday:%Y%m%d}\r\n".encode() in data
    expected = expected_occurrences(page)
    assert len(expected) == 9  # 5 Saturdays and 5 Sundays, one left out
    assert js_event(ical_js(data), uid(page))["occurrences"] == expected
    assert icalendar_starts(vevents(data)[0]) == expected_starts(page)


def test_edits_keep_the_uid_and_bump_the_sequence(client, index):
    page = ActivityPageFactory(parent=index, title="消防演练", venue="乙院小广场")
    first = vevents(page_feed(client, page))[0]
    assert str(first["UID"]) == uid(page) and first["SEQUENCE"] == 0

    page.summary = "只改了简介"  # not a time, place or status: same sequence
    page.save_revision().publish()
    page.refresh_from_db()
    event = vevents(page_feed(client, page))[0]
    assert str(event["UID"]) == uid(page) and event["SEQUENCE"] == 0
    assert "只改了简介" in str(event["DESCRIPTION"])

    page.venue = "街道办事处大院"
    page.title = "消防演练（改地点）"
    page.slug = "fire-drill-moved"
    page.save_revision().publish()
    page.refresh_from_db()
    assert page.ical_sequence == 1
    data = page_feed(client, page)
    event = vevents(data)[0]
    assert str(event["UID"]) == uid(page)
    assert event["SEQUENCE"] == 1
    assert str(event["LOCATION"]) == "街道办事处大院"
    js = js_event(ical_js(data), uid(page))
    assert (js["sequence"], js["location"]) == (1, "街道办事处大院")


def test_cancelled_activity(client, index):
    page = ActivityPageFactory(parent=index, title="广场舞比赛", venue="丙院广场")
    page.status = "cancelled"
    page.status_reason = "因大风天气取消"
    page.venue = "丙院活动室"
    page.save_revision().publish()
    page.refresh_from_db()
    assert page.ical_sequence == 1

    data = page_feed(client, page)
    assert b"\r\nSTATUS:CANCELLED\r\n" in data
    event = vevents(data)[0]
    assert str(event["UID"]) == uid(page)
    assert event["SEQUENCE"] == 1
    assert str(event["LOCATION"]) == "丙院活动室"
    assert "【活动已取消】因大风天气取消" in str(event["DESCRIPTION"])
    js = js_event(ical_js(data), uid(page))
    assert (js["status"], js["sequence"]) == ("CANCELLED", 1)
    assert "因大风天气取消" in js["description"]

    # A cancelled activity stays in the index feed, so subscribers see it.
    js = js_event(ical_js(index_feed(client, index)), uid(page))
    assert js["status"] == "CANCELLED"


def test_postponed_activity_is_tentative(client, index):
    page = ActivityPageFactory(
        parent=index, status="postponed", status_reason="改期另行通知"
    )
    event = vevents(page_feed(client, page))[0]
    assert str(event["STATUS"]) == "TENTATIVE"
    assert "【活动延期】改期另行通知" in str(event["DESCRIPTION"])


# ---------------------------------------------------------------------------
# One occurrence ("add to calendar" after signing up)
# ---------------------------------------------------------------------------


def test_occurrence_calendar_has_just_that_occurrence(client, index):
    start = at(next_weekday(1), 14)
    page = ActivityPageFactory(
        parent=index,
        title="四点钟课堂",
        start=start,
        end=start + timedelta(hours=1),
        repeat="WEEKLY",
        repeat_weekdays=["TU", "TH"],
        repeat_count=6,
    )
    occurrence = Occurrence.objects.filter(page_id=page.pk).order_by("start")[2]
    day = timezone.localdate(occurrence.start)
    response = get(client, path_of(page) + f"calendar.ics?occurrence={occurrence.pk}")
    assert response["Content-Disposition"] == (
        f'inline; filename="activity-{page.pk}-{day:%Y%m%d}.ics"'
    )
    data = response.content
    assert REFRESH_LINE in data
    assert b"RRULE" not in data and b"RECURRENCE-ID" not in data
    (event,) = vevents(data)
    assert str(event["UID"]) == (
        f"activity-{page.pk}-{day:%Y%m%d}@{settings.ICAL_UID_DOMAIN}"
    )
    assert event.decoded("dtstart") == occurrence.start
    assert event.decoded("dtend") == occurrence.end
    assert str(event["STATUS"]) == "CONFIRMED"
    parsed = ical_js(data)
    (js,) = parsed["events"]
    assert js["recurring"] is False
    assert js["occurrences"] == [
        {
            "start": local_iso(occurrence.start),
            "end": local_iso(occurrence.end),
            "start_utc": f"{occurrence.start.astimezone(UTC):%Y-%m-%dT%H:%M:%SZ}",
            "end_utc": f"{occurrence.end.astimezone(UTC):%Y-%m-%dT%H:%M:%SZ}",
        }
    ]

    # An occurrence kept only for its sign-ups (taken off the schedule).
    Occurrence.objects.filter(pk=occurrence.pk).update(cancelled=True)
    data = page_feed(client, page, f"?occurrence={occurrence.pk}")
    assert str(vevents(data)[0]["STATUS"]) == "CANCELLED"
    assert "【本场活动取消】" in str(vevents(data)[0]["DESCRIPTION"])


def test_foreign_or_unknown_occurrence_is_404(client, index):
    page = ActivityPageFactory(parent=index)
    other = ActivityPageFactory(parent=index)
    foreign = Occurrence.objects.get(page_id=other.pk)
    url = path_of(page) + "calendar.ics"
    get(client, f"{url}?occurrence={foreign.pk}", status=404)
    missing = Occurrence.objects.order_by("-pk").first().pk + 1000
    get(client, f"{url}?occurrence={missing}", status=404)
    # Not a number: the page's whole feed.
    (event,) = vevents(get(client, f"{url}?occurrence=abc").content)
    assert str(event["UID"]) == uid(page)


# ---------------------------------------------------------------------------
# The 活动日历 feed
# ---------------------------------------------------------------------------


def test_empty_index_feed_is_a_valid_calendar(client, index):
    response = get(client, path_of(index) + "calendar.ics")
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    assert response["Content-Disposition"] == 'inline; filename="activities.ics"'
    data = response.content
    assert REFRESH_LINE in data
    calendar = Calendar.from_ical(data)
    assert calendar.walk("VEVENT") == []
    assert [tz["TZID"] for tz in calendar.walk("VTIMEZONE")] == ["Asia/Shanghai"]
    site_name = SiteSettings.for_site(index.get_site()).site_name
    assert str(calendar["X-WR-CALNAME"]) == f"{site_name} · 活动日历"
    parsed = ical_js(data)
    assert parsed["events"] == []
    assert parsed["name"] == f"{site_name} · 活动日历"
    assert parsed["refresh_interval"] == "PT6H"


def test_index_feed_lists_each_page_once(client, index):
    today = timezone.localdate()
    weekly = ActivityPageFactory(
        parent=index,
        title="太极拳",
        start=at(today - timedelta(days=20), 7),
        end=at(today - timedelta(days=20), 8),
        repeat="WEEKLY",
        repeat_count=12,
        excluded_dates=f"{today + timedelta(days=8):%Y-%m-%d}",
    )
    recent = LecturePageFactory(
        parent=index,
        start=at(today - timedelta(days=10), 9),
        end=at(today - timedelta(days=10), 11),
    )
    ongoing = ActivityPageFactory(  # started 40 days ago, still on
        parent=index,
        title="书画展",
        start=at(today - timedelta(days=40), 9),
        end=at(today + timedelta(days=5), 17),
    )
    old = ActivityPageFactory(
        parent=index,
        start=at(today - timedelta(days=60), 9),
        end=at(today - timedelta(days=60), 11),
    )
    draft = ActivityPageFactory(parent=index)
    draft.unpublish()
    private = FestivalActivityPageFactory(parent=index)
    PageViewRestriction.objects.create(
        page=private, restriction_type="password", password="x"
    )
    upcoming = FestivalActivityPageFactory(parent=index)

    response = get(client, path_of(index) + "calendar.ics")
    data = response.content
    assert REFRESH_LINE in data
    events = vevents(data)
    assert sorted(str(e["UID"]) for e in events) == sorted(
        uid(p) for p in (weekly, recent, ongoing, upcoming)
    )
    assert data.count(b"RRULE") == 1
    assert data.count(b"EXDATE") == 1
    assert str(by_uid(events, uid(weekly))["URL"]) == weekly.get_full_url()
    assert not {uid(old), uid(draft), uid(private)} & {str(e["UID"]) for e in events}
    # Nothing from the demo site's own 活动日历.
    demo = EventIndexPage.objects.exclude(pk=index.pk).get()
    assert all(
        not p.is_descendant_of(demo)
        for p in Page.objects.filter(pk__in=[int_pk(e) for e in events])
    )

    parsed = ical_js(data)
    for page in (weekly, recent, ongoing, upcoming):
        page = type(page).objects.get(pk=page.pk)
        js = js_event(parsed, uid(page))
        assert js["occurrences"] == expected_occurrences(page), page.title
        assert icalendar_starts(by_uid(events, uid(page))) == expected_starts(page)
    assert len(js_event(parsed, uid(weekly))["occurrences"]) == 11


def int_pk(event) -> int:
    return int(str(event["UID"]).split("@")[0].removeprefix("activity-"))


def test_index_feed_filters_by_community_and_type(client, index, communities):
    a, b = communities
    activity_a = ActivityPageFactory(parent=a)
    lecture_a = LecturePageFactory(parent=a)
    lecture_b = LecturePageFactory(parent=b)
    festival = FestivalActivityPageFactory(parent=index)

    def uids(query):
        return sorted(str(e["UID"]) for e in vevents(index_feed(client, index, query)))

    everything = [activity_a, lecture_a, lecture_b, festival]
    assert uids("") == sorted(uid(p) for p in everything)
    assert uids(f"?community={a.pk}") == sorted([uid(activity_a), uid(lecture_a)])
    assert uids("?type=lecture") == sorted([uid(lecture_a), uid(lecture_b)])
    assert uids(f"?community={a.pk}&type=lecture") == [uid(lecture_a)]
    assert uids("?type=festival") == [uid(festival)]
    assert uids("?type=nonsense") == sorted(uid(p) for p in everything)
    assert uids("?community=999999") == []

    response = get(
        client, path_of(index) + f"calendar.ics?community={a.pk}&type=lecture"
    )
    assert response["Content-Disposition"] == (
        f'inline; filename="activities-community-{a.pk}-lecture.ics"'
    )
    name = ical_js(response.content)["name"]
    assert name.endswith(f"· 活动日历 · {a.title} · 先锋讲堂")


# ---------------------------------------------------------------------------
# The demo site's feeds
# ---------------------------------------------------------------------------


def test_demo_feeds_match_the_schedules(client, site):
    demo = EventIndexPage.objects.descendant_of(site.root_page).get()
    host = site.hostname
    response = get(client, path_of(demo) + "calendar.ics", host=host)
    data = response.content
    events = vevents(data)
    assert events, "the demo calendar should have activities"
    parsed = ical_js(data)
    assert len(parsed["events"]) == len(events)
    pages = {
        p.pk: p
        for model in (ActivityPage, LecturePage, FestivalActivityPage)
        for p in model.objects.filter(pk__in=[int_pk(e) for e in events])
    }
    for event in events:
        page = pages[int_pk(event)]
        js = js_event(parsed, str(event["UID"]))
        assert js["occurrences"] == expected_occurrences(page), page.title
        assert js["sequence"] == page.ical_sequence
    page = next(iter(pages.values()))
    page_data = page_feed(client, page, host=host)
    assert len(ical_js(page_data)["events"]) == 1
    print(  # shown with -s: feed sizes for the report
        f"\ndemo feeds: {path_of(demo)}calendar.ics {len(data)} bytes, "
        f"{len(events)} events; {path_of(page)}calendar.ics {len(page_data)} bytes"
    )
