"""活动统计 (events/stats.py, events/staff/report.py): the year-end figures on
hand-made data in 2011, a year the demo never reaches (checked), with explicit
dates throughout — sign-ups are taken "before" each session with the service's
``now``, and the report is asked about past years only."""

import re
from datetime import datetime, timedelta
from io import BytesIO
from zipfile import ZipFile

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from events import registration as service
from events import stats
from events.models import EventIndexPage, Occurrence
from events.staff import charts
from home.models import CommunityPage
from tests.factories import (
    ActivityPageFactory,
    FestivalActivityPageFactory,
    LecturePageFactory,
)

pytestmark = pytest.mark.django_db

URL = "events_year_report"
YEAR = 2011
_phones = iter(range(10_000))


def at(*args) -> datetime:
    return timezone.make_aware(datetime(*args))


def user(username):
    return get_user_model().objects.get(username=username)


def activity(factory, community, start, *, capacity=4, **fields):
    # A community's activities sit under its page, the subdistrict's under the
    # 活动日历 (events/placement.py).
    page = factory(
        parent=community or EventIndexPage.objects.get(slug="activities"),
        start=start,
        end=start + timedelta(hours=2),
        registration_required=True,
        capacity=capacity,
        max_party_size=4,
        **fields,
    )
    return page, Occurrence.objects.get(page_id=page.pk)


def sign(page, occurrence, party_size=1):
    return service.sign_up(
        page,
        occurrence.pk,
        name="测试居民",
        phone=f"1370000{next(_phones):04d}",
        party_size=party_size,
        now=occurrence.start - timedelta(days=3),
    ).registration


def check_in(registration):
    service.check_in(
        registration.pk,
        user=user("xuanchuan"),
        now=registration.occurrence.start + timedelta(minutes=5),
    )


@pytest.fixture
def communities():
    return (
        CommunityPage.objects.get(slug="jiayuan"),
        CommunityPage.objects.get(slug="wuyuan"),
    )


@pytest.fixture
def year_data(communities):
    """2011:
    - 甲院 activity, 3 Mar, 4 seats: 2+2 confirmed (one pair checked in), a
      waitlisted pair, a waitlisted single who cancelled;
    - 甲院 lecture, 20 Mar, cancelled (停课) with a confirmed sign-up;
    - 戊院 festival activity, 10 Sep: a party of 3 checked in;
    - subdistrict-wide activity, 31 Dec 23:30 (15:30 UTC): one confirmed;
    - subdistrict-wide activity, 1 Jan 2012 00:30 (still 2011 in UTC): one
      confirmed — 2012's, not 2011's."""
    jiayuan, wuyuan = communities
    assert not Occurrence.objects.filter(start__year__in=[YEAR, YEAR + 1]).exists(), (
        "the demo reaches the test's year: pick another"
    )

    page, occ = activity(ActivityPageFactory, jiayuan, at(YEAR, 3, 3, 9))
    first = sign(page, occ, 2)
    sign(page, occ, 2)
    waiting = sign(page, occ, 2)
    gave_up = sign(page, occ, 1)
    assert waiting.is_waitlisted and gave_up.is_waitlisted
    service.cancel(gave_up.pk, now=occ.start - timedelta(days=1))
    check_in(first)

    page, occ = activity(LecturePageFactory, jiayuan, at(YEAR, 3, 20, 14))
    sign(page, occ, 2)
    Occurrence.objects.filter(pk=occ.pk).update(cancelled=True)

    page, occ = activity(FestivalActivityPageFactory, wuyuan, at(YEAR, 9, 10, 9))
    check_in(sign(page, occ, 3))

    page, occ = activity(ActivityPageFactory, None, at(YEAR, 12, 31, 23, 30))
    sign(page, occ)
    page, occ = activity(ActivityPageFactory, None, at(YEAR + 1, 1, 1, 0, 30))
    sign(page, occ)


def row(rows, label) -> stats.Figures:
    return dict(rows)[label]


