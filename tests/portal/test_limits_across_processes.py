"""The staff login lockout and the sign-up rate limits hold across processes.

Two separate gunicorn masters (two workers each) serve one fresh database (a SQLite
file, or a PostgreSQL database next to ``DATABASE_URL``) and share Redis database
13, as two app machines behind one proxy would. The test plays the proxy:
``TRUSTED_PROXY_COUNT=1`` and an ``X-Forwarded-For`` naming the client.

* Login failures for one username from one address, alternating servers, lock
  that pair on both after AXES_FAILURE_LIMIT; another address is not locked.
  (Attempts are rows in the shared database, so this needs no Redis.)
* Sign-ups from one address, all at once and split over both servers, are
  accepted exactly up to the per-address limit; one phone number from several
  addresses, alternating servers, makes sign-ups up to the per-phone limit
  (its resubmissions from other browsers, refused, do not count). (Counts are in
  Redis: without it this test is skipped, and fails under ``CI=true``.)
"""

import os
import re
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import redis

from tests.server import DemoServer, Reply, http_request

REDIS_URL = "redis://127.0.0.1:6379/13"  # this test's alone
PASSWORD = "limits-测试-密码"
FAILURE_LIMIT = 5
PER_ADDRESS = 6
PER_PHONE = 3
CSRF_RE = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


def redis_client() -> redis.Redis | None:
    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2)
    try:
        client.ping()
    except redis.RedisError:
        return None
    return client


@pytest.fixture(scope="module")
def servers(tmp_path_factory):
    cache = redis_client()
    env = {
        "DEMO_PASSWORD": PASSWORD,
        "TRUSTED_PROXY_COUNT": "1",
        "AXES_FAILURE_LIMIT": str(FAILURE_LIMIT),
        "SIGNUP_LIMIT_PER_ADDRESS": f"{PER_ADDRESS}/10m",
        "SIGNUP_LIMIT_PER_PHONE": f"{PER_PHONE}/10m",
    }
    if cache is not None:
        cache.flushdb()
        env["REDIS_URL"] = REDIS_URL
    a = DemoServer(
        tmp_path_factory.mktemp("limits-a"),
        suffix="limits",
        gunicorn=2,
        extra_env=env,
        signup_limits=True,
    )
    b = DemoServer(tmp_path_factory.mktemp("limits-b"), gunicorn=2, share=a)
    try:
        a.launch()  # migrates and loads the demo once
        b.launch()
        a.wait_until_ready(timeout=60)
        b.wait_until_ready(timeout=60)
        yield a, b, cache
        for server in (a, b):
            assert "Traceback" not in server.log_text()
    finally:
        with ThreadPoolExecutor(2) as pool:
            list(pool.map(DemoServer.stop, (b, a)))
        if cache is not None:
            cache.flushdb()
            cache.close()


def request(server, path, *, client, form=None, cookies=None) -> Reply:
    """One request as our proxy passes it on: X-Forwarded-For names the client."""
    return http_request(
        server, path, headers={"X-Forwarded-For": client}, form=form, cookies=cookies
    )


def filled_form(server, path, client, **fields) -> tuple[dict, dict]:
    """GET ``path`` (for the CSRF cookie and token) and fill in its form."""
    page = request(server, path, client=client)
    assert page.status == 200
    form = {"csrfmiddlewaretoken": CSRF_RE.search(page.text).group(1), **fields}
    return form, {"csrftoken": page.cookies["csrftoken"].value}


def admin_login(server, password, client) -> Reply:
    form, cookies = filled_form(
        server,
        "/admin/login/",
        client,
        username="admin",
        password=password,
        next="/admin/",
    )
    return request(server, "/admin/login/", client=client, form=form, cookies=cookies)


def test_login_failures_on_both_servers_add_up_to_a_lockout(servers):
    a, b, _ = servers
    attacker, editor = "198.51.100.77", "203.0.113.7"
    for n in range(FAILURE_LIMIT - 1):
        reply = admin_login((a, b)[n % 2], "错误的密码", attacker)
        assert reply.status == 200 and "登录失败次数过多" not in reply.text
    locked = admin_login((a, b)[FAILURE_LIMIT % 2], "错误的密码", attacker)
    assert locked.status == 429
    assert "登录失败次数过多，请 15 分钟后再试" in locked.text
    # 15 minutes from the failure that locked it: a second less when the answer
    # came a second later (a loaded machine).
    assert 890 <= int(locked.headers["Retry-After"]) <= 900
    # The right password, on each server, from the locked address: refused.
    for server in (a, b):
        assert admin_login(server, PASSWORD, attacker).status == 429
    # The same account from another address is not locked, on either server.
    for server in (b, a):
        signed_in = admin_login(server, PASSWORD, editor)
        assert signed_in.status == 302 and "sessionid" in signed_in.cookies


