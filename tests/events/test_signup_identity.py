"""A name and a phone are not a key to someone's sign-up (issue 16, item 4).

Sending the form again with the same phone returns the existing sign-up only to
the browser that made it (the signed cookie of events/signup_cookie.py); any
other browser gets one neutral 409 answer, the same whether the name matches or
not. The per-phone limit counts only sign-ups that were made, so posts with a
resident's phone from elsewhere cannot lock the resident out."""

import re
from datetime import timedelta

import pytest
import time_machine
from django.core import signing
from django.test import Client
from django.utils import timezone

from events import signup_cookie
from events.models import Registration
from tests.factories import RESIDENT_NAME, RESIDENT_PHONE, signup_activity, signup_form

pytestmark = pytest.mark.django_db

NEUTRAL = (
    "这个手机号不能再报名这一场。如果您已经报过名，请到“我的报名”输入手机号和"
    "报名码查看或取消，或联系社区工作人员。"
)
VICTIM, VICTIM_PHONE = RESIDENT_NAME, RESIDENT_PHONE  # whom post() signs up


@pytest.fixture
def page(db):
    return activity()


def activity(**fields):
    return signup_activity(title="身份测试活动", capacity=5, max_party_size=2, **fields)


def post(client, page, ip="203.0.113.7", **changes):
    return client.post(
        page.url + "signup/", signup_form(page, **changes), REMOTE_ADDR=ip
    )


def rows(page) -> int:
    return Registration.objects.filter(page_id=page.pk).count()


def assert_neutral(response, registration):
    html = response.content.decode()
    assert response.status_code == 409
    assert NEUTRAL in html
    assert "Location" not in response
    assert registration.token not in html and registration.code not in html
    assert signup_cookie.COOKIE_NAME not in response.cookies


def test_the_browser_that_signed_up_gets_its_sign_up_back(client, page):
    first = post(client, page)
    registration = Registration.objects.get(page_id=page.pk)
    again = post(client, page, phone="+86 138-0000-1234")
    assert again.status_code == 303 and again["Location"] == first["Location"]
    assert rows(page) == 1
    cookie = first.cookies[signup_cookie.COOKIE_NAME]
    assert cookie["httponly"] and cookie["samesite"] == "Lax"
    assert cookie["max-age"] == 180 * 24 * 3600
    assert not cookie["secure"]  # the test settings' SESSION_COOKIE_SECURE
    # Signed, and no personal data in it.
    assert VICTIM_PHONE.replace(" ", "") not in cookie.value
    assert signup_cookie.held(again.wsgi_request) == [registration.pk]


def test_secure_with_the_session_cookie(client, page, settings):
    settings.SESSION_COOKIE_SECURE = True
    cookie = post(client, page).cookies[signup_cookie.COOKIE_NAME]
    assert cookie["secure"]


def test_another_browser_with_the_name_and_phone_gets_nothing(client, page):
    """Before: a 303 to the victim's result page (code, QR, cancel, erase)."""
    post(client, page)
    registration = Registration.objects.get(page_id=page.pk)
    stranger = Client()
    response = post(stranger, page, ip="198.51.100.66")
    assert_neutral(response, registration)
    assert rows(page) == 1
    registration.refresh_from_db()
    assert registration.is_confirmed and registration.name == VICTIM


def comparable(response) -> str:
    """The answer without what differs by request only: the CSRF token and the
    name the sender typed (kept in the form)."""
    html = response.content.decode()
    html = re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", html)
    return re.sub(r'name="name" value="[^"]*"', "", html)


def test_the_answer_is_the_same_whether_the_name_matches_or_not(client, page):
    """Before: the right name got the sign-up, a wrong one 这个手机号已经报名了这一场
    (telling the sender which name holds that phone)."""
    post(client, page)
    registration = Registration.objects.get(page_id=page.pk)
    right = post(Client(), page, ip="198.51.100.66")
    wrong = post(Client(), page, ip="198.51.100.66", name="李建华")
    assert_neutral(right, registration)
    assert_neutral(wrong, registration)
    assert comparable(right) == comparable(wrong)
    # The holder typing another name is refused the same way (one per phone).
    assert_neutral(post(client, page, name="李建华"), registration)