def test_figures_on_hand_made_data(year_data):
    figures = stats.year_figures(YEAR)

    jia = row(figures.by_community, "甲院社区")
    assert (jia.sessions, jia.signups, jia.people, jia.checked_in) == (1, 2, 4, 2)
    assert (jia.waitlisted, jia.waitlisted_people) == (1, 2)
    assert jia.attendance == 0.5 and jia.attendance_text == "50.0%"
    wu = row(figures.by_community, "戊院社区")
    assert (wu.sessions, wu.signups, wu.people, wu.checked_in) == (1, 1, 3, 3)
    assert wu.attendance_text == "100.0%"
    assert figures.by_community[0][0] == "全街道"
    whole = row(figures.by_community, "全街道")
    assert (whole.sessions, whole.people, whole.checked_in) == (1, 1, 0)
    # Every community is listed, with nothing where nothing happened.
    others = [f for label, f in figures.by_community if "甲院" not in label]
    assert len(figures.by_community) == 1 + CommunityPage.objects.live().count()
    assert all(f.attendance is None for f in others if not f.people)

    months = dict(figures.by_month)
    assert list(months) == [f"{m}月" for m in range(1, 13)]
    assert months["3月"].sessions == 1  # the cancelled lecture does not count
    assert months["9月"].checked_in == 3
    assert months["12月"].people == 1  # 23:30 local time is December's
    assert months["1月"].sessions == 0

    kinds = dict(figures.by_kind)
    assert list(kinds) == ["社区活动", "先锋讲堂", "节日活动"]
    assert (kinds["社区活动"].sessions, kinds["社区活动"].people) == (2, 5)
    assert kinds["先锋讲堂"] == stats.Figures()
    assert kinds["节日活动"].checked_in == 3

    total = figures.total
    assert (total.sessions, total.signups, total.people) == (3, 4, 8)
    assert (total.checked_in, total.waitlisted, total.waitlisted_people) == (5, 1, 2)
    for table in (figures.by_community, figures.by_month, figures.by_kind):
        summed = stats.Figures()
        for _, f in table:
            summed.add(f)
        assert summed == total


def test_the_next_year_has_the_session_after_midnight(year_data):
    figures = stats.year_figures(YEAR + 1)
    assert figures.total.sessions == 1
    assert dict(figures.by_month)["1月"].people == 1


def test_sessions_not_yet_held_are_not_counted(year_data):
    figures = stats.year_figures(YEAR, now=at(YEAR, 6, 1))
    assert figures.total.sessions == 1 and figures.total.people == 4


def test_years_offered_reach_back_to_the_first_session(year_data):
    years = stats.report_years()
    assert YEAR in years and YEAR + 1 in years
    assert years == sorted(years, reverse=True)
    assert timezone.localdate().year in years


def test_community_scope_limits_every_figure(year_data, communities):
    jiayuan, _ = communities
    figures = stats.year_figures(YEAR, community_ids=[jiayuan.pk])
    assert [label for label, _ in figures.by_community] == ["甲院社区"]
    assert (figures.total.sessions, figures.total.people) == (1, 4)
    assert dict(figures.by_kind)["节日活动"].sessions == 0


@pytest.mark.parametrize(
    "raw, expected, complaint",
    [
        ("2011", 2011, False),
        (" 2011 ", 2011, False),
        ("", 2030, False),
        (None, 2030, False),
        ("abc", 2030, True),
        ("1999", 2030, True),
        ("2101", 2030, True),
        ("2011.0", 2030, True),
        ("-2011", 2030, True),
        ("9" * 5000, 2030, True),
        ("2011\x00", 2030, True),
    ],
)
def test_parse_year(raw, expected, complaint):
    year, problem = stats.parse_year(raw, 2030)
    assert year == expected
    assert bool(problem) is complaint
    if complaint:
        assert "年份" in problem and "2030 年" in problem


def get(client, username, **params):
    client.force_login(user(username))
    return client.get(reverse(URL), params)


def table_rows(html: str, section: int) -> list[list[str]]:
    """The body and footer rows of the report's ``section``-th table as text."""
    table = re.findall(
        r"<table class=\"listing year-report__table\">.*?</table>", html, re.S
    )[section]
    rows = re.findall(r"<tr>(.*?)</tr>", table, re.S)[1:]
    return [
        [cell.strip() for cell in re.findall(r"<td>(.*?)</td>", r, re.S)] for r in rows
    ]


