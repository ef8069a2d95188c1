"""Issue 20's acceptance walk, in Chromium at 390×844 inside WeChat: a resident
applies on the public form (志愿服务 › 申请成为志愿者) and keeps the code; a
community editor (甲院社区宣传员) presses 审核通过 in the admin; the volunteer
signs up for a post from the activity page with phone + 志愿者编号; the editor
checks them in and out on the door page 志愿者签到; then, on another phone,
志愿者查询 shows the new hours and balance, and the certificate downloads."""

import io
import re

import pytest
from PIL import Image

from tests.e2e.conftest import WECHAT_UA, log_in

pytestmark = pytest.mark.browser

PHONE = "13911112020"

SETUP = """
import json
from datetime import timedelta
from django.urls import reverse
from django.utils import timezone
from events.models import Occurrence
from home.models import CommunityPage
from tests.factories import ActivityPageFactory
from volunteers.models import VolunteerPost

start = (timezone.localtime() + timedelta(hours=3)).replace(minute=0, second=0,
                                                             microsecond=0)
page = ActivityPageFactory(
    parent=CommunityPage.objects.get(slug="jiayuan"),
    title="甲院邻里节（志愿岗位）", venue="甲院小广场",
    registration_required=True, capacity=80, start=start,
    end=start + timedelta(hours=2),
)
occurrence = Occurrence.objects.get(page_id=page.pk)
post = VolunteerPost.objects.create(occurrence=occurrence, title="引导", capacity=4,
                                    description="在入口引导居民")
VolunteerPost.objects.create(occurrence=occurrence, title="签到", capacity=2)
print(json.dumps({"url": page.url, "occurrence": occurrence.pk, "post": post.pk,
                  "volunteers": reverse("volunteers_volunteers:index")}))
"""

# The session is at the door now, and ninety minutes pass between 签到 and 签退:
# the check-in time is moved back, since the door refuses a check-out within a
# minute (posts.served_hours).
PASS_TIME = """
import json
from datetime import timedelta
from django.utils import timezone
from volunteers.models import PostSignup
rows = PostSignup.objects.filter(
    occurrence_id={occurrence}, checked_in_at__isnull=False
)
rows.update(checked_in_at=timezone.now() - timedelta(minutes=90))
print(json.dumps(rows.count()))
"""


def phone_context(browser):
    return browser.new_context(
        viewport={"width": 390, "height": 844},
        device_scale_factor=1,
        is_mobile=True,
        has_touch=True,
        user_agent=WECHAT_UA,
        locale="zh-CN",
        accept_downloads=True,
    )


