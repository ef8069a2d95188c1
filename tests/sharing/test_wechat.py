"""WeChat JS-SDK share card, against a fake WeChat API on 127.0.0.1.

The signature is checked against WeChat's published example and recomputed here
from the ticket the fake handed out; the token and ticket are fetched once for
many requests (threads, and processes sharing Redis when redis-server is
installed), and again after they expire; a WeChat error or an unreachable API
gives the config endpoint a 503 and leaves the pages alone.
"""

import hashlib
import json
import logging
import os
import re
import shutil
import socket
import subprocess
import sys
import threading
import time
from urllib.parse import quote

import pytest
from django.core.cache import cache
from django.core.cache.backends.locmem import LocMemCache
from django.test import Client

from events.models import ActivityPage
from sharing import wechat
from tests.fake_wechat import APP_ID, APP_SECRET, FakeWeChat
from tests.server import ROOT, free_port, real_clock_env

pytestmark = pytest.mark.django_db

CONFIG = "/share/wechat/config/"
# WeChat's documented example (JS-SDK 说明文档, 附录1 签名算法).
EXAMPLE = {
    "ticket": "sM4AOVdWfPE4DxkXGEs8VMCPGGVi4C3VM0P37wVUCFvkVAy_90u5h9nbSlYy3-Sl-"
    "HhTdfl2fzFy1AOcHKP7qg",
    "noncestr": "Wm3WZYTPz0wzccnW",
    "timestamp": 1414587457,
    "url": "http://mp.weixin.qq.com?params=value",
    "signature": "0f9de62fce790f9a083d5c99e95740ceb90c27ed",
}
OFFICIAL_SDK = "https://res.wx.qq.com/open/js/jweixin-1.6.0.js"
SCRIPT_RE = re.compile(r"<script\b[^>]*>", re.S)


def page_path(page) -> str:
    """The page's path on its site. (``page.url`` turns absolute when another
    test left a second site in Wagtail's cached site list.)"""
    return page.get_url_parts()[2]


@pytest.fixture
def fake():
    with FakeWeChat() as server:
        yield server


@pytest.fixture(autouse=True)
def clean_cache():
    # Token, ticket, lock and failure entries live in the process's cache.
    cache.clear()
    wechat.static_url_if_present.cache_clear()
    yield
    cache.clear()
    wechat.static_url_if_present.cache_clear()


@pytest.fixture
def configured(settings, fake):
    settings.WECHAT_APP_ID = APP_ID
    settings.WECHAT_APP_SECRET = APP_SECRET
    settings.WECHAT_API_BASE = fake.url
    settings.WECHAT_TIMEOUT = 2
    settings.WECHAT_JSSDK_URL = OFFICIAL_SDK
    return fake


@pytest.fixture
def activity() -> ActivityPage:
    return ActivityPage.objects.live().order_by("path").first()


def expected_signature(ticket, noncestr, timestamp, url) -> str:
    """The published algorithm, written out independently of the code."""
    raw = f"jsapi_ticket={ticket}&noncestr={noncestr}&timestamp={timestamp}&url={url}"
    return hashlib.sha1(raw.encode()).hexdigest()


def get_config(client, url):
    return client.get(CONFIG, {"url": url})


# ---------------------------------------------------------------------------
# The signature
# ---------------------------------------------------------------------------


def test_sign_matches_wechat_published_example():
    assert (
        wechat.sign(
            EXAMPLE["ticket"], EXAMPLE["noncestr"], EXAMPLE["timestamp"], EXAMPLE["url"]
        )
        == EXAMPLE["signature"]
    )
    assert expected_signature(
        EXAMPLE["ticket"], EXAMPLE["noncestr"], EXAMPLE["timestamp"], EXAMPLE["url"]
    ) == EXAMPLE["signature"]


def test_config_signs_the_address_the_browser_loaded(client, configured, activity):
    loaded = f"http://testserver{page_path(activity)}?from=timeline&isappinstalled=0"
    response = get_config(client, loaded + "#signup")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert "no-store" in response["Cache-Control"]
    config = response.json()
    assert set(config) == {"appId", "timestamp", "nonceStr", "signature"}
    assert config["appId"] == APP_ID
    assert abs(config["timestamp"] - time.time()) < 60
    assert re.fullmatch(r"[A-Za-z0-9]{16}", config["nonceStr"])
    # Signed: exactly the loaded address with WeChat's parameters, without #.
    assert config["signature"] == expected_signature(
        configured.ticket, config["nonceStr"], config["timestamp"], loaded
    )
    canonical = f"http://testserver{page_path(activity)}"
    assert config["signature"] != expected_signature(
        configured.ticket, config["nonceStr"], config["timestamp"], canonical
    )
    # A second request gets a fresh nonce (answers are never reused).
    again = get_config(client, loaded).json()
    assert again["nonceStr"] != config["nonceStr"]
    assert again["signature"] == expected_signature(
        configured.ticket, again["nonceStr"], again["timestamp"], loaded
    )


