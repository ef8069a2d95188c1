"""The Content-Security-Policy in a real browser: a resident's pages and an
editor's work in the Wagtail admin run without a single violation.

Chromium reports every blocked script, style, image or frame both as a console
error and as a ``securitypolicyviolation`` event; both are collected, from every
frame (the admin's preview iframe included), across navigations. The checks
against the policy's text are in tests/portal/test_security_headers.py; this
proves the policy is compatible with what the pages and Wagtail actually do.
"""

import io
import json
import random

import pytest
from PIL import Image

pytestmark = pytest.mark.browser

# Runs in every frame before the page's own scripts.
REPORT_VIOLATIONS = """
document.addEventListener("securitypolicyviolation", function (e) {
    window.__cspViolation([
        location.pathname, e.violatedDirective, e.blockedURI,
        e.sourceFile + ":" + e.lineNumber
    ].join(" "));
}, true);
"""

ADMIN_PASSWORD = "huayuanlu2026"  # load_demo's default (DEMO_PASSWORD unset)


class Violations(list):
    """Collects CSP violations of one browser context."""

    def __init__(self, context):
        super().__init__()
        context.expose_function("__cspViolation", lambda text: self.append(text))
        context.add_init_script(REPORT_VIOLATIONS)

    def watch(self, page):
        def on_console(message):
            text = message.text
            if message.type == "error" and "Content Security Policy" in text:
                self.append(text)

        page.on("console", on_console)
        return page


@pytest.fixture
def resident(browser):
    """A phone in WeChat's in-app browser, with violations recorded."""
    from tests.e2e.conftest import WECHAT_UA

    context = browser.new_context(
        viewport={"width": 390, "height": 844},
        is_mobile=True,
        has_touch=True,
        user_agent=WECHAT_UA,
        locale="zh-CN",
    )
    violations = Violations(context)
    page = violations.watch(context.new_page())
    yield page, violations
    context.close()


@pytest.fixture
def editor(browser):
    context = browser.new_context(
        viewport={"width": 1400, "height": 900}, locale="zh-CN"
    )
    violations = Violations(context)
    page = violations.watch(context.new_page())
    yield page, violations
    context.close()


def demo_paths(server) -> dict[str, str]:
    return server.python(
        "import json\n"
        "from events.models import ActivityPage, EventIndexPage\n"
        "from home.models import (ArticlePage, CommunityIndexPage, CommunityPage,"
        " HonourIndexPage, HonourPage, NewsIndexPage)\n"
        "first = lambda model: model.objects.live().order_by('path').first()\n"
        "community = first(CommunityPage)\n"
        "print(json.dumps({\n"
        "  'community index': first(CommunityIndexPage).url,\n"
        "  'community': community.url,\n"
        "  'honours index': first(HonourIndexPage).url,\n"
        "  'honour': first(HonourPage).url,\n"
        "  'news index': first(NewsIndexPage).url,\n"
        "  'article': first(ArticlePage).url,\n"
        "  'activity index': first(EventIndexPage).url,\n"
        "  'month view': first(EventIndexPage).url + 'month/',\n"
        "  'poster page': f'/share/{community.pk}/poster/',\n"
        "  'activity id': ActivityPage.objects.get(slug='linlijie-nongyeyuan').pk,\n"
        "}))"
    )


def png(size=(640, 480)) -> bytes:
    """A picture no other upload has (Wagtail flags duplicates)."""
    buffer = io.BytesIO()
    colour = f"#{random.randrange(1 << 24):06x}"
    Image.new("RGB", size, colour).save(buffer, "PNG")
    return buffer.getvalue()


