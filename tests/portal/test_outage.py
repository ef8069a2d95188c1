"""The database fails: residents get the last good copy of a page or a Chinese 503
page, never Django's 500; a sign-up that could not be stored says so and keeps
what the resident typed; the admin answers 503; each failure is logged once.

Two halves. In-process tests make every query fail through Django's
``connection.execute_wrapper`` (exactly what a locked or vanished database does
to the code above it). Served tests (``DemoServer``, runserver, page cache on)
take the real database away from a running server: on SQLite another connection
holds an exclusive lock, so every query waits out the (lowered) busy timeout and
fails with "database is locked"; on PostgreSQL (``DATABASE_URL``) the server's
connections are terminated and the database renamed, so nothing can connect,
then it is renamed back and the site recovers. A commit that fails at the driver
is forced inside a served database too, where a sign-up really commits.
"""

import contextlib
import logging
import re
import sqlite3
import time
import urllib.error
import urllib.parse
import urllib.request

import pytest
from django.core.cache import cache
from django.db import (
    DatabaseError,
    IntegrityError,
    InterfaceError,
    OperationalError,
    ProgrammingError,
    connection,
)
from django.test import override_settings
from wagtail.models import Site

from events.models import EventIndexPage, Occurrence, Registration
from home.models import HonourIndexPage
from portal import failure, pagecache
from tests.factories import ActivityPageFactory
from tests.loadclient import CSRF_RE, NoRedirect
from tests.server import DemoServer, postgres_admin

HEADER = pagecache.HEADER
UNAVAILABLE = "网站的数据暂时连接不上"
NOT_SAVED = "报名没有保存成功"


# ---------------------------------------------------------------------------
# In-process: every query fails
# ---------------------------------------------------------------------------


def clear_caches():
    cache.clear()
    pagecache.stale_cache().clear()


@pytest.fixture
def page_cache():
    clear_caches()
    with override_settings(PAGE_CACHE_SECONDS=300):
        yield
    clear_caches()


@contextlib.contextmanager
def database_fails(error=None, only=None):
    """Every query (or those whose SQL contains ``only``) raises ``error``, as a
    locked or unreachable database makes them."""
    error = error or OperationalError("database is locked")

    def fail(execute, sql, params, many, context):
        if only is None or only in sql:
            raise error
        return execute(sql, params, many, context)

    with connection.execute_wrapper(fail):
        yield


def outage_records(caplog):
    return [r for r in caplog.records if r.levelno >= logging.ERROR]


@pytest.fixture
def activity(db):
    index = EventIndexPage.objects.get(slug="activities")
    return ActivityPageFactory(
        parent=index,
        title="停电演练活动",
        registration_required=True,
        capacity=5,
        max_party_size=3,
        waitlist_enabled=True,
        ask_household=True,
        ask_note=True,
    )


def signup_form(page, **changes) -> dict:
    occurrence = Occurrence.objects.get(page_id=page.pk)
    data = {
        "occurrence": str(occurrence.pk),
        "name": "王秀兰",
        "phone": "138 0000 1234",
        "party_size": "2",
        "household": "甲院 3 号楼",
        "note": "带<b>轮椅</b>",
        "consent": "on",
        "website": "",
    }
    data.update(changes)
    return data


def assert_typed_fields_kept(html: str, data: dict) -> None:
    for name in ("name", "phone", "household", "party_size"):
        assert re.search(rf'name="{name}"[^>]*value="{re.escape(data[name])}"', html), (
            name
        )
    # escaped, never echoed as markup
    assert "带&lt;b&gt;轮椅&lt;/b&gt;" in html and "<b>轮椅" not in html


@pytest.mark.django_db
def test_a_cached_page_is_served_stale_when_the_database_fails(
    client, page_cache, caplog
):
    url = HonourIndexPage.objects.get(slug="honours").url
    fresh = client.get(url)
    assert fresh[HEADER] == "MISS"
    pagecache.bump("content")  # an editor published since: the entry is outdated
    with database_fails():
        stale = client.get(url, QUERY_STRING="from=singlemessage")
    assert stale.status_code == 200
    assert stale[HEADER] == "STALE"
    assert "no-store" in stale["Cache-Control"]
    assert stale.content == fresh.content
    assert len(outage_records(caplog)) == 1
    # While the database works, the last good copy is never what answers.
    again = client.get(url)
    assert again[HEADER] == "MISS"