CREATE_ACTIVITY = """
import json
from events.models import EventIndexPage, Occurrence
from tests.factories import ActivityPageFactory
page = ActivityPageFactory(parent=EventIndexPage.objects.get(slug="activities"),
    title="跨进程限流", slug="limits-across", registration_required=True,
    capacity=100, max_party_size=1)
print(json.dumps({"path": page.url,
    "occurrence": Occurrence.objects.get(page_id=page.pk).pk}))
"""

CREATE_MORE = """
import json
from events.models import EventIndexPage, Occurrence
from tests.factories import ActivityPageFactory
pages = [ActivityPageFactory(parent=EventIndexPage.objects.get(slug="activities"),
    title=f"跨进程限流{n}", slug=f"limits-phone-{n}", registration_required=True,
    capacity=100, max_party_size=1) for n in range(%d)]
print(json.dumps([{"path": page.url,
    "occurrence": Occurrence.objects.get(page_id=page.pk).pk} for page in pages]))
"""

COUNT = """
import json
from events.models import Registration
rows = Registration.objects.filter(occurrence_id={occurrence})
print(json.dumps({{"rows": rows.count(),
    "with_phone": rows.filter(phone="{phone}").count()}}))
"""


def test_sign_ups_on_both_servers_add_up_to_the_limits(servers):
    a, b, cache = servers
    if cache is None:
        message = f"Redis is not reachable at {REDIS_URL}: sign-up counts need it"
        if os.environ.get("CI") == "true":
            pytest.fail(message + " (CI=true: may not be skipped)")
        pytest.skip(message)
    activity = a.python(CREATE_ACTIVITY)
    path = activity["path"] + "signup/"

    def sign_up(server, client, phone):
        return filled_form(
            server,
            path,
            client,
            occurrence=activity["occurrence"],
            name="跨进程居民",
            phone=phone,
            party_size=1,
            consent="on",
        )

    # Twice the per-address limit from one address, at once, over both servers.
    shared_address = "203.0.113.50"
    burst = 2 * PER_ADDRESS
    forms = [
        sign_up((a, b)[n % 2], shared_address, f"1370000{n:04d}") for n in range(burst)
    ]
    barrier = threading.Barrier(burst)
    results = [None] * burst

    def resident(n):
        form, cookies = forms[n]
        barrier.wait(timeout=60)
        results[n] = request(
            (b, a)[n % 2], path, client=shared_address, form=form, cookies=cookies
        )

    threads = [threading.Thread(target=resident, args=(n,)) for n in range(burst)]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - started
    statuses = sorted(r.status for r in results)
    assert statuses == [303] * PER_ADDRESS + [429] * PER_ADDRESS
    for reply in results:
        if reply.status == 429:
            assert "提交太频繁，请稍后再试。" in reply.text
            assert 1 <= int(reply.headers["Retry-After"]) <= 600
            assert 'value="跨进程居民"' in reply.text
    # Both servers now refuse that address.
    for server in (a, b):
        form, cookies = sign_up(server, shared_address, "13799999999")
        over = request(server, path, client=shared_address, form=form, cookies=cookies)
        assert over.status == 429

    # One phone number from several addresses, alternating servers: first on
    # this activity, then on others; the first activity again from browsers
    # that did not make that sign-up (refused, not counted) in between.
    phone = "13711112222"
    others = a.python(CREATE_MORE % PER_PHONE)
    targets = [activity, others[0], activity, others[1], others[2]]
    statuses = []
    for n, target in enumerate(targets):
        server = (a, b)[n % 2]
        client = f"192.0.2.{n + 1}"
        target_path = target["path"] + "signup/"
        form, cookies = filled_form(
            server,
            target_path,
            client,
            occurrence=target["occurrence"],
            name="跨进程居民",
            phone=phone,
            party_size=1,
            consent="on",
        )
        reply = request(server, target_path, client=client, form=form, cookies=cookies)
        statuses.append(reply.status)
    # Three sign-ups made (PER_PHONE), the refusal in between not counted; then
    # the limit.
    assert statuses == [303, 303, 409, 303, 429]

    found = a.python(COUNT.format(occurrence=activity["occurrence"], phone=phone))
    assert found == {"rows": PER_ADDRESS + 1, "with_phone": 1}
    print(f"limits: {burst} simultaneous sign-ups over two servers in {elapsed:.1f}s")
