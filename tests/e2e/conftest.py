import os
import re
from pathlib import Path

import pytest

from tests.server import DEFAULT_DEMO_PASSWORD, ROOT, DemoServer

CHROMIUM = "/usr/bin/chromium"
WECHAT_UA = (
    "Mozilla/5.0 (Linux; Android 13; V2134A Build/TP1A.220624.014; wv) "
    "AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/116.0.0.0 "
    "Mobile Safari/537.36 XWEB/1160065 MMWEBSDK/20231202 MicroMessenger/8.0.47"
)
OUTPUT = Path(os.environ.get("TEST_OUTPUT", ROOT / "test-output"))


@pytest.fixture(scope="session")
def demo_server(tmp_path_factory):
    server = DemoServer(tmp_path_factory.mktemp("demo-server")).start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def browser():
    playwright_api = pytest.importorskip("playwright.sync_api")
    if not Path(CHROMIUM).exists():
        pytest.fail("Debian chromium is missing: `make test` installs it")
    # Playwright's sync API keeps an event loop running in this thread until the
    # session ends; Django's async-safety check would then refuse the ORM to every
    # later test on this worker (a file's tests, and the browser tests, are now
    # grouped on one worker, so others follow them there).
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    with playwright_api.sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--headless",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        yield browser
        browser.close()


@pytest.fixture
def phone(browser):
    """A phone-sized page inside WeChat's in-app browser."""
    context = browser.new_context(
        viewport={"width": 390, "height": 844},
        device_scale_factor=2,
        is_mobile=True,
        has_touch=True,
        user_agent=WECHAT_UA,
        locale="zh-CN",
    )
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture
def screenshot_dir() -> Path:
    OUTPUT.mkdir(parents=True, exist_ok=True)
    return OUTPUT


def log_in(page, server, username, password=DEFAULT_DEMO_PASSWORD):
    """Sign in to the admin as ``username`` (a demo account) and wait for the
    dashboard."""
    page.goto(server.url + "/admin/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.locator("form button[type=submit]").click()
    page.wait_for_url(re.compile(r".*/admin/$"))