def test_report_page_shows_the_year(client, year_data):
    response = get(client, "xuanchuan", year=YEAR)
    assert response.status_code == 200
    html = response.content.decode()
    rows = {r[0]: r[1:] for r in table_rows(html, 0)}
    assert rows["甲院社区"] == ["1", "2", "4", "2", "50.0%", "1", "2"]
    assert rows["戊院社区"] == ["1", "1", "3", "3", "100.0%", "0", "0"]
    assert rows["合计"] == ["3", "4", "8", "5", "62.5%", "1", "2"]
    assert '<option value="2011" selected>' in html


def test_charts_are_inline_svg_with_nothing_that_runs_or_loads(client, year_data):
    html = get(client, "xuanchuan", year=YEAR).content.decode()
    assert html.count("<svg") >= 3
    assert "kozea.github.io" not in html and "pygal.org" not in html
    svgs = re.findall(r'<svg[^>]*class="pygal-chart".*?</svg>', html, re.S)
    assert len(svgs) == 3
    svg = "".join(svgs)
    assert "<script" not in svg and "href=" not in svg and "url(" not in svg
    assert "Noto Sans CJK SC" in svg and "甲院社区" in svg and "3月" in svg


def test_chart_labels_are_escaped():
    figures = stats.YearFigures(
        year=YEAR, by_community=[("<b>甲院</b>&", stats.Figures(sessions=1))]
    )
    svg = charts.community_chart(figures)
    assert "<b>" not in svg and "&lt;b&gt;甲院&lt;/b&gt;&amp;" in svg


def test_a_year_without_sessions_says_so_without_charts(client, year_data):
    html = get(client, "xuanchuan", year=2005).content.decode()
    assert "2005 年还没有已举办的活动。" in html and "pygal" not in html
    assert [r[1] for r in table_rows(html, 0)] == ["0"] * len(table_rows(html, 0))


def test_report_page_has_the_admin_csp(client, year_data):
    response = get(client, "xuanchuan", year=YEAR)
    policy = response["Content-Security-Policy"]
    assert "img-src 'self' blob:" in policy or "img-src 'self'" in policy
    assert "kozea" not in policy and "https:" not in policy.replace("https://", "")


def test_bad_year_shows_this_year_with_a_message(client, year_data):
    for bad in ["abc", "0", "99999999999", "２０１１x", "%00"]:
        response = get(client, "xuanchuan", year=bad)
        assert response.status_code == 200
        html = response.content.decode()
        assert "年份「" in html and "无效" in html
        assert response.context["year"] == timezone.localdate().year
    assert get(client, "xuanchuan", year="２０１１").context["year"] == YEAR


def test_export_matches_the_table(client, year_data):
    html = get(client, "xuanchuan", year=YEAR).content.decode()
    response = get(client, "xuanchuan", year=YEAR, export="xlsx")
    assert response.status_code == 200
    assert "attachment" in response["Content-Disposition"]
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    book = load_workbook(BytesIO(response.content))
    # Sections other apps add (report_sections) come between the tables and 说明.
    assert book.sheetnames[:3] == ["按社区", "按月份", "按类型"]
    assert book.sheetnames[-1] == "说明"
    for index, name in enumerate(book.sheetnames[:3]):
        sheet = book[name]
        values = list(sheet.iter_rows(values_only=True))
        assert values[0][1:] == tuple(label for _, label in stats.COLUMNS)
        shown = table_rows(html, index)
        exported = [
            [
                str(cell[0]),
                *[
                    "—"
                    if cell[i] is None
                    else (f"{cell[i] * 100:.1f}%" if i == 5 else str(cell[i]))
                    for i in range(1, 8)
                ],
            ]
            for cell in values[1:]
        ]
        assert exported == shown