@pytest.mark.django_db
def test_last_good_copies_live_apart_and_not_for_search(client, page_cache):
    url = HonourIndexPage.objects.get(slug="honours").url
    client.get(url)
    client.get("/search/?q=讲堂")
    stale = pagecache.stale_cache()
    assert stale is not cache  # never crowding fresh entries out of "default"
    keys = list(stale._cache)  # local memory in the tests
    assert len(keys) == 1  # the honours page only: search results keep none
    pagecache.bump("content")
    with database_fails():
        assert client.get(url)[HEADER] == "STALE"
        assert client.get("/search/?q=讲堂").status_code == 503


@pytest.mark.django_db
def test_no_last_good_copy_when_turned_off(client, page_cache):
    url = HonourIndexPage.objects.get(slug="honours").url
    with override_settings(PAGE_CACHE_STALE_SECONDS=0):
        assert client.get(url)[HEADER] == "MISS"
        pagecache.bump("content")
        with database_fails():
            assert client.get(url).status_code == 503


@pytest.mark.django_db
def test_an_uncached_page_gets_the_chinese_503(client, page_cache, caplog):
    with database_fails():
        response = client.get("/activities/?type=lecture")
    html = response.content.decode()
    assert response.status_code == 503
    assert response["Retry-After"] == str(failure.RETRY_AFTER)
    assert "no-store" in response["Cache-Control"]
    assert "服务暂时不可用" in html and UNAVAILABLE in html
    assert 'lang="zh-Hans"' in html
    # logged once, with the exception
    (record,) = outage_records(caplog)
    assert record.exc_info and record.exc_info[0] is OperationalError
    assert "GET /activities/" in record.getMessage()


@pytest.mark.django_db
def test_without_a_page_cache_the_503_needs_no_query(client, caplog):
    """The 503 page itself queries nothing (it is drawn while every query fails)."""
    queries = []

    def count(execute, sql, params, many, context):
        queries.append(sql)
        raise OperationalError("server closed the connection unexpectedly")

    with connection.execute_wrapper(count):
        response = client.get("/")
    assert response.status_code == 503
    assert len(queries) == 1  # the first query of the request failed; no more
    assert len(outage_records(caplog)) == 1


@pytest.mark.django_db
@pytest.mark.parametrize(
    "error",
    [
        InterfaceError("connection already closed"),
        DatabaseError("server closed the connection unexpectedly"),
        OperationalError("could not connect to server: Connection refused"),
    ],
)
def test_every_kind_of_lost_database_is_a_503(client, error):
    with database_fails(error):
        assert client.get("/honours/").status_code == 503


@pytest.mark.django_db
def test_the_admin_gets_the_503_not_a_500(client, django_user_model, caplog):
    client.force_login(django_user_model.objects.get(username="admin"))
    Site.get_site_root_paths()  # in the cache, as on a site that has been running
    with database_fails():
        dashboard = client.get("/admin/")
        saving = client.post("/admin/pages/3/edit/", {"title": "x"})
    for response in (dashboard, saving):
        html = response.content.decode()
        assert response.status_code == 503
        assert "后台暂时不可用" in html
        assert 'href="/admin/"' in html
    assert len(outage_records(caplog)) == 2  # one per request


@pytest.mark.django_db
def test_a_sign_up_while_the_database_is_gone_keeps_the_input(client, activity, caplog):
    data = signup_form(activity)
    before = Registration.objects.count()
    url = activity.url + "signup/"
    with database_fails():
        response = client.post(url, data)
    html = response.content.decode()
    assert response.status_code == 503
    assert "Location" not in response
    assert NOT_SAVED in html and "重新提交报名" in html
    assert_typed_fields_kept(html, data)
    # the resubmit form posts the same fields back to the same address
    assert f'action="{activity.url}signup/"' in html
    assert f'name="occurrence" value="{data["occurrence"]}"' in html
    assert 'name="consent" value="on"' in html
    assert 'name="website"' not in html
    assert Registration.objects.count() == before
    assert len(outage_records(caplog)) == 1


@pytest.mark.django_db
def test_a_sign_up_whose_write_fails_shows_the_form_with_503(client, activity, caplog):
    """The page could be read, but storing failed (the connection dropped inside
    the sign-up's transaction): the sign-up form again, with the input and a
    message that nothing was saved."""
    data = signup_form(activity)
    url = activity.url + "signup/"
    with database_fails(OperationalError("terminating connection"), only="INSERT"):
        response = client.post(url, data)
    html = response.content.decode()
    assert response.status_code == 503
    assert response["Retry-After"] == str(failure.RETRY_AFTER)
    assert failure.SIGNUP_NOT_SAVED in html
    assert "我要报名" in html  # the page's own sign-up form, not the 503 page
    assert 'value="王秀兰"' in html and 'value="138 0000 1234"' in html
    assert 'value="甲院 3 号楼"' in html
    assert not Registration.objects.filter(page_id=activity.pk).exists()
    occurrence = Occurrence.objects.get(page_id=activity.pk)
    assert occurrence.taken == 0
    assert len(outage_records(caplog)) == 1
    # and the same form goes through once the database is back
    assert client.post(url, data).status_code == 303


