"""我的报名 by a one-time SMS code (/my/sms/, notify/views.py and
notify/login_code.py), through the real 阿里云 SDK against the fake provider:
a number with sign-ups gets one code, and the code lists its sign-ups once; any
other number gets the same answer and no message; codes expire, are used up by
wrong tries, are sent again only after a wait; requests are limited per phone
and per address; a provider failure is a Chinese 503; off unless configured."""

import json
import re
from datetime import timedelta

import pytest
import time_machine
from django.test import Client
from django.utils import timezone

from events import my_signups
from events import registration as service
from events.models import Registration
from notify import login_code, views
from tests.factories import RESIDENT_NAME, signup_activity

pytestmark = pytest.mark.django_db

SMS = "/my/sms/"
PHONE = "13800001234"
UNKNOWN = "13900005678"
TEMPLATE = "SMS_100000009"
HOME_IP = "203.0.113.7"


@pytest.fixture
def code_login(sms, settings):
    """The SMS code way turned on, with the fake provider's 验证码 template."""
    settings.SMS_TEMPLATES = {**settings.SMS_TEMPLATES, "login_code": TEMPLATE}
    settings.MY_SIGNUPS_SMS_CODE = True
    return sms


@pytest.fixture
def signed_up():
    start = (timezone.localtime() + timedelta(days=5)).replace(
        hour=9, minute=0, second=0, microsecond=0
    )
    page = signup_activity(
        title="短信查找书法班", start=start, end=start + timedelta(hours=2)
    )
    occurrence = page.occurrences.get().pk
    return service.sign_up(
        page, occurrence, name=RESIDENT_NAME, phone=PHONE
    ).registration


def ask(client, phone=PHONE, ip=HOME_IP):
    return client.post(SMS, {"step": "send", "phone": phone}, REMOTE_ADDR=ip)


def check(client, code, phone=PHONE, ip=HOME_IP):
    return client.post(
        SMS, {"step": "check", "phone": phone, "code": code}, REMOTE_ADDR=ip
    )


def codes(fake) -> list[str]:
    return [m["TemplateParam"]["code"] for m in fake.delivered]


def text(response) -> str:
    return response.content.decode()


def neutral(response, phone) -> str:
    """The page without what differs per request: CSRF token, the phone typed."""
    html = re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", text(response))
    return html.replace(phone, "PHONE")


def test_a_phone_with_sign_ups_gets_one_code_which_lists_them_once(
    client, code_login, signed_up
):
    assert "用短信验证码查找" in text(client.get("/my/"))
    asked = ask(client)
    assert asked.status_code == 200
    assert "验证码短信已经发出" in text(asked) and "no-store" in asked["Cache-Control"]
    [message] = code_login.delivered
    assert message["PhoneNumbers"] == PHONE and message["TemplateCode"] == TEMPLATE
    assert message["SignName"] == "花园路街道"
    [code] = codes(code_login)
    assert re.fullmatch(r"\d{6}", code)

    found = check(client, code)
    assert found.status_code == 200
    assert "短信查找书法班" in text(found) and signed_up.code in text(found)
    # The browser remembers it, as after a lookup by 报名码.
    assert "短信查找书法班" in text(client.get("/my/"))
    # One use only.
    again = check(Client(), code)
    assert again.status_code == 400 and views.WRONG_CODE in text(again)


def test_a_phone_without_sign_ups_gets_the_same_answer_and_no_message(
    client, code_login, signed_up
):
    known = ask(client)
    unknown = ask(Client(), UNKNOWN)
    assert unknown.status_code == known.status_code == 200
    assert neutral(unknown, UNKNOWN) == neutral(known, PHONE)
    assert [m["PhoneNumbers"] for m in code_login.delivered] == [PHONE]
    # No code was made for it: any guess is wrong, like a wrong code.
    guess = check(Client(), "123456", UNKNOWN)
    assert guess.status_code == 400 and views.WRONG_CODE in text(guess)


def test_a_second_code_only_after_the_wait_and_then_the_first_is_void(
    client, code_login, signed_up, settings
):
    settings.MY_SIGNUPS_CODE_RESEND_SECONDS = 60
    now = timezone.now()
    with time_machine.travel(now, tick=False) as clock:
        ask(client)
        clock.shift(30)
        assert ask(client).status_code == 200  # the same neutral answer
        assert len(code_login.delivered) == 1
        clock.shift(31)
        ask(client)
        first, second = codes(code_login)
        if first != second:  # one in a million they are the same
            assert views.WRONG_CODE in text(check(client, first))
        assert check(client, second).status_code == 200


def test_a_code_expires(client, code_login, signed_up, settings):
    settings.MY_SIGNUPS_CODE_SECONDS = 600
    now = timezone.now()
    with time_machine.travel(now, tick=False) as clock:
        ask(client)
        [code] = codes(code_login)
        clock.shift(601)
        late = check(client, code)
        assert late.status_code == 400 and views.WRONG_CODE in text(late)
        assert "短信查找书法班" not in text(late)