@pytest.mark.parametrize(
    "url",
    [
        "http://evil.example/activities/",
        "https://testserver.evil.example/",
        "http://testserver@evil.example/",
        "http://evil.example/?u=http://testserver/",
        "javascript:alert(1)",
        "ftp://testserver/",
        "//testserver/activities/",
        "/activities/",
        "http://testserver/" + "a" * 2100,
        "http://testserver/a b",
        "",
    ],
)
def test_other_addresses_are_refused(client, configured, url):
    response = get_config(client, url)
    assert response.status_code == 400
    assert response.json() == {"error": "页面地址无效。"}
    assert configured.count("token") == 0


def test_a_proxy_in_front_still_matches_the_host(rf, configured):
    # The browser is on https://testserver/, the proxy talks http on 8000.
    request = rf.get(CONFIG, HTTP_HOST="testserver:8000")
    assert wechat.signed_url(request, "https://testserver/a/?b=1#c") == (
        "https://testserver/a/?b=1"
    )
    assert wechat.signed_url(request, "http://testserver:9000/a/") is None


# ---------------------------------------------------------------------------
# Token and ticket: one fetch for everyone, again when they expire
# ---------------------------------------------------------------------------


def test_token_and_ticket_are_fetched_once_for_many_requests(configured, activity):
    url = f"http://testserver{page_path(activity)}?from=singlemessage&isappinstalled=0"
    client = Client()
    for _ in range(10):
        assert get_config(client, url).status_code == 200
    assert (configured.count("token"), configured.count("ticket")) == (1, 1)


