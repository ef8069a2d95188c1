"""Conditional GET on the iCalendar feeds (events/ical.py): ETag and Last-Modified
on every ``.ics``, 304 Not Modified for a calendar app whose copy is current, and
validators that change with every change the body would show, decided without
building the calendar (fewer queries than a 200)."""

import itertools
from datetime import datetime, time, timedelta
from urllib.parse import urlsplit

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django.utils.http import http_date
from wagtail.models import Page

from events.models import ActivityPage, Occurrence
from home.models import CommunityPage, SiteSettings
from tests import factories

pytestmark = pytest.mark.django_db

HOST = "ical-conditional.test"
_slugs = itertools.count()


@pytest.fixture
def index(db):
    """A 活动日历 of its own on a second site (only one per site is allowed)."""
    root = Page.get_first_root_node()
    home = factories.HomePageFactory(parent=root, slug="ical-conditional-home")
    site = factories.make_site(HOST, home)
    # Created on first use otherwise, which bumps the content generation: the
    # first request's ETag would not be the second's.
    SiteSettings.for_site(site)
    return factories.EventIndexPageFactory(parent=home, slug="activities")


def a_community(index) -> CommunityPage:
    """A community of the index's site, whose activities sit under its page."""
    communities = factories.CommunityIndexPageFactory(parent=index.get_parent())
    return factories.CommunityPageFactory(parent=communities, slug="c-cond")


def published(factory, **kwargs):
    """A page as an editor leaves it: published through a revision, so it has a
    live revision and ``last_published_at`` (factories alone set neither)."""
    kwargs.setdefault("slug", f"cond-{next(_slugs)}")
    page = factory(**kwargs)
    page.save_revision().publish()
    page.refresh_from_db()
    return page


def republish(page, **changes):
    for field, value in changes.items():
        setattr(page, field, value)
    page.save_revision().publish()
    page.refresh_from_db()
    return page


def feed_url(page, query: str = "") -> str:
    return urlsplit(page.get_full_url()).path + "calendar.ics" + query


def get(client, url: str, status: int = 200, method: str = "get", **headers):
    response = getattr(client, method)(url, HTTP_HOST=HOST, **headers)
    assert response.status_code == status, response.content[:300]
    return response


def body(response) -> str:
    """The calendar's text with folded lines joined again."""
    return response.content.replace(b"\r\n ", b"").decode()


def assert_not_modified(response, etag: str) -> None:
    assert response.status_code == 304
    assert response.content == b""
    assert response["ETag"] == etag


def count_queries(client, url: str, **headers) -> tuple[int, object]:
    get(client, url)  # warm the site, settings and view-restriction caches
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url, HTTP_HOST=HOST, **headers)
    return len(ctx.captured_queries), response


# ---------------------------------------------------------------------------
# One activity
# ---------------------------------------------------------------------------


def test_activity_feed_sends_validators_and_answers_304(client, index):
    page = published(factories.ActivityPageFactory, parent=index, title="消防演练")
    response = get(client, feed_url(page))
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    assert "SUMMARY:消防演练" in body(response)
    etag = response["ETag"]
    assert etag.startswith('W/"') and etag.endswith('"')
    assert response["Last-Modified"] == http_date(page.last_published_at.timestamp())
    assert "Cache-Control" not in response  # unchanged: none was ever sent

    again = get(client, feed_url(page))
    assert again["ETag"] == etag  # DTSTAMP differs, the calendar does not

    assert_not_modified(get(client, feed_url(page), 304, HTTP_IF_NONE_MATCH=etag), etag)
    not_modified = get(
        client,
        feed_url(page),
        304,
        HTTP_IF_MODIFIED_SINCE=response["Last-Modified"],
    )
    assert_not_modified(not_modified, etag)
    assert not_modified["Last-Modified"] == response["Last-Modified"]

    # A copy from before the last publication, or another ETag: the calendar.
    before = http_date((page.last_published_at - timedelta(hours=1)).timestamp())
    assert (
        b"BEGIN:VEVENT"
        in get(client, feed_url(page), HTTP_IF_MODIFIED_SINCE=before).content
    )
    other = get(client, feed_url(page), HTTP_IF_NONE_MATCH='W/"0123"')
    assert b"BEGIN:VEVENT" in other.content
    assert other["ETag"] == etag