@pytest.mark.django_db
def test_a_failure_inside_another_middleware_is_a_503_too(client, caplog):
    """A 404 makes Wagtail's redirect middleware look up redirects on the way out;
    when that query fails, Django turns it into its 500 inside the middleware
    stack (and logs it); the failure middleware replaces it."""
    client.raise_request_exception = False
    with database_fails(only="wagtailredirects_redirect"):
        response = client.get("/no-such-page-here/")
    assert response.status_code == 503
    assert UNAVAILABLE in response.content.decode()
    assert len(outage_records(caplog)) == 1  # Django's own log line


@pytest.mark.django_db
@pytest.mark.parametrize(
    "error",
    [
        IntegrityError("UNIQUE constraint failed"),
        ProgrammingError("syntax error at or near"),
    ],
)
def test_a_bug_is_still_a_500(client, error):
    """Only a database that cannot be used is an outage; a bad query is a bug
    and must stay visible as one."""
    client.raise_request_exception = False
    with database_fails(error):
        response = client.get("/honours/")
    assert response.status_code == 500


def test_what_counts_as_an_outage():
    def wrapped(driver_error):
        try:
            try:
                raise driver_error
            except sqlite3.Error as error:
                raise OperationalError(str(error)) from error
        except OperationalError as error:
            return error

    busy = sqlite3.OperationalError("database is locked")
    busy.sqlite_errorcode = 5
    syntax = sqlite3.OperationalError('fts5: syntax error near "*"')
    syntax.sqlite_errorcode = 1
    assert failure.is_outage(wrapped(busy))
    assert not failure.is_outage(wrapped(syntax))
    assert failure.is_outage(OperationalError("no connection"))
    assert not failure.is_outage(IntegrityError("duplicate"))
    assert not failure.is_outage(ValueError("x"))
    # an error raised while an outage was being handled
    try:
        try:
            raise OperationalError("database is locked")
        except OperationalError:
            raise KeyError("template") from None
    except KeyError as error:
        assert not failure.is_outage(error)  # `from None` hides the context
    try:
        try:
            raise OperationalError("database is locked")
        except OperationalError as error:
            raise RuntimeError("while handling") from error
    except RuntimeError as error:
        assert failure.is_outage(error)


# ---------------------------------------------------------------------------
# Served: a running server loses its database, then gets it back
# ---------------------------------------------------------------------------

ADMIN_PASSWORD = "outage-测试-密码"
BUSY_TIMEOUT = 0.5  # seconds; SQLite's is 5 in production

CREATE_ACTIVITY = """
import json
from events.models import EventIndexPage, Occurrence
from tests.factories import ActivityPageFactory
index = EventIndexPage.objects.get(slug="activities")
page = ActivityPageFactory(parent=index, title="断库演练活动", slug="{slug}",
    registration_required=True, capacity=20, max_party_size=3,
    waitlist_enabled=True, ask_household=True, ask_note=True)
print(json.dumps({{"path": page.url,
    "occurrence": Occurrence.objects.get(page_id=page.pk).pk}}))
"""

ROWS = """
import json
from events.models import Occurrence, Registration
rows = Registration.objects.filter(occurrence_id={occurrence}).order_by("pk")
print(json.dumps({{"rows": [[r.name, r.phone, r.party_size, r.household, r.note,
    r.status, r.token] for r in rows],
    "taken": Occurrence.objects.get(pk={occurrence}).taken}}))
"""

# Runs inside ``manage.py shell`` on the served database, where the sign-up's
# transaction really commits: the driver's commit fails once, as when the
# connection drops at the very end of a transaction.
COMMIT_FAILS = """
import json
from django.db import connections
from django.test import Client

connection = connections["default"]
if connection.vendor == "sqlite":
    from sqlite3 import OperationalError as DriverError
else:
    from psycopg import OperationalError as DriverError

armed = {{"on": False, "failed": 0}}

class Driver:
    # The DB-API connection, but its commit fails while armed.
    def __init__(self, raw):
        object.__setattr__(self, "_raw", raw)
    def __getattr__(self, name):
        return getattr(self._raw, name)
    def __setattr__(self, name, value):
        setattr(self._raw, name, value)
    def commit(self):
        if armed["on"]:
            armed["failed"] += 1
            raise DriverError("disk I/O error (simulated at commit)")
        return self._raw.commit()

real_connect = type(connection).get_new_connection
type(connection).get_new_connection = lambda self, params: Driver(
    real_connect(self, params))

client = Client()
form = {form!r}
url = "{path}signup/"
armed["on"] = True
failed = client.post(url, form)
armed["on"] = False
html = failed.content.decode()
again = client.post(url, form)
print(json.dumps({{"status": failed.status_code,
    "location": failed.headers.get("Location"),
    "commits_failed": armed["failed"],
    "not_saved_shown": "报名没有保存成功" in html,
    "kept": [f'value="{{form[k]}}"' in html for k in ("name", "phone", "household")],
    "again": again.status_code, "again_location": again.headers.get("Location")}}))
"""


