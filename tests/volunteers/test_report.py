"""活动统计 gains 志愿服务时长 by community (volunteers/report.py through events'
hook ``year_report_sections``, events/report_sections.py): on the page and in the
XLSX, scoped like the rest of the report, its query count constant as volunteers
and records grow. Hand-made data in 2011, a year the demo never reaches; every
service is given its ``now``."""

from datetime import date, datetime, timedelta
from decimal import Decimal
from io import BytesIO

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook
from wagtail import hooks

from events.report_sections import HOOK, Section
from home.models import CommunityPage
from volunteers import bank, report, roster
from volunteers.models import ServiceRecord

pytestmark = pytest.mark.django_db

YEAR = 2011
URL = "events_year_report"
_phones = iter(range(10_000))


def at(*args):
    return timezone.make_aware(datetime(*args))


def user(username):
    return get_user_model().objects.get(username=username)


@pytest.fixture
def communities():
    return (
        CommunityPage.objects.get(slug="jiayuan"),
        CommunityPage.objects.get(slug="wuyuan"),
    )


def volunteer(community):
    return roster.add(
        name="测试志愿者",
        phone=f"1371111{next(_phones):04d}",
        user=user("admin"),
        community=community,
        now=at(YEAR - 1, 6, 1),
    )


def serve(person, day, hours, community=None):
    return bank.record_service(
        person.pk,
        hours=hours,
        day=day,
        description="值守",
        user=user("admin"),
        community=community,
        now=at(YEAR + 1, 1, 2),
    )


@pytest.fixture
def year_data(communities):
    """2011: 甲院 — A 2 h + 1.5 h, B 3 h; 戊院 — C 4 h, and A 1 h there;
    subdistrict-wide D 2.5 h; D 5 h on 2010-12-31 and 2012-01-01 (not 2011's)."""
    assert not ServiceRecord.objects.filter(date__year=YEAR).exists()
    jiayuan, wuyuan = communities
    a, b, c, d = (volunteer(x) for x in (jiayuan, jiayuan, wuyuan, None))
    serve(a, date(YEAR, 3, 1), "2")
    serve(a, date(YEAR, 12, 31), "1.5")
    serve(b, date(YEAR, 1, 1), "3")
    serve(c, date(YEAR, 7, 1), "4")
    serve(a, date(YEAR, 7, 2), "1", community=wuyuan)
    serve(d, date(YEAR, 5, 5), "2.5")
    serve(d, date(YEAR - 1, 12, 31), "5")
    serve(d, date(YEAR + 1, 1, 1), "5")


def test_hours_by_community(year_data, communities):
    jiayuan, wuyuan = communities
    section = report.hours_section(YEAR)
    assert section.by_community[jiayuan.pk] == {
        "volunteers": 2,
        "records": 3,
        "hours": Decimal("6.50"),
        "post_hours": Decimal("0.00"),
    }
    assert section.by_community[wuyuan.pk]["volunteers"] == 2
    assert section.by_community[wuyuan.pk]["hours"] == Decimal("5.00")
    assert section.by_community[None]["hours"] == Decimal("2.50")
    # A served in two communities: counted once in the total.
    assert section.total == {
        "volunteers": 4,
        "records": 6,
        "hours": Decimal("14.00"),
        "post_hours": Decimal("0.00"),
    }
    scoped = report.hours_section(YEAR, community_ids=[jiayuan.pk])
    assert list(scoped.by_community) == [jiayuan.pk]
    assert scoped.total["hours"] == Decimal("6.50")


def test_report_page_and_xlsx_show_the_hours(client, year_data, communities):
    client.force_login(user("xuanchuan"))
    text = client.get(reverse(URL), {"year": YEAR}).content.decode()
    assert "志愿服务时长（按社区）" in text
    assert "服务志愿者（人）" in text and "14.00" in text and "6.50" in text
    assert report.DEFINITIONS[0] in text
    response = client.get(reverse(URL), {"year": YEAR, "export": "xlsx"})
    book = load_workbook(BytesIO(response.content))
    sheet = book["志愿服务时长"]
    rows = [[c.value for c in row] for row in sheet.iter_rows()]
    assert rows[0] == ["社区", *[label for _, label in report.COLUMNS]]
    assert rows[1] == ["全街道", 1, 1, 2.5, 0]
    assert ["甲院社区", 2, 3, 6.5, 0] in rows
    assert rows[-1] == ["合计", 4, 6, 14, 0]
    # Every community of the other tables, zero rows included, in their order.
    assert [r[0] for r in rows[1:]] == [
        r[0].value for r in book["按社区"].iter_rows(min_row=2)
    ]
    notes = [r[1].value for r in book["说明"].iter_rows()]
    assert report.DEFINITIONS[1] in notes