def test_head(client, index):
    page = published(factories.ActivityPageFactory, parent=index)
    head = get(client, feed_url(page), method="head")
    assert head["Content-Type"] == "text/calendar; charset=utf-8"
    assert head["ETag"] == get(client, feed_url(page))["ETag"]
    assert head["Last-Modified"]
    assert head.content == b""
    not_modified = get(
        client, feed_url(page), 304, method="head", HTTP_IF_NONE_MATCH=head["ETag"]
    )
    assert_not_modified(not_modified, head["ETag"])

    index_head = get(client, feed_url(index), method="head")
    assert index_head["ETag"] == get(client, feed_url(index))["ETag"]
    get(
        client,
        feed_url(index),
        304,
        method="head",
        HTTP_IF_NONE_MATCH=index_head["ETag"],
    )


def test_publishing_and_cancelling_change_the_etag(client, index):
    page = published(factories.ActivityPageFactory, parent=index, venue="乙院小广场")
    first = get(client, feed_url(page))

    # A change that keeps the SEQUENCE (not time, place or status).
    republish(page, summary="只改了简介")
    edited = get(client, feed_url(page), HTTP_IF_NONE_MATCH=first["ETag"])
    assert "只改了简介" in body(edited)
    assert edited["ETag"] != first["ETag"]
    assert edited["Last-Modified"] == http_date(page.last_published_at.timestamp())

    republish(page, status="cancelled", status_reason="因大风天气取消")
    assert page.ical_sequence == 1
    cancelled = get(client, feed_url(page), HTTP_IF_NONE_MATCH=edited["ETag"])
    assert b"\r\nSTATUS:CANCELLED\r\n" in cancelled.content
    assert b"\r\nSEQUENCE:1\r\n" in cancelled.content
    assert cancelled["ETag"] not in (first["ETag"], edited["ETag"])
    get(client, feed_url(page), 304, HTTP_IF_NONE_MATCH=cancelled["ETag"])

    republish(page, status="postponed", status_reason="改期另行通知")
    postponed = get(client, feed_url(page), HTTP_IF_NONE_MATCH=cancelled["ETag"])
    assert b"\r\nSTATUS:TENTATIVE\r\n" in postponed.content
    assert postponed["ETag"] != cancelled["ETag"]


def test_changes_elsewhere_change_the_etag(client, index):
    """What the page's own fields do not show: its community's title (a publish of
    another page, through the content generation), and a status written straight to
    the database (no signal; the page's own fields)."""
    community = a_community(index)
    page = published(factories.ActivityPageFactory, parent=community)
    before = get(client, feed_url(page))
    assert community.title in body(before)

    republish(community, title="改了名的社区")
    renamed = get(client, feed_url(page), HTTP_IF_NONE_MATCH=before["ETag"])
    assert "改了名的社区" in body(renamed)
    assert renamed["ETag"] != before["ETag"]

    ActivityPage.objects.filter(pk=page.pk).update(status="cancelled")
    changed = get(client, feed_url(page), HTTP_IF_NONE_MATCH=renamed["ETag"])
    assert b"\r\nSTATUS:CANCELLED\r\n" in changed.content
    assert changed["ETag"] != renamed["ETag"]


def test_activity_etag_does_not_change_with_the_day(client, index, monkeypatch):
    page = published(factories.ActivityPageFactory, parent=index)
    etag = get(client, feed_url(page))["ETag"]
    now = timezone.now()
    shift = timedelta(days=1)
    if timezone.localdate(now + shift).year != timezone.localdate(now).year:
        shift = -shift  # the VTIMEZONE follows the year
    monkeypatch.setattr(timezone, "now", lambda: now + shift)
    get(client, feed_url(page), 304, HTTP_IF_NONE_MATCH=etag)


