"""签到表: the A4 roster of one session printed from 报名管理 — its content and
masking, the audit entry when it shows full names, community scope, the print
stylesheet and script, and a query count that does not grow with the sign-ups."""

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from wagtail.models import ModelLogEntry

from events import registration as service
from events.models import EventIndexPage, Occurrence
from events.staff import audit
from home.models import CommunityPage
from tests.factories import ActivityPageFactory

pytestmark = pytest.mark.django_db

FULL_PHONE = re.compile(r"(?<!\d)1[3-9]\d{9}(?!\d)")
STATIC = Path(settings.BASE_DIR) / "static"


def user(username):
    return get_user_model().objects.get(username=username)


def roster(occurrence) -> str:
    return reverse("events_registrations:roster", args=[occurrence.pk])


def activity(slug, **fields):
    fields = {"registration_required": True, "capacity": 3, **fields}
    page = ActivityPageFactory(
        parent=EventIndexPage.objects.get(slug="activities"),
        community=CommunityPage.objects.get(slug=slug),
        max_party_size=4,
        **fields,
    )
    return page, Occurrence.objects.get(page_id=page.pk)


_phones = iter(range(10_000))


def sign(page, occurrence, name, party_size=1):
    phone = f"1350000{next(_phones):04d}"
    return service.sign_up(
        page, occurrence.pk, name=name, phone=phone, party_size=party_size
    ).registration


@pytest.fixture
def session():
    """甲院, 3 seats: 王芳 (2) and 李强 (1) confirmed, 张伟 and 赵敏 waitlisted,
    孙丽 cancelled."""
    page, occurrence = activity("jiayuan", title="甲院剪纸课", venue="甲院活动室")
    people = {
        "wang": sign(page, occurrence, "王芳", 2),
        "li": sign(page, occurrence, "李强"),
        "zhang": sign(page, occurrence, "张伟"),
        "zhao": sign(page, occurrence, "赵敏", 2),
    }
    sun = sign(page, occurrence, "孙丽")
    service.cancel(sun.pk, user=None)
    people["sun"] = sun
    return occurrence, people


def html(response) -> str:
    return response.content.decode()


def section(text, start, end=None) -> str:
    head = text.index(start)
    return text[head : text.index(end, head) if end else None]


def test_roster_content_masked_for_a_community_editor(client, session):
    occurrence, people = session
    client.force_login(user("jiayuan"))
    response = client.get(roster(occurrence))
    assert response.status_code == 200
    text = html(response)
    assert "签到表：甲院剪纸课" in text
    start = occurrence.local_start
    assert f"{start:%Y}年{start.month}月{start.day}日" in text
    assert f"{start:%H:%M}" in text
    assert "甲院活动室" in text and "甲院社区" in text
    assert "已报名</dt><dd>2 份，共 3 人；候补 2 份，3 人" in text

    confirmed = section(text, "已报名（到场后", "候补名单")
    for key in ("wang", "li"):
        registration = people[key]
        assert registration.code in confirmed
        assert registration.masked_name in confirmed
        assert registration.masked_phone in confirmed
    assert confirmed.count('class="roster__box"') == 2
    assert "王芳" not in text and "李强" not in text
    assert not FULL_PHONE.search(text)

    waiting = section(text, "候补名单", "</section>")
    assert people["zhang"].code in waiting and people["zhao"].code in waiting
    assert waiting.index(people["zhang"].code) < waiting.index(people["zhao"].code)
    assert people["zhang"].code not in confirmed
    assert people["sun"].code not in text  # cancelled

    assert not ModelLogEntry.objects.filter(action=audit.VIEW_PERSONAL_DATA).exists()


