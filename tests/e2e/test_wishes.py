"""微心愿 on phones inside WeChat (390×844): two volunteers open the same wish on
two phones and claim it at the same moment — one claim, the other phone a clear
Chinese message — then the board shows it 已认领 (screenshots in test-output/)."""

import json
import time

import pytest

from tests.e2e.conftest import WECHAT_UA

pytestmark = pytest.mark.browser

SETUP = """
import datetime, json
from django.contrib.auth import get_user_model
from django.utils import timezone
from home.models import CommunityPage
from volunteers import roster, wishes
staff = get_user_model().objects.get(username="admin")
jiayuan = CommunityPage.objects.get(slug="jiayuan")
wish = wishes.publish(user=staff, community=jiayuan, title="想要一台大字版收音机",
    recipient_name="李桂兰", recipient_label="独居老人",
    due_date=timezone.localdate() + datetime.timedelta(days=9))
people = [roster.add(name=name, phone=phone, user=staff, community=jiayuan)
    for name, phone in (("王建国", "13911220001"), ("赵秀梅", "13911220002"))]
print(json.dumps({"wish": wish.pk, "people": [[p.phone, p.code] for p in people]}))
"""

COUNT = """
import json
from volunteers.models import Wish, WishClaim
wish = Wish.objects.get(pk={wish})
print(json.dumps({{"state": wish.state, "claims": WishClaim.objects.filter(
    wish=wish).count()}}))
"""


def phone_context(browser):
    return browser.new_context(
        viewport={"width": 390, "height": 844},
        device_scale_factor=2,
        is_mobile=True,
        has_touch=True,
        user_agent=WECHAT_UA,
        locale="zh-CN",
    )


def test_two_volunteers_claim_one_wish_at_the_same_moment(
    demo_server, browser, screenshot_dir
):
    made = demo_server.python(SETUP)
    wish = made["wish"]
    base = demo_server.url
    contexts = [phone_context(browser) for _ in made["people"]]
    try:
        pages = [context.new_page() for context in contexts]
        for page, (phone, code) in zip(pages, made["people"], strict=True):
            page.goto(f"{base}/wishes/{wish}/")
            assert "李** · 独居老人" in page.content()
            assert "李桂兰" not in page.content()
            page.get_by_role("link", name="我来认领").click()
            page.wait_for_url(f"**/wishes/{wish}/claim/")
            form = page.locator("form:has(input[name=kind][value=volunteer])")
            form.get_by_label("手机号").fill(phone)
            form.get_by_label("志愿者编号").fill(code.lower())
        # Both taps go out before either answer comes back.
        buttons = [
            page.get_by_role("button", name="以志愿者身份认领") for page in pages
        ]
        for button in buttons:
            button.click(no_wait_after=True)
        for page in pages:
            page.wait_for_selector(".wish-result, #error-summary", timeout=20000)
        texts = [page.content() for page in pages]
        won = [t for t in texts if "认领成功" in t]
        lost = [t for t in texts if "这个心愿已经被认领了" in t]
        assert len(won) == 1 and len(lost) == 1, texts
        for n, page in enumerate(pages):
            page.screenshot(path=screenshot_dir / f"wishes-claim-{n + 1}.png")
        assert demo_server.python(COUNT.format(wish=wish)) == {
            "state": "claimed",
            "claims": 1,
        }
        board = pages[0]
        board.goto(f"{base}/wishes/jiayuan/")
        card = board.locator(".card--wish", has_text="想要一台大字版收音机")
        assert "已认领" in card.inner_text() and "志愿者" in card.inner_text()
        assert board.evaluate("document.documentElement.scrollWidth") <= 390
        board.goto(f"{base}/wishes/")
        # The fulfilled wishes' photos (lazy below the fold) load and show.
        photos = board.locator(".card--wish-fulfilled img")
        assert photos.count() >= 1
        photos.evaluate_all("imgs => imgs.forEach(i => { i.loading = 'eager'; })")
        # Polled from here: the site's CSP refuses wait_for_function's eval.
        loaded = (
            "() => [...document.querySelectorAll('.card--wish-fulfilled img')]"
            ".every(i => i.complete && i.naturalWidth > 0)"
        )
        deadline = time.monotonic() + 20
        while not board.evaluate(loaded) and time.monotonic() < deadline:
            board.wait_for_timeout(200)
        assert board.evaluate(loaded), "a fulfilled wish's photo did not load"
        board.screenshot(path=screenshot_dir / "wishes-board.png", full_page=True)
        print(json.dumps({"board": str(screenshot_dir / "wishes-board.png")}))
    finally:
        for context in contexts:
            context.close()
