"""After a failed submit the resident's forms open on an error summary (role
alert, focusable, autofocus: focus moves there without script) that links to each
field; the sign-up form's sessions sit in a fieldset with a legend, not under a
label tied to nothing (issue 19). The browser side — where focus really lands —
is in tests/e2e/test_elder_mode.py.

A site of its own (host summary.test), activities timed from now."""

import re
from datetime import datetime, time, timedelta

import pytest
from django.utils import timezone
from wagtail.models import Page

from tests.factories import (
    ActivityPageFactory,
    CommunityIndexPageFactory,
    CommunityPageFactory,
    HomePageFactory,
    make_site,
)

pytestmark = pytest.mark.django_db

HOST = "summary.test"


def at(days: int, hour: int) -> datetime:
    day = timezone.localdate() + timedelta(days=days)
    return timezone.make_aware(datetime.combine(day, time(hour)))


@pytest.fixture
def activities(db):
    home = HomePageFactory(parent=Page.get_first_root_node(), slug="summary-home")
    make_site(HOST, home)
    communities = CommunityIndexPageFactory(parent=home)
    community = CommunityPageFactory(parent=communities, slug="c-summary")
    series = ActivityPageFactory(
        parent=community,
        slug="shuhua",
        title="每周书画课",
        start=at(1, 14),
        end=at(1, 16),
        repeat="WEEKLY",
        repeat_weekdays=["TU", "TH"],
        repeat_count=6,
        registration_required=True,
        capacity=20,
    )
    one_off = ActivityPageFactory(
        parent=community,
        slug="yizhen",
        title="健康义诊",
        start=at(5, 9),
        end=at(5, 11),
        registration_required=True,
        capacity=10,
    )
    return series, one_off


def signup_path(page) -> str:
    return page.get_url_parts()[2] + "signup/"


def summary(html: str) -> str:
    match = re.search(r'<div class="error-summary[^"]*"[^>]*>.*?</div>', html, re.S)
    assert match, "no error summary"
    return match.group(0)


def test_sessions_are_a_fieldset_with_a_legend(client, activities):
    series, _ = activities
    html = client.get(signup_path(series), HTTP_HOST=HOST).content.decode()
    fieldset = re.search(r"<fieldset[^>]*>.*?</fieldset>", html, re.S).group(0)
    assert re.search(r"<legend>场次", fieldset)
    assert fieldset.count('type="radio"') == 6
    assert '<label for="">' not in html
    assert "error-summary" not in html  # nothing failed yet


def test_a_failed_sign_up_opens_on_a_summary_linking_to_each_field(client, activities):
    series, _ = activities
    response = client.post(signup_path(series), {"phone": "139-1234"}, HTTP_HOST=HOST)
    html = response.content.decode()
    box = summary(html)
    opening = box.split(">", 1)[0]
    assert 'role="alert"' in opening
    assert 'tabindex="-1"' in opening and "autofocus" in opening
    # First in the form, before any field.
    assert html.index('class="error-summary"') < html.index('name="name"')
    links = dict(re.findall(r'<a href="#([^"]+)">([^<]+)</a>', box))
    assert links["id_occurrence_0"] == "场次：请选择要报名的场次。"
    assert links["id_name"] == "姓名：请填写姓名。"
    assert links["id_phone"].startswith("手机号：")
    assert links["id_consent"].startswith("我已阅读并同意")
    for anchor in links:
        assert f'id="{anchor}"' in html
    # Only the summary is announced: the messages beside the fields are not alerts.
    assert html.count('role="alert"') == 1


def test_a_single_session_forms_summary_has_no_dangling_link(client, activities):
    _, one_off = activities
    html = client.post(signup_path(one_off), {}, HTTP_HOST=HOST).content.decode()
    box = summary(html)
    for anchor in re.findall(r'<a href="#([^"]+)"', box):
        assert f'id="{anchor}"' in html
    assert "<fieldset" not in html


def test_my_signups_lookup_error_is_a_focused_summary(client):
    response = client.post("/my/", {"phone": "123", "code": "K7M2QX"})
    assert response.status_code == 400
    html = response.content.decode()
    box = summary(html)
    assert 'tabindex="-1"' in box and "autofocus" in box and 'role="alert"' in box
    assert '<a href="#my-phone">' in box
    assert 'id="my-phone"' in html


def test_my_signups_not_found_is_a_focused_summary(client):
    response = client.post("/my/", {"phone": "13912345678", "code": "K7M2QX"})
    assert response.status_code == 404
    box = summary(response.content.decode())
    assert "autofocus" in box and 'role="alert"' in box


@pytest.fixture
def sms_lookup(settings):
    """我的报名 by SMS code turned on (notify/views.py); the inputs tested here are
    refused before any message would be sent."""
    settings.SMS_TEMPLATES = {**settings.SMS_TEMPLATES, "login_code": "SMS_1"}
    settings.MY_SIGNUPS_SMS_CODE = True


@pytest.mark.parametrize(
    ("data", "anchor"),
    [
        ({"step": "send", "phone": "123"}, "my-sms-phone"),
        ({"step": "check", "phone": "13912345678", "code": "12"}, "my-sms-code"),
    ],
)
def test_sms_lookup_errors_are_a_focused_summary(client, sms_lookup, data, anchor):
    response = client.post("/my/sms/", data)
    assert response.status_code == 400
    html = response.content.decode()
    box = summary(html)
    assert "autofocus" in box and 'role="alert"' in box
    assert f'<a href="#{anchor}">' in box
    assert f'id="{anchor}"' in html
    assert html.count('role="alert"') == 1
