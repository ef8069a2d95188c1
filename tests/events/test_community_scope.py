"""A community editor (demo account ``jiayuan``, 甲院社区宣传员) sees only their
community's sign-ups: in 站点历史 (the audit log, its filters and its export), in
the session filter of 报名管理 and on the door page. The 街道宣传办 (``xuanchuan``)
still sees every community's."""

import csv
import io
import re

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from events import registration as service
from events.models import Occurrence, Registration
from events.staff import audit
from home.models import CommunityPage
from tests.factories import ActivityPageFactory

pytestmark = pytest.mark.django_db

HISTORY = "wagtailadmin_reports:site_history"
INDEX = "events_registrations:index"
_phones = iter(range(10_000))


def user(username):
    return get_user_model().objects.get(username=username)


def activity(community, **fields):
    page = ActivityPageFactory(
        parent=community,
        registration_required=True,
        capacity=5,
        **fields,
    )
    return page, Occurrence.objects.get(page_id=page.pk)


def sign(page, occurrence):
    phone = f"1360000{next(_phones):04d}"
    return service.sign_up(
        page, occurrence.pk, name="测试居民", phone=phone, party_size=1
    ).registration


def body(response) -> str:
    if getattr(response, "streaming", False):
        return b"".join(response.streaming_content).decode("utf-8-sig")
    return response.content.decode()


@pytest.fixture
def communities():
    return (
        CommunityPage.objects.get(slug="jiayuan"),
        CommunityPage.objects.get(slug="wuyuan"),
    )


@pytest.fixture
def signups(communities):
    """One checked-in sign-up in 甲院 and one in 戊院 (each with its log entry)."""
    own_community, other_community = communities
    own = sign(*activity(own_community, title="甲院活动"))
    other = sign(*activity(other_community, title="戊院活动"))
    for registration in (own, other):
        service.check_in(registration.pk, user=user("xuanchuan"))
    return own, other


def export_list(client, username):
    client.force_login(user(username))
    assert client.get(reverse(INDEX), {"export": "csv"}).status_code == 200


def test_site_history_shows_a_community_editor_only_their_communitys_sign_ups(
    client, signups
):
    own, other = signups
    export_list(client, "xuanchuan")  # the whole list, every community's
    export_list(client, "jiayuan")  # their own
    client.force_login(user("jiayuan"))

    report = body(client.get(reverse(HISTORY)))
    assert f"签到：报名码 {own.code}" in report
    assert other.code not in report
    assert report.count("导出报名名单（CSV") == 1

    export = client.get(reverse(HISTORY), {"export": "csv"})
    rows = [" ".join(row) for row in csv.reader(io.StringIO(body(export)))]
    assert any(own.code in row for row in rows)
    # Neither this sign-up nor any of the demo's in other communities.
    foreign = set(
        Registration.objects.exclude(
            occurrence__community=own.occurrence.community
        ).values_list("code", flat=True)
    )
    assert other.code in foreign
    assert [row for row in rows if any(code in row for code in foreign)] == []
    assert len([row for row in rows if "导出报名名单" in row]) == 1

    # Filtering by action finds none of theirs either.
    report = body(client.get(reverse(HISTORY), {"action": audit.CHECK_IN}))
    assert own.code in report and other.code not in report


def test_site_history_of_the_subdistrict_office_shows_every_community(client, signups):
    own, other = signups
    export_list(client, "jiayuan")
    export_list(client, "xuanchuan")
    report = body(client.get(reverse(HISTORY)))
    assert own.code in report and other.code in report
    assert report.count("导出报名名单（CSV") == 2


def test_a_registrations_own_history_still_works_for_its_community(client, signups):
    own, other = signups
    client.force_login(user("jiayuan"))
    response = client.get(reverse("events_registrations:history", args=[own.pk]))
    assert response.status_code == 200
    assert f"签到：报名码 {own.code}" in body(response)
    response = client.get(reverse("events_registrations:history", args=[other.pk]))
    assert response.status_code == 404


def occurrence_options(response) -> list[int]:
    select = re.search(r'<select name="occurrence".*?</select>', body(response), re.S)
    return [int(value) for value in re.findall(r'value="(\d+)"', select.group(0))]


def test_session_filter_lists_only_the_editors_communitys_sessions(
    client, communities, signups
):
    own, other = signups
    own_community, other_community = communities
    # A 先锋讲堂-like activity with a second session in another community.
    page, first = activity(own_community, title="轮流举办的讲堂")
    second = Occurrence.objects.create(
        page=page,
        start=first.start.replace(year=first.start.year + 1),
        kind=first.kind,
        community=other_community,
        capacity=5,
    )
    sign(page, second)
    client.force_login(user("jiayuan"))

    options = occurrence_options(client.get(reverse(INDEX)))
    assert own.occurrence_id in options
    assert other.occurrence_id not in options and second.pk not in options
    options = occurrence_options(client.get(reverse(INDEX), {"page": page.pk}))
    assert options == [first.pk]
    # Asking for another community's activity offers none of its sessions.
    options = occurrence_options(client.get(reverse(INDEX), {"page": other.page_id}))
    assert options == []

    client.force_login(user("xuanchuan"))
    options = occurrence_options(client.get(reverse(INDEX), {"page": page.pk}))
    assert sorted(options) == sorted([first.pk, second.pk])


def test_door_page_answers_another_communitys_code_as_unknown(client, signups):
    own, other = signups
    client.force_login(user("jiayuan"))
    unknown = client.get(reverse("events_checkin"), {"code": "ZZZZZZ"})
    foreign = client.get(reverse("events_checkin"), {"code": other.code})
    assert unknown.status_code == foreign.status_code == 404
    assert f"没有找到报名码 {other.code}，请核对。" in body(foreign)
    assert "其他社区" not in body(foreign)
    # Both pages are the same but for the code typed (and the CSRF token).
    token = re.compile(r'(TOKEN": "|csrfmiddlewaretoken" value=")[^"]+')
    same = [token.sub("", body(r)) for r in (foreign, unknown)]
    assert same[0].replace(other.code, "ZZZZZZ") == same[1]
    response = client.post(reverse("events_checkin"), {"code": other.code})
    assert response.status_code == 404
    assert "其他社区" not in body(response)

    own_page = client.get(reverse("events_checkin"), {"code": own.code})
    assert own_page.status_code == 200
    client.force_login(user("xuanchuan"))
    assert (
        client.get(reverse("events_checkin"), {"code": other.code}).status_code == 200
    )