def test_wrong_tries_use_the_code_up(client, code_login, signed_up, settings):
    settings.MY_SIGNUPS_CODE_ATTEMPTS = 3
    ask(client)
    [code] = codes(code_login)
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    for _ in range(3):
        assert check(client, wrong).status_code == 400
    assert views.WRONG_CODE in text(check(client, code))


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"step": "send", "phone": "12345"}, "手机号"),
        ({"step": "send"}, "手机号"),
        ({"step": "check", "phone": PHONE, "code": "abc"}, views.BAD_CODE),
        ({"step": "check", "phone": PHONE, "code": "1234567"}, views.BAD_CODE),
        ({"step": "check", "phone": PHONE, "code": "12\x0034"}, views.BAD_CODE),
        ({"step": "check", "phone": "１３８", "code": "123456"}, "手机号"),
    ],
)
def test_bad_input_gets_a_chinese_message(client, code_login, signed_up, data, message):
    response = client.post(SMS, data)
    assert response.status_code == 400 and message in text(response)
    assert code_login.delivered == []
    # The error summary at the top of the form, focused, links to the field.
    summary = re.search(r'<div class="error-summary".*?</div>', text(response), re.S)
    assert summary and "autofocus" in summary.group()
    field = (
        "my-sms-code"
        if data.get("step") == "check" and "手机号" not in message
        else "my-sms-phone"
    )
    assert f'href="#{field}"' in summary.group()
    assert f'id="{field}"' in text(response)


def test_full_width_digits_are_read(client, code_login, signed_up):
    ask(client, "１３８ ００００ １２３４")
    [code] = codes(code_login)
    wide = code.translate(str.maketrans("0123456789", "０１２３４５６７８９"))
    assert check(client, wide).status_code == 200


def test_requests_are_limited_per_phone_from_any_address(
    client, code_login, signed_up, signup_limits, settings
):
    signup_limits(per_address="30/10m", per_phone="5/10m")
    settings.MY_SIGNUPS_CODE_LIMIT_PER_PHONE = "2/1h"
    settings.MY_SIGNUPS_CODE_RESEND_SECONDS = 0
    for n in range(2):
        assert ask(client, ip=f"198.51.100.{n + 1}").status_code == 200
    over = ask(client, ip="198.51.100.9")
    assert over.status_code == 429 and 1 <= int(over["Retry-After"]) <= 3600
    assert "验证码短信要得太频繁" in text(over)
    assert len(code_login.delivered) == 2
    # An unknown number counts the same way (the count must not tell).
    for _ in range(2):
        ask(client, UNKNOWN, ip="198.51.100.20")
    assert ask(client, UNKNOWN, ip="198.51.100.21").status_code == 429


def test_requests_are_limited_per_address(
    client, code_login, signed_up, signup_limits, settings
):
    signup_limits(per_address="30/10m", per_phone="5/10m")
    settings.MY_SIGNUPS_CODE_LIMIT_PER_ADDRESS = "3/1h"
    for n in range(3):
        assert ask(client, f"1370000{n:04d}").status_code == 200
    over = ask(client)
    assert over.status_code == 429 and code_login.delivered == []
    assert ask(client, ip="198.51.100.9").status_code == 200
    assert len(code_login.delivered) == 1


def test_checking_codes_counts_as_lookups(
    client, code_login, signed_up, signup_limits, settings
):
    signup_limits(per_address="30/10m", per_phone="5/10m")
    settings.MY_SIGNUPS_LIMIT_PER_PHONE = "2/1h"
    settings.MY_SIGNUPS_CODE_ATTEMPTS = 10
    ask(client)
    [code] = codes(code_login)
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    for n in range(2):
        assert check(client, wrong, ip=f"198.51.100.{n + 1}").status_code == 400
    # The phone's failed lookups are used up: even the right code waits.
    assert check(client, code, ip="198.51.100.9").status_code == 429


def test_a_provider_failure_is_a_chinese_503_and_no_code_is_kept(
    client, code_login, signed_up
):
    code_login.fail_next(1, status=500)
    failed = ask(client)
    assert failed.status_code == 503 and views.NOT_SENT in text(failed)
    assert failed["Retry-After"] == "60"
    # Nothing arrived, so the resident may ask again at once.
    assert ask(client).status_code == 200
    assert len(code_login.delivered) == 1


def test_off_unless_configured(client, sms, signed_up, settings):
    settings.MY_SIGNUPS_SMS_CODE = False
    assert client.get(SMS).status_code == 404
    assert ask(client).status_code == 404
    assert "用短信验证码查找" not in text(client.get("/my/"))
    assert sms.requests == []


def test_neither_phone_nor_code_is_logged_nor_kept_in_the_cache(
    client, code_login, signed_up, caplog
):
    from django.core.cache import cache

    # What the site logs (root WARNING, notify INFO): urllib3's DEBUG lines,
    # which carry the request's parameters, are not among them.
    caplog.set_level("INFO")
    ask(client)
    [code] = codes(code_login)
    check(client, "000000" if code != "000000" else "111111")
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "138****1234" in logged
    assert PHONE not in logged and code not in logged
    kept = json.dumps({k: str(v) for k, v in cache._cache.items()})
    assert PHONE not in kept and code not in kept


def test_the_service_sends_nothing_for_a_phone_without_sign_ups(code_login):
    assert login_code.send_code(UNKNOWN) is False
    assert code_login.requests == []
    assert not my_signups.listable(UNKNOWN)
    assert not Registration.objects.filter(phone=UNKNOWN).exists()
