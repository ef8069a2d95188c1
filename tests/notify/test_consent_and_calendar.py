"""The resident's side of messages (issue 18 point 2): a separate, unticked
consent on the sign-up form; 不再接收短信 on the result page (POST, CSRF); and
the sign-up's own ``.ics`` with the 报名码, the result page's address and two
reminders (VALARM one day and two hours before), read back with icalendar."""

import re
from datetime import timedelta

import pytest
from django.test import Client
from icalendar import Calendar

from events import registration as service
from events.models import Registration
from tests.factories import signup_activity, signup_form

pytestmark = pytest.mark.django_db

SMS_BOX = re.compile(r"<input[^>]*name=\"sms_consent\"[^>]*>")


def signed_up(client, page, **changes) -> Registration:
    response = client.post(f"{page.url}signup/", signup_form(page, **changes))
    assert response.status_code == 303, response.content.decode()[:500]
    return Registration.objects.get(token=response["Location"].split("/r/")[1][:-1])


def test_the_form_asks_separately_and_unticked_and_stores_the_answer(client):
    page = signup_activity(capacity=10)
    html = client.get(f"{page.url}signup/").content.decode()
    (box,) = SMS_BOX.findall(html)
    assert 'type="checkbox"' in box and "checked" not in box
    assert "手机号只用于发送这些短信" in html
    assert "活动前一天提醒" in html

    assert signed_up(client, page, sms_consent="on").sms_consent is True
    other = signed_up(Client(), page, phone="13900001111")
    assert other.sms_consent is False


def test_the_result_page_withdraws_the_consent_by_post_with_csrf(client):
    page = signup_activity(capacity=10)
    registration = signed_up(client, page, sms_consent="on")
    result = f"{page.url}r/{registration.token}/"
    html = client.get(result).content.decode()
    assert f'action="{result}sms/"' in html and "不再接收短信" in html

    assert client.get(f"{result}sms/").status_code == 405
    strict = Client(enforce_csrf_checks=True)
    assert strict.post(f"{result}sms/").status_code == 403
    registration.refresh_from_db()
    assert registration.sms_consent is True

    response = client.post(f"{result}sms/")
    assert response.status_code == 303
    assert response["Location"] == f"{result}?sms=off"
    registration.refresh_from_db()
    assert registration.sms_consent is False
    html = client.get(response["Location"]).content.decode()
    assert "已退订" in html and "不再接收短信" not in html


def test_the_sign_ups_calendar_file_has_two_reminders_the_code_and_the_link(client):
    page = signup_activity(capacity=10)
    registration = signed_up(client, page)
    result = f"{page.url}r/{registration.token}/"
    assert f'href="{result}calendar.ics"' in client.get(result).content.decode()

    response = client.get(f"{result}calendar.ics")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/calendar")
    assert response["Cache-Control"] == "private, no-store"
    (event,) = Calendar.from_ical(response.content).walk("VEVENT")
    link = f"http://testserver{result}"
    assert str(event["URL"]) == link
    assert registration.code in event["DESCRIPTION"] and link in event["DESCRIPTION"]
    assert event.decoded("DTSTART") == registration.occurrence.start
    alarms = event.walk("VALARM")
    assert sorted(alarm.decoded("TRIGGER") for alarm in alarms) == [
        -timedelta(days=1),
        -timedelta(hours=2),
    ]
    assert all(alarm["ACTION"] == "DISPLAY" for alarm in alarms)
    assert all(registration.code in alarm["DESCRIPTION"] for alarm in alarms)

    service.cancel(registration.pk)
    (event,) = Calendar.from_ical(client.get(f"{result}calendar.ics").content).walk(
        "VEVENT"
    )
    assert event["STATUS"] == "CANCELLED" and not event.walk("VALARM")


def test_another_token_gets_no_calendar_file(client):
    page = signup_activity(capacity=10)
    signed_up(client, page)
    assert client.get(f"{page.url}r/{'x' * 43}/calendar.ics").status_code == 404
