"""Activity pages, the 活动日历 index and where activities appear."""

import re
from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db.models import F
from django.urls import reverse
from django.utils import timezone
from wagtail.test.utils import WagtailPageTestCase

from events.models import (
    ActivityPage,
    EventIndexPage,
    FestivalActivityPage,
    LecturePage,
    Lecturer,
    Occurrence,
    Registration,
)
from home.models import CommunityPage, HomePage, HonourIndexPage

pytestmark = pytest.mark.django_db


class EventTreeRulesTests(WagtailPageTestCase):
    def test_activities_under_the_calendar_or_a_community(self):
        # The subdistrict's under the 活动日历, a community's under its page.
        for model in (ActivityPage, LecturePage, FestivalActivityPage):
            self.assertAllowedParentPageTypes(model, {EventIndexPage, CommunityPage})
            self.assertCanCreateAt(CommunityPage, model)
            self.assertCanNotCreateAt(HomePage, model)
            self.assertCanNotCreateAt(HonourIndexPage, model)
        self.assertAllowedParentPageTypes(EventIndexPage, {HomePage})
        self.assertCanNotCreateAt(HonourIndexPage, EventIndexPage)


def test_demo_has_activities_of_every_type():
    """Whatever the day the demo is loaded: activities and lectures in the coming
    eight weeks, and a festival activity coming within twelve (the festival
    calendar's longest gap, 重阳节 to 冬至, is under twelve weeks)."""
    now = timezone.now()
    windows = ((ActivityPage, 8), (LecturePage, 8), (FestivalActivityPage, 12))
    upcoming = [
        m.objects.live().filter(start__gte=now, start__lte=now + timedelta(weeks=n))
        for m, n in windows
    ]
    assert sum(qs.count() for qs in upcoming) >= 15
    assert all(qs.exists() for qs in upcoming)
    lectures = LecturePage.objects.live().filter(series="先锋讲堂")
    assert lectures.values("community").distinct().count() >= 4
    assert all(lecture.lecturer for lecture in lectures)
    assert ActivityPage.objects.filter(status="cancelled").exists()
    # A full one (候补 shown) is coming, and a past festival has its check-ins.
    assert Occurrence.objects.filter(
        start__gt=now, cancelled=False, capacity__isnull=False, taken__gte=F("capacity")
    ).exists()
    past_festivals = FestivalActivityPage.objects.filter(end__lt=now)
    assert Registration.objects.filter(
        page_id__in=past_festivals.values("pk"), checked_in_at__isnull=False
    ).exists()
    assert Lecturer.objects.count() >= 5


def test_index_groups_upcoming_by_day_and_hides_past(client):
    html = client.get("/activities/").content.decode()
    days = re.findall(r'<h2 class="day__title">([^<]+)</h2>', html)
    assert len(days) >= 10
    assert "从老照片看花园路的变化" in html
    assert "重阳敬老宴" not in html
    past = client.get("/activities/", {"when": "past"}).content.decode()
    assert "重阳敬老宴" in past and "中秋做月饼" in past
    assert "从老照片看花园路的变化" not in past


def test_index_filters_by_type_and_community(client):
    html = client.get("/activities/", {"type": "lecture"}).content.decode()
    assert "先锋讲堂：好家风里的初心" in html
    assert "健康义诊进楼院" not in html
    jiayuan = CommunityPage.objects.get(slug="jiayuan")
    html = client.get("/activities/", {"community": jiayuan.pk}).content.decode()
    assert "从老照片看花园路的变化" in html
    assert "好家风里的初心" not in html


def test_index_survives_garbage_filters(client):
    for params in (
        {"community": "abc"},
        {"type": "<script>"},
        {"page": "-1"},
        {"when": "x" * 300},
    ):
        response = client.get("/activities/", params)
        assert response.status_code == 200
        assert "<script>" not in response.content.decode()


def test_cancelled_and_postponed_activities_show_the_reason(client):
    cancelled = ActivityPage.objects.get(slug="lvhang-fenlei")
    html = client.get(cancelled.url).content.decode()
    assert "活动已取消" in html and cancelled.status_reason in html
    postponed = ActivityPage.objects.get(slug="shuimu-zhilv")
    html = client.get(postponed.url).content.decode()
    assert "活动延期" in html and postponed.status_reason in html


def test_lecture_page_shows_lecturer(client):
    lecture = LecturePage.objects.get(slug="xianfeng-jiayuan-1")
    html = client.get(lecture.url).content.decode()
    assert lecture.lecturer.name in html and lecture.lecturer.bio in html
    assert lecture.topic in html


def test_home_and_community_pages_list_activities(client):
    home = client.get("/").content.decode()
    assert "近期活动" in home and 'class="card card--event' in home
    jiayuan = CommunityPage.objects.get(slug="jiayuan")
    html = client.get(jiayuan.url).content.decode()
    assert "从老照片看花园路的变化" in html  # upcoming
    assert "重阳敬老宴" in html  # past


def test_end_before_start_and_missing_reason_are_rejected():
    start = timezone.now()
    page = ActivityPage(
        title="测试", slug="t", start=start, end=start - timedelta(hours=1), venue="x"
    )
    with pytest.raises(ValidationError) as exc:
        page.clean()
    assert "结束时间必须晚于开始时间" in str(exc.value)
    page = ActivityPage(
        title="测试", slug="t", start=start, venue="x", status="cancelled"
    )
    with pytest.raises(ValidationError) as exc:
        page.clean()
    assert "请填写原因" in str(exc.value)


def test_festival_editor_sees_lunar_dates(admin_client):
    index = EventIndexPage.objects.get()
    url = reverse(
        "wagtailadmin_pages:add", args=["events", "festivalactivitypage", index.pk]
    )
    html = admin_client.get(url).content.decode()
    assert "按农历推算" in html and "冬至" in html


def test_index_shows_a_recurring_activity_once_and_the_month_each_date(client):
    # One card in the index (tests/events/test_series_listing.py has the rest).
    html = client.get("/activities/?type=activity").content.decode()
    assert html.count('<strong class="card__title">每周书画课</strong>') == 1
    page = ActivityPage.objects.get(slug="shuhua-ke")
    first = timezone.localtime(page.schedule()[0].start)
    month = client.get(f"/activities/month/?m={first:%Y-%m}").content.decode()
    expected = [
        s
        for s in page.schedule()
        if not s.excluded and timezone.localtime(s.start).month == first.month
    ]
    assert month.count('<strong class="card__title">每周书画课</strong>') == len(
        expected
    )


@pytest.mark.parametrize("value", ["abc", "1999-13", "2030-00", "", "2030-1-1"])
def test_month_view_tolerates_bad_months(client, value):
    response = client.get(f"/activities/month/?m={value}&community=x&type=<b>")
    assert response.status_code == 200
    assert timezone.localdate().strftime("%Y年%-m月") in response.content.decode()


def test_home_shows_the_next_activities_with_seats_left(client):
    from events.models import Occurrence
    from events.registration import sign_up
    from tests.factories import ActivityPageFactory

    soon = timezone.now() + timedelta(minutes=30)
    page = ActivityPageFactory(
        parent=EventIndexPage.objects.get(slug="activities"),
        title="马上开始的活动",
        start=soon,
        end=soon + timedelta(hours=1),
        registration_required=True,
        capacity=5,
    )
    occurrence = Occurrence.objects.get(page_id=page.pk)
    sign_up(page, occurrence.pk, name="王秀兰", phone="13800001234", party_size=2)
    html = client.get("/").content.decode()
    card = html.split("马上开始的活动")[1].split("</li>")[0]
    assert "余 3 个名额" in card
