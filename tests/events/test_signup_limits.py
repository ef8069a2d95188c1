"""Abuse limits on the public forms (events/limits.py): sign-up rate limits per client
address and per phone number, the honeypot field, and the size cap on public POST
bodies. The test settings turn the rate limits off; these tests turn them on.
Across processes: tests/portal/test_limits_across_processes.py."""

from datetime import timedelta
from unittest import mock

import pytest
import redis
import time_machine
from django.core.cache import cache, caches
from django.core.exceptions import ImproperlyConfigured
from django.utils import timezone

from events.models import Occurrence, Registration
from portal.settings.base import limit_rate
from tests.factories import signup_activity, signup_form

pytestmark = pytest.mark.django_db

HOME = "203.0.113.7"
NEIGHBOUR = "203.0.113.8"
TOO_MANY = "提交太频繁，请稍后再试。"


@pytest.fixture
def limits(signup_limits):
    """Limits on, small enough to reach; a clean count for each test."""
    return signup_limits(per_address="3/10m", per_phone="2/10m")


@pytest.fixture
def page(db):
    return signup_activity(title="限流测试活动", capacity=50, max_party_size=2)


def phone(n: int) -> str:
    return f"1390000{n:04d}"


def post(client, page, *, ip=HOME, xff=None, **changes):
    extra = {"REMOTE_ADDR": ip}
    if xff:
        extra["HTTP_X_FORWARDED_FOR"] = xff
    return client.post(page.url + "signup/", signup_form(page, **changes), **extra)


def rows(page) -> int:
    return Registration.objects.filter(page_id=page.pk).count()


def assert_too_many(response, *, window=600):
    assert response.status_code == 429
    assert 1 <= int(response["Retry-After"]) <= window
    html = response.content.decode()
    assert TOO_MANY in html
    # The form again, with what the resident typed.
    typed = response.wsgi_request.POST["phone"]
    assert 'value="王秀兰"' in html and f'value="{typed}"' in html


def test_per_address(client, page, limits):
    for n in range(3):
        assert post(client, page, phone=phone(n)).status_code == 303
    over = post(client, page, phone=phone(3))
    assert_too_many(over)
    assert "分钟后再提交" in over.content.decode()
    assert rows(page) == 3
    assert Occurrence.objects.get(page_id=page.pk).taken == 3
    # A neighbour on another address is not affected.
    assert post(client, page, ip=NEIGHBOUR, phone=phone(4)).status_code == 303


def test_bad_and_bot_posts_count_against_the_address(client, page, limits):
    assert post(client, page, phone="12345").status_code == 400
    assert post(client, page, website="http://spam.example").status_code == 400
    assert post(client, page, phone=phone(1)).status_code == 303
    assert_too_many(post(client, page, phone=phone(2)))
    assert rows(page) == 1


def test_per_phone_number_whatever_its_spelling(client, page, limits):
    """Same number from three addresses: two sign-ups made use up its limit (the
    double-submit answer in between is the same sign-up and does not count), the
    third is over the limit. Posts that make no sign-up never count against a
    phone: tests/events/test_signup_identity.py."""
    second_page = signup_activity(capacity=5)
    first = post(client, page, ip="192.0.2.1", phone="138 0000 1234")
    assert first.status_code == 303
    again = post(client, page, ip="192.0.2.2", phone="+86 138-0000-1234")
    assert again.status_code == 303 and again["Location"] == first["Location"]
    assert post(client, second_page, ip="192.0.2.2").status_code == 303
    third_page = signup_activity(capacity=5)
    assert_too_many(post(client, third_page, ip="192.0.2.3", phone="13800001234"))
    assert rows(page) == rows(second_page) == 1 and rows(third_page) == 0
    # Another number from that address is fine.
    assert post(client, page, ip="192.0.2.3", phone=phone(9)).status_code == 303


def test_the_limits_reopen_after_the_window(client, page, limits):
    with time_machine.travel(timezone.now(), tick=False) as clock:
        for n in range(3):
            post(client, page, phone=phone(n))
        over = post(client, page, phone=phone(3))
        assert_too_many(over)
        clock.shift(timedelta(seconds=int(over["Retry-After"])))
        assert post(client, page, phone=phone(3)).status_code == 303
    assert rows(page) == 4


def test_a_forged_x_forwarded_for_does_not_dodge_the_limit(client, page, limits):
    for n in range(3):
        post(client, page, phone=phone(n), xff=f"192.0.2.{n}")
    assert_too_many(post(client, page, phone=phone(3), xff="192.0.2.99"))


def test_behind_a_proxy_each_resident_counts_on_their_own(client, page, limits):
    limits.TRUSTED_PROXY_COUNT = 1
    for n in range(3):
        response = post(client, page, ip="10.0.0.2", xff=HOME, phone=phone(n))
        assert response.status_code == 303
    assert_too_many(post(client, page, ip="10.0.0.2", xff=HOME, phone=phone(3)))
    # The resident behind the same proxy on another address; a forged entry on
    # the left does not make HOME's count theirs or theirs HOME's.
    neighbour = post(
        client, page, ip="10.0.0.2", xff=f"{HOME}, {NEIGHBOUR}", phone=phone(4)
    )
    assert neighbour.status_code == 303


def test_ipv6_counts_by_the_64_block(client, page, limits):
    for n in range(3):
        post(client, page, ip=f"2001:db8:1:2::{n + 1}", phone=phone(n))
    assert_too_many(post(client, page, ip="2001:db8:1:2:ffff::9", phone=phone(3)))
    assert post(client, page, ip="2001:db8:1:3::1", phone=phone(4)).status_code == 303


