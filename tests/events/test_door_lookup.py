"""The door page without a smartphone QR: staff choose the session and type the
last four digits of the phone (and, among several, the name's first character),
then check in with the one big button. Masked without the personal-data
permission, another community's session answered as an unknown one, bad input a
Chinese message (never a 500)."""

import re

import pytest
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.urls import reverse
from wagtail.models import ModelLogEntry

from events import registration as service
from events.models import EventIndexPage, Occurrence, Registration
from events.staff import audit, door
from home.models import CommunityPage
from tests.factories import ActivityPageFactory

pytestmark = pytest.mark.django_db

DOOR = "events_checkin"
FULL_PHONE = re.compile(r"(?<!\d)1[3-9]\d{9}(?!\d)")


def user(username):
    return get_user_model().objects.get(username=username)


def activity(slug, **fields):
    page = ActivityPageFactory(
        parent=EventIndexPage.objects.get(slug="activities"),
        community=CommunityPage.objects.get(slug=slug),
        registration_required=True,
        capacity=20,
        max_party_size=4,
        **fields,
    )
    return page, Occurrence.objects.get(page_id=page.pk)


def sign(page, occurrence, name, phone, party_size=1):
    return service.sign_up(
        page, occurrence.pk, name=name, phone=phone, party_size=party_size
    ).registration


@pytest.fixture(autouse=True)
def fresh_limits():
    cache.clear()  # the lookup limit counts per user id in the default cache
    yield
    cache.clear()


@pytest.fixture
def jiayuan_session():
    """甲院: 王芳 and 李强 share the last four digits 1234; 张伟 is 5678."""
    page, occurrence = activity("jiayuan", title="甲院书画课")
    people = {
        "wang": sign(page, occurrence, "王芳", "13800001234", party_size=2),
        "li": sign(page, occurrence, "李强", "13900001234"),
        "zhang": sign(page, occurrence, "张伟", "13700005678"),
    }
    return occurrence, people


@pytest.fixture
def wuyuan_session():
    page, occurrence = activity("wuyuan", title="戊院邻里节")
    return occurrence, sign(page, occurrence, "赵敏", "13600005678")


def html(response) -> str:
    return response.content.decode()


def find(client, occurrence_id, last4, initial=""):
    params = {"occurrence": occurrence_id, "last4": last4}
    if initial:
        params["initial"] = initial
    return client.get(reverse(DOOR), params)


def reveals():
    return ModelLogEntry.objects.filter(action=audit.VIEW_PERSONAL_DATA)


# ---------------------------------------------------------------------------
# One, several, none
# ---------------------------------------------------------------------------


def test_one_match_shows_the_card_with_the_big_button(client, jiayuan_session):
    occurrence, people = jiayuan_session
    client.force_login(user("jiayuan"))
    response = find(client, occurrence.pk, "5678")
    assert response.status_code == 200
    text = html(response)
    assert people["zhang"].code in text
    assert "张*" in text and "张伟" not in text
    assert "137****5678" in text and not FULL_PHONE.search(text)
    assert "确认签到" in text and 'class="button checkin__confirm"' in text
    # The session stays chosen for the next resident.
    assert f'<option value="{occurrence.pk}" selected>' in text
    assert reveals().count() == 0  # nothing unmasked was shown


def test_several_matches_are_listed_masked_and_the_initial_chooses(
    client, jiayuan_session
):
    occurrence, people = jiayuan_session
    client.force_login(user("jiayuan"))
    response = find(client, occurrence.pk, "1234")
    assert response.status_code == 200
    text = html(response)
    assert "有 2 份报名的手机号后四位是 1234" in text
    assert "王*" in text and "李*" in text
    assert "138****1234" in text and "139****1234" in text
    assert "王芳" not in text and "李强" not in text and not FULL_PHONE.search(text)
    assert "确认签到" not in text  # choose first
    # Each choice leads to its card, the session kept.
    link = reverse(DOOR) + f"?code={people['li'].code}&amp;occurrence={occurrence.pk}"
    assert link in text

    response = find(client, occurrence.pk, "1234", initial="李")
    assert response.status_code == 200
    text = html(response)
    assert people["li"].code in text and people["wang"].code not in text
    assert "确认签到" in text

    # A full name typed: only its first character counts.
    response = find(client, occurrence.pk, "1234", initial=" 王芳 ")
    assert people["wang"].code in html(response)
    assert people["li"].code not in html(response)


