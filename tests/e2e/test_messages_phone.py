"""Messages to residents, end to end, on phones in WeChat (390×844): the served
site sends through the real 阿里云短信 SDK to the fake provider on 127.0.0.1
(tests/fake_sms.py), tasks are queued in the database and sent by the worker
(``python -m portal.worker``), as deployed.

One session with one seat. 甲 (SMS ticked) takes it; 乙 (ticked) and 丙 (not
ticked) join the waitlist from the form that says 候补; 丁 (ticked) too. 甲 cancels
on the result page: 乙 is promoted and the provider receives exactly one message.
Staff move the session: one message to each opted-in sign-up still active (乙,
丁), none to 丙. The reminder the day before: ``send_reminders`` run twice, the
worker run twice, one message (乙, the only confirmed one who opted in).

我的报名 by SMS code (another activity): 戊 signs up on one phone, and on another
phone, without any 报名码, asks for a code by SMS, types it, sees the sign-up and
cancels it.

Times are relative to now, and the reminder hour is 0, so the day before has
begun whatever the clock says: the session starts in 20 hours (moved to 21)."""

import subprocess
import sys

import pytest

from tests.e2e.conftest import WECHAT_UA
from tests.fake_sms import ACCESS_KEY_ID, FakeAliyunSms
from tests.server import ROOT, DemoServer

pytestmark = pytest.mark.browser

TEMPLATES = {
    "PROMOTED": "SMS_200000001",
    "CHANGED": "SMS_200000002",
    "CANCELLED": "SMS_200000003",
    "REMINDER": "SMS_200000004",
    "LOGIN_CODE": "SMS_200000005",
}

SETUP = """
import json
from datetime import timedelta
from django.utils import timezone
from home.models import CommunityPage
from tests.factories import ActivityPageFactory

start = (timezone.now() + timedelta(hours=20)).replace(second=0, microsecond=0)
page = ActivityPageFactory(
    parent=CommunityPage.objects.get(slug="jiayuan"),
    title="甲院重阳剪纸课（短信）", venue="甲院党群服务中心二楼活动室",
    registration_required=True, capacity=1, waitlist_enabled=True,
    max_party_size=1, start=start, end=start + timedelta(hours=2),
)
print(json.dumps({"url": page.url, "id": page.id}))
"""

MOVE = """
import json
from datetime import timedelta
from django.contrib.auth import get_user_model
from events.models import ActivityPage
page = ActivityPage.objects.get(pk={id})
page.start += timedelta(hours=1)
page.end += timedelta(hours=1)
staff = get_user_model().objects.get(username="xuanchuan")
page.save_revision(user=staff).publish(user=staff)
print(json.dumps(page.start.isoformat()))
"""

# 乙's sign-up and promotion three days ago: a reminder goes to those who signed
# up (or were promoted) before the reminder hour, not to one who just did.
EARLIER = """
import json
from datetime import timedelta
from django.utils import timezone
from events.models import Registration
earlier = timezone.now() - timedelta(days=3)
print(json.dumps(Registration.objects.filter(occurrence__page_id={id}).update(
    created_at=earlier, promoted_at=earlier)))
"""

PEOPLE = {
    "甲": ("13911110001", True),
    "乙": ("13911110002", True),
    "丙": ("13911110003", False),
    "丁": ("13911110004", True),
}


@pytest.fixture(scope="module")
def sms():
    with FakeAliyunSms() as fake:
        yield fake


@pytest.fixture(scope="module")
def sms_server(tmp_path_factory, sms):
    env = {
        "TASKS_BACKEND": "database",
        "SMS_BACKEND": "notify.backends.AliyunBackend",
        "SMS_ENDPOINT": sms.url,
        "SMS_ACCESS_KEY_ID": ACCESS_KEY_ID,
        "SMS_ACCESS_KEY_SECRET": "test-secret",
        "SMS_SIGN_NAME": "花园路街道",
        "SMS_REMINDER_HOUR": "0",
        **{f"SMS_TEMPLATE_{kind}": code for kind, code in TEMPLATES.items()},
    }
    server = DemoServer(
        tmp_path_factory.mktemp("sms-server"), suffix="sms", extra_env=env
    ).start()
    yield server
    server.stop()