def test_community_editor_sees_only_their_community(client, year_data, communities):
    client.force_login(user("jiayuan"))
    response = client.get(reverse(URL), {"year": YEAR, "export": "xlsx"})
    rows = [
        [c.value for c in row]
        for row in load_workbook(BytesIO(response.content))["志愿服务时长"].iter_rows()
    ]
    assert rows[1:] == [["甲院社区", 2, 3, 6.5, 0], ["合计", 2, 3, 6.5, 0]]


def test_another_app_adds_a_section_through_the_hook(client, communities):
    """How any other app joins the report: one more provider."""
    jiayuan, _ = communities

    def wishes(year, *, community_ids=None, now=None):
        return Section(
            title="邻里互助（按社区）",
            sheet="邻里互助",
            columns=[("posted", "发布"), ("done", "已完成")],
            by_community={jiayuan.pk: {"posted": 3, "done": 2}},
            total={"posted": 3, "done": 2},
            definitions=["邻里互助：当年发布的求助。"],
        )

    client.force_login(user("xuanchuan"))
    with hooks.register_temporarily(HOOK, wishes):
        text = client.get(reverse(URL), {"year": YEAR}).content.decode()
        response = client.get(reverse(URL), {"year": YEAR, "export": "xlsx"})
    assert "邻里互助（按社区）" in text and "邻里互助：当年发布的求助。" in text
    rows = [
        [c.value for c in row]
        for row in load_workbook(BytesIO(response.content))["邻里互助"].iter_rows()
    ]
    assert rows[0] == ["社区", "发布", "已完成"]
    assert ["甲院社区", 3, 2] in rows and ["全街道", 0, 0] in rows
    assert rows[-1] == ["合计", 3, 2]


def count_queries(client, **params) -> int:
    client.get(reverse(URL), params)  # warm the caches
    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse(URL), params)
    assert response.status_code == 200
    return len(queries)


def grow(count, communities):
    for n in range(count):
        person = volunteer([*communities, None][n % 3])
        serve(person, date(YEAR, 1 + n % 12, 1 + n % 28), "2")
        serve(person, date(YEAR, 1 + n % 12, 2 + n % 27), "1.25")


@pytest.mark.parametrize("username", ["xuanchuan", "jiayuan"])
@pytest.mark.parametrize("export", ["", "xlsx"])
def test_query_count_does_not_grow_with_volunteers(
    client, communities, username, export
):
    params = {"year": YEAR, "export": export} if export else {"year": YEAR}
    client.force_login(user(username))
    grow(3, communities)
    small = count_queries(client, **params)
    grow(30, communities)
    large = count_queries(client, **params)
    assert report.hours_section(YEAR).total["records"] == 66
    assert small == large, (small, large)


@pytest.fixture
def wish_data(communities):
    """2011: 甲院 three wishes (one claimed by a volunteer, one withdrawn), one
    subdistrict-wide; 戊院 one published on 2010-12-31 (not 2011's)."""
    from volunteers import wishes

    jiayuan, wuyuan = communities
    admin = user("admin")

    def publish(community, when):
        return wishes.publish(
            user=admin,
            community=community,
            now=when,
            title="想要一台收音机",
            recipient_name="张奶奶",
            recipient_label="独居老人",
            due_date=(when + timedelta(days=30)).date(),
        )

    first = publish(jiayuan, at(YEAR, 2, 1, 9))
    publish(jiayuan, at(YEAR, 5, 1, 9))
    gone = publish(jiayuan, at(YEAR, 6, 1, 9))
    publish(None, at(YEAR, 12, 31, 23, 30))
    publish(wuyuan, at(YEAR - 1, 12, 31, 23, 30))
    person = volunteer(jiayuan)
    wishes.claim_by_volunteer(
        first.pk, phone=person.phone, code=person.code, now=at(YEAR, 2, 2, 9)
    )
    wishes.withdraw(gone.pk, user=admin, reason="已由家人解决", now=at(YEAR, 6, 2))


def test_wishes_by_community(client, wish_data, communities):
    jiayuan, wuyuan = communities
    section = report.wishes_section(YEAR)
    assert section.by_community[jiayuan.pk] == {
        "published": 2,
        "open": 1,
        "claimed": 1,
        "fulfilled": 0,
    }
    assert wuyuan.pk not in section.by_community
    assert section.by_community[None]["published"] == 1
    assert section.total["published"] == 3
    client.force_login(user("jiayuan"))
    response = client.get(reverse(URL), {"year": YEAR, "export": "xlsx"})
    rows = [
        [c.value for c in row]
        for row in load_workbook(BytesIO(response.content))["微心愿"].iter_rows()
    ]
    assert rows == [
        ["社区", "发布（个）", "待认领", "已认领", "已完成"],
        ["甲院社区", 2, 1, 1, 0],
        ["合计", 2, 1, 1, 0],
    ]
