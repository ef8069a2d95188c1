"""花园榜样候选 (volunteers/staff/candidates.py): 在册 volunteers ranked by the
hours of a year (or 累计), names masked without the personal-data permission,
community editors ranking only their own communities', Wagtail's XLSX / CSV
export with the same rows, query count constant. Hand-made data in 2011, a year
the demo never reaches."""

import csv
from datetime import date, datetime
from io import BytesIO, StringIO

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from home.models import CommunityPage
from volunteers import bank, roster
from volunteers.models import ServiceRecord, Team, TimeBankAccount

pytestmark = pytest.mark.django_db

YEAR = 2011
URL = "volunteers_candidates:index"
_phones = iter(range(10_000))


def at(*args):
    return timezone.make_aware(datetime(*args))


def user(username):
    return get_user_model().objects.get(username=username)


@pytest.fixture
def jiayuan():
    return CommunityPage.objects.get(slug="jiayuan")


@pytest.fixture
def wuyuan():
    return CommunityPage.objects.get(slug="wuyuan")


def volunteer(name, community, teams=()):
    return roster.add(
        name=name,
        phone=f"1372222{next(_phones):04d}",
        user=user("admin"),
        community=community,
        teams=teams,
        now=at(YEAR - 1, 6, 1),
    )


def serve(person, day, hours):
    bank.record_service(
        person.pk,
        hours=hours,
        day=day,
        description="值守",
        user=user("admin"),
        now=at(YEAR + 1, 1, 2),
    )


@pytest.fixture
def people(jiayuan, wuyuan):
    """2011: 甲院 A 10 h (and 50 h in 2010), B 6 h, C 6 h; 戊院 D 8 h;
    subdistrict-wide E 12 h; 甲院 F who left, 20 h; 甲院 G, only 2010."""
    assert not ServiceRecord.objects.filter(date__year=YEAR).exists()
    team = Team.objects.create(name="测试队", community=jiayuan)
    a = volunteer("甲院甲", jiayuan, [team])
    b = volunteer("甲院乙", jiayuan, [team])
    c = volunteer("甲院丙", jiayuan)
    d = volunteer("戊院丁", wuyuan)
    e = volunteer("街道戊", None)
    f = volunteer("甲院已退", jiayuan)
    g = volunteer("甲院去年", jiayuan)
    for person, hours in ((a, 4), (a, 6), (b, 6), (c, 6), (d, 8), (e, 12), (f, 20)):
        serve(person, date(YEAR, 3, 1 + person.pk % 20), hours)
    serve(a, date(YEAR - 1, 5, 1), 10)
    for n in range(4):
        serve(a, date(YEAR - 1, 6, 1 + n), 10)
    serve(g, date(YEAR - 1, 5, 1), 3)
    roster.leave(f.pk, user=user("admin"), now=at(YEAR, 12, 1))
    return {"a": a, "b": b, "c": c, "d": d, "e": e, "f": f, "g": g, "team": team}


def csv_rows(client, **params) -> list[list[str]]:
    response = client.get(reverse(URL), {**params, "export": "csv"})
    assert response.status_code == 200
    body = b"".join(response.streaming_content).decode("utf-8")
    assert body.startswith("\ufeff")  # Excel reads it as UTF-8
    return list(csv.reader(StringIO(body[1:])))


def test_ranked_by_the_years_hours_for_the_subdistrict_office(client, people):
    client.force_login(user("xuanchuan"))
    rows = csv_rows(client, year=YEAR)
    assert rows[0] == [
        "名次",
        "志愿者编号",
        "姓名",
        "手机号",
        "所属社区",
        "志愿服务队",
        f"{YEAR} 年时长（小时）",
        "累计时长（小时）",
        "星级",
    ]
    ranked = [(r[0], r[2], r[6]) for r in rows[1:]]
    # Ties share a rank; who left and who has no hours this year are not there.
    assert ranked[:3] == [
        ("1", "街道戊", "12.00"),
        ("2", "甲院甲", "10.00"),
        ("3", "戊院丁", "8.00"),
    ]
    assert sorted(ranked[3:]) == [("4", "甲院丙", "6.00"), ("4", "甲院乙", "6.00")]
    a = next(r for r in rows if r[2] == "甲院甲")
    assert a[3] == people["a"].phone and a[4] == "甲院社区" and a[5] == "测试队"
    assert a[7] == "60.00"
    page = client.get(reverse(URL), {"year": YEAR}).content.decode()
    assert "街道戊" in page and "甲院已退" not in page and "甲院去年" not in page


def test_cumulative_ranks_by_total_hours(client, people):
    client.force_login(user("xuanchuan"))
    rows = csv_rows(client, year="all")
    assert rows[0][6] == "累计时长（小时）"
    hours = [float(r[6]) for r in rows[1:]]
    assert hours == sorted(hours, reverse=True)
    best = TimeBankAccount.objects.filter(volunteer__status="active").order_by(
        "-total_hours"
    )[0]
    assert rows[1][1] == best.volunteer.code
    assert "甲院去年" in [r[2] for r in rows]


def test_community_editor_ranks_their_own_masked(client, people):
    client.force_login(user("jiayuan"))
    rows = csv_rows(client, year=YEAR)
    assert "手机号" not in rows[0]
    assert [(r[0], r[2]) for r in rows[1:]] == [
        ("1", "甲**"),
        ("2", "甲**"),
        ("2", "甲**"),
    ]
    page = client.get(reverse(URL), {"year": YEAR}).content.decode()
    assert "甲院甲" not in page and people["d"].code not in page
    assert people["a"].phone not in page


def test_team_filter_does_not_multiply_hours(client, people):
    client.force_login(user("xuanchuan"))
    rows = csv_rows(client, year=YEAR, team=people["team"].pk)
    assert [(r[2], r[6]) for r in rows[1:]] == [("甲院甲", "10.00"), ("甲院乙", "6.00")]


def test_xlsx_export_and_a_bad_year(client, people):
    client.force_login(user("xuanchuan"))
    response = client.get(reverse(URL), {"year": YEAR, "export": "xlsx"})
    content = b"".join(response.streaming_content)
    sheet = load_workbook(BytesIO(content))["花园榜样候选"]
    assert [c.value for c in next(sheet.iter_rows(min_row=2))][:3] == [
        1,
        people["e"].code,
        "街道戊",
    ]
    for raw in ("abc", "1999", "9" * 500, "2011.0"):
        response = client.get(reverse(URL), {"year": raw})
        assert response.status_code == 200
        assert "无效" in response.content.decode()


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


def grow(count, communities, team):
    for n in range(count):
        person = volunteer(f"志愿者{n}", communities[n % 2], [team])
        serve(person, date(YEAR, 1 + n % 12, 1 + n % 28), "2")
        serve(person, date(YEAR, 1 + n % 12, 2 + n % 27), "1.5")


@pytest.mark.parametrize("username", ["xuanchuan", "jiayuan"])
@pytest.mark.parametrize("export", ["", "csv"])
def test_query_count_does_not_grow(client, jiayuan, wuyuan, username, export):
    team = Team.objects.create(name="测试队", community=jiayuan)
    client.force_login(user(username))
    params = {"year": YEAR, "export": export} if export else {"year": YEAR}
    grow(3, [jiayuan, wuyuan], team)
    small = count_queries(client, **params)
    grow(30, [jiayuan, wuyuan], team)
    large = count_queries(client, **params)
    assert small == large, (small, large)