def test_default_limits_thirty_per_address_five_per_phone(client, page, settings):
    settings.SIGNUP_LIMITS_ENABLED = True
    cache.clear()
    assert settings.SIGNUP_LIMIT_PER_ADDRESS == "30/10m"
    assert settings.SIGNUP_LIMIT_PER_PHONE == "5/10m"
    for _ in range(29):  # invalid posts are cheap and count the same
        assert post(client, page, phone="1").status_code == 400
    assert post(client, page, phone=phone(1)).status_code == 303  # the 30th
    assert_too_many(post(client, page, phone=phone(2)))
    # Five sign-ups made with one number, from five addresses; the sixth is over.
    pages = [signup_activity(capacity=5) for _ in range(6)]
    for n in range(5):
        assert post(client, pages[n], ip=f"192.0.2.{n}").status_code == 303
    assert_too_many(post(client, pages[5], ip="192.0.2.99"))
    cache.clear()


def test_switched_off(client, page, limits):
    limits.SIGNUP_LIMITS_ENABLED = False
    for n in range(6):
        assert post(client, page, phone=phone(n)).status_code == 303
    limits.SIGNUP_LIMITS_ENABLED = True
    limits.SIGNUP_LIMIT_PER_ADDRESS = None  # "off" for this one only
    for n in range(6, 12):
        assert post(client, page, phone=phone(n)).status_code == 303
    assert rows(page) == 12


def test_a_broken_cache_lets_residents_through(client, page, limits, caplog):
    """The limiter's store failing (Redis gone, or a count that cannot be read)
    must not turn residents away: the sign-up goes through, the failure is logged."""
    down = redis.exceptions.ConnectionError("Redis is down")
    with mock.patch("events.limits.get_usage", side_effect=down):
        for n in range(5):
            assert post(client, page, phone=phone(n)).status_code == 303
    assert "sign-up limit address not counted" in caplog.text
    # incr failing after the first add: django-ratelimit's RATELIMIT_FAIL_OPEN
    with mock.patch.object(caches["default"], "incr", side_effect=ValueError):
        for n in range(5, 10):
            assert post(client, page, phone=phone(n)).status_code == 303
    assert rows(page) == 10


def test_rates_from_the_environment(monkeypatch):
    monkeypatch.setenv("SIGNUP_LIMIT_PER_PHONE", "10/h")
    assert limit_rate("SIGNUP_LIMIT_PER_PHONE", "5/10m") == "10/h"
    monkeypatch.setenv("SIGNUP_LIMIT_PER_PHONE", "off")
    assert limit_rate("SIGNUP_LIMIT_PER_PHONE", "5/10m") is None
    monkeypatch.delenv("SIGNUP_LIMIT_PER_PHONE")
    assert limit_rate("SIGNUP_LIMIT_PER_PHONE", "5/10m") == "5/10m"
    for bad in ("5 per minute", "0/10m", "5/10x", "-1/m"):
        monkeypatch.setenv("SIGNUP_LIMIT_PER_PHONE", bad)
        with pytest.raises(ImproperlyConfigured, match="SIGNUP_LIMIT_PER_PHONE"):
            limit_rate("SIGNUP_LIMIT_PER_PHONE", "5/10m")


# ---------------------------------------------------------------------------
# Honeypot
# ---------------------------------------------------------------------------


def test_the_honeypot_is_hidden_from_people_and_screen_readers(client, page):
    html = client.get(page.url + "signup/").content.decode()
    before, _, after = html.partition('name="website"')
    assert after, "the honeypot field is missing"
    wrapper = before[before.rindex("<p ") :]
    assert 'class="hp"' in wrapper and 'aria-hidden="true"' in wrapper
    field = after[: after.index(">")]
    assert 'tabindex="-1"' in field and 'autocomplete="off"' in field
    css = client.get("/static/css/portal.css")
    stylesheet = b"".join(css.streaming_content).decode()
    rule = stylesheet[stylesheet.index(".hp {") :].split("}", 1)[0]
    assert "left: -10000px" in rule and "overflow: hidden" in rule


def test_a_bot_filling_the_honeypot_gets_a_vague_answer_and_no_row(client, page):
    response = post(client, page, website="http://spam.example")
    assert response.status_code == 400
    html = response.content.decode()
    assert "提交失败，请刷新页面后重试。" in html
    assert rows(page) == 0


# ---------------------------------------------------------------------------
# Body size
# ---------------------------------------------------------------------------


def test_an_oversized_public_post_is_refused_unread(client, page, settings):
    settings.SIGNUP_LIMITS_ENABLED = False
    response = post(client, page, note="备" * 20_000)  # 60 KB as multipart
    assert response.status_code == 413
    assert "提交的内容太多" in response.content.decode()
    assert rows(page) == 0
    # The largest real sign-up (a 200-character note) is far below the cap.
    assert post(client, page, note="备" * 200).status_code == 303


def test_an_oversized_cancel_is_refused_and_changes_nothing(client, page):
    result = post(client, page)
    registration = Registration.objects.get(page_id=page.pk)
    cancel_url = result["Location"] + "cancel/"
    response = client.post(cancel_url, {"erase": "1", "pad": "x" * 40_000})
    assert response.status_code == 413
    registration.refresh_from_db()
    assert registration.is_active and registration.name == "王秀兰"
    assert client.post(cancel_url, {"erase": "1"}).status_code == 303


def test_the_admin_keeps_its_larger_limits(client, settings):
    response = client.post(
        "/admin/login/",
        {"username": "nobody", "password": "x", "pad": "x" * 40_000},
        REMOTE_ADDR="192.0.2.50",
    )
    assert response.status_code == 200  # the login form's own answer, not 413
