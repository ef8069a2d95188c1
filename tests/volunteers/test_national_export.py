"""全国系统导出 (volunteers/staff/national.py): service records as a UTF-8 CSV with a
BOM for the national volunteer system, with the documented columns, only for
users who may see volunteers' names and phones (others: 403, no menu item),
filtered by service date, audited, query count constant. Hand-made data in 2011,
a year the demo never reaches."""

import csv
from datetime import date, datetime, timedelta
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from wagtail.models import ModelLogEntry

from events.models import Occurrence
from home.models import CommunityPage
from tests.factories import signup_activity
from volunteers import audit, bank, posts, roster
from volunteers.models import VolunteerPost
from volunteers.staff import national

pytestmark = pytest.mark.django_db

YEAR = 2011
URL = "volunteers_national:index"
_phones = iter(range(10_000))


def at(*args):
    return timezone.make_aware(datetime(*args))


def user(username):
    return get_user_model().objects.get(username=username)


@pytest.fixture
def jiayuan():
    return CommunityPage.objects.get(slug="jiayuan")


def volunteer(name, community):
    return roster.add(
        name=name,
        phone=f"1373333{next(_phones):04d}",
        user=user("admin"),
        community=community,
        now=at(YEAR - 1, 6, 1),
    )


def duty(person, day, hours, description="每天民事调解"):
    return bank.record_service(
        person.pk,
        hours=hours,
        day=day,
        description=description,
        user=user("admin"),
        now=at(YEAR + 1, 1, 2),
    )


def served_at_a_post(person, community, start):
    page = signup_activity(
        parent=community,
        title="重阳敬老宴",
        venue="甲院社区老年人日间照料中心",
        organiser="甲院社区居委会",
        start=start,
        end=start + timedelta(hours=2),
        capacity=30,
    )
    occurrence = Occurrence.objects.get(page_id=page.pk)
    post = VolunteerPost.objects.create(occurrence=occurrence, title="引导", capacity=2)
    signup = posts.sign_up(
        post.pk, phone=person.phone, code=person.code, now=start - timedelta(days=3)
    )
    posts.check_in(signup.pk, user=user("admin"), now=start - timedelta(minutes=15))
    return posts.check_out(
        signup.pk, user=user("admin"), now=start + timedelta(hours=2, minutes=15)
    )


@pytest.fixture
def records(jiayuan):
    a = volunteer("张志愿", jiayuan)
    b = volunteer("李志愿", None)
    served_at_a_post(a, jiayuan, at(YEAR, 4, 10, 11))
    duty(b, date(YEAR, 3, 1), "2.5")
    duty(b, date(YEAR, 7, 1), "3")
    duty(a, date(YEAR - 1, 12, 31), "1")
    return a, b


def export(client, **params):
    response = client.get(reverse(URL), {**params, "export": "csv"})
    return response


def rows_of(response) -> list[dict]:
    body = b"".join(response.streaming_content).decode("utf-8")
    assert body.startswith("\ufeff")
    return list(csv.DictReader(StringIO(body[1:])))


def test_columns_and_rows_for_the_national_system(client, records):
    a, b = records
    client.force_login(user("xuanchuan"))
    response = export(client, date_from=f"{YEAR}-01-01", date_to=f"{YEAR}-12-31")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert ".csv" in response["Content-Disposition"]
    rows = rows_of(response)
    assert list(rows[0]) == [label for _, label, _ in national.COLUMNS]
    assert [r["服务日期"] for r in rows] == ["2011-03-01", "2011-04-10", "2011-07-01"]
    post = rows[1]
    assert post["志愿者姓名"] == "张志愿" and post["手机号"] == a.phone
    assert post["志愿者编号"] == a.code
    assert post["证件类型"] == "" and post["证件号码"] == ""
    assert post["服务时长（小时）"] == "2.50"
    assert post["服务项目/活动名称"] == "重阳敬老宴" and post["服务内容"] == "引导"
    assert post["服务地点"] == "甲院社区老年人日间照料中心"
    assert post["服务开始时间"] == "2011-04-10 10:45"
    assert post["服务结束时间"] == "2011-04-10 13:15"
    assert post["记录单位"] == "甲院社区居委会" and post["所属社区"] == "甲院社区"
    assert post["记录方式"] == "活动岗位"
    wide = rows[0]
    assert (
        wide["志愿者姓名"] == "李志愿" and wide["服务项目/活动名称"] == "每天民事调解"
    )
    assert wide["服务开始时间"] == "" and wide["所属社区"] == "全街道"
    assert wide["记录方式"] == "日常服务" and wide["服务时长（小时）"] == "2.50"
    entry = ModelLogEntry.objects.filter(action=audit.EXPORTED).latest("timestamp")
    assert entry.data["rows"] == 3 and "张志愿" not in str(entry.data)


def test_the_page_documents_the_columns_and_offers_only_csv(client, records):
    client.force_login(user("xuanchuan"))
    text = client.get(reverse(URL), {"date_from": f"{YEAR}-01-01"}).content.decode()
    for _, label, source in national.COLUMNS:
        assert label in text and source in text
    assert "导出 CSV（全国系统）" in text and "export=xlsx" not in text
    assert client.get(reverse(URL), {"export": "xlsx"}).status_code == 200  # the page


def test_a_mistyped_date_exports_nothing(client, records):
    client.force_login(user("xuanchuan"))
    before = ModelLogEntry.objects.filter(action=audit.EXPORTED).count()
    for raw in ("garbage", "2011-13-45", "2011-02-30", "9" * 300):
        response = export(client, date_from=raw)
        assert response.status_code == 302
        assert "export=" not in response["Location"]
    assert ModelLogEntry.objects.filter(action=audit.EXPORTED).count() == before


def test_without_personal_data_permission_403_and_no_menu(client, records):
    client.force_login(user("jiayuan"))
    assert client.get(reverse(URL)).status_code == 403
    assert export(client).status_code == 403
    # The sidebar's menu is JSON in the page (Chinese escaped): look for the URL.
    dashboard = client.get(reverse("wagtailadmin_home")).content.decode()
    assert reverse(URL) not in dashboard
    client.force_login(user("xuanchuan"))
    assert reverse(URL) in client.get(reverse("wagtailadmin_home")).content.decode()


def count_queries(client, **params) -> int:
    def get():
        response = client.get(reverse(URL), params)
        if params.get("export"):
            b"".join(response.streaming_content)
        return response

    get()
    with CaptureQueriesContext(connection) as queries:
        assert get().status_code == 200
    return len(queries)


def grow(count, community):
    for n in range(count):
        person = volunteer(f"志愿者{n}", community if n % 2 else None)
        duty(person, date(YEAR, 1 + n % 12, 1 + n % 28), "2")
        if n % 3 == 0:
            served_at_a_post(person, community, at(YEAR, 1 + n % 12, 1 + n % 28, 9))


@pytest.mark.parametrize("export_format", ["", "csv"])
def test_query_count_does_not_grow(client, jiayuan, export_format):
    client.force_login(user("xuanchuan"))
    params = {"date_from": f"{YEAR}-01-01", "date_to": f"{YEAR}-12-31"}
    if export_format:
        params["export"] = export_format
    grow(3, jiayuan)
    small = count_queries(client, **params)
    grow(12, jiayuan)
    large = count_queries(client, **params)
    assert small == large, (small, large)