def is_postgres(server) -> bool:
    return "DATABASE_URL" in server.env


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    server = DemoServer(
        tmp_path_factory.mktemp("outage"),
        suffix="outage",
        extra_env={
            "PAGE_CACHE_SECONDS": "300",
            "SQLITE_BUSY_TIMEOUT": str(BUSY_TIMEOUT),
            "DEMO_PASSWORD": ADMIN_PASSWORD,
        },
    )
    server.start(timeout=60)
    yield server
    server.stop()


class Reply:
    def __init__(self, status, headers, body):
        self.status, self.headers, self.text = status, headers, body.decode()

    @property
    def cache(self):
        return self.headers.get(HEADER)


def fetch(server, path, form=None, cookies=None) -> Reply:
    opener = urllib.request.build_opener(NoRedirect)
    headers = {"Referer": server.url + "/"}
    if cookies:
        headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in cookies.items())
    data = urllib.parse.urlencode(form).encode() if form is not None else None
    request = urllib.request.Request(server.url + path, data=data, headers=headers)
    try:
        with opener.open(request, timeout=60) as response:
            return Reply(response.status, response.headers, response.read())
    except urllib.error.HTTPError as error:
        return Reply(error.code, error.headers, error.read())


def cookies_of(reply: Reply) -> dict:
    found = {}
    for value in reply.headers.get_all("Set-Cookie") or ():
        name, _, rest = value.partition("=")
        found[name] = rest.split(";", 1)[0]
    return found


def log_in(server) -> dict:
    page = fetch(server, "/admin/login/")
    cookies = cookies_of(page)
    form = {
        "csrfmiddlewaretoken": CSRF_RE.search(page.text).group(1),
        "username": "admin",
        "password": ADMIN_PASSWORD,
    }
    reply = fetch(server, "/admin/login/", form=form, cookies=cookies)
    assert reply.status == 302, reply.text[:500]
    cookies.update(cookies_of(reply))
    assert "sessionid" in cookies
    return cookies


@contextlib.contextmanager
def database_taken_away(server):
    """SQLite: another connection takes the file's exclusive lock, so the
    server's connections cannot even open it ("database is locked" after the
    busy timeout). PostgreSQL: the database stops accepting connections and the
    server's open ones are terminated. Given back on exit."""
    if is_postgres(server):
        name = server.env["DATABASE_URL"].rsplit("/", 1)[1]
        with postgres_admin(server.env["DATABASE_URL"]) as admin:
            admin.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false')
            admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                " WHERE datname = %s AND pid <> pg_backend_pid()",
                [name],
            )
            try:
                yield
            finally:
                admin.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true')
        return
    lock = sqlite3.connect(server.env["SQLITE_PATH"], isolation_level=None, timeout=0)
    lock.execute("PRAGMA locking_mode=EXCLUSIVE")
    deadline = time.monotonic() + 30
    while True:  # until no request of the server has the file open
        try:
            lock.execute("BEGIN EXCLUSIVE")
            lock.execute("CREATE TABLE IF NOT EXISTS outage_probe (x int)")
            break
        except sqlite3.OperationalError:
            with contextlib.suppress(sqlite3.OperationalError):
                lock.execute("ROLLBACK")
            assert time.monotonic() < deadline, "could not lock the database"
            time.sleep(0.05)
    try:
        yield
    finally:
        lock.execute("ROLLBACK")
        lock.close()


def form_fields(html: str) -> dict:
    """The name/value pairs of a form's inputs, as a browser would send them."""
    return {
        m.group(1): m.group(2)
        for m in re.finditer(r'<input[^>]*name="([^"]+)"[^>]*value="([^"]*)"', html)
    }


