"""Scale-out: two app servers behind one host name share PostgreSQL and Redis, and
everything that must hold across processes does.

Two separate gunicorn masters (two workers each, production-like settings, page
cache on) serve one fresh PostgreSQL database and one Redis database, as two app
machines behind a load balancer would. Both get the same ``Host`` header, as a
proxy forwards it. It runs when the suite runs on PostgreSQL (the second leg of
``.ci/run``): a SQLite file cannot be shared by two machines, so scaling out is a
PostgreSQL deployment. The servers' database is a copy of the suite's demo
template on the suite's PostgreSQL server; Redis is the local one
(``127.0.0.1:6379``). When Redis is missing it is skipped, except under
``CI=true``, where it fails.

It checks that a page cached by one server is a hit on the other; that publishing
(from a third process, ``manage.py shell``) invalidates the page on both; that a
sign-up through one server changes the seats the other shows while pages without
seats stay cached; that a burst of sign-ups with party sizes 1–3 through both never
oversells and numbers the waitlist 1, 2, 3 …; and that an admin session started on
one server is recognised, and ended, on the other.
"""

import os
import re
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import psycopg
import pytest
import redis

from tests.server import (
    DemoServer,
    Reply,
    http_request,
    is_postgres_url,
    postgres_admin,
)

# The servers' database is <suite database>_scaleout, dropped and made anew at
# the start (dropping costs PostgreSQL a checkpoint, so it is not dropped again at
# the end). Redis database 15 is the benchmark's (bench/run.py); 14 is this test's
# alone. One run at a time per machine, then.
POSTGRES_URL = os.environ.get("DATABASE_URL", "")
pytestmark = pytest.mark.skipif(
    not is_postgres_url(POSTGRES_URL),
    reason="scale-out shares a PostgreSQL database: the PostgreSQL leg runs it",
)
REDIS_URL = "redis://127.0.0.1:6379/14"
HOST = "portal.example"  # what the load balancer forwards to either server
ADMIN_PASSWORD = "scale-out-密码"

CSRF_RE = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
SEATS_RE = re.compile(r"还有 <strong>(\d+)</strong> 个名额")
POSITION_RE = re.compile(r"候补第 (\d+) 位")


def unavailable(reason: str):
    """CI must not pass by skipping what it was meant to prove."""
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason} (CI=true: the scale-out test may not be skipped)")
    pytest.skip(reason)


def local_redis() -> redis.Redis:
    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2)
    try:
        client.ping()
    except redis.RedisError as error:
        unavailable(f"Redis is not reachable at {REDIS_URL}: {error}")
    return client


def check_postgres() -> None:
    try:
        postgres_admin(POSTGRES_URL, timeout=3).close()
    except psycopg.Error as error:
        unavailable(f"PostgreSQL is not reachable at {POSTGRES_URL}: {error}")


@pytest.fixture(scope="module")
def servers(tmp_path_factory):
    cache = local_redis()
    check_postgres()
    cache.flushdb()
    settings = {"REDIS_URL": REDIS_URL, "PAGE_CACHE_SECONDS": "300"}
    settings["DEMO_PASSWORD"] = ADMIN_PASSWORD
    a = DemoServer(
        tmp_path_factory.mktemp("scale-out-a"),
        suffix="scaleout",
        gunicorn=2,
        extra_env=settings,
        database_url=POSTGRES_URL,
    )
    b = DemoServer(tmp_path_factory.mktemp("scale-out-b"), gunicorn=2, share=a)
    try:
        started = time.monotonic()
        a.launch()  # migrates and loads the demo once
        b.launch()
        a.wait_until_ready(timeout=60)
        b.wait_until_ready(timeout=60)
        print(f"scale-out: two servers up in {time.monotonic() - started:.1f}s")
        yield a, b
        for server in (a, b):
            assert "Traceback" not in server.log_text()
    finally:
        with ThreadPoolExecutor(2) as pool:  # each takes seconds to wind down
            list(pool.map(DemoServer.stop, (b, a)))
        cache.flushdb()
        cache.close()


def request(server, path, *, form=None, cookies=None) -> Reply:
    """As the load balancer passes it on: the public host name."""
    return http_request(
        server, path, headers={"Host": HOST}, form=form, cookies=cookies
    )


