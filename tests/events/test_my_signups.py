"""我的报名 (/my/, events/my_views.py and events/my_signups.py): a resident finds
their sign-ups again from any phone with the number and one 报名码, or without
typing in the browser that made or found them (signed cookie); a wrong pair is
answered exactly like an unknown number; lookups are rate-limited per address
and per phone; cancelling goes through the sign-up service (waitlist promoted);
names are masked and nothing is cached."""

import re
from datetime import timedelta

import pytest
from django.core import signing
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from events import my_signups, signup_cookie
from events import registration as service
from events.models import Registration
from tests.factories import RESIDENT_NAME, signup_activity, signup_form

pytestmark = pytest.mark.django_db

MY = "/my/"
PHONE = "13800001234"
OTHER_PHONE = "13900005678"
NEUTRAL = my_signups.NOT_FOUND
HOME_IP = "203.0.113.7"


def start_in(days: float, hour: int = 9):
    """A session start ``days`` from now at ``hour`` o'clock local time."""
    day = timezone.localtime() + timedelta(days=days)
    return day.replace(hour=hour, minute=0, second=0, microsecond=0)


def activity(title="我的报名测试活动", days=5, capacity=20, **fields):
    start = start_in(days)
    return signup_activity(
        title=title,
        start=start,
        end=start + timedelta(hours=2),
        capacity=capacity,
        max_party_size=2,
        **fields,
    )


def sign(page, phone=PHONE, name=RESIDENT_NAME, **fields) -> Registration:
    occurrence = page.occurrences.get().pk
    return service.sign_up(
        page, occurrence, name=name, phone=phone, **fields
    ).registration


def look_up(client, phone=PHONE, code="", ip=HOME_IP):
    return client.post(MY, {"phone": phone, "code": code}, REMOTE_ADDR=ip)


def text(response) -> str:
    return response.content.decode()


def comparable(response) -> str:
    """The page without what differs per request only: the CSRF token."""
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", text(response))


@pytest.fixture
def two_signups():
    """Two coming sign-ups of PHONE, one of another phone, one of PHONE long past."""
    first, second = activity("书法班"), activity("剪纸课", days=9)
    stranger = activity("太极拳")
    old = activity("重阳登高", days=-60)
    return {
        "first": sign(first),
        "second": sign(second, party_size=2),
        "stranger": sign(stranger, phone=OTHER_PHONE, name="李建华"),
        "old": Registration.objects.create(
            page=old,
            occurrence=old.occurrences.get(),
            name=RESIDENT_NAME,
            phone=PHONE,
            status="confirmed",
            code="OLD234",
            token="o" * 43,
        ),
    }


# ---------------------------------------------------------------------------
# Lookup by phone + code
# ---------------------------------------------------------------------------


def test_the_right_pair_lists_all_that_phones_sign_ups(client, two_signups):
    first, second = two_signups["first"], two_signups["second"]
    response = look_up(client, "138 0000 1234", first.code.lower())
    assert response.status_code == 200
    html = text(response)
    for registration in (first, second):
        assert registration.code in html
        assert f"{registration.page.url}r/{registration.token}/" in html
        assert reverse("my_signup_cancel", args=[registration.token]) in html
        assert f"calendar.ics?occurrence={registration.occurrence_id}" in html
    assert "书法班" in html and "剪纸课" in html
    # Not another phone's, not one that ended long ago.
    assert "太极拳" not in html and two_signups["stranger"].code not in html
    assert "重阳登高" not in html and "OLD234" not in html
    # Masked: the name's first character and the phone's ends only.
    assert "王**" in html and "138****1234" in html
    assert RESIDENT_NAME not in html and PHONE not in html


def test_any_code_of_the_phone_will_do_and_recent_ones_are_listed(client, two_signups):
    recent = activity("上周的讲座", days=-7)
    past = sign_past(recent)
    response = look_up(client, PHONE, two_signups["second"].code)
    html = text(response)
    assert response.status_code == 200
    assert "最近 30 天的" in html and "上周的讲座" in html and past.code in html
    # A past sign-up is shown, but has no cancel button.
    assert reverse("my_signup_cancel", args=[past.token]) not in html