def test_occurrence_feed(client, index):
    start = timezone.make_aware(
        datetime.combine(timezone.localdate() + timedelta(days=2), time(14))
    )
    page = published(
        factories.ActivityPageFactory,
        parent=index,
        start=start,
        end=start + timedelta(hours=1),
        repeat="WEEKLY",
        repeat_count=4,
    )
    whole = get(client, feed_url(page))
    occurrences = list(Occurrence.objects.filter(page_id=page.pk).order_by("start"))
    url = feed_url(page, f"?occurrence={occurrences[1].pk}")
    response = get(client, url)
    etag = response["ETag"]
    assert etag != whole["ETag"]
    assert (
        etag != get(client, feed_url(page, f"?occurrence={occurrences[2].pk}"))["ETag"]
    )
    assert response["Last-Modified"] == whole["Last-Modified"]
    assert_not_modified(get(client, url, 304, HTTP_IF_NONE_MATCH=etag), etag)

    # Taken off the schedule (kept for its sign-ups): a new body, a new ETag.
    Occurrence.objects.filter(pk=occurrences[1].pk).update(cancelled=True)
    cancelled = get(client, url, HTTP_IF_NONE_MATCH=etag)
    assert b"\r\nSTATUS:CANCELLED\r\n" in cancelled.content
    assert cancelled["ETag"] != etag

    # Another page's occurrence stays a 404, whatever the client sends.
    other = published(factories.ActivityPageFactory, parent=index)
    foreign = Occurrence.objects.get(page_id=other.pk)
    get(
        client, feed_url(page, f"?occurrence={foreign.pk}"), 404, HTTP_IF_NONE_MATCH="*"
    )


# ---------------------------------------------------------------------------
# The 活动日历 feed
# ---------------------------------------------------------------------------


def test_index_feed_etag_and_304(client, index):
    page = published(factories.ActivityPageFactory, parent=index, title="百家宴")
    response = get(client, feed_url(index))
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    assert "SUMMARY:百家宴" in body(response)
    etag = response["ETag"]
    assert etag.startswith('W/"')
    # No Last-Modified: a page leaving the feed would not move it.
    assert "Last-Modified" not in response
    assert_not_modified(
        get(client, feed_url(index), 304, HTTP_IF_NONE_MATCH=etag), etag
    )
    # Without a Last-Modified, If-Modified-Since alone never gives a 304.
    since = http_date(timezone.now().timestamp())
    assert get(client, feed_url(index), HTTP_IF_MODIFIED_SINCE=since).content

    # WeChat's and trackers' parameters do not make another feed.
    shared = feed_url(index, "?from=singlemessage&isappinstalled=0&utm_source=x")
    get(client, shared, 304, HTTP_IF_NONE_MATCH=etag)

    # Published, unpublished: the old ETag gets the new calendar.
    day = timedelta(days=1)
    republish(page, title="百家宴（改期）", start=page.start + day, end=page.end + day)
    edited = get(client, feed_url(index), HTTP_IF_NONE_MATCH=etag)
    assert "SUMMARY:百家宴（改期）" in body(edited)
    assert edited["ETag"] != etag
    page.unpublish()
    emptied = get(client, feed_url(index), HTTP_IF_NONE_MATCH=edited["ETag"])
    assert b"BEGIN:VEVENT" not in emptied.content
    assert emptied["ETag"] not in (etag, edited["ETag"])


def test_index_feed_cancelling_changes_the_etag(client, index):
    page = published(factories.ActivityPageFactory, parent=index)
    etag = get(client, feed_url(index))["ETag"]
    republish(page, status="cancelled", status_reason="因故取消")
    cancelled = get(client, feed_url(index), HTTP_IF_NONE_MATCH=etag)
    assert b"\r\nSTATUS:CANCELLED\r\n" in cancelled.content
    assert cancelled["ETag"] != etag