CREATE_ACTIVITIES = """
import json
from events.models import EventIndexPage, Occurrence
from tests.factories import ActivityPageFactory
index = EventIndexPage.objects.get(slug="activities")
made = {{}}
for slug, title, seats in {specs!r}:
    page = ActivityPageFactory(parent=index, title=title, slug=slug,
        registration_required=True, capacity=seats, max_party_size=3,
        waitlist_enabled=True)
    made[slug] = {{"id": page.pk, "path": page.url,
        "occurrence": Occurrence.objects.get(page_id=page.pk).pk}}
print(json.dumps(made))
"""

RETITLE = """
import json
from events.models import ActivityPage
page = ActivityPage.objects.get(pk={id})
page.title = "{title}"
page.save_revision().publish()
print(json.dumps(page.title))
"""


SEATS = 10
RESIDENTS = 48


@pytest.fixture(scope="module")
def activities(servers):
    """Activities open for sign-up, made in one shell run (each costs seconds)."""
    specs = [
        ("scale-publish", "跨进程发布前", 20),
        ("scale-seats", "跨进程名额", 5),
        ("scale-burst", "跨进程抢名额", SEATS),
    ]
    return servers[0].python(CREATE_ACTIVITIES.format(specs=specs))


def counts(server, occurrence: int) -> dict:
    """What the database holds for one occurrence, read straight from PostgreSQL
    (a ``manage.py shell`` run would cost seconds)."""
    with psycopg.connect(server.env["DATABASE_URL"]) as connection:
        rows = connection.execute(
            "SELECT status, party_size, phone FROM events_registration"
            " WHERE occurrence_id = %s ORDER BY id",
            [occurrence],
        ).fetchall()
        (taken,) = connection.execute(
            "SELECT taken FROM events_occurrence WHERE id = %s", [occurrence]
        ).fetchone()
    waitlisted = [size for status, size, _ in rows if status == "waitlisted"]
    return {
        "confirmed": sum(size for status, size, _ in rows if status == "confirmed"),
        "waitlisted": len(waitlisted),
        "smallest_waitlisted": min(waitlisted, default=None),
        "rows": len(rows),
        "phones": len({phone for *_, phone in rows}),
        "taken": taken,
    }


def sign_up_form(server, activity, phone, party_size=1) -> tuple[dict, dict]:
    """Load the sign-up page (never cached: it sets the CSRF cookie) and fill in
    the form; returns (form, cookies)."""
    page = request(server, activity["path"] + "signup/")
    assert page.status == 200 and page.cache == "PASS"
    form = {
        "csrfmiddlewaretoken": CSRF_RE.search(page.text).group(1),
        "occurrence": activity["occurrence"],
        "name": f"居民{phone[-4:]}",
        "phone": phone,
        "party_size": party_size,
        "consent": "on",
    }
    return form, {"csrftoken": page.cookie("csrftoken")}


def seats_shown(reply: Reply) -> int:
    return int(SEATS_RE.search(reply.text).group(1))


def test_a_page_cached_by_one_server_is_a_hit_on_the_other(servers):
    a, b = servers
    first = request(a, "/")  # the home page, which no other test asks for
    assert (first.status, first.cache) == (200, "MISS")
    assert request(a, "/").cache == "HIT"
    on_b = request(b, "/")  # B has never rendered it
    assert (on_b.status, on_b.cache) == (200, "HIT")
    assert on_b.text == first.text


def test_publishing_invalidates_the_page_on_both_servers(servers, activities):
    a, b = servers
    activity = activities["scale-publish"]
    page, index = activity["path"], "/activities/"
    for path in (page, index):
        # Both servers must hold the page before the publish. That b finds a's
        # copy is test_a_page_cached_by_one_server_is_a_hit_on_the_other's claim.
        # Here, on a loaded machine (two test workers), a server sometimes misses a
        # copy stored a moment before (3 of 6 full runs, never alone; not yet
        # explained: README, per-process copies, "Open question"); each miss
        # stores a fresh copy, so a few rounds settle it.
        for _ in range(5):
            if (request(a, path).cache, request(b, path).cache) == ("HIT", "HIT"):
                break
            time.sleep(1.1)
        else:
            raise AssertionError(f"{path} never cached on both servers")
    # Published from a third process, as an editor's save on any machine would be.
    # Both paths were cached and served by both servers; each server's next
    # request (one path each, so neither refills the other's) is a fresh render.
    a.python(RETITLE.format(id=activity["id"], title="跨进程发布后"))
    on_a, on_b = request(a, page), request(b, index)
    for reply in (on_a, on_b):
        assert (reply.status, reply.cache) == (200, "MISS")
        assert "跨进程发布后" in reply.text and "跨进程发布前" not in reply.text
    # and the fresh copies are shared again
    assert request(b, page).cache == request(a, index).cache == "HIT"


