"""The resident's side of sign-ups through HTTP: the form on the activity page,
the result page, cancelling, and bad input that must change nothing."""

from unittest import mock

import pytest
from django.utils import timezone

from events.errors import BusyError
from events.models import ActivityPage, EventIndexPage, Occurrence, Registration
from tests.factories import ActivityPageFactory

pytestmark = pytest.mark.django_db

WECHAT_UA = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Mobile/15E148 MicroMessenger/8.0.47(0x18002f2c) "
    "NetType/WIFI Language/zh_CN"
)


@pytest.fixture
def page(db):
    index = EventIndexPage.objects.get(slug="activities")
    return ActivityPageFactory(
        parent=index,
        title="测试报名活动",
        registration_required=True,
        capacity=2,
        max_party_size=2,
        # The form's optional fields are asked (their errors are tested here);
        # an activity that does not ask them: tests/events/test_personal_data.py
        ask_household=True,
        ask_note=True,
    )


def form_data(page, **changes):
    occurrence = Occurrence.objects.get(page_id=page.pk)
    data = {
        "occurrence": str(occurrence.pk),
        "name": "王秀兰",
        "phone": "138 0000 1234",
        "party_size": "1",
        "household": "甲院 3 号楼",
        "note": "",
        "consent": "on",
        "website": "",
    }
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


def post(client, page, **changes):
    return client.post(page.url + "signup/", form_data(page, **changes))


def test_page_shows_seats_and_a_button_to_the_form(client, page):
    response = client.get(page.url)
    html = response.content.decode()
    # No form, so no CSRF cookie: the activity page can be served from the cache.
    assert "<form" not in html and not response.cookies
    assert f'href="{page.url}signup/"' in html and "我要报名" in html
    assert "还有 <strong>2</strong> 个名额" in html
    assert 'type="text/calendar"' in html


def test_sign_up_page_shows_the_form_with_consent_and_privacy_link(client, page):
    response = client.get(page.url + "signup/")
    assert response.status_code == 200
    html = response.content.decode()
    assert 'action="' + page.url + 'signup/"' in html
    assert (
        'name="consent"' in html
        and "checked" not in html.split('name="consent"')[1][:40]
    )
    assert "/privacy/" in html
    assert 'name="robots" content="noindex"' in html


def test_sign_up_then_see_result_then_cancel(client, page):
    response = post(client, page)
    assert response.status_code == 303
    registration = Registration.objects.get(page_id=page.pk)
    assert registration.phone == "13800001234"
    assert response["Location"] == f"{page.url}r/{registration.token}/"

    result = client.get(response["Location"])
    html = result.content.decode()
    assert result.status_code == 200
    assert "已报名" in html and registration.code in html
    assert "<svg" in html  # check-in QR
    assert "138****1234" in html and "13800001234" not in html
    assert f"r/{registration.token}/calendar.ics" in html  # its own .ics
    assert (
        "private" in result["Cache-Control"] and "no-store" in result["Cache-Control"]
    )
    assert "noindex" in result["X-Robots-Tag"]

    qr = client.get(response["Location"] + "qr.svg")
    assert qr.status_code == 200 and qr["Content-Type"] == "image/svg+xml"

    confirm = client.get(response["Location"] + "cancel/")
    assert "确认取消" in confirm.content.decode()
    registration.refresh_from_db()
    assert registration.is_confirmed  # GET changes nothing
    done = client.post(response["Location"] + "cancel/", {"erase": "1"})
    assert done.status_code == 303
    registration.refresh_from_db()
    assert registration.status == "cancelled" and registration.phone == ""
    assert "报名已取消" in client.get(response["Location"]).content.decode()


def test_waitlisted_result_shows_position(client, page):
    post(client, page, phone="13800000001", party_size="2")
    response = post(client, page, phone="13800000002", name="李建华")
    html = client.get(response["Location"]).content.decode()
    assert "候补第 1 位" in html
    assert "<svg" not in html  # no check-in QR while waitlisted


def test_resubmitting_the_form_returns_the_same_result(client, page):
    first = post(client, page)
    again = post(client, page)
    assert again.status_code == 303 and again["Location"] == first["Location"]
    assert Registration.objects.filter(page_id=page.pk).count() == 1


@pytest.mark.parametrize(
    "changes, message",
    [
        ({"phone": "12345"}, "11 位手机号"),
        ({"phone": ""}, "请填写手机号"),
        ({"name": ""}, "请填写姓名"),
        ({"name": "长" * 31}, "姓名最多 30 个字"),
        ({"party_size": "0"}, "人数请在 1 到 2 之间"),
        ({"party_size": "3"}, "人数请在 1 到 2 之间"),
        ({"party_size": "abc"}, "人数请在 1 到 2 之间"),
        ({"consent": None}, "勾选同意"),
        ({"occurrence": "abc"}, "这一场不能报名了"),
        ({"occurrence": "999999"}, "这一场不能报名了"),
        ({"occurrence": None}, "请选择要报名的场次"),
        ({"website": "http://spam.example"}, "提交失败"),
        ({"note": "备" * 201}, "备注最多 200 个字"),
    ],
)
def test_bad_input_gets_a_chinese_message_and_changes_nothing(
    client, page, changes, message
):
    response = post(client, page, **changes)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not Registration.objects.filter(page_id=page.pk).exists()
    assert Occurrence.objects.get(page_id=page.pk).taken == 0