def test_apply_approve_post_door_and_look_up(demo_server, browser, screenshot_dir):
    data = demo_server.python(SETUP)
    base = demo_server.url
    volunteer = phone_context(browser)
    staff = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    other = phone_context(browser)
    try:
        # 1. A resident applies from the 志愿服务 page.
        page = volunteer.new_page()
        page.goto(base + "/")
        page.locator(".main-nav").get_by_role("link", name="志愿服务").click()
        page.wait_for_url(base + "/volunteers/")
        page.screenshot(path=screenshot_dir / "volunteers-index.png", full_page=True)
        page.get_by_role("link", name="申请成为志愿者").click()
        page.wait_for_url("**/volunteers/apply/")
        form = page.locator("form[action$='apply/']")
        form.get_by_role("button", name="提交申请").click()  # empty: errors first
        page.wait_for_selector("#error-summary")
        assert "请填写姓名。" in page.inner_text("#error-summary")
        form.get_by_role("textbox", name="姓名").fill("郑志愿")
        form.get_by_role("textbox", name="手机号").fill("139 1111 2020")
        form.get_by_role("combobox", name="所在社区").select_option(label="甲院社区")
        form.get_by_role("textbox", name="特长").fill("会修自行车")
        form.get_by_label("我已阅读并同意").check()
        page.screenshot(path=screenshot_dir / "volunteers-apply.png", full_page=True)
        form.get_by_role("button", name="提交申请").click()
        page.wait_for_url("**/volunteers/apply/done/*/")
        code = page.inner_text("#volunteer-code").strip()
        assert re.fullmatch(r"[2-9A-HJ-NP-Z]{6}", code)
        assert PHONE not in page.url and "139****2020" in page.content()
        page.screenshot(path=screenshot_dir / "volunteers-applied.png", full_page=True)

        # 2. Before approval the post refuses the pair, neutrally.
        page.goto(base + f"/volunteers/posts/{data['post']}/")
        page.get_by_role("textbox", name="手机号").fill(PHONE)
        page.get_by_role("textbox", name="志愿者编号").fill(code)
        page.get_by_role("button", name="报名这个岗位").click()
        page.wait_for_selector("#error-summary")
        assert "没有找到志愿者记录" in page.inner_text("#error-summary")

        # 3. The community's editor approves in the admin.
        desk = staff.new_page()
        log_in(desk, demo_server, "jiayuan")
        desk.goto(base + data["volunteers"] + f"?q={code}")
        row = desk.locator("tr", has_text=code)
        assert "郑**" in row.inner_text() and "郑志愿" not in desk.content()
        row.get_by_role("button", name="审核通过").click()
        desk.wait_for_selector(".messages")
        assert "已审核通过" in desk.inner_text(".messages")

        # 4. The volunteer signs up for a post from the activity page.
        page.goto(base + data["url"])
        posts = page.locator(".volunteer-posts")
        assert "引导 ×4" in posts.inner_text() and "余 4" in posts.inner_text()
        page.screenshot(path=screenshot_dir / "volunteers-activity.png", full_page=True)
        posts.get_by_role("link", name=re.compile("报名.*引导")).click()
        page.wait_for_url(f"**/volunteers/posts/{data['post']}/")
        page.get_by_role("textbox", name="手机号").fill("+86 139-1111-2020")
        page.get_by_role("textbox", name="志愿者编号").fill(code.lower())
        page.get_by_role("button", name="报名这个岗位").click()
        page.wait_for_selector(".result__status--ok")
        assert "报名成功" in page.inner_text(".result__status--ok")
        page.screenshot(path=screenshot_dir / "volunteers-post.png", full_page=True)
        page.goto(base + data["url"])
        assert "余 3" in page.locator(".volunteer-posts").inner_text()

        # 5. At the door: 签到, (ninety minutes), 签退.
        desk.goto(base + f"/admin/volunteers/door/?occurrence={data['occurrence']}")
        row = desk.locator("tr", has_text=code)
        row.get_by_role("button", name="签到").click()
        desk.wait_for_selector(".messages")
        assert f"{code} 已签到" in desk.inner_text(".messages")
        assert demo_server.python(PASS_TIME.format(occurrence=data["occurrence"])) == 1
        desk.locator("tr", has_text=code).get_by_role("button", name="签退").click()
        desk.wait_for_selector(".messages")
        assert "服务 1.50 小时，已存入时间银行" in desk.inner_text(".messages")

        # 6. On another phone: 志愿者查询 shows the hours and the balance.
        look = other.new_page()
        look.goto(base + "/volunteers/")
        look.get_by_role("link", name=re.compile("志愿者查询")).click()
        look.get_by_label("手机号").fill(PHONE)
        look.get_by_label("志愿者编号").fill(code)
        look.get_by_role("button", name="查询", exact=True).click()
        look.wait_for_selector("#total-hours")
        assert look.inner_text("#total-hours") == "1.5"
        assert look.inner_text("#balance") == "1.5"
        assert "甲院邻里节（志愿岗位） · 引导" in look.content()
        assert PHONE not in look.url and code not in look.url
        look.screenshot(path=screenshot_dir / "volunteers-lookup.png", full_page=True)
        with look.expect_download() as download:
            look.get_by_role("link", name="下载服务证明").click()
        png = download.value.path().read_bytes()
        image = Image.open(io.BytesIO(png))
        assert image.format == "PNG" and image.size == (1080, 1440)
        (screenshot_dir / "volunteers-certificate.png").write_bytes(png)
    finally:
        for context in (volunteer, staff, other):
            context.close()