def test_a_sign_up_on_one_server_changes_the_seats_on_the_other(servers, activities):
    a, b = servers
    activity = activities["scale-seats"]
    request(b, "/honours/")
    assert request(b, "/honours/").cache == "HIT"
    request(b, activity["path"])
    before = request(b, activity["path"])
    assert before.cache == "HIT" and seats_shown(before) == 5

    form, cookies = sign_up_form(a, activity, "13700000001", party_size=2)
    assert (
        request(a, activity["path"] + "signup/", form=form, cookies=cookies).status
        == 303
    )

    after = request(b, activity["path"])
    assert after.cache == "MISS" and seats_shown(after) == 3
    assert request(b, "/honours/").cache == "HIT"  # shows no seats: kept


def test_a_burst_of_sign_ups_through_both_servers_never_oversells(servers, activities):
    """48 parties of 1–3 people for 10 seats, at once, alternating servers; half
    load the form from one server and post it to the other."""
    a, b = servers
    activity = activities["scale-burst"]
    path = activity["path"] + "signup/"
    results = [None] * RESIDENTS
    barrier = threading.Barrier(RESIDENTS)

    def resident(n):
        try:
            phone = f"1380000{n:04d}"
            form, cookies = sign_up_form((a, b)[n % 2], activity, phone, n % 3 + 1)
            barrier.wait(timeout=120)
            reply = request((a, b)[n // 2 % 2], path, form=form, cookies=cookies)
            results[n] = (reply.status, reply.headers.get("Location", ""))
        except Exception as error:  # noqa: BLE001 - reported as a failure below
            barrier.abort()
            results[n] = (0, repr(error))

    threads = [threading.Thread(target=resident, args=(n,)) for n in range(RESIDENTS)]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - started

    assert [r for r in results if r[0] != 303] == []
    found = counts(a, activity["occurrence"])
    assert found["rows"] == found["phones"] == RESIDENTS
    assert found["confirmed"] == found["taken"] <= SEATS
    # A waitlisted party of one means the seats had run out.
    if found["smallest_waitlisted"] == 1:
        assert found["confirmed"] == SEATS
    assert found["waitlisted"] > 0

    # The waitlist as residents see it on their result pages (each read through
    # the other server): 候补第 1, 2, 3 … 位, no gap, no repeat.
    def position_shown(n):
        reply = request((b, a)[n // 2 % 2], results[n][1])
        assert reply.status == 200 and reply.cache == "PASS"
        match = POSITION_RE.search(reply.text)
        return int(match.group(1)) if match else None

    with ThreadPoolExecutor(8) as pool:
        shown = [p for p in pool.map(position_shown, range(RESIDENTS)) if p]
    assert sorted(shown) == list(range(1, found["waitlisted"] + 1))
    print(f"burst: {RESIDENTS} sign-ups through two servers in {elapsed:.1f}s, {found}")


def test_an_admin_session_holds_across_servers(servers):
    a, b = servers
    login = request(a, "/admin/login/")
    cookies = {"csrftoken": login.cookie("csrftoken")}
    form = {
        "csrfmiddlewaretoken": CSRF_RE.search(login.text).group(1),
        "username": "admin",
        "password": ADMIN_PASSWORD,
        "next": "/admin/",
    }
    signed_in = request(a, "/admin/login/", form=form, cookies=cookies)
    assert signed_in.status == 302
    cookies.update({name: morsel.value for name, morsel in signed_in.cookies.items()})
    assert "sessionid" in cookies

    dashboard = request(b, "/admin/", cookies=cookies)
    assert dashboard.status == 200
    assert "管理员" in dashboard.text  # the admin's name, from the shared session
    # An editor's view is never served from or stored in the shared cache (the
    # middleware steps aside: no X-Page-Cache header at all).
    as_editor = request(b, "/honours/", cookies=cookies)
    assert as_editor.status == 200 and as_editor.cache is None

    # Signing in rotated the CSRF secret; the cookie's value is a valid token.
    token = {"csrfmiddlewaretoken": cookies["csrftoken"]}
    logout = request(b, "/admin/logout/", form=token, cookies=cookies)
    assert logout.status == 302
    again = request(a, "/admin/", cookies=cookies)
    assert again.status == 302 and "/admin/login/" in again.headers["Location"]