def sign_past(page) -> Registration:
    return Registration.objects.create(
        page=page,
        occurrence=page.occurrences.get(),
        name=RESIDENT_NAME,
        phone=PHONE,
        status="confirmed",
        code="PAST23",
        token="p" * 43,
    )


def test_a_wrong_pair_gets_the_same_answer_as_an_unknown_phone(client, two_signups):
    """No enumeration: a number that signed up and one that never did are told
    the same, byte for byte but the CSRF token."""
    stranger_code = two_signups["stranger"].code
    wrong = look_up(Client(), PHONE, stranger_code)  # a real code, another phone's
    unknown = look_up(Client(), "13700009999", stranger_code)
    assert wrong.status_code == unknown.status_code == 404
    assert NEUTRAL in text(wrong)
    same_digits = look_up(Client(), PHONE, "ZZZZ22")
    other_digits = look_up(Client(), "13700009999", "ZZZZ22")
    # The phone typed is shown again in the form: compare with it taken out.
    strip = lambda r, p: comparable(r).replace(f'value="{p}"', "")  # noqa: E731
    assert strip(wrong, PHONE) == strip(unknown, "13700009999")
    assert strip(same_digits, PHONE) == strip(other_digits, "13700009999")
    assert signup_cookie.COOKIE_NAME not in wrong.cookies
    assert two_signups["first"].code not in text(wrong)


@pytest.mark.parametrize(
    ("phone", "code", "message"),
    [
        ("", "ABC234", "请填写正确的 11 位手机号码"),
        ("12345", "ABC234", "请填写正确的 11 位手机号码"),
        ("１３８００００１２３４x", "ABC234", "请填写正确的 11 位手机号码"),
        (PHONE, "", "请填写报名码"),
        (PHONE, "报名码", "请填写报名码"),
        (PHONE, "A" * 400, "请填写报名码"),
        (PHONE, "AB\x00", "请填写报名码"),
        ("138\x000001234", "ABC234", "请填写正确的 11 位手机号码"),
        ("<script>", "' OR 1=1 --", "请填写正确的 11 位手机号码"),
    ],
)
def test_bad_input_gets_a_chinese_message_not_a_500(client, phone, code, message):
    response = look_up(client, phone, code)
    assert response.status_code == 400
    assert message in text(response)
    assert "<script>" not in text(response)


def test_full_width_phone_and_spaced_lower_case_code_are_read(client, two_signups):
    code = two_signups["first"].code.lower()
    spaced = f" {code[:3]}-{code[3:]} "
    response = look_up(client, "１３８ ００００ １２３４", spaced)
    assert response.status_code == 200 and "书法班" in text(response)


def test_missing_fields_and_get_method_variants(client):
    assert client.post(MY, {}).status_code == 400
    assert client.put(MY).status_code == 405
    assert client.get(reverse("my_signups_forget")).status_code == 405


# ---------------------------------------------------------------------------
# The browser remembers
# ---------------------------------------------------------------------------


def test_the_browser_that_signed_up_lists_it_without_typing(client):
    page = activity("书法班")
    response = client.post(
        page.url + "signup/", signup_form(page, phone=PHONE), REMOTE_ADDR=HOME_IP
    )
    assert response.status_code == 303
    registration = Registration.objects.get(page_id=page.pk)
    html = text(client.get(MY))
    assert registration.code in html and "书法班" in html
    assert "不在这部手机上显示" in html
    # Another browser sees only the form.
    other = text(Client().get(MY))
    assert registration.code not in other and "查找我的报名" in other


def test_after_a_lookup_the_browser_lists_them_without_typing(client, two_signups):
    first, second = two_signups["first"], two_signups["second"]
    assert first.code not in text(client.get(MY))
    response = look_up(client, PHONE, first.code)
    cookie = response.cookies[signup_cookie.COOKIE_NAME]
    assert cookie["httponly"] and cookie["samesite"] == "Lax"
    assert PHONE not in cookie.value  # ids only, signed
    html = text(client.get(MY))
    assert first.code in html and second.code in html
    # A sign-up the phone makes later, elsewhere, shows up here too.
    later = sign(activity("新开的课", days=12))
    assert later.code in text(client.get(MY))