@pytest.mark.parametrize(
    "forged",
    [
        lambda pk: str(pk),  # not signed
        lambda pk: signing.get_cookie_signer(salt="other").sign(str(pk)),
        lambda pk: (
            signing.get_cookie_signer(
                salt=signup_cookie.COOKIE_NAME + signup_cookie.SALT
            ).sign(str(pk))[:-2]
            + "!!"
        ),
    ],
    ids=["unsigned", "other-salt", "bad-signature"],
)
def test_a_forged_cookie_is_worth_nothing(client, page, forged):
    post(client, page)
    registration = Registration.objects.get(page_id=page.pk)
    stranger = Client()
    stranger.cookies[signup_cookie.COOKIE_NAME] = forged(registration.pk)
    assert_neutral(post(stranger, page, ip="198.51.100.66"), registration)


def test_the_cookie_expires_180_days_after_the_last_sign_up(client, rf):
    start = timezone.now()
    later = start + timedelta(days=200)  # still open after the cookie expired
    page = activity(start=later, end=later + timedelta(hours=2))
    with time_machine.travel(start, tick=False) as clock:
        post(client, page)
        registration = Registration.objects.get(page_id=page.pk)
        request = rf.get("/")
        request.COOKIES = {
            signup_cookie.COOKIE_NAME: client.cookies[signup_cookie.COOKIE_NAME].value
        }
        clock.shift(timedelta(days=179))
        assert signup_cookie.held(request) == [registration.pk]
        clock.shift(timedelta(days=1, seconds=1))
        assert signup_cookie.held(request) == []
        assert_neutral(post(client, page), registration)


def test_the_cookie_keeps_the_last_twenty_sign_ups(client):
    pages = [activity() for _ in range(signup_cookie.MAX_IDS + 1)]
    for page in pages:
        assert post(client, page).status_code == 303
    held = signup_cookie.held(post(client, pages[-1]).wsgi_request)
    assert len(held) == signup_cookie.MAX_IDS
    oldest = Registration.objects.get(page_id=pages[0].pk)
    assert oldest.pk not in held
    assert_neutral(post(client, pages[0]), oldest)
    assert post(client, pages[1]).status_code == 303


# ---------------------------------------------------------------------------
# The per-phone limit counts sign-ups made
# ---------------------------------------------------------------------------


@pytest.fixture
def limits(signup_limits):
    """The production defaults: 30 posts per address, 5 sign-ups per phone."""
    return signup_limits(per_address="30/10m", per_phone="5/10m")


def test_posts_with_a_victims_phone_do_not_lock_the_victim_out(client, page, limits):
    """Before: five invalid posts with the victim's phone from another address
    made the victim's own sign-up answer 429 (for up to 10 minutes)."""
    assert post(client, page).status_code == 303
    attacker = Client()
    for _ in range(5):
        refused = post(attacker, page, ip="198.51.100.66", name="")
        assert refused.status_code == 400
    for _ in range(5):  # and refusals of the sign-up the phone holds
        assert post(attacker, page, ip="198.51.100.66").status_code == 409
    assert post(client, page).status_code == 303  # the victim's own, again
    assert post(client, activity()).status_code == 303  # and a new one
    assert Registration.objects.filter(phone="13800001234").count() == 2


def test_the_phone_limit_counts_sign_ups_made(client, limits):
    pages = [activity() for _ in range(6)]
    for n, page in enumerate(pages[:4]):
        assert post(client, page, ip=f"192.0.2.{n}").status_code == 303
        # The holder's resubmission is the same sign-up and does not count.
        assert post(client, page, ip=f"192.0.2.{n}").status_code == 303
    assert post(client, pages[4], ip="192.0.2.4").status_code == 303  # the 5th
    over = post(client, pages[5], ip="192.0.2.99")
    assert over.status_code == 429 and 1 <= int(over["Retry-After"]) <= 600
    assert "提交太频繁" in over.content.decode()
    assert rows(pages[5]) == 0


def test_an_answer_lost_after_the_commit_gets_the_neutral_answer(client, page):
    """The trade-off (also in tests/events/test_kill_signup.py): the sign-up was
    stored but its answer, and with it the cookie, never reached the browser.
    Pressing 提交 again no longer shows the sign-up; it makes no second one and
    says how to find it."""
    assert post(client, page).status_code == 303
    registration = Registration.objects.get(page_id=page.pk)
    client.cookies.pop(signup_cookie.COOKIE_NAME)  # as if the answer was lost
    assert_neutral(post(client, page), registration)
    assert rows(page) == 1