def test_filters_give_different_etags(client, index):
    community = a_community(index)
    published(factories.ActivityPageFactory, parent=community)
    published(factories.LecturePageFactory, parent=index)
    queries = [
        "",
        "?type=lecture",
        "?type=activity",
        f"?community={community.pk}",
        f"?community={community.pk}&type=lecture",
    ]
    etags = {query: get(client, feed_url(index, query))["ETag"] for query in queries}
    assert len(set(etags.values())) == len(queries), etags
    for query, etag in etags.items():
        get(client, feed_url(index, query), 304, HTTP_IF_NONE_MATCH=etag)
    # One filter's ETag is not another's.
    other = get(client, feed_url(index, "?type=lecture"), HTTP_IF_NONE_MATCH=etags[""])
    assert other["ETag"] == etags["?type=lecture"]


def test_index_etag_changes_with_the_day(client, index, monkeypatch):
    """Time passing takes activities out of the feed: the date is in the ETag."""
    published(factories.ActivityPageFactory, parent=index)
    etag = get(client, feed_url(index))["ETag"]
    now = timezone.now()
    monkeypatch.setattr(timezone, "now", lambda: now + timedelta(days=1))
    assert get(client, feed_url(index), HTTP_IF_NONE_MATCH=etag)["ETag"] != etag


# ---------------------------------------------------------------------------
# Queries: a 304 is decided before the calendar is built
# ---------------------------------------------------------------------------


def feeds(index):
    community = a_community(index)
    published(factories.ActivityPageFactory, parent=index)
    published(factories.LecturePageFactory, parent=community)
    page = published(
        factories.ActivityPageFactory,
        parent=community,
        repeat="WEEKLY",
        repeat_count=3,
    )
    occurrence = Occurrence.objects.filter(page_id=page.pk).order_by("start").first()
    return {
        "index": feed_url(index),
        "index ?type=": feed_url(index, "?type=lecture"),
        "index ?community=": feed_url(index, f"?community={community.pk}"),
        "activity": feed_url(page),
        "occurrence": feed_url(page, f"?occurrence={occurrence.pk}"),
    }


def test_304_runs_fewer_queries_than_200(client, index):
    for name, url in feeds(index).items():
        ok, response = count_queries(client, url)
        assert response.status_code == 200
        etag = response["ETag"]
        not_modified, response = count_queries(client, url, HTTP_IF_NONE_MATCH=etag)
        assert_not_modified(response, etag)
        assert not_modified < ok, (name, not_modified, ok)
        print(f"\n{name}: 200 {ok} queries, 304 {not_modified}")  # shown with -s


def test_index_304_reads_no_activity(client, index):
    """The feed's 304 is Wagtail's routing alone: no occurrence, activity or
    community query, however many activities there are."""
    url = feeds(index)["index ?community="]
    etag = get(client, url)["ETag"]
    get(client, url)
    with CaptureQueriesContext(connection) as ctx:
        get(client, url, 304, HTTP_IF_NONE_MATCH=etag)
    sql = " ".join(q["sql"] for q in ctx.captured_queries)
    assert "events_occurrence" not in sql
    assert "events_activitypage" not in sql
    assert "home_sitesettings" not in sql


def test_the_index_feed_carries_the_soonest_activities_up_to_the_limit(
    client, index, monkeypatch
):
    from events import ical

    monkeypatch.setattr(ical, "FEED_LIMIT", 3)
    today = timezone.localdate()
    pages = [
        factories.ActivityPageFactory(
            parent=index,
            slug=f"limit-{n}",
            start=timezone.make_aware(
                datetime.combine(today + timedelta(days=10 - n), time(9))
            ),
        )
        for n in range(5)
    ]
    body = client.get(
        urlsplit(index.url).path + "calendar.ics", HTTP_HOST=HOST
    ).content.decode()
    assert body.count("BEGIN:VEVENT") == 3
    soonest = sorted(pages, key=lambda page: page.start)[:3]
    for page in pages:
        assert (f"SUMMARY:{page.title}" in body) == (page in soonest)