def test_public_pages_run_without_a_csp_violation(demo_server, resident):
    page, violations = resident
    paths = demo_paths(demo_server)
    visited = []
    for name in [
        "community index",
        "community",
        "honours index",
        "honour",
        "news index",
        "article",
        "activity index",
        "month view",
        "poster page",
    ]:
        response = page.goto(demo_server.url + paths[name])
        assert response.status == 200, name
        visited.append(name)
    for path in ["/", "/search/?q=邻里节", "/no-such-page/"]:
        page.goto(demo_server.url + path)

    # An activity: the share panel (QR code), the sign-up form and its result.
    # (Keyboard rather than taps: on a loaded machine a tap can land while the
    # layout still moves; what is measured here is the policy, not the taps.)
    page.goto(demo_server.url + "/communities/nongyeyuan/linlijie-nongyeyuan/")
    page.locator(".share-panel summary").press("Enter")
    assert page.locator(".share-panel svg").first.is_visible()
    page.get_by_role("link", name="我要报名").press("Enter")
    page.wait_for_url("**/signup/")
    page.get_by_label("姓名").fill("钱桂兰")
    page.get_by_role("textbox", name="手机号", exact=True).fill("13700001234")
    page.get_by_label("我已阅读并同意").press("Space")
    page.get_by_role("button", name="提交报名").press("Enter")
    page.wait_for_url("**/r/*/")
    assert page.locator(".qr svg").is_visible()
    assert page.locator("link[rel=stylesheet]").count() == 1
    # The stylesheet applied (a blocked one would leave the page unstyled).
    assert (
        page.evaluate(
            "getComputedStyle(document.querySelector('.site-header')).display"
        )
        != "inline"
    )
    # The community's brand colour from its style attribute took effect.
    page.goto(demo_server.url + paths["community"])
    brand = page.evaluate(
        "getComputedStyle(document.querySelector('.community'))"
        ".getPropertyValue('--brand').trim()"
    )
    assert brand.startswith("#") and len(brand) == 7

    assert violations == [], violations
    assert len(visited) == 9


def test_the_admin_works_without_a_csp_violation(demo_server, editor):
    """Log in, edit a page (title, rich text), pick a new cover by uploading it in
    the image chooser, preview, save a draft, upload through the multiple
    upload page, and see the site with the editor's user bar."""
    page, violations = editor
    paths = demo_paths(demo_server)
    page.goto(demo_server.url + "/admin/login/")
    page.fill("input[name=username]", "admin")
    page.fill("input[name=password]", ADMIN_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/admin/")

    page_id = paths["activity id"]
    page.goto(demo_server.url + f"/admin/pages/{page_id}/edit/")
    page.fill("#id_title", "农业院社区邻里节（草稿）")
    page.locator(".Draftail-Editor [contenteditable=true]").first.click()
    page.keyboard.type("编辑时补充的一句话。")

    cover = page.locator("[data-contentpath=cover]")
    cover.locator(".w-dropdown__toggle").first.click()
    page.locator(
        ".w-dropdown__content :is(a,button):visible", has_text="修改图片"
    ).click()
    dialog = page.locator(".modal-dialog")
    dialog.wait_for()
    dialog.locator(":is(a,button)", has_text="上传").first.click()
    dialog.locator("input[type=file]").first.set_input_files(
        {"name": "cover.png", "mimeType": "image/png", "buffer": png()}
    )
    dialog.locator("input[name='image-chooser-upload-title']").fill("编辑器上传的封面")
    dialog.locator("form button[type=submit]").first.click()
    dialog.wait_for(state="hidden")
    assert "编辑器上传的封面" in cover.inner_text()

    page.locator("[data-side-panel-toggle='preview']").first.click()
    preview = page.frame_locator("iframe#w-preview-iframe, .preview-panel iframe")
    preview.locator("h1").first.wait_for()
    assert "农业院社区邻里节（草稿）" in preview.locator("h1").first.inner_text()

    with page.expect_navigation():
        page.get_by_role("button", name="保存草稿").first.click()
    assert "已被更新" in page.locator(".messages").inner_text()

    page.goto(demo_server.url + "/admin/images/multiple/add/")
    page.locator("input[type=file]").first.set_input_files(
        {"name": "upload.png", "mimeType": "image/png", "buffer": png()}
    )
    page.get_by_text("上传成功").first.wait_for()

    page.goto(demo_server.url + paths["community"])
    userbar = page.locator("wagtail-userbar")
    userbar.locator("button").first.click()
    userbar.get_by_role("menuitem", name="编辑此页").wait_for()

    assert violations == [], json.dumps(violations, ensure_ascii=False, indent=1)
