"""The door without a smartphone QR, in Chromium: a community editor on a staff
phone finds a resident by the last four digits of the phone (two match; the
name's first character chooses), checks them in with the big button, then
prints the session's A4 签到表 (print media, PDF on A4)."""

import re

import pytest

from tests.e2e.conftest import log_in

SETUP = """
import json
from datetime import timedelta
from django.utils import timezone
from events import registration as service
from events.models import Occurrence
from home.models import CommunityPage
from tests.factories import ActivityPageFactory

start = (timezone.localtime() + timedelta(hours=2)).replace(minute=0, second=0,
                                                             microsecond=0)
page = ActivityPageFactory(
    parent=CommunityPage.objects.get(slug="jiayuan"),
    title="甲院剪纸课（门口签到）", venue="甲院党群服务中心二楼活动室",
    registration_required=True, capacity=40, waitlist_enabled=True,
    max_party_size=4, start=start,
    end=start + timedelta(hours=2),
)
occurrence = Occurrence.objects.get(page_id=page.pk)
names = ["王芳", "李强", "张秀英", "刘伟", "陈静", "杨洋", "赵敏", "黄磊", "周杰",
         "吴霞", "徐明", "孙丽", "胡军", "朱红", "高峰", "林芳", "何平", "郭华",
         "马超", "罗兰", "梁晨", "宋佳", "郑爽", "谢娜", "韩梅", "唐宁", "冯刚",
         "于洁", "董强", "萧然", "程远", "曹阳", "袁静", "邓超"]
codes = {}
for i, name in enumerate(names):
    phone = "13800001234" if name == "王芳" else (
        "13900001234" if name == "李强" else f"1370000{i:04d}")
    reg = service.sign_up(page, occurrence.pk, name=name, phone=phone,
                          party_size=1 + i % 3).registration
    codes[name] = reg.code
print(json.dumps({"occurrence": occurrence.pk, "codes": codes}))
"""


@pytest.fixture
def staff_phone(browser):
    context = browser.new_context(
        viewport={"width": 390, "height": 844},
        device_scale_factor=2,
        is_mobile=True,
        has_touch=True,
        locale="zh-CN",
    )
    page = context.new_page()
    yield page
    context.close()


def test_door_lookup_by_last_four_and_printed_roster(
    demo_server, staff_phone, browser, screenshot_dir
):
    data = demo_server.python(SETUP)
    session, codes = data["occurrence"], data["codes"]
    page = staff_phone
    log_in(page, demo_server, "jiayuan")

    page.goto(demo_server.url + "/admin/checkin/")
    page.select_option("#checkin-session", str(session))
    page.fill("#checkin-last4", "１２３４")  # full-width, as some IMEs type
    page.click("text=按手机号查找")
    page.wait_for_selector(".checkin__choices")
    choices = page.locator(".checkin__choice")
    assert choices.count() == 2
    assert "王*" in page.inner_text(".checkin__choices")
    assert "王芳" not in page.content()
    page.screenshot(path=screenshot_dir / "door-several.png", full_page=True)

    page.fill("#checkin-initial", "王")
    page.click("text=按手机号查找")
    page.wait_for_selector(".checkin__confirm")
    assert codes["王芳"] in page.inner_text(".checkin__card")
    page.screenshot(path=screenshot_dir / "door-card.png", full_page=True)
    button = page.locator(".checkin__confirm").bounding_box()
    assert button["height"] >= 44 and button["width"] >= 300
    page.click(".checkin__confirm")
    page.wait_for_selector("text=签到成功")
    assert "王*" in page.inner_text("body")
    # The session stays chosen for the next resident.
    assert page.input_value("#checkin-session") == str(session)
    page.screenshot(path=screenshot_dir / "door-checked-in.png", full_page=True)

    # The printed roster, from the link on the door page.
    desk = browser.new_context(viewport={"width": 1366, "height": 900}, locale="zh-CN")
    roster = desk.new_page()
    log_in(roster, demo_server, "jiayuan")
    errors = []
    roster.on("pageerror", lambda error: errors.append(str(error)))
    roster.on(
        "response",
        lambda r: errors.append(f"{r.status} {r.url}") if r.status >= 400 else None,
    )
    roster.goto(demo_server.url + "/admin/checkin/?occurrence=" + str(session))
    roster.click("text=打印这一场的签到表")
    roster.wait_for_selector(".roster__table")
    text = roster.inner_text("body")
    assert "签到表：甲院剪纸课（门口签到）" in text
    assert codes["李强"] in text and "李*" in text and "李强" not in text
    assert "138****1234" in text
    assert not re.search(r"(?<!\d)1[3-9]\d{9}(?!\d)", text)

    # The print button calls window.print() (from a static file: no CSP error).
    roster.evaluate("window.print = () => { window.__printed = true; }")
    roster.click("[data-roster-print]")
    assert roster.evaluate("window.__printed") is True
    assert errors == []

    roster.screenshot(path=screenshot_dir / "roster-screen.png")
    roster.goto(demo_server.url + f"/admin/registrations/?occurrence={session}")
    roster.screenshot(path=screenshot_dir / "roster-listing.png")
    roster.click("text=打印签到表")
    roster.wait_for_selector(".roster__table")
    roster.emulate_media(media="print")
    assert not roster.locator(".roster__tools").is_visible()
    size = roster.evaluate(
        "parseFloat(getComputedStyle(document.querySelector('.roster__table td'))"
        ".fontSize)"
    )
    assert size >= 14 * 96 / 72  # 14 pt in CSS pixels
    roster.set_viewport_size({"width": 794, "height": 1123})  # A4 at 96 dpi
    roster.screenshot(path=screenshot_dir / "roster-print.png", full_page=True)
    pdf = roster.pdf(prefer_css_page_size=True, print_background=True)
    (screenshot_dir / "roster.pdf").write_bytes(pdf)
    pages = len(re.findall(rb"/Type\s*/Page[^s]", pdf))
    assert pages >= 2  # 34 sign-ups in 16 pt do not fit on one sheet
    boxes = re.findall(rb"/MediaBox\s*\[\s*0 0 ([\d.]+) ([\d.]+)\]", pdf)
    assert boxes and all(
        abs(float(w) - 595.92) < 2 and abs(float(h) - 842.88) < 2 for w, h in boxes
    ), boxes
    desk.close()
