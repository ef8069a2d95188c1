"""Never oversold: 50 residents sign up at the same moment for 10 seats, from
threads and from several processes, against a real server (two gunicorn worker
processes with eight threads each, on their own SQLite file or PostgreSQL
database, as CI's DATABASE_URL says). Exactly 10 are confirmed and 40
waitlisted, and no request fails.

The control shows the race is real: the same decision made without the lock lets
far more than 10 requests decide there is a seat, and only the database's check
constraint stops the excess. A held lock gives the resident the retry page with
their input, and nothing is stored."""

import multiprocessing
import sqlite3
import time
import urllib.error
import urllib.parse
import urllib.request

import pytest

from tests.loadclient import CSRF_RE, NoRedirect, process_burst, sign_up_burst
from tests.server import DemoServer

SEATS = 10
RESIDENTS = 50
# The control opens one database connection per resident at once: 25 show the
# race as well as 50 and leave PostgreSQL (100 connections) room for the other
# test worker ("too many clients already" in CI).
CONTROL_RESIDENTS = 25

CREATE_ACTIVITY = """
import json
from events.models import ActivityPage, EventIndexPage, Occurrence
from tests.factories import ActivityPageFactory
index = EventIndexPage.objects.get(slug="activities")
page = ActivityPageFactory(parent=index, title="并发测试活动", slug="{slug}",
    registration_required=True, capacity={seats}, max_party_size=1,
    waitlist_enabled=True)
print(json.dumps({{"path": page.url,
    "occurrence": Occurrence.objects.get(page_id=page.pk).pk}}))
"""

COUNT = """
import json
from django.db.models import Sum
from events.models import Occurrence, Registration
rows = Registration.objects.filter(occurrence_id={occurrence})
confirmed = rows.filter(status="confirmed").aggregate(n=Sum("party_size"))["n"]
print(json.dumps({{
    "confirmed": confirmed or 0,
    "waitlisted": rows.filter(status="waitlisted").count(),
    "rows": rows.count(),
    "phones": rows.values("phone").distinct().count(),
    "taken": Occurrence.objects.get(pk={occurrence}).taken,
    # Places are decided in lock order (= insert order, = id order); the
    # waitlist is read by created_at, so that must be the same order.
    "waitlist_in_lock_order": list(
        rows.filter(status="waitlisted").order_by("created_at", "pk")
        .values_list("pk", flat=True)
    ) == list(rows.filter(status="waitlisted").order_by("pk")
        .values_list("pk", flat=True)),
}}))
"""

CONTROL = """
import json, threading
from django.db import IntegrityError, connection
from events.models import Occurrence
from wagtail.models import Page
from tests.events.unlocked import sign_up_without_lock
occurrence = Occurrence.objects.get(pk={occurrence})
page = Page.objects.get(pk=occurrence.page_id).specific
decided, refused, errors = [], [], []
barrier = threading.Barrier({residents})
def resident(n):
    try:
        barrier.wait()
        outcome = sign_up_without_lock(page, occurrence.pk, pause=0.2,
            name=f"对照{{n}}", phone=f"1370000{{n:04d}}", party_size=1)
        decided.append(outcome)
    except IntegrityError:
        decided.append("confirmed")
        refused.append(n)
    except Exception as error:
        errors.append(repr(error))
    finally:
        connection.close()
threads = [threading.Thread(target=resident, args=(n,)) for n in range({residents})]
[t.start() for t in threads]
[t.join() for t in threads]
print(json.dumps({{"decided_confirmed": decided.count("confirmed"),
    "refused_by_constraint": len(refused), "errors": errors}}))
"""


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    server = DemoServer(
        tmp_path_factory.mktemp("concurrency"), suffix="conc", gunicorn=2
    )
    server.start()
    yield server
    server.stop()


def make_activity(server, slug):
    return server.python(CREATE_ACTIVITY.format(slug=slug, seats=SEATS))


def counts(server, occurrence):
    return server.python(COUNT.format(occurrence=occurrence))


def phones(prefix: str, n: int) -> list[str]:
    return [f"{prefix}{i:04d}" for i in range(n)]