def concurrent_configs(url, threads=16):
    barrier = threading.Barrier(threads)
    results = []

    def worker():
        client = Client()
        barrier.wait()
        response = get_config(client, url)
        results.append((response.status_code, response.json()))

    pool = [threading.Thread(target=worker) for _ in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join(timeout=30)
    return results


def test_concurrent_requests_share_one_fetch(configured, activity):
    # Each WeChat answer takes 0.3 s, so all 16 requests arrive during the fetch.
    configured.delay = 0.3
    url = f"http://testserver{page_path(activity)}?from=groupmessage&isappinstalled=0"
    results = concurrent_configs(url)
    assert [status for status, _ in results] == [200] * 16
    assert (configured.count("token"), configured.count("ticket")) == (1, 1)
    for _, config in results:
        assert config["signature"] == expected_signature(
            configured.ticket, config["nonceStr"], config["timestamp"], url
        )


def test_control_without_the_lock_every_request_fetches(
    configured, activity, monkeypatch
):
    """The race is real: with a lock that every request gets, the concurrent
    requests all find the cache empty and all go to WeChat."""
    # Each thread has its own cache object (on shared storage): patch the class.
    monkeypatch.setattr(LocMemCache, "add", lambda *args, **kwargs: True)
    configured.delay = 0.3
    concurrent_configs(f"http://testserver{page_path(activity)}")
    # Every request fetched a token; each new token replaced the one before in
    # the fake (as in WeChat), so some tickets were refused on top of that.
    assert configured.count("token") >= 8


def test_expired_token_and_ticket_are_fetched_again(client, configured, activity):
    configured.expires_in = 2  # cached for 1 s (a tenth is kept as margin)
    url = f"http://testserver{page_path(activity)}"
    first = get_config(client, url).json()
    first_ticket = configured.ticket
    assert get_config(client, url).status_code == 200
    assert (configured.count("token"), configured.count("ticket")) == (1, 1)
    time.sleep(1.2)
    second = get_config(client, url).json()
    assert (configured.count("token"), configured.count("ticket")) == (2, 2)
    assert configured.ticket != first_ticket
    assert first["signature"] == expected_signature(
        first_ticket, first["nonceStr"], first["timestamp"], url
    )
    assert second["signature"] == expected_signature(
        configured.ticket, second["nonceStr"], second["timestamp"], url
    )


def test_lifetime_keeps_a_margin_before_expiry():
    assert wechat.lifetime(7200) == 6900
    assert wechat.lifetime(2) == 1
    assert wechat.lifetime(0) == 1


def test_a_replaced_access_token_is_fetched_again(client, configured, activity):
    url = f"http://testserver{page_path(activity)}"
    assert get_config(client, url).status_code == 200
    # Another server fetched a new token: ours is now refused by WeChat.
    configured.tokens.append("TOKEN-of-someone-else")
    cache.delete(wechat.cache_key("jsapi_ticket"))
    config = get_config(client, url).json()
    # ticket refused (40001), new token, ticket again
    assert (configured.count("token"), configured.count("ticket")) == (2, 3)
    assert config["signature"] == expected_signature(
        configured.ticket, config["nonceStr"], config["timestamp"], url
    )


REDIS_WORKER = """
import json, os, threading, time
import django
django.setup()
from sharing import wechat
start = float(os.environ["START_AT"])
results = []
def work():
    time.sleep(max(0, start - time.time()))
    results.append(wechat.get_jsapi_ticket())
threads = [threading.Thread(target=work) for _ in range(8)]
[t.start() for t in threads]
[t.join() for t in threads]
print(json.dumps(results))
"""


def test_processes_sharing_redis_fetch_once(configured, tmp_path):
    """Several processes (4 × 8 threads) with the Redis cache of a scale-out
    deployment: still exactly one token and one ticket fetch."""
    server = shutil.which("redis-server")
    if server is None:
        pytest.skip("redis-server is not installed")
    port = free_port()
    redis = subprocess.Popen(
        [server, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
         "--appendonly", "no", "--dir", str(tmp_path)],
        stdout=subprocess.DEVNULL,
        env=real_clock_env(),
    )
    try:
        for _ in range(50):
            with socket.socket() as sock:
                if sock.connect_ex(("127.0.0.1", port)) == 0:
                    break
            time.sleep(0.1)
        configured.delay = 0.5
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "portal.settings.test",
            "REDIS_URL": f"redis://127.0.0.1:{port}/0",
            "WECHAT_APP_ID": APP_ID,
            "WECHAT_APP_SECRET": APP_SECRET,
            "WECHAT_API_BASE": configured.url,
            "START_AT": str(time.time() + 6),
        }
        workers = [
            subprocess.Popen(
                [sys.executable, "-c", REDIS_WORKER],
                cwd=ROOT,
                env=env,
                stdout=subprocess.PIPE,
                text=True,
            )
            for _ in range(4)
        ]
        tickets = []
        for worker in workers:
            out, _ = worker.communicate(timeout=60)
            assert worker.returncode == 0
            tickets += json.loads(out.strip().splitlines()[-1])
    finally:
        redis.terminate()
        redis.wait(timeout=10)
    assert len(tickets) == 32
    assert set(tickets) == {configured.ticket}
    assert (configured.count("token"), configured.count("ticket")) == (1, 1)


# ---------------------------------------------------------------------------
# Failures: 503 for the script, nothing for the page
# ---------------------------------------------------------------------------


def test_wechat_error_gives_503_and_the_page_is_unaffected(
    client, configured, activity, caplog
):
    configured.error = {"errcode": 40013, "errmsg": "invalid appid"}
    url = f"http://testserver{page_path(activity)}?from=singlemessage&isappinstalled=0"
    with caplog.at_level(logging.WARNING, logger="sharing.wechat"):
        response = get_config(client, url)
    assert response.status_code == 503
    assert response.json() == {"error": "微信分享暂时不可用，请稍后再试。"}
    assert "no-store" in response["Cache-Control"]
    assert "40013" in caplog.text and "invalid appid" in caplog.text
    # Remembered for a while: the next requests do not hammer WeChat.
    assert get_config(client, url).status_code == 503
    assert configured.count("token") == 1

    path = page_path(activity)
    page = client.get(path, {"from": "singlemessage", "isappinstalled": 0})
    assert page.status_code == 200
    html = page.content.decode()
    assert f'<link rel="canonical" href="http://testserver{path}">' in html
    assert 'property="og:image"' in html and 'property="og:title"' in html
    assert configured.count("token") == 1  # the page called nobody


def test_unreachable_wechat_gives_503(client, settings, configured, activity):
    settings.WECHAT_API_BASE = f"http://127.0.0.1:{free_port()}"  # nothing there
    response = get_config(client, f"http://testserver{page_path(activity)}")
    assert response.status_code == 503
    assert response.json()["error"] == "微信分享暂时不可用，请稍后再试。"


def test_an_unexpected_failure_is_no_server_error(
    client, configured, activity, monkeypatch
):
    def broken():
        raise ConnectionError("the shared cache is down")

    monkeypatch.setattr(wechat, "get_jsapi_ticket", broken)
    response = get_config(client, f"http://testserver{page_path(activity)}")
    assert response.status_code == 503


