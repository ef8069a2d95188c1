"""Every resident page type on a phone in WeChat (390×844), in the standard mode
and in 长辈模式 (portal/elder.py): axe-core finds no serious or critical
violation (its color-contrast rule holds contrast to 4.5:1), and the sizes the
MIIT 适老化 guidelines ask for hold as laid out in the browser
(tests/e2e/page_sizes.js):

=================  ==========  ==========
                   standard    长辈模式
=================  ==========  ==========
text in <main>     ≥ 16 px     ≥ 20 px
time/place/seats   ≥ 18 px     ≥ 20 px
every control      ≥ 44×44 px  ≥ 44 wide, ≥ 60 tall
=================  ==========  ==========

One browser context per mode, one load per page type (the sign-up form twice:
empty, then failed, where focus must be on the error summary). The 长辈模式
context turns the mode on through the header's switch, a plain link, and the
standard context runs first, so the page cache (on in the demo server) has the
standard variant of each page stored when the 长辈模式 asks for it.
"""

import json
from pathlib import Path

import pytest

from tests.e2e.conftest import WECHAT_UA
from tests.server import ROOT

pytestmark = pytest.mark.browser

AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
SIZES = Path(__file__).with_name("page_sizes.js")
LIMITS = {
    "standard": {"minText": 16, "minFact": 18, "minWidth": 44, "minHeight": 44},
    "elder": {"minText": 20, "minFact": 20, "minWidth": 44, "minHeight": 60},
}
# Demo pages (demo/): a community, a weekly activity with open sign-up, a news
# article, a search, 志愿服务 (index, 时间银行, application form, 志愿者查询, a
# team where the demo has one).
COMMUNITY = "/communities/jiayuan/"
ACTIVITY = "/communities/nongyeyuan/shuhua-ke/"
ARTICLE = "/news/shedaihui-2026/"
SEARCH = "/search/?q=%E8%AE%B2%E5%A0%82"  # 讲堂
VOLUNTEERS = "/volunteers/"  # 志愿服务 and its routes
PHONES = {"standard": "13912340019", "elder": "13912340020"}
TEAM = """
from home.models import CommunityPage
from volunteers.models import Team
if not Team.objects.exists():
    Team.objects.create(name="党员志愿服务队", description="每周六清扫楼道。",
                        community=CommunityPage.objects.get(slug="jiayuan"))
print(1)
"""


@pytest.fixture(scope="module")
def axe_source() -> str:
    if not AXE.exists():
        pytest.fail("axe-core is missing: `make node-deps` (npm ci) installs it")
    # Evaluated through the DevTools protocol, which the site's CSP does not
    # govern (a <script> tag it would block, rightly).
    return AXE.read_text() + "\n;0"


def measure(page, mode: str, axe_source: str) -> dict:
    """What fails on the page as it is now: small text, small facts, small
    controls, serious or critical axe-core violations."""
    sizes = page.evaluate(SIZES.read_text(), LIMITS[mode])
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.evaluate(axe_source)
    violations = page.evaluate(
        """() => axe.run(document, {resultTypes: ["violations"]}).then(r =>
            r.violations
                .filter(v => v.impact === "serious" || v.impact === "critical")
                .map(v => v.id + ": " + v.nodes.map(n => n.target.join(" "))))"""
    )
    found = {
        "small text": sizes["smallText"],
        "small facts": sizes["smallFacts"],
        "small controls": sizes["smallControls"],
        "axe": violations,
    }
    assert sizes["textRuns"] > 0 and sizes["controls"] > 0, "nothing measured"
    return {name: items for name, items in found.items() if items}


@pytest.mark.parametrize("mode", ["standard", "elder"])
def test_resident_pages_meet_the_numbers(
    demo_server, browser, axe_source, screenshot_dir, mode
):
    context = browser.new_context(
        viewport={"width": 390, "height": 844},
        device_scale_factor=1,
        is_mobile=True,
        has_touch=True,
        user_agent=WECHAT_UA,
        locale="zh-CN",
    )
    page = context.new_page()
    base = demo_server.url
    problems = {}

    def check(name: str) -> None:
        if mode == "elder":
            assert "mode-elder" in page.locator("body").get_attribute("class"), name
        else:
            assert "mode-elder" not in (page.locator("body").get_attribute("class"))
        assert page.evaluate("document.documentElement.scrollWidth") <= 390, name
        page.screenshot(path=screenshot_dir / f"a11y-{mode}-{name}.png")
        if found := measure(page, mode, axe_source):
            problems[name] = found

    try:
        page.goto(base + "/")
        if mode == "elder":
            # The header's switch: a link, no script needed; back on the same page.
            page.get_by_role("link", name="长辈模式").click()
            page.wait_for_url(base + "/")
            assert page.get_by_role("link", name="标准模式").is_visible()
        check("home")
        for name, path in (
            ("activities", "/activities/"),
            ("community", COMMUNITY),
            ("activity", ACTIVITY),
            ("news", ARTICLE),
            ("search", SEARCH),
            ("wishes", "/wishes/"),
            ("volunteers", VOLUNTEERS),
            ("time-bank", VOLUNTEERS + "time-bank/"),
            ("volunteer-apply", VOLUNTEERS + "apply/"),
            ("volunteer-lookup", VOLUNTEERS + "my/"),
        ):
            page.goto(base + path)
            check(name)
        # 微心愿: an open wish from the board, then its claim form.
        page.goto(base + "/wishes/")
        page.locator(".card--wish-open a").first.click()
        page.wait_for_url("**/wishes/*/")
        check("wish")
        page.get_by_role("link", name="我来认领").click()
        page.wait_for_url("**/claim/")
        check("wish-claim")
        # A team's page: the demo's first (demo/volunteers.py), one made if none.
        demo_server.python(TEAM)
        page.goto(base + VOLUNTEERS)
        page.locator(".team-list__link").first.click()
        page.wait_for_url("**/volunteers/teams/*/")
        check("volunteer-team")

        # The sign-up form: sent empty, it comes back with the error summary
        # focused and every session in a fieldset.
        page.goto(base + ACTIVITY + "signup/")
        form = page.locator("form[action$='signup/']")
        form.get_by_role("button", name="提交报名").click()
        page.wait_for_selector("#error-summary")
        assert page.evaluate("document.activeElement.id") == "error-summary"
        assert form.get_by_role("group", name="场次").get_by_role("radio").count() > 1
        check("signup-errors")
        form.get_by_role("group", name="场次").get_by_role("radio").first.check()
        form.get_by_label("姓名").fill("周秀兰")
        form.get_by_role("textbox", name="手机号", exact=True).fill(PHONES[mode])
        form.get_by_label("我已阅读并同意").check()
        form.get_by_role("button", name="提交报名").click()
        page.wait_for_url("**/r/*/")
        check("signup-result")

        page.goto(base + "/my/")  # the sign-up just made is remembered here
        assert page.locator(".my-item").count() >= 1
        check("my")
    finally:
        context.close()
    assert not problems, json.dumps(problems, ensure_ascii=False, indent=1)
