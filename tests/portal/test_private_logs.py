"""Logs keep no key to a resident's sign-up and no staff search: a real gunicorn
with portal/gunicorn.conf.py (its ``logger_class``) writes an access log while a
resident signs up and opens their pages and a staff member searches 报名管理; no
result or cancel token, no full phone, no name and no admin query string reaches
the access log or the error log ("Not Found: …"). Plus ``portal.redact`` itself.
"""

import logging
import re
import sys
from urllib.parse import quote, urlencode

import pytest

from portal.redact import RedactingFilter, redact_path, redact_text
from tests.server import (
    DEFAULT_DEMO_PASSWORD,
    GUNICORN_CONF_COMMAND,
    DemoServer,
    http_request,
)

CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
NAME, PHONE = "郭振华", "13712340001"
OPEN_ACTIVITY = """
import json
from events.models import EVENT_MODELS, Occurrence
from events.registration import closed_reason
for model in EVENT_MODELS:
    for page in model.objects.live().filter(registration_required=True, repeat=""):
        open_ = [o for o in Occurrence.objects.filter(page_id=page.pk, cancelled=False)
                 if not closed_reason(page, o)]
        if len(open_) == 1 and (open_[0].capacity or 99) - open_[0].taken >= 3:
            print(json.dumps({"url": page.url, "occurrence": open_[0].pk}))
            raise SystemExit
"""


TOKEN = "qp-YjxdYkWFAiFDq7-XC9vubqlnbwnIk8Y1TJKAzeI8"
RESET = "c3x5yq-9b7f3d1e2a4c6b8d0f1e3a5c7b9d"
SLUG = "a-long-pinyin-slug-of-many-words-here"
ORIGIN = "http://127.0.0.1:8000"


@pytest.mark.parametrize(
    ("address", "logged"),
    [
        (f"/activities/a/r/{TOKEN}/", "/activities/a/r/***/"),
        ("/activities/a/r/abc/cancel/", "/activities/a/r/***/cancel/"),
        ("/activities/a/r/abc/qr.svg", "/activities/a/r/***/qr.svg"),
        ("/activities/a/r/abc/?x=1", "/activities/a/r/***/"),
        ("/admin/registrations/?q=13712340001", "/admin/registrations/"),
        ("/admin/checkin/?code=LS3BJ7", "/admin/checkin/"),
        ("/activities/a/signup/?occurrence=3", "/activities/a/signup/"),
        ("/search/?q=13712340001&page=2", "/search/?q=137****0001&page=2"),
        ("/search/?q=%E9%83%AD", "/search/?q=%E9%83%AD"),
        (f"/news/{SLUG}/", f"/news/{SLUG}/"),
        (
            f"/admin/password_reset/confirm/MQ/{RESET}/",
            "/admin/password_reset/confirm/MQ/***/",
        ),
        (f"{ORIGIN}/admin/pages/search/?q=x", f"{ORIGIN}/admin/pages/search/"),
        ("-", "-"),
    ],
)
def test_addresses_as_logged(address, logged):
    assert redact_path(address) == logged


def test_the_filter_rewrites_messages_and_tracebacks():
    record = logging.LogRecord(
        "django.request",
        logging.WARNING,
        __file__,
        1,
        "Not Found: %s",
        ("/a/r/T/",),
        None,
    )
    try:
        raise ValueError("phone 13712340001 at /admin/x/?q=secret")
    except ValueError:
        record.exc_info = sys.exc_info()
    assert RedactingFilter().filter(record)
    assert record.getMessage() == "Not Found: /a/r/***/"
    assert "137****0001" in record.exc_text and "13712340001" not in record.exc_text
    assert "q=secret" not in record.exc_text
    assert redact_text('"GET /admin/?q=1 HTTP/1.1" 200') == '"GET /admin/ HTTP/1.1" 200'


