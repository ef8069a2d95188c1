"""我的报名 in WeChat on phones (390×844): a resident signs up on one phone
(browser context A), then on another phone (context B, no cookies) is told the
number already holds a sign-up, follows the link to 我的报名, finds it with the
number and the code, and cancels it; phone A's 我的报名 lists it without typing
and shows it cancelled."""

import pytest

from tests.e2e.conftest import WECHAT_UA

pytestmark = pytest.mark.browser

SETUP = """
import json
from datetime import timedelta
from django.utils import timezone
from home.models import CommunityPage
from tests.factories import ActivityPageFactory

start = (timezone.localtime() + timedelta(days=4)).replace(
    hour=9, minute=30, second=0, microsecond=0)
page = ActivityPageFactory(
    parent=CommunityPage.objects.get(slug="jiayuan"),
    title="甲院老年书法班（我的报名）", venue="甲院党群服务中心二楼活动室",
    registration_required=True, capacity=20, waitlist_enabled=True,
    max_party_size=2, start=start, end=start + timedelta(hours=2),
)
print(json.dumps({"url": page.url}))
"""

PHONE_TYPED = "139 8765 4321"


def new_phone(browser):
    return browser.new_context(
        viewport={"width": 390, "height": 844},
        device_scale_factor=2,
        is_mobile=True,
        has_touch=True,
        user_agent=WECHAT_UA,
        locale="zh-CN",
    )


def assert_fits_and_is_large(page):
    """No sideways scrolling; body text ≥ 18 px; every button and button-like
    link in the main column at least 48 px tall."""
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    size = page.evaluate("parseFloat(getComputedStyle(document.body).fontSize)")
    assert size >= 18
    heights = page.evaluate(
        """[...document.querySelectorAll('main .button, main button, main input')]
        .filter(e => e.offsetParent !== null && e.type !== 'hidden'
                && e.type !== 'checkbox')
        .map(e => [e.textContent.trim() || e.name, e.getBoundingClientRect().height])"""
    )
    small = [(name, h) for name, h in heights if h < 48]
    assert heights and small == []


def test_sign_up_on_one_phone_find_and_cancel_it_on_another(
    demo_server, browser, screenshot_dir
):
    activity = demo_server.python(SETUP)["url"]
    context_a, context_b = new_phone(browser), new_phone(browser)
    a, b = context_a.new_page(), context_b.new_page()
    errors = []
    for page in (a, b):
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.on(
            "response",
            lambda r: errors.append(f"{r.status} {r.url}") if r.status >= 500 else None,
        )

    # Phone A: sign up.
    a.goto(demo_server.url + activity + "signup/")
    a.get_by_label("姓名").fill("张桂芳")
    a.get_by_role("textbox", name="手机号", exact=True).fill(PHONE_TYPED)
    a.get_by_label("我已阅读并同意").check()
    a.get_by_role("button", name="提交报名").click()
    a.wait_for_url("**/r/*/")
    assert a.locator("h1").inner_text() == "已报名"
    code = a.locator(".code").first.inner_text()
    assert "我的报名" in a.locator(".result").inner_text()
    a.screenshot(path=screenshot_dir / "my-signups-result-a.png", full_page=True)
    # Phone A lists it without typing, from the menu: in sight, a finger tall.
    nav_link = a.get_by_role("navigation", name="主导航").get_by_role(
        "link", name="我的报名"
    )
    box = nav_link.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= 390 and box["height"] >= 48
    nav_link.click()
    a.wait_for_url("**/my/")
    assert code in a.locator(".my-list").inner_text()
    assert "张*" in a.content() and "张桂芳" not in a.content()

    # Phone B, no cookies: the same number is refused, with the way to 我的报名.
    b.goto(demo_server.url + activity + "signup/")
    b.get_by_label("姓名").fill("张桂芳")
    b.get_by_role("textbox", name="手机号", exact=True).fill(PHONE_TYPED)
    b.get_by_label("我已阅读并同意").check()
    with b.expect_navigation():
        b.get_by_role("button", name="提交报名").click()
    assert "请到“我的报名”输入手机号和报名码查看或取消" in b.content()
    b.screenshot(path=screenshot_dir / "my-signups-already-b.png", full_page=True)
    b.get_by_role("link", name="去“我的报名”查看或取消").click()
    b.wait_for_url("**/my/")
    assert b.locator(".my-list").count() == 0
    assert_fits_and_is_large(b)
    b.screenshot(path=screenshot_dir / "my-signups-form-b.png", full_page=True)

    # A wrong code first: the neutral answer, what was typed kept.
    phone_box = b.get_by_label("报名用的手机号")
    assert phone_box.get_attribute("inputmode") == "numeric"
    assert phone_box.get_attribute("autocomplete") == "tel"
    phone_box.fill(PHONE_TYPED)
    b.get_by_label("报名码").fill("ZZZZ22")
    with b.expect_navigation():
        b.get_by_role("button", name="查找我的报名").click()
    assert "没有找到报名" in b.locator("[role=alert]").first.inner_text()
    assert b.get_by_label("报名用的手机号").input_value() == PHONE_TYPED
    b.screenshot(path=screenshot_dir / "my-signups-not-found-b.png", full_page=True)

    # The right code, typed in lower case with a space.
    b.get_by_label("报名码").fill(f"{code[:3].lower()} {code[3:].lower()}")
    with b.expect_navigation():
        b.get_by_role("button", name="查找我的报名").click()
    item = b.locator(".my-item", has_text=code)
    assert "甲院老年书法班（我的报名）" in item.inner_text()
    assert "已报名" in item.inner_text() and "139****4321" in item.inner_text()
    assert "13987654321" not in b.content()
    assert_fits_and_is_large(b)
    b.screenshot(path=screenshot_dir / "my-signups-found-b.png", full_page=True)
    # Add to calendar: the per-sign-up .ics.
    href = item.get_by_role("link", name="添加到日历").get_attribute("href")
    ics = b.request.get(demo_server.url + href)
    assert ics.status == 200 and "BEGIN:VEVENT" in ics.text()
    # Remembered on phone B now: a reload lists it without typing.
    b.goto(demo_server.url + "/my/")
    assert code in b.locator(".my-list").inner_text()

    # Cancel it from phone B.
    b.locator(".my-item", has_text=code).get_by_role("link", name="取消报名").click()
    b.wait_for_url("**/my/cancel/*/")
    assert "确定要取消这份报名吗" in b.content()
    assert_fits_and_is_large(b)
    b.screenshot(path=screenshot_dir / "my-signups-confirm-b.png", full_page=True)
    b.get_by_role("button", name="确认取消").click()
    b.wait_for_url("**/my/?done=cancelled")
    assert "已取消报名" in b.locator("[role=status]").first.inner_text()
    assert "已取消" in b.locator(".my-item", has_text=code).inner_text()
    b.screenshot(path=screenshot_dir / "my-signups-cancelled-b.png", full_page=True)

    # Phone A sees it cancelled, without typing.
    a.reload()
    assert "已取消" in a.locator(".my-item", has_text=code).inner_text()
    a.screenshot(path=screenshot_dir / "my-signups-list-a.png", full_page=True)
    assert errors == []
    context_a.close()
    context_b.close()