def test_a_forged_cookie_lists_nothing(client, two_signups):
    client.cookies[signup_cookie.COOKIE_NAME] = str(two_signups["first"].pk)
    assert two_signups["first"].code not in text(client.get(MY))
    signer = signing.get_cookie_signer(salt=signup_cookie.COOKIE_NAME + "other")
    client.cookies[signup_cookie.COOKIE_NAME] = signer.sign(
        str(two_signups["first"].pk)
    )
    assert two_signups["first"].code not in text(client.get(MY))


def test_forgetting_clears_the_list_on_this_phone_only(client, two_signups):
    look_up(client, PHONE, two_signups["first"].code)
    response = client.post(reverse("my_signups_forget"))
    assert response.status_code == 303
    html = text(client.get(response["Location"]))
    assert "不再记得您的报名" in html
    assert two_signups["first"].code not in html
    assert Registration.objects.get(pk=two_signups["first"].pk).is_active


# ---------------------------------------------------------------------------
# Cancelling from 我的报名
# ---------------------------------------------------------------------------


def test_cancel_from_my_page_promotes_the_waitlist(client):
    page = activity("只有一个名额", capacity=1, waitlist_enabled=True)
    mine = sign(page)
    waiting = sign(page, phone=OTHER_PHONE, name="李建华")
    assert waiting.is_waitlisted
    look_up(client, PHONE, mine.code)
    url = reverse("my_signup_cancel", args=[mine.token])
    confirm = client.get(url)
    assert confirm.status_code == 200
    assert "确定要取消这份报名吗" in text(confirm) and "确认取消" in text(confirm)
    assert confirm["Cache-Control"] == "private, no-store"
    assert Registration.objects.get(pk=mine.pk).is_active  # GET changes nothing
    done = client.post(url)
    assert done.status_code == 303 and done["Location"] == MY + "?done=cancelled"
    mine.refresh_from_db()
    waiting.refresh_from_db()
    assert mine.status == "cancelled" and mine.cancelled_by is None
    assert waiting.is_confirmed and waiting.promoted_at is not None
    html = text(client.get(done["Location"]))
    assert "已取消报名" in html and "已取消" in html
    assert reverse("my_signup_cancel", args=[mine.token]) not in html
    # Again: nothing changes, the page says so.
    again = client.get(url)
    assert "这份报名已经取消了" in text(again)
    assert client.post(url).status_code == 303
    waiting.refresh_from_db()
    assert waiting.is_confirmed


def test_cancel_and_erase_removes_it_from_the_list(client, two_signups):
    first = two_signups["first"]
    look_up(client, PHONE, first.code)
    url = reverse("my_signup_cancel", args=[first.token])
    done = client.post(url, {"erase": "1"})
    assert done["Location"] == MY + "?done=erased"
    first.refresh_from_db()
    assert first.status == "cancelled" and first.is_erased
    html = text(client.get(done["Location"]))
    assert first.code not in html and two_signups["second"].code in html


def test_cancel_needs_csrf(two_signups):
    strict = Client(enforce_csrf_checks=True)
    url = reverse("my_signup_cancel", args=[two_signups["first"].token])
    assert strict.post(url).status_code == 403
    assert Registration.objects.get(pk=two_signups["first"].pk).is_active


@pytest.mark.parametrize("token", ["short", "x" * 43, "../../admin"])
def test_cancel_of_an_unknown_sign_up_is_a_404(client, token, two_signups):
    assert client.get(f"/my/cancel/{token}/").status_code == 404
    assert client.post(f"/my/cancel/{token}/").status_code == 404


# ---------------------------------------------------------------------------
# Personal: never cached, never logged
# ---------------------------------------------------------------------------


