"""Listings that read right (issue 18, point 4): a recurring activity is one card
with its pattern, its next session and the coming sessions to tap, in the
activity index, on the home page and on community pages; a tapped session is
preselected on the sign-up form; a full session's form says 候补 and its button
加入候补; on the activity page 我要报名 comes before the session list.

A site of its own (host series.test), activities built with times computed from
now, so nothing depends on today's date or on where the demo's activities fall.
"""

import re

import pytest
from django.utils import timezone
from wagtail.models import Page

from events.models import Occurrence
from events.models.registrations import day_label
from events.recurrence import short_pattern
from tests.factories import (
    ActivityPageFactory,
    CommunityIndexPageFactory,
    CommunityPageFactory,
    EventIndexPageFactory,
    HomePageFactory,
    in_days,
    make_site,
)

pytestmark = pytest.mark.django_db

HOST = "series.test"



@pytest.fixture
def series_site(db):
    home = HomePageFactory(parent=Page.get_first_root_node(), slug="series-home")
    make_site(HOST, home)
    communities = CommunityIndexPageFactory(parent=home)
    community = CommunityPageFactory(parent=communities, slug="c-series")
    index = EventIndexPageFactory(parent=home, slug="activities")
    series = ActivityPageFactory(
        parent=community,
        slug="shuhua",
        title="每周书画课",
        start=in_days(1, 14, 30),
        end=in_days(1, 16, 30),
        repeat="WEEKLY",
        repeat_weekdays=["TU", "TH"],
        repeat_count=12,
        registration_required=True,
        capacity=2,
        max_party_size=2,
    )
    one_off = ActivityPageFactory(
        parent=index,
        slug="yizhen",
        title="健康义诊",
        start=in_days(5, 9),
        end=in_days(5, 11),
        registration_required=True,
        capacity=10,
    )
    return {
        "home": home,
        "community": community,
        "index": index,
        "series": series,
        "one_off": one_off,
    }


def get(client, path, **params):
    response = client.get(path, params, HTTP_HOST=HOST)
    assert response.status_code == 200, path
    return response.content.decode()


def sessions(page) -> list[Occurrence]:
    return list(Occurrence.objects.filter(page_id=page.pk).order_by("start"))


def card_count(html, title) -> int:
    return html.count(f'<strong class="card__title">{title}</strong>')


def path_of(page) -> str:
    return page.get_url_parts()[2]


def assert_series_card(html, page):
    coming = sessions(page)
    assert card_count(html, page.title) == 1
    assert "每周二、四" in html
    first = timezone.localtime(coming[0].start)
    assert re.search(
        r"下一场\s*<time[^>]*>" + re.escape(day_label(first)), html
    ), "the card names its next session"
    for session in coming[:3]:
        assert f"{path_of(page)}signup/?occurrence={session.pk}" in html
    assert f"signup/?occurrence={coming[3].pk}" not in html


def test_short_pattern():
    assert short_pattern("WEEKLY", ["TU", "TH"]) == "每周二、四"
    assert short_pattern("WEEKLY", ["MO", "TU", "WE", "TH", "FR"]) == "每周一至五"
    assert short_pattern("WEEKLY", ["MO", "WE", "FR"]) == "每周一、三、五"
    assert short_pattern("DAILY", []) == "每天"
    assert short_pattern("", []) == ""


def test_the_index_lists_a_series_once_with_its_next_sessions(client, series_site):
    html = get(client, "/activities/")
    assert_series_card(html, series_site["series"])
    assert card_count(html, "健康义诊") == 1
    assert html.count('class="card__sessions"') == 1  # the one-off has none


def test_the_home_page_lists_a_series_once(client, series_site):
    html = get(client, "/")
    assert_series_card(html, series_site["series"])


def test_a_community_page_lists_its_series_once(client, series_site):
    html = get(client, "/communities/c-series/")
    assert_series_card(html, series_site["series"])


def test_past_activities_list_a_series_once(client, series_site):
    page = series_site["series"]
    page.start, page.end = in_days(-20, 14, 30), in_days(-20, 16, 30)
    page.save_revision().publish()
    html = get(client, "/activities/", when="past")
    assert card_count(html, page.title) == 1
    assert "最近一场" in html


def test_the_month_view_still_shows_every_session(client, series_site):
    page = series_site["series"]
    first = timezone.localtime(sessions(page)[0].start)
    html = get(client, "/activities/month/", m=f"{first:%Y-%m}")
    in_month = [
        s
        for s in sessions(page)
        if timezone.localtime(s.start).month == first.month
        and timezone.localtime(s.start).year == first.year
    ]
    assert html.count(f">{page.title}<") >= len(in_month) > 1


def checked_sessions(html) -> list[str]:
    radios = re.findall(r'<input type="radio" name="occurrence"[^>]*>', html)
    return [re.search(r'value="(\d+)"', r).group(1) for r in radios if "checked" in r]


def test_a_tapped_session_is_preselected_on_the_form(client, series_site):
    page = series_site["series"]
    third = sessions(page)[2]
    html = get(client, path_of(page) + "signup/", occurrence=third.pk)
    assert html.count('type="radio" name="occurrence"') > 3
    assert checked_sessions(html) == [str(third.pk)]
    # Nonsense or a session of another activity is ignored, never an error.
    other = sessions(series_site["one_off"])[0]
    for value in ("abc", "999999999", str(other.pk)):
        html = get(client, path_of(page) + "signup/", occurrence=value)
        assert checked_sessions(html) == []


def test_a_full_sessions_form_says_waitlist(client, series_site):
    page = series_site["series"]
    first, second = sessions(page)[:2]
    Occurrence.objects.filter(pk=first.pk).update(taken=2)  # all seats taken
    html = get(client, path_of(page) + "signup/", occurrence=first.pk)
    assert "加入候补</button>" in html
    assert "现在提交是<strong>候补</strong>" in html
    assert re.search(rf'value="{first.pk}"[^>]*data-full="1"', html)
    html = get(client, path_of(page) + "signup/", occurrence=second.pk)
    assert "提交报名</button>" in html
    assert "data-waitlist-note hidden" in html  # shown by the script when chosen


def test_a_full_one_off_activity_says_waitlist(client, series_site):
    page = series_site["one_off"]
    Occurrence.objects.filter(page_id=page.pk).update(taken=10)
    assert "加入候补</button>" in get(client, path_of(page) + "signup/")
    assert "加入候补</a>" in get(client, path_of(page))


def test_the_activity_page_has_signup_before_the_session_list(client, series_site):
    page = series_site["series"]
    html = get(client, path_of(page))
    assert html.index('id="signup-heading"') < html.index('id="dates-heading"')
    for session in sessions(page)[:12]:
        assert f'href="{path_of(page)}signup/?occurrence={session.pk}"' in html