def test_pages_never_call_wechat_while_rendering(client, configured, activity):
    for path in ("/", page_path(activity), "/activities/", "/activities/month/"):
        assert client.get(path).status_code == 200
    assert configured.calls == []


# ---------------------------------------------------------------------------
# What pages render
# ---------------------------------------------------------------------------


def scripts(html: str) -> list[str]:
    return SCRIPT_RE.findall(html)


def test_not_configured_no_script_and_404(client, settings, activity):
    settings.WECHAT_APP_ID = ""
    settings.WECHAT_APP_SECRET = ""
    response = get_config(client, f"http://testserver{page_path(activity)}")
    assert response.status_code == 404
    assert response.json() == {"error": "本站未启用微信分享。"}
    for path in ("/", page_path(activity), "/activities/month/", "/search/?q=讲堂"):
        html = client.get(path).content.decode()
        assert "jweixin" not in html and "wechat-share" not in html, path
        assert scripts(html) == [], path


def test_app_id_without_secret_is_not_configured(client, settings, activity):
    settings.WECHAT_APP_ID = APP_ID
    settings.WECHAT_APP_SECRET = ""
    url = f"http://testserver{page_path(activity)}"
    assert get_config(client, url).status_code == 404
    assert scripts(client.get(page_path(activity)).content.decode()) == []


def test_configured_page_carries_sdk_and_share_script(client, configured, activity):
    html = client.get(page_path(activity), {"from": "timeline"}).content.decode()
    tags = scripts(html)
    assert len(tags) == 2
    assert tags[0] == f'<script src="{OFFICIAL_SDK}" defer>'
    share = tags[1]
    assert 'src="/static/js/wechat-share.js"' in share and " defer " in share
    assert f'data-wechat-config="{CONFIG}"' in share
    assert f'data-title="{activity.title}"' in share
    assert f'data-desc="{activity.get_meta_description()}"' in share
    assert f'data-link="http://testserver{page_path(activity)}"' in share
    image = re.search(r'<meta property="og:image" content="([^"]+)"', html).group(1)
    assert f'data-img-url="{image}"' in share
    # The scripts come last in the body, the SDK first (defer keeps the order).
    assert html.index(OFFICIAL_SDK) < html.index("wechat-share.js")
    assert html.index("wechat-share.js") > html.index("</footer>")


def test_sdk_from_our_static_files(client, settings, configured, activity):
    # The default is a path in our static files; any existing one shows how.
    settings.WECHAT_JSSDK_URL = "js/wechat-share.js"
    tags = scripts(client.get(page_path(activity)).content.decode())
    assert tags[0] == '<script src="/static/js/wechat-share.js" defer>'
    for tag in tags:  # no third-party script
        assert 'src="/static/' in tag


def test_missing_local_sdk_copy_renders_no_wechat_script(
    client, settings, configured, activity, caplog
):
    settings.WECHAT_JSSDK_URL = "js/vendor/jweixin-0.0.0-missing.js"
    with caplog.at_level(logging.WARNING, logger="sharing.wechat"):
        response = client.get(page_path(activity))
    assert response.status_code == 200
    assert scripts(response.content.decode()) == []
    assert "install_jweixin" in caplog.text or "vendor/README" in caplog.text


def test_share_script_is_a_static_file_without_inline_code():
    source = (ROOT / "static/js/wechat-share.js").read_text()
    for needle in (
        "MicroMessenger",
        'location.href.split("#")[0]',
        "wx.config",
        "debug: false",
        "updateAppMessageShareData",
        "updateTimelineShareData",
        "wx.ready",
        "encodeURIComponent",
    ):
        assert needle in source, needle


def test_config_url_in_the_script_is_quoted(client, configured, activity):
    # What the script sends: location.href percent-encoded as one parameter.
    loaded = f"http://testserver{page_path(activity)}?from=timeline&isappinstalled=0"
    response = client.get(f"{CONFIG}?url={quote(loaded, safe='')}")
    config = response.json()
    assert config["signature"] == expected_signature(
        configured.ticket, config["nonceStr"], config["timestamp"], loaded
    )


def test_install_jweixin_refuses_a_file_that_is_not_the_pinned_one(tmp_path):
    from django.core.management import CommandError, call_command

    source = tmp_path / "index.js"
    source.write_text("window.wx = {};")
    target = ROOT / "static/js/vendor/jweixin-1.6.0.js"
    existed = target.exists()
    with pytest.raises(CommandError, match="sha256"):
        call_command("install_jweixin", source=str(source))
    assert target.exists() == existed