def test_every_answer_is_no_store(client, two_signups, settings):
    settings.PAGE_CACHE_SECONDS = 300  # the page cache on, as in production
    first = two_signups["first"]
    answers = [
        Client().get(MY),
        look_up(Client(), PHONE, first.code),
        look_up(Client(), PHONE, "ZZZZ22"),
        look_up(Client(), "1", "2"),
        Client().get(reverse("my_signup_cancel", args=[first.token])),
    ]
    for response in answers:
        assert "no-store" in response["Cache-Control"], response
        assert "private" in response["Cache-Control"]
        assert response["X-Robots-Tag"] == "noindex, nofollow"
        assert response.get("X-Page-Cache") != "HIT"
    # The browser that holds sign-ups is never given a stored copy of /my/.
    look_up(client, PHONE, first.code)
    again = client.get(MY)
    assert again.get("X-Page-Cache") == "PASS" and first.code in text(again)
    assert first.code not in text(Client().get(MY))


def test_the_phone_is_never_logged(client, two_signups, caplog, signup_limits):
    signup_limits(per_address="30/10m", per_phone="5/10m")
    caplog.set_level("DEBUG")
    look_up(client, PHONE, two_signups["first"].code)
    look_up(client, PHONE, "ZZZZ22")
    look_up(client, "138 0000 12", "ZZZZ22")
    assert PHONE not in caplog.text and "0000 12" not in caplog.text


# ---------------------------------------------------------------------------
# Rate limits
# ---------------------------------------------------------------------------


@pytest.fixture
def lookup_limits(signup_limits, settings):
    on = signup_limits(per_address="30/10m", per_phone="5/10m")
    on.MY_SIGNUPS_LIMIT_PER_ADDRESS = "4/10m"
    on.MY_SIGNUPS_LIMIT_PER_PHONE = "2/1h"
    return on


def assert_limited(response):
    assert response.status_code == 429
    assert 1 <= int(response["Retry-After"]) <= 3600
    html = text(response)
    assert "查找太频繁，请稍后再试。" in html and "分钟后再提交" in html
    assert "no-store" in response["Cache-Control"]


def test_per_address(client, two_signups, lookup_limits):
    for n in range(4):
        assert look_up(client, f"1370000{n:04d}", "ZZZZ22").status_code == 404
    over = look_up(client, PHONE, two_signups["first"].code)
    assert_limited(over)
    assert two_signups["first"].token not in text(over) and "书法班" not in text(over)
    # Bad input counts too; another address is not affected.
    assert (
        look_up(client, PHONE, two_signups["first"].code, ip="198.51.100.9").status_code
        == 200
    )


def test_per_phone_counts_failed_lookups_from_any_address(
    client, two_signups, lookup_limits
):
    first = two_signups["first"]
    assert look_up(Client(), PHONE, "ZZZZ22", ip="198.51.100.1").status_code == 404
    assert look_up(Client(), PHONE, "ZZZZ33", ip="198.51.100.2").status_code == 404
    # Used up: even the right code is refused now (else the answer would tell).
    over = look_up(Client(), "+86 138 0000 1234", first.code, ip="198.51.100.3")
    assert_limited(over)
    assert first.token not in text(over) and "书法班" not in text(over)
    # Another number is not affected; an unknown number is limited the same way.
    assert (
        look_up(
            Client(), OTHER_PHONE, two_signups["stranger"].code, ip="198.51.100.4"
        ).status_code
        == 200
    )
    for n in range(2):
        look_up(Client(), "13700009999", "ZZZZ22", ip=f"198.51.100.{10 + n}")
    assert_limited(look_up(Client(), "13700009999", "ZZZZ22", ip="198.51.100.20"))


def test_a_residents_own_lookups_never_use_up_the_phone(
    client, two_signups, lookup_limits
):
    first = two_signups["first"]
    for n in range(3):
        ok = look_up(Client(), PHONE, first.code, ip=f"198.51.100.{n + 1}")
        assert ok.status_code == 200


# ---------------------------------------------------------------------------
# Where 我的报名 is pointed to
# ---------------------------------------------------------------------------