def test_gunicorn_logs_keep_no_token_search_or_phone(tmp_path):
    access_log = tmp_path / "access.log"
    # The project's gunicorn settings, on the test's (non-production) Django
    # settings: the command line's --env replaces the file's raw_env.
    server = DemoServer(
        tmp_path,
        suffix="logs",
        command=[
            *GUNICORN_CONF_COMMAND,
            "--env",
            "DJANGO_SETTINGS_MODULE=portal.settings.dev",
        ],
        extra_env={
            "GUNICORN_ACCESS_LOG": str(access_log),
            "WEB_CONCURRENCY": "1",
            "GUNICORN_THREADS": "2",
        },
    )
    server.env.pop("REDIS_URL", None)
    requests_made = 0

    def get(path, **kwargs):
        nonlocal requests_made
        requests_made += 1
        return http_request(server, path, **kwargs)

    try:
        server.start(60)
        activity = server.python(OPEN_ACTIVITY)
        # A resident signs up and opens the result, QR and cancel pages.
        signup = activity["url"] + "signup/"
        form = get(signup)
        reply = get(
            signup,
            form={
                "csrfmiddlewaretoken": CSRF.search(form.text).group(1),
                "occurrence": activity["occurrence"],
                "name": NAME,
                "phone": PHONE,
                "party_size": 1,
                "consent": "on",
            },
            cookies={"csrftoken": form.cookie("csrftoken")},
        )
        assert reply.status in (302, 303), reply.text[:500]
        result = reply.headers["Location"]
        token = result.rstrip("/").rsplit("/", 1)[1]
        assert len(token) >= 40
        cancel = result + "cancel/"
        assert get(result, headers={"Referer": "http://x" + signup}).status == 200
        assert (
            get(result + "qr.svg", headers={"Referer": "http://x" + result}).status
            == 200
        )
        assert get(cancel, headers={"Referer": "http://x" + result}).status == 200
        assert get(result + "nothing/").status == 404  # "Not Found: …" logged
        assert get("/search/?" + urlencode({"q": PHONE})).status == 200
        # Staff search 报名管理 for the phone and the name, open the door page.
        login = get("/admin/login/")
        cookies = {"csrftoken": login.cookie("csrftoken")}
        reply = get(
            "/admin/login/",
            form={
                "csrfmiddlewaretoken": CSRF.search(login.text).group(1),
                "username": "admin",
                "password": DEFAULT_DEMO_PASSWORD,
            },
            cookies=cookies,
        )
        assert reply.status == 302
        cookies["sessionid"] = reply.cookie("sessionid")
        code = server.python(
            "import json\nfrom events.models import Registration\n"
            f"print(json.dumps(Registration.objects.get(phone='{PHONE}').code))"
        )
        for path in (
            "/admin/registrations/?" + urlencode({"q": PHONE}),
            "/admin/registrations/?" + urlencode({"q": NAME}),
            "/admin/checkin/?" + urlencode({"code": code}),
        ):
            reply = get(path, cookies=cookies, headers={"Referer": "http://x" + cancel})
            assert reply.status == 200 and PHONE in reply.text  # staff see it
    finally:
        server.stop()

    lines = access_log.read_text().splitlines()
    errors = (tmp_path / "server.log").read_text()
    ours = [line for line in lines if "/robots.txt" not in line]  # readiness polls
    assert len(ours) == requests_made  # every request logged, none lost
    text = "\n".join(lines)
    for secret in (token, PHONE, NAME, quote(NAME), code):
        assert secret not in text
        assert secret not in errors
    assert not [line for line in lines if re.search(r"/admin/[^ ]*\?", line)]
    assert text.count("/r/***/") == 9  # four requests, five referrers
    assert '"GET /search/?q=137****0001 HTTP/1.1" 200' in text
    assert re.search(r'"GET /admin/registrations/ HTTP/1\.1" 200 \d+ "http://x/', text)
    assert "Not Found: " + result.replace(token, "***") + "nothing/" in errors
