"""Dates in lists carry their year when it is not this year's: a list read in
December that shows 4月5日 星期一 leaves the resident to work out which April."""

import re
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

import pytest
from django.template import Context, Template
from django.utils import timezone

from events.forms import SignUpForm
from events.models import Occurrence
from events.models.registrations import LocalWhen, day_label
from tests.factories import signup_activity

UTC = ZoneInfo("UTC")


def test_day_label_adds_the_year_only_outside_this_year():
    this_year = timezone.localdate().year
    assert day_label(date(this_year, 4, 5)) == "4月5日"
    assert day_label(date(this_year + 1, 4, 5)) == f"{this_year + 1}年4月5日"
    assert day_label(date(this_year - 1, 12, 31)) == f"{this_year - 1}年12月31日"
    assert day_label(date(2030, 1, 2), this_year=2030) == "1月2日"
    local = datetime(2027, 4, 5, 9, 30, tzinfo=ZoneInfo("Asia/Shanghai"))
    assert LocalWhen.of(local, 2027).date == "4月5日"
    assert LocalWhen.of(local, 2026).date == "2027年4月5日"


def test_the_filter_reads_a_datetime_in_the_local_time_zone():
    this_year = timezone.localdate().year
    # 17:00 UTC on 31 December is 01:00 on 1 January in 上海.
    new_year = datetime(this_year - 1, 12, 31, 17, 0, tzinfo=UTC)
    template = Template("{% load events_tags %}{{ value|day_label }}")
    assert template.render(Context({"value": new_year})) == "1月1日"
    assert template.render(Context({"value": date(this_year + 1, 1, 1)})) == (
        f"{this_year + 1}年1月1日"
    )
    assert template.render(Context({"value": None})) == ""


@pytest.mark.django_db
def test_next_years_activity_reads_with_its_year_and_this_years_without(client):
    this_year = timezone.localdate().year
    days = {"next": date(this_year + 1, 4, 5), "this": date(this_year, 6, 15)}
    for name, day in days.items():
        signup_activity(
            title=f"{name}年活动",
            start=timezone.make_aware(datetime.combine(day, time(9, 0))),
            end=timezone.make_aware(datetime.combine(day, time(11, 0))),
            capacity=20,
        )
    for name, day in days.items():
        weekday = "星期" + "一二三四五六日"[day.weekday()]
        label = f"{day.year}年4月5日" if name == "next" else "6月15日"
        html = client.get(f"/activities/month/?m={day:%Y-%m}").content.decode()
        assert f'<h2 class="day__title">{label} {weekday}</h2>' in html
        card = rf'<time datetime="[^"]+">{label} {weekday} 09:00</time>'
        assert re.search(card, html)
        if name == "this":
            assert f"{this_year}年6月15日" not in html
        # The sign-up form's session choices (radios when there are several).
        occurrence = Occurrence.objects.get(page__title=f"{name}年活动")
        page = occurrence.page.specific
        form = SignUpForm(page=page, occurrences=[occurrence, occurrence])
        [(_, text)] = form.fields["occurrence"].choices[:1]
        assert text == f"{label} {weekday} 09:00（剩余 20 个名额）"