def test_an_initial_that_matches_none_lists_them_all_again(client, jiayuan_session):
    occurrence, people = jiayuan_session
    client.force_login(user("jiayuan"))
    response = find(client, occurrence.pk, "1234", initial="周")
    assert response.status_code == 200
    text = html(response)
    assert "没有姓名以「周」开头的报名" in text
    assert "王*" in text and "李*" in text


def test_no_match_is_a_404_with_a_chinese_message(client, jiayuan_session):
    occurrence, _ = jiayuan_session
    client.force_login(user("jiayuan"))
    response = find(client, occurrence.pk, "0000")
    assert response.status_code == 404
    assert "本场次没有手机号后四位为 0000 的报名，请核对。" in html(response)


def test_cancelled_sign_ups_are_not_found(client, jiayuan_session):
    occurrence, people = jiayuan_session
    service.cancel(people["zhang"].pk, user=None)
    client.force_login(user("jiayuan"))
    assert find(client, occurrence.pk, "5678").status_code == 404


# ---------------------------------------------------------------------------
# Community scope
# ---------------------------------------------------------------------------


def test_another_communitys_session_is_answered_as_an_unknown_one(
    client, jiayuan_session, wuyuan_session
):
    other, stranger = wuyuan_session
    client.force_login(user("jiayuan"))
    foreign = find(client, other.pk, "5678")
    missing = find(client, 987654321, "5678")
    assert foreign.status_code == missing.status_code == 404
    problem = re.compile(r'<p class="checkin__problem" role="alert">(.*?)</p>')
    assert problem.findall(html(foreign)) == problem.findall(html(missing))
    assert problem.findall(html(foreign)) == ["没有找到这个场次，请重新选择。"]
    text = html(foreign)
    assert stranger.code not in text and "赵" not in text and "戊院邻里节" not in text
    # Nor is it offered in the session list.
    assert f'value="{other.pk}"' not in html(client.get(reverse(DOOR)))


def test_the_subdistrict_office_finds_every_communitys(client, wuyuan_session):
    other, stranger = wuyuan_session
    client.force_login(user("xuanchuan"))
    response = find(client, other.pk, "5678")
    assert response.status_code == 200
    assert stranger.code in html(response)


# ---------------------------------------------------------------------------
# Personal data
# ---------------------------------------------------------------------------


def test_with_the_permission_full_names_and_phones_are_shown_and_logged(
    client, jiayuan_session
):
    occurrence, people = jiayuan_session
    client.force_login(user("xuanchuan"))
    text = html(find(client, occurrence.pk, "1234"))
    assert "王芳" in text and "13800001234" in text
    assert "李强" in text and "13900001234" in text
    logged = {entry.data["code"] for entry in reveals()}
    assert logged == {people["wang"].code, people["li"].code}
    for entry in reveals():
        assert "王芳" not in entry.label + str(entry.data)
        assert "13800001234" not in entry.label + str(entry.data)


# ---------------------------------------------------------------------------
# Check-in through the lookup
# ---------------------------------------------------------------------------


def test_check_in_after_a_lookup_writes_the_audit_entry(client, jiayuan_session):
    occurrence, people = jiayuan_session
    wang = people["wang"]
    editor = user("jiayuan")
    client.force_login(editor)
    text = html(find(client, occurrence.pk, "1234", initial="王"))
    assert f'name="code" value="{wang.code}"' in text
    assert f'name="occurrence" value="{occurrence.pk}"' in text

    response = client.post(
        reverse(DOOR), {"code": wang.code, "occurrence": occurrence.pk}
    )
    assert response.status_code == 302
    assert (
        response.url == reverse(DOOR) + f"?code={wang.code}&occurrence={occurrence.pk}"
    )
    page = client.get(response.url)
    assert "签到成功：王*，2 人" in html(page)
    assert f'<option value="{occurrence.pk}" selected>' in html(page)

    checked = Registration.objects.get(pk=wang.pk)
    assert checked.checked_in_at is not None and checked.checked_in_by == editor
    entry = ModelLogEntry.objects.get(action=audit.CHECK_IN, object_id=str(wang.pk))
    assert entry.user == editor and entry.data["code"] == wang.code
    # The other 1234 sign-up is untouched.
    assert Registration.objects.get(pk=people["li"].pk).checked_in_at is None