def test_input_is_kept_after_an_error(client, page):
    html = post(client, page, phone="12345").content.decode()
    assert 'value="王秀兰"' in html and 'value="甲院 3 号楼"' in html


def test_garbage_posts_are_4xx(client, page):
    for data in ({}, {"occurrence": ["1", "2"]}, {"name": "x" * 10000}):
        response = client.post(page.url + "signup/", data)
        assert 400 <= response.status_code < 500
    response = client.post(
        page.url + "signup/", b"\x00\xff", content_type="application/octet-stream"
    )
    assert 400 <= response.status_code < 500
    assert not Registration.objects.filter(page_id=page.pk).exists()


def test_activity_without_sign_up_sends_the_form_address_back(client, page):
    page.registration_required = False
    page.save_revision().publish()
    response = client.get(page.url + "signup/")
    assert response.status_code == 302 and response["Location"] == page.url


def test_cancelled_activity_takes_no_sign_ups(client, page):
    page.status, page.status_reason = "cancelled", "天气原因"
    page.save_revision().publish()
    html = client.get(page.url).content.decode()
    assert "活动已取消" in html and "我要报名</a>" not in html
    assert 'name="consent"' not in client.get(page.url + "signup/").content.decode()
    response = post(client, page)
    assert response.status_code == 409
    assert not Registration.objects.filter(page_id=page.pk).exists()


def test_closed_sign_up_says_so(client, page):
    page.registration_closes = timezone.now() - timezone.timedelta(minutes=1)
    page.save_revision().publish()
    html = client.get(page.url).content.decode()
    assert "报名已截止" in html and "我要报名</a>" not in html
    html = client.get(page.url + "signup/").content.decode()
    assert "报名已截止" in html and 'name="consent"' not in html
    assert post(client, page).status_code == 409
    assert not Registration.objects.filter(page_id=page.pk).exists()


def test_full_without_waitlist_is_a_clear_message(client, page):
    page.waitlist_enabled = False
    page.save_revision().publish()
    post(client, page, phone="13800000001", party_size="2")
    response = post(client, page, phone="13800000002")
    assert response.status_code == 409
    assert "名额已满" in response.content.decode()
    assert Registration.objects.filter(page_id=page.pk).count() == 1


def test_same_phone_other_name_is_refused_without_revealing_anything(client, page):
    first = post(client, page)
    response = post(client, page, name="李建华")
    html = response.content.decode()
    assert response.status_code == 409 and "不能再报名这一场" in html
    assert first["Location"] not in html
    # Other browsers: tests/events/test_signup_identity.py


def test_lock_timeout_gives_a_retry_page_with_the_input_kept(client, page):
    with mock.patch("events.views.sign_up", side_effect=BusyError):
        response = post(client, page)
    html = response.content.decode()
    assert response.status_code == 503 and response["Retry-After"]
    assert "请稍等几秒再点一次" in html
    assert 'value="王秀兰"' in html and 'value="138 0000 1234"' in html
    assert not Registration.objects.filter(page_id=page.pk).exists()


@pytest.mark.parametrize("suffix", ["", "cancel/", "qr.svg"])
def test_forged_tokens_are_404(client, page, suffix):
    post(client, page)
    for token in ("x" * 43, "short", "../../admin"):
        response = client.get(f"{page.url}r/{token}/{suffix}")
        assert response.status_code == 404
    response = client.post(f"{page.url}r/{'x' * 43}/cancel/")
    assert response.status_code == 404
    assert Registration.objects.get(page_id=page.pk).is_confirmed


def test_token_of_another_activity_is_404(client, page):
    index = EventIndexPage.objects.get(slug="activities")
    other = ActivityPageFactory(parent=index, registration_required=True)
    location = post(client, page)["Location"]
    token = location.rstrip("/").rsplit("/", 1)[1]
    assert client.get(f"{other.url}r/{token}/").status_code == 404


def test_wechat_gets_a_hint_for_calendar_links(client, page):
    html = client.get(page.url, HTTP_USER_AGENT=WECHAT_UA).content.decode()
    assert "在浏览器打开" in html
    assert "在浏览器打开" not in client.get(page.url).content.decode()
    index_html = client.get("/activities/", HTTP_USER_AGENT=WECHAT_UA).content.decode()
    assert "webcal://" in index_html and "在浏览器打开" in index_html


def test_recurring_activity_offers_its_dates(client):
    page = ActivityPage.objects.get(slug="shuhua-ke")
    html = client.get(page.url).content.decode()
    assert "每周二、周四" in html
    form = client.get(page.url + "signup/").content.decode()
    assert form.count('name="occurrence"') >= 2  # a radio per coming date
    assert "停课日期" in html


def test_recurring_page_says_when_the_first_session_is(client):
    page = ActivityPage.objects.get(slug="shuhua-ke")
    first = timezone.localtime(page.schedule()[0].start)
    html = client.get(page.url).content.decode()
    assert f"{first.year}年{first.month}月{first.day}日起" in html