def run_worker(server) -> None:
    """The deployed worker, once through the queue (db_worker ``--batch``)."""
    result = subprocess.run(
        [sys.executable, "-m", "portal.worker", "--batch", "--no-startup-delay"],
        cwd=ROOT,
        env=server.env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def sent(sms, kind: str) -> list[str]:
    """The phone numbers the provider accepted a ``kind`` message for."""
    code = TEMPLATES[kind]
    return sorted(m["PhoneNumbers"] for m in sms.delivered if m["TemplateCode"] == code)


def sign_up(phone_page, server, activity, name, phone, consent) -> str:
    phone_page.goto(server.url + activity + "signup/")
    phone_page.get_by_label("姓名").fill(name)
    phone_page.get_by_role("textbox", name="手机号", exact=True).fill(phone)
    if consent:
        phone_page.get_by_label("给我发短信通知").check()
    phone_page.get_by_label("我已阅读并同意").check()
    phone_page.locator("form button[type=submit]").last.click()
    phone_page.wait_for_url("**/r/*/")
    return phone_page.locator("h1").inner_text()


def test_promotion_move_and_reminder_each_send_once(
    sms_server, sms, browser, screenshot_dir
):
    server = sms_server
    activity = server.python(SETUP)
    errors = []
    contexts, phones, headings = [], {}, {}
    for name, (number, consent) in PEOPLE.items():
        # Each resident on a phone of their own.
        contexts.append(
            browser.new_context(
                viewport={"width": 390, "height": 844},
                is_mobile=True,
                has_touch=True,
                user_agent=WECHAT_UA,
                locale="zh-CN",
            )
        )
        page = contexts[-1].new_page()
        page.on(
            "response",
            lambda r: errors.append(f"{r.status} {r.url}") if r.status >= 500 else None,
        )
        if name == "乙":
            # The seat is taken: the form says so before anyone types.
            page.goto(server.url + activity["url"] + "signup/")
            assert "加入候补" in page.locator("form").inner_text()
            page.screenshot(path=screenshot_dir / "sms-waitlist-form.png")
        headings[name] = sign_up(
            page, server, activity["url"], name * 2, number, consent
        )
        phones[name] = page
    assert headings == {
        "甲": "已报名",
        "乙": "候补第 1 位",
        "丙": "候补第 2 位",
        "丁": "候补第 3 位",
    }
    run_worker(server)
    assert sms.delivered == []  # signing up sends nothing

    # 甲 cancels from the result page: 乙 moves up, one message.
    a = phones["甲"]
    a.get_by_role("link", name="取消报名").click()
    with a.expect_navigation():
        a.get_by_role("button", name="确认取消").click()
    run_worker(server)
    assert sent(sms, "PROMOTED") == [PEOPLE["乙"][0]]
    assert len(sms.delivered) == 1
    b = phones["乙"]
    b.reload()
    assert b.locator("h1").inner_text() == "已报名"
    assert "不再接收短信" in b.content()
    b.screenshot(path=screenshot_dir / "sms-promoted-result.png", full_page=True)

    # Staff move the session an hour: one message per opted-in active sign-up.
    server.python(MOVE.format(id=activity["id"]))
    run_worker(server)
    assert sent(sms, "CHANGED") == sorted([PEOPLE["乙"][0], PEOPLE["丁"][0]])
    assert PEOPLE["丙"][0] not in {m["PhoneNumbers"] for m in sms.delivered}

    # The reminder: the command and the worker twice each, one message.
    server.python(EARLIER.format(id=activity["id"]))
    for _ in range(2):
        result = server.manage_output("send_reminders")
        assert result.returncode == 0, result.stderr
        run_worker(server)
    assert sent(sms, "REMINDER") == [PEOPLE["乙"][0]]
    assert len(sms.delivered) == 4
    assert "13911110002" not in server.log_text()
    assert errors == []
    for context in contexts:
        context.close()


SMS_SETUP = """
import json
from datetime import timedelta
from django.utils import timezone
from home.models import CommunityPage
from tests.factories import ActivityPageFactory

start = (timezone.now() + timedelta(days=3)).replace(second=0, microsecond=0)
page = ActivityPageFactory(
    parent=CommunityPage.objects.get(slug="jiayuan"),
    title="甲院手机摄影课（验证码）", venue="甲院党群服务中心一楼",
    registration_required=True, capacity=10, max_party_size=1,
    start=start, end=start + timedelta(hours=2),
)
print(json.dumps({"url": page.url, "id": page.id}))
"""

STATUS = """
import json
from events.models import Registration
print(json.dumps(list(Registration.objects.filter(
    occurrence__page_id={id}).values_list("status", flat=True))))
"""


def new_phone(browser):
    return browser.new_context(
        viewport={"width": 390, "height": 844},
        is_mobile=True,
        has_touch=True,
        user_agent=WECHAT_UA,
        locale="zh-CN",
    )


def test_my_signups_by_sms_code_on_another_phone(
    sms_server, sms, browser, screenshot_dir
):
    server = sms_server
    activity = server.python(SMS_SETUP)
    number = "13911110005"
    first, second = new_phone(browser), new_phone(browser)
    try:
        sign_up(first.new_page(), server, activity["url"], "戊戊", number, False)
        b = second.new_page()
        errors = []
        b.on(
            "response",
            lambda r: errors.append(f"{r.status} {r.url}") if r.status >= 500 else None,
        )
        b.goto(server.url + "/my/")
        b.get_by_role("link", name="用短信验证码查找").click()
        b.wait_for_url("**/my/sms/")
        b.get_by_label("报名用的手机号").fill(number)
        b.get_by_role("button", name="获取验证码").click()
        assert "验证码短信已经发出" in b.locator("[role=status]").inner_text()
        codes = [
            m["TemplateParam"]["code"]
            for m in sms.delivered
            if m["TemplateCode"] == TEMPLATES["LOGIN_CODE"]
            and m["PhoneNumbers"] == number
        ]
        assert len(codes) == 1
        field = b.get_by_label("短信验证码")
        assert field.bounding_box()["height"] >= 44
        field.fill(codes[0])
        b.screenshot(path=screenshot_dir / "my-signups-sms-code.png", full_page=True)
        b.get_by_role("button", name="查看我的报名").click()
        item = b.locator(".my-item", has_text="甲院手机摄影课（验证码）")
        assert item.count() == 1
        b.screenshot(path=screenshot_dir / "my-signups-sms-found.png", full_page=True)
        item.get_by_role("link", name="取消报名").click()
        b.wait_for_url("**/my/cancel/*/")
        b.get_by_role("button", name="确认取消").click()
        b.wait_for_url("**/my/?done=cancelled")
        assert "已取消" in b.locator(".my-item", has_text="手机摄影课").inner_text()
        assert server.python(STATUS.replace("{id}", str(activity["id"]))) == [
            "cancelled"
        ]
        assert errors == []
    finally:
        first.close()
        second.close()