def test_the_main_navigation_links_to_it(client):
    page = activity()
    html = text(client.get(page.url))
    assert '<a href="/my/">我的报名</a>' in html
    assert '<a href="/my/" aria-current="page">我的报名</a>' in text(client.get(MY))


def test_the_already_signed_up_answer_links_to_my_page(client):
    page = activity()
    sign(page)
    response = Client().post(
        page.url + "signup/", signup_form(page, phone=PHONE), REMOTE_ADDR=HOME_IP
    )
    assert response.status_code == 409
    html = text(response)
    assert "请到“我的报名”输入手机号和报名码查看或取消" in html
    assert 'href="/my/"' in html and "去“我的报名”查看或取消" in html
    assert "结果页链接" not in html


def test_the_result_page_mentions_my_page(client):
    page = activity()
    response = client.post(
        page.url + "signup/", signup_form(page, phone=PHONE), REMOTE_ADDR=HOME_IP
    )
    html = text(client.get(response["Location"]))
    registration = Registration.objects.get(page_id=page.pk)
    assert "唯一入口" not in html
    assert "“我的报名”" in html and registration.code in html
    assert 'href="/my/"' in html


# ---------------------------------------------------------------------------
# For elderly residents on phones
# ---------------------------------------------------------------------------


def test_the_form_asks_for_a_numeric_keyboard_and_is_labelled(client):
    html = text(client.get(MY))
    phone_input = re.search(r'<input id="my-phone"[^>]*>', html).group(0)
    assert 'inputmode="numeric"' in phone_input and 'autocomplete="tel"' in phone_input
    assert '<label for="my-phone">报名用的手机号</label>' in html
    assert '<label for="my-code">报名码</label>' in html
    assert 'lang="zh-Hans"' in html


def test_a_broken_cache_lets_lookups_through(client, two_signups, lookup_limits):
    from unittest import mock

    import redis

    down = redis.exceptions.ConnectionError("Redis is down")
    with mock.patch("events.limits.get_usage", side_effect=down):
        for _ in range(6):
            assert look_up(client, PHONE, two_signups["first"].code).status_code == 200
            assert look_up(client, PHONE, "ZZZZ22").status_code == 404


def test_a_form_sent_without_its_csrf_cookie_is_answered_in_chinese(two_signups):
    strict = Client(enforce_csrf_checks=True)
    response = strict.post(MY, {"phone": PHONE, "code": two_signups["first"].code})
    assert response.status_code == 403
    html = text(response)
    assert "页面已过期，请重新提交" in html and "什么都没有改变" in html
    assert "Forbidden" not in html and "CSRF verification failed" not in html


def test_the_queries_do_not_grow_with_the_sign_ups(client):
    """One lookup and one listing cost the same few queries for 2 sign-ups of a
    phone as for 8, of several activity types (pages come in one query per type)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from tests.factories import LecturePageFactory

    def measure():
        code = Registration.objects.filter(phone=PHONE).first().code
        connection.queries_log.clear()  # full (9000) after building pages: no count
        with CaptureQueriesContext(connection) as lookup:
            assert look_up(Client(), PHONE, code).status_code == 200
        browser = Client()
        look_up(browser, PHONE, code)
        with CaptureQueriesContext(connection) as listing:
            assert code in text(browser.get(MY))
        return len(lookup), len(listing)

    for n in range(2):
        sign(activity(f"活动{n}", days=n + 2))
    few = measure()
    for n in range(2, 8):
        if n % 2:
            start = start_in(n + 2)
            page = LecturePageFactory(
                parent=activity().get_parent(),
                registration_required=True,
                capacity=5,
                start=start,
                end=start + timedelta(hours=1),
            )
        else:
            page = activity(f"活动{n}", days=n + 2)
        sign(page)
    assert Registration.objects.filter(phone=PHONE).count() == 8
    many = measure()
    print(f"queries for 2 sign-ups: {few}, for 8 of two types: {many}")
    assert many[0] <= few[0] + 1 and many[1] <= few[1] + 1  # +1: a second page type
