"""Two more routes of a resident's result page (``<page>/r/<token>/…``, routed
by ``EventPage``), kept out of ``events/views.py``:

- ``sms/`` (POST, CSRF-checked): 不再接收短信 — withdraws the sign-up's SMS
  consent (``registration.withdraw_sms_consent``) and goes back to the result
  page, which then says so;
- ``calendar.ics``: the sign-up's own calendar file (``events/ical_signup.py``).
"""

from django.http import HttpResponseNotAllowed, HttpResponseRedirect

from .ical_signup import signup_calendar_response
from .registration import withdraw_sms_consent
from .views import get_registration, personal, result_url


def stop_sms(page, request, token):
    registration = get_registration(page, token)
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    withdraw_sms_consent(registration.pk)
    return personal(
        HttpResponseRedirect(result_url(page, registration) + "?sms=off", status=303)
    )


def signup_calendar(page, request, token):
    registration = get_registration(page, token)
    url = request.build_absolute_uri(result_url(page, registration))
    return signup_calendar_response(page, registration, request, url)