def test_export_cells_are_safe(client, year_data, communities):
    jiayuan, _ = communities
    CommunityPage.objects.filter(pk=jiayuan.pk).update(title="=HYPERLINK()\x07甲院")
    response = get(client, "xuanchuan", year=YEAR, export="xlsx")
    sheet = load_workbook(BytesIO(response.content))["按社区"]
    (cell,) = [c for (c,) in sheet.iter_rows(min_row=2, max_col=1) if "甲院" in c.value]
    assert cell.value == "=HYPERLINK()甲院" and cell.data_type == "s"
    with ZipFile(BytesIO(response.content)) as archive:
        assert not any(
            b"<f>" in archive.read(name)
            for name in archive.namelist()
            if name.startswith("xl/worksheets/")
        )


def test_community_editor_sees_only_their_community(client, year_data):
    response = get(client, "jiayuan", year=YEAR)
    assert response.status_code == 200
    html = response.content.decode()
    assert "甲院社区" in html and "戊院" not in html and "全街道" not in html
    rows = {r[0]: r[1:] for r in table_rows(html, 0)}
    assert list(rows) == ["甲院社区", "合计"]
    assert rows["合计"] == ["1", "2", "4", "2", "50.0%", "1", "2"]
    months = {r[0]: r[1:] for r in table_rows(html, 1)}
    assert months["9月"][0] == "0"  # 戊院's festival activity is not theirs
    book = load_workbook(
        BytesIO(get(client, "jiayuan", year=YEAR, export="xlsx").content)
    )
    exported = [r for s in book.worksheets for r in s.iter_rows(values_only=True)]
    assert not any("戊院" in str(cell) for r in exported for cell in r)
    assert [r[0] for r in book["按社区"].iter_rows(min_row=2, values_only=True)] == [
        "甲院社区",
        "合计",
    ]


def test_without_the_view_permission_403(client, year_data):
    staff = get_user_model().objects.create_user("nosignups", password="x")
    staff.user_permissions.add(
        Permission.objects.get(
            content_type__app_label="wagtailadmin", codename="access_admin"
        )
    )
    client.force_login(staff)
    assert reverse(URL) not in client.get(reverse("wagtailadmin_home")).text
    response = client.get(reverse(URL), {"year": YEAR})
    assert response.status_code == 403
    assert "没有查看活动统计的权限" in response.text and "甲院" not in response.text
    assert client.get(reverse(URL), {"export": "xlsx"}).status_code == 403


def test_menu_item_under_reports(client):
    client.force_login(user("xuanchuan"))
    html = client.get(reverse("wagtailadmin_home")).content.decode()
    # The sidebar's menu is JSON in the page (Chinese escaped): look for the URL.
    assert reverse(URL) in html


def build(count: int, communities):
    """``count`` activities in 2011 across two communities, each with three
    sign-ups (confirmed and checked in, confirmed, waitlisted)."""
    jiayuan, wuyuan = communities
    factories = [ActivityPageFactory, LecturePageFactory, FestivalActivityPageFactory]
    for n in range(count):
        page, occ = activity(
            factories[n % 3],
            [jiayuan, wuyuan, None][n % 3],
            at(YEAR, 1 + n % 12, 1 + n % 28, 9) + timedelta(minutes=n),
            capacity=3,
        )
        check_in(sign(page, occ, 2))
        sign(page, occ, 1)
        sign(page, occ, 2)


def count_queries(client, **params) -> int:
    client.get(reverse(URL), params)  # warm the caches (site, menu, permissions)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse(URL), params)
    assert response.status_code == 200
    return len(queries)


@pytest.mark.parametrize("username", ["xuanchuan", "jiayuan"])
@pytest.mark.parametrize("export", ["", "xlsx"])
def test_query_count_does_not_grow_with_the_data(client, communities, username, export):
    params = {"year": YEAR, "export": export} if export else {"year": YEAR}
    client.force_login(user(username))
    build(5, communities)
    small = count_queries(client, **params)
    assert stats.year_figures(YEAR).total.sessions == 5
    build(45, communities)
    large = count_queries(client, **params)
    assert stats.year_figures(YEAR).total.sessions == 50
    assert small == large, (small, large)
    print(f"活动统计 {username} {export or 'html'}: {small} queries at 5 and 50")