def test_roster_with_personal_data_shows_full_names_and_is_logged(client, session):
    occurrence, people = session
    client.force_login(user("xuanchuan"))
    text = html(client.get(roster(occurrence)))
    assert "王芳" in text and "李强" in text and "张伟" in text
    assert people["wang"].masked_phone in text
    assert not FULL_PHONE.search(text)  # phones stay masked on paper

    entry = ModelLogEntry.objects.get(action=audit.VIEW_PERSONAL_DATA)
    assert entry.user == user("xuanchuan")
    assert entry.data["roster"] is True
    assert entry.data["occurrence_id"] == occurrence.pk
    assert entry.data["rows"] == 4
    assert "王芳" not in entry.label + str(entry.data)
    assert "查看签到表，显示完整姓名 4 条（甲院剪纸课" in entry.message


def test_checked_in_rows_say_so(client, session):
    occurrence, people = session
    service.check_in(people["li"].pk, user=user("jiayuan"))
    client.force_login(user("jiayuan"))
    text = html(client.get(roster(occurrence)))
    assert "已签 " in section(text, "已报名（到场后", "候补名单")
    assert text.count('class="roster__box"') == 1 + 2  # 王 unticked + 2 waitlisted


def test_another_communitys_roster_is_404(client, session):
    _, other = activity("wuyuan", title="戊院活动")
    client.force_login(user("jiayuan"))
    assert client.get(roster(other)).status_code == 404
    missing = reverse("events_registrations:roster", args=[987654321])
    assert client.get(missing).status_code == 404
    client.force_login(user("xuanchuan"))
    assert client.get(roster(other)).status_code == 200


def test_roster_needs_the_view_permission(client, session, django_user_model):
    occurrence, _ = session
    assert client.get(roster(occurrence)).status_code == 302  # to the login page
    nobody = django_user_model.objects.create_user(username="nobody", password="x")
    client.force_login(nobody)
    assert client.get(roster(occurrence)).status_code in (302, 403)


def test_roster_prints_on_a4_with_a_static_print_script(client, session):
    occurrence, _ = session
    client.force_login(user("jiayuan"))
    text = html(client.get(roster(occurrence)))
    assert "data-roster-print" in text
    scripts = re.findall(r"<script\b[^>]*>", text)
    assert scripts and all("src=" in tag for tag in scripts)  # no inline script
    assert "js/roster-print.js" in text and "css/roster.css" in text
    assert "window.print()" in (STATIC / "js/roster-print.js").read_text()
    css = (STATIC / "css/roster.css").read_text()
    assert re.search(r"@page\s*\{[^}]*size:\s*A4", css)
    assert "@media print" in css
    assert re.search(r"tr,[^{]*\{[^}]*break-inside:\s*avoid", css)
    sizes = [float(size) for size in re.findall(r"font-size:\s*([\d.]+)pt", css)]
    assert sizes and min(sizes) >= 14


def test_listing_links_each_session_to_its_roster(client, session):
    occurrence, _ = session
    client.force_login(user("jiayuan"))
    index = reverse("events_registrations:index")
    text = html(client.get(index, {"occurrence": occurrence.pk}))
    assert text.count(f'href="{roster(occurrence)}"') >= 4 + 1  # rows + button
    assert "打印签到表" in text
    assert "打印签到表" not in html(client.get(index))  # no session chosen


def roster_queries(client, n: int) -> int:
    page, occurrence = activity("jiayuan", capacity=n)
    for i in range(n):
        sign(page, occurrence, f"居民{i}")
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(roster(occurrence))
    assert response.status_code == 200
    assert html(response).count('class="roster__box"') == n
    return len(ctx.captured_queries)


@pytest.mark.parametrize("who", ["jiayuan", "xuanchuan"])
def test_roster_query_count_does_not_grow_with_sign_ups(client, who):
    client.force_login(user(who))
    roster_queries(client, 1)  # warm caches (content types, permissions)
    few = roster_queries(client, 5)
    many = roster_queries(client, 40)
    assert few == many, (few, many)
    print(f"\nroster queries for {who}: {few} (5 sign-ups) / {many} (40)")