def assert_never_oversold(server, activity, results):
    failures = [r for r in results if r[1] != 303]
    assert len(results) == RESIDENTS
    assert failures == []
    found = counts(server, activity["occurrence"])
    assert found["confirmed"] == SEATS
    assert found["waitlisted"] == RESIDENTS - SEATS
    assert found["taken"] == SEATS
    assert found["rows"] == found["phones"] == RESIDENTS
    assert found["waitlist_in_lock_order"]
    assert "Traceback" not in server.log_text()
    return found


def test_fifty_threads_for_ten_seats(server):
    activity = make_activity(server, "conc-threads")
    started = time.monotonic()
    results = sign_up_burst(
        server.url,
        activity["path"],
        activity["occurrence"],
        phones("1350000", RESIDENTS),
        start_at=time.time() + 2,
    )
    found = assert_never_oversold(server, activity, results)
    print(
        f"threads: {RESIDENTS} attempts, {found} in {time.monotonic() - started:.1f}s"
    )


def test_fifty_sign_ups_from_five_processes(server):
    activity = make_activity(server, "conc-processes")
    numbers = phones("1360000", RESIDENTS)
    start_at = time.time() + 4  # spawning takes a moment
    jobs = [
        (server.url, activity["path"], activity["occurrence"], numbers[i::5], start_at)
        for i in range(5)
    ]
    with multiprocessing.get_context("spawn").Pool(5) as pool:
        results = [r for batch in pool.map(process_burst, jobs) for r in batch]
    found = assert_never_oversold(server, activity, results)
    print(f"processes: 5 x {RESIDENTS // 5} attempts, {found}")


def test_control_without_the_lock_the_race_happens(server):
    """25 residents, the naive read-then-write: many more than 10 decide there
    is a seat; the check constraint refuses every excess one."""
    activity = make_activity(server, "conc-control")
    outcome = server.python(
        CONTROL.format(occurrence=activity["occurrence"], residents=CONTROL_RESIDENTS)
    )
    assert outcome["errors"] == []
    assert outcome["decided_confirmed"] > SEATS  # the race
    assert outcome["refused_by_constraint"] == outcome["decided_confirmed"] - SEATS
    found = counts(server, activity["occurrence"])
    assert found["confirmed"] == found["taken"] == SEATS  # the back-up held
    print(f"control: {outcome}")


def hold_lock(server, occurrence):
    """Hold the lock a sign-up needs, from outside the server."""
    if "DATABASE_URL" in server.env:
        import psycopg

        connection = psycopg.connect(
            server.env["DATABASE_URL"].replace("postgres://", "postgresql://")
        )
        connection.execute(
            "SELECT id FROM events_occurrence WHERE id = %s FOR UPDATE", [occurrence]
        )
        return connection
    connection = sqlite3.connect(server.env["SQLITE_PATH"], isolation_level=None)
    connection.execute("BEGIN IMMEDIATE")
    return connection


def test_held_lock_gives_the_retry_page_and_keeps_the_input(server):
    activity = make_activity(server, "conc-locked")
    opener = urllib.request.build_opener(
        urllib.request.HTTPCookieProcessor(), NoRedirect
    )
    page_url = server.url + activity["path"]
    with opener.open(page_url + "signup/", timeout=30) as response:
        token = CSRF_RE.search(response.read().decode()).group(1)
    form = {
        "csrfmiddlewaretoken": token,
        "occurrence": activity["occurrence"],
        "name": "李建华",
        "phone": "13500009999",
        "party_size": 1,
        "consent": "on",
    }
    request = urllib.request.Request(
        page_url + "signup/",
        data=urllib.parse.urlencode(form).encode(),
        headers={"Referer": page_url},
    )
    lock = hold_lock(server, activity["occurrence"])
    try:
        started = time.monotonic()
        with pytest.raises(urllib.error.HTTPError) as error:
            opener.open(request, timeout=30)
        waited = time.monotonic() - started
    finally:
        lock.rollback() if hasattr(lock, "rollback") else None
        lock.close()
    html = error.value.read().decode()
    assert error.value.code == 503
    assert "请稍等几秒再点一次" in html
    assert 'value="李建华"' in html and 'value="13500009999"' in html
    assert 2 <= waited < 15
    assert counts(server, activity["occurrence"])["rows"] == 0
    # Released: the same form goes through.
    try:
        opener.open(request, timeout=30)
    except urllib.error.HTTPError as redirect:
        assert redirect.code == 303
    assert counts(server, activity["occurrence"])["confirmed"] == 1