def test_a_served_site_survives_losing_its_database(server):
    activity = server.python(CREATE_ACTIVITY.format(slug="outage-drill"))
    page, signup = activity["path"], activity["path"] + "signup/"
    admin = log_in(server)

    # Warm the cache: pages residents have opened, and the sign-up form one of
    # them has open on her phone.
    for path in ("/", "/honours/", page):
        assert fetch(server, path).cache in ("MISS", "HIT")
    assert fetch(server, "/honours/").cache == "HIT"
    form_page = fetch(server, signup)
    form = {
        "csrfmiddlewaretoken": CSRF_RE.search(form_page.text).group(1),
        "occurrence": str(activity["occurrence"]),
        "name": "赵淑芬",
        "phone": "13912345678",
        "party_size": "2",
        "household": "丙院 5 号楼",
        "note": "需要无障碍座位",
        "consent": "on",
    }
    resident = cookies_of(form_page)
    # Someone else signs up: the activity page's cached entry (it shows seats)
    # is outdated now, but its last good copy is kept.
    other_form = {**form, "phone": "13900000001"}
    other = fetch(server, signup, form=other_form, cookies=resident)
    assert other.status == 303

    logged_before = server.log_text().count("Database unavailable")
    with database_taken_away(server):
        started = time.monotonic()
        fresh_hit = fetch(server, "/honours/")
        stale = fetch(server, page)
        uncached = fetch(server, "/activities/?type=lecture")
        dashboard = fetch(server, "/admin/", cookies=admin)
        sign_up_attempt = fetch(server, signup, form=form, cookies=resident)
        elapsed = time.monotonic() - started

    # A valid cached page needs no database at all.
    assert (fresh_hit.status, fresh_hit.cache) == (200, "HIT")
    # The outdated one: its last good copy, marked, not to be kept.
    assert (stale.status, stale.cache) == (200, "STALE")
    assert "no-store" in stale.headers["Cache-Control"]
    assert "断库演练活动" in stale.text
    # Never cached: the Chinese 503 page.
    assert uncached.status == 503 and UNAVAILABLE in uncached.text
    assert uncached.headers["Retry-After"] == str(failure.RETRY_AFTER)
    assert dashboard.status == 503 and "后台暂时不可用" in dashboard.text
    assert sign_up_attempt.status == 503 and "Location" not in sign_up_attempt.headers
    assert NOT_SAVED in sign_up_attempt.text
    kept = form_fields(sign_up_attempt.text)
    assert {k: kept[k] for k in form} == form  # every typed field, CSRF token too
    assert elapsed < 30
    # One ERROR line per failed request (four: the HIT needed no database).
    log = server.log_text()
    assert log.count("Database unavailable") - logged_before == 4
    assert "Internal Server Error" not in log

    # Back: the resident sends the 503 page's form as it is, and it is stored.
    assert fetch(server, "/activities/?type=lecture").status == 200
    resent = fetch(server, signup, form=kept, cookies=resident)
    assert resent.status == 303 and "/r/" in resent.headers["Location"]
    result = fetch(server, resent.headers["Location"])
    assert result.status == 200 and "已报名" in result.text
    stored = server.python(ROWS.format(occurrence=activity["occurrence"]))
    assert [row[:5] for row in stored["rows"]] == [
        ["赵淑芬", "13900000001", 2, "丙院 5 号楼", "需要无障碍座位"],
        ["赵淑芬", "13912345678", 2, "丙院 5 号楼", "需要无障碍座位"],
    ]
    assert stored["taken"] == 4
    assert fetch(server, "/admin/", cookies=admin).status == 200
    print(f"outage: five requests answered in {elapsed:.1f}s without the database")


def test_no_confirmation_before_the_commit(server):
    """The driver's COMMIT fails: the resident is not sent to a result page, no
    row exists, the form comes back with her input; the same form then goes
    through."""
    activity = server.python(CREATE_ACTIVITY.format(slug="commit-fails"))
    form = {
        "occurrence": str(activity["occurrence"]),
        "name": "钱桂英",
        "phone": "13811112222",
        "party_size": "1",
        "household": "丁院 2 号楼",
        "note": "",
        "consent": "on",
    }
    outcome = server.python(COMMIT_FAILS.format(form=form, path=activity["path"]))
    assert outcome["commits_failed"] == 1
    assert outcome["status"] == 503 and outcome["location"] is None
    assert outcome["not_saved_shown"] and all(outcome["kept"])
    assert outcome["again"] == 303
    stored = server.python(ROWS.format(occurrence=activity["occurrence"]))
    # Only the second attempt's row: the first left nothing, not even seats.
    assert len(stored["rows"]) == 1 and stored["taken"] == 1
    assert outcome["again_location"].endswith(f"/r/{stored['rows'][0][6]}/")