# ---------------------------------------------------------------------------
# Bad input
# ---------------------------------------------------------------------------


def test_full_width_digits_are_read_as_digits(client, jiayuan_session):
    occurrence, people = jiayuan_session
    client.force_login(user("jiayuan"))
    response = find(client, occurrence.pk, "５６７８")
    assert response.status_code == 200
    assert people["zhang"].code in html(response)
    assert people["zhang"].code in html(find(client, occurrence.pk, " 56 78 "))


@pytest.mark.parametrize(
    "last4",
    ["", "123", "12345", "12a4", "abcd", "١٢٣٤", "1234" * 200, "\u200b", "\x00"],
)
def test_bad_last_four_is_a_chinese_message(client, jiayuan_session, last4):
    occurrence, _ = jiayuan_session
    client.force_login(user("jiayuan"))
    response = find(client, occurrence.pk, last4)
    assert response.status_code == 200
    assert door.BAD_LAST4 in html(response)
    checked = Registration.objects.filter(
        occurrence=occurrence, checked_in_at__isnull=False
    )
    assert not checked.exists()


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"last4": "1234", "occurrence": ""}, door.NO_SESSION),
        ({"last4": "1234", "occurrence": "abc"}, door.UNKNOWN_SESSION),
        ({"last4": "1234", "occurrence": "-1"}, door.UNKNOWN_SESSION),
        ({"last4": "1234", "occurrence": "９"}, door.UNKNOWN_SESSION),
        ({"last4": "1234", "occurrence": "9" * 40}, door.UNKNOWN_SESSION),
        ({"last4": "1234", "initial": "？"}, door.BAD_INITIAL),
        ({"last4": "1234", "initial": "12"}, door.BAD_INITIAL),
        ({"last4": "1234", "initial": "\u200b\u200b"}, door.BAD_INITIAL),
    ],
)
def test_bad_session_or_initial_is_a_chinese_message(
    client, jiayuan_session, params, message
):
    occurrence, _ = jiayuan_session
    params = {"occurrence": occurrence.pk, **params}
    client.force_login(user("jiayuan"))
    response = client.get(reverse(DOOR), params)
    assert response.status_code in (200, 404)
    assert message in html(response)


def test_nul_characters_are_dropped_before_the_lookup(client, jiayuan_session):
    """portal/input.py removes NUL from the query string before any view."""
    occurrence, people = jiayuan_session
    client.force_login(user("jiayuan"))
    response = find(client, f"{occurrence.pk}\x00", "56\x0078", initial="\x00")
    assert response.status_code == 200
    assert people["zhang"].code in html(response)


def test_lookups_are_limited_per_user(client, jiayuan_session, settings):
    settings.DOOR_LOOKUP_LIMIT = "3/10m"
    occurrence, _ = jiayuan_session
    client.force_login(user("jiayuan"))
    for _ in range(3):
        assert find(client, occurrence.pk, "5678").status_code == 200
    response = find(client, occurrence.pk, "5678")
    assert response.status_code == 429
    assert "查找太频繁，请稍后再试。" in html(response)
    # Another staff member is not held up.
    client.force_login(user("xuanchuan"))
    assert find(client, occurrence.pk, "5678").status_code == 200


def test_the_lookup_is_staff_only(client, jiayuan_session):
    occurrence, _ = jiayuan_session
    response = find(client, occurrence.pk, "5678")
    assert response.status_code == 302
    assert reverse("wagtailadmin_login") in response.url
