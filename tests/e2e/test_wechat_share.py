"""A resident opens an activity shared into a WeChat chat: the page configures the
JS-SDK share card with the server's signature for the address actually loaded
(WeChat's ?from=…&isappinstalled=… included, the # part left out) and gives the
card the page's title, description, canonical link and image.

The demo is served with a WeChat account pointing at a fake WeChat API on
127.0.0.1. The JS-SDK itself only works inside WeChat, so the browser gets a
stub ``wx`` (an init script) and the SDK's address answers with a no-op script.
"""

import hashlib
import json
import time

import pytest

from tests.fake_wechat import APP_ID, APP_SECRET, FakeWeChat
from tests.server import DemoServer

pytestmark = pytest.mark.browser

SDK_URL = "https://res.wx.qq.com/open/js/jweixin-1.6.0.js"

# Records what the page asks of the JS-SDK; `ready` runs once config was called,
# as the real SDK does after WeChat accepted the signature.
STUB_WX = """
window.__wx = {config: null, ready: 0, appMessage: null, timeline: null};
window.wx = {
    config: function (c) { window.__wx.config = c; },
    ready: function (cb) {
        window.__wx.ready += 1;
        setTimeout(function () { if (window.__wx.config) { cb(); } }, 0);
    },
    error: function () {},
    updateAppMessageShareData: function (d) { window.__wx.appMessage = d; },
    updateTimelineShareData: function (d) { window.__wx.timeline = d; }
};
"""


@pytest.fixture(scope="module")
def fake_wechat():
    with FakeWeChat() as fake:
        yield fake


@pytest.fixture(scope="module")
def wechat_server(tmp_path_factory, fake_wechat):
    server = DemoServer(
        tmp_path_factory.mktemp("wechat-server"),
        suffix="wechat",
        extra_env={
            "WECHAT_APP_ID": APP_ID,
            "WECHAT_APP_SECRET": APP_SECRET,
            "WECHAT_API_BASE": fake_wechat.url,
            "WECHAT_JSSDK_URL": SDK_URL,
        },
    ).start()
    yield server
    server.stop()


def meta(page, selector: str) -> str:
    return page.locator(selector).first.get_attribute("content")


def test_activity_page_configures_the_share_card(
    wechat_server, fake_wechat, phone, screenshot_dir
):
    path = wechat_server.python(
        "import json\n"
        "from events.models import ActivityPage\n"
        "page = ActivityPage.objects.live().exclude(cover=None).order_by('path')"
        ".first()\n"
        "print(json.dumps(page.url))"
    )
    foreign, errors, configs = [], [], []

    def on_request(request):
        if request.url.startswith(wechat_server.url + "/share/wechat/config/"):
            configs.append(request.url)
        elif not request.url.startswith(wechat_server.url):
            foreign.append(request.url)

    phone.on("request", on_request)
    phone.on("pageerror", lambda error: errors.append(str(error)))
    phone.route(
        SDK_URL,
        lambda route: route.fulfill(
            status=200,
            content_type="application/javascript",
            body="/* the real SDK only works inside WeChat */",
        ),
    )
    phone.add_init_script(STUB_WX)

    loaded = f"{wechat_server.url}{path}?from=singlemessage&isappinstalled=0"
    phone.goto(loaded + "#signup")
    # Polled from here: wait_for_function evaluates its predicate with eval() inside
    # the page, which the public CSP (no 'unsafe-eval') refuses.
    deadline = time.monotonic() + 30
    while not phone.evaluate("!!(window.__wx && window.__wx.timeline !== null)"):
        assert time.monotonic() < deadline, "wx.config never ran"
        phone.wait_for_timeout(100)
    calls = phone.evaluate("window.__wx")
    assert phone.evaluate("location.href") == loaded + "#signup"

    # wx.config got the server's signature for the address really loaded.
    config = calls["config"]
    assert config["debug"] is False
    assert config["appId"] == APP_ID
    assert config["jsApiList"] == [
        "updateAppMessageShareData",
        "updateTimelineShareData",
    ]
    raw = (
        f"jsapi_ticket={fake_wechat.ticket}&noncestr={config['nonceStr']}"
        f"&timestamp={config['timestamp']}&url={loaded}"
    )
    assert config["signature"] == hashlib.sha1(raw.encode()).hexdigest()
    assert len(configs) == 1
    assert (fake_wechat.count("token"), fake_wechat.count("ticket")) == (1, 1)

    # The card is the page's: title, description, canonical link and image.
    canonical = phone.locator('link[rel="canonical"]').get_attribute("href")
    assert canonical == wechat_server.url + path
    card = {
        "title": meta(phone, 'meta[property="og:title"]'),
        "desc": meta(phone, 'meta[name="description"]'),
        "link": canonical,
        "imgUrl": meta(phone, 'meta[property="og:image"]'),
    }
    assert card["title"] and card["desc"] and card["imgUrl"].startswith("http://")
    assert calls["appMessage"] == card
    assert calls["timeline"] == card

    # The share image is the first image of the body, loaded but not visible.
    first = phone.locator("body img").first
    assert first.get_attribute("class") == "share-image"
    assert first.get_attribute("src") == card["imgUrl"]
    assert (
        phone.evaluate("document.querySelector('img.share-image').naturalWidth") >= 300
    )
    box = first.bounding_box()
    assert box is None or (box["width"] <= 1 and box["height"] <= 1)

    assert foreign == [SDK_URL]  # routed: nothing left the machine
    assert errors == []
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390
    phone.evaluate("window.scrollTo(0, 0)")
    phone.screenshot(path=screenshot_dir / "wechat-activity-390x844.png")


def test_outside_wechat_the_script_does_nothing(wechat_server, browser):
    context = browser.new_context(viewport={"width": 390, "height": 844})
    page = context.new_page()
    configs = []
    page.on(
        "request",
        lambda r: configs.append(r.url) if "/share/wechat/config/" in r.url else None,
    )
    page.route(SDK_URL, lambda route: route.fulfill(status=200, body=""))
    page.add_init_script(STUB_WX)
    page.goto(wechat_server.url + "/")
    page.wait_for_load_state("load")
    assert page.locator("script[data-wechat-config]").count() == 1
    assert page.evaluate("window.__wx.config") is None
    assert configs == []
    context.close()


def test_when_signing_fails_the_page_keeps_its_own_card(wechat_server, phone):
    """The endpoint answers 503 when WeChat fails (tests/sharing/test_wechat.py);
    here the browser gets that answer: no wx.config, no error, page intact."""
    errors = []
    phone.on("pageerror", lambda error: errors.append(str(error)))
    phone.route(SDK_URL, lambda route: route.fulfill(status=200, body=""))
    phone.route(
        "**/share/wechat/config/**",
        lambda route: route.fulfill(
            status=503,
            content_type="application/json",
            body=json.dumps({"error": "微信分享暂时不可用，请稍后再试。"}),
        ),
    )
    phone.add_init_script(STUB_WX)
    with phone.expect_response("**/share/wechat/config/**") as answer:
        response = phone.goto(wechat_server.url + "/activities/?from=timeline")
    assert response.status == 200
    assert answer.value.status == 503
    phone.wait_for_timeout(300)
    assert phone.evaluate("window.__wx.config") is None
    assert phone.evaluate("window.__wx.appMessage") is None
    assert phone.locator('meta[property="og:image"]').count() == 1
    assert phone.locator("h1").first.is_visible()
    assert errors == []
