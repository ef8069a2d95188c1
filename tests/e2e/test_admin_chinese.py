"""The Wagtail admin speaks Chinese on every screen an editor or approver meets.

A community editor (jiayuan, 甲院社区宣传员) and the subdistrict office (xuanchuan,
街道宣传办) walk their screens in Chromium: login, dashboard, explorer, creating and
editing a page (validation errors, the slug already in use, autosave paused and
saved), the scheduling dialog, the checks panel, the keyboard-shortcuts dialog,
moderation (submit, approve with a comment), images, documents, reports, search,
their account, 报名管理 and its exports (the XLSX sheet's name read with openpyxl).
On each screen the visible text (``innerText``, dialogs included once open), the
text of the autosave indicator and of every dialog, and the ``title`` /
``aria-label`` / ``placeholder`` / ``alt`` attributes and tooltips are collected; any
English word outside a short allow-list fails the test, naming the screen and the
line it was found in.
"""

import io
import re
import urllib.parse

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from tests.server import DEFAULT_DEMO_PASSWORD

pytestmark = pytest.mark.browser

# Words that are not English UI text: names and abbreviations Chinese editors use
# as they are, key names in the shortcuts dialog, file formats, the site's time
# zone and the accounts' user names.
ALLOWED = {
    "Wagtail", "URL", "QR", "iCal", "XLSX", "CSV", "PDF", "ID",
    "Ctrl", "Cmd", "Alt", "Shift", "Esc", "Enter",
    "GIF", "JPG", "JPEG", "PNG", "WEBP", "DOCX", "PPTX", "TXT", "ZIP", "MB",
    "Asia", "Shanghai", "jiayuan", "xuanchuan",
}  # fmt: skip
WORD = re.compile(r"[A-Za-z][A-Za-z'’]*[A-Za-z]")

COLLECT = """() => {
  const out = [document.title, document.body.innerText];
  // Hidden states that show up in turn: the autosave indicator, dialogs (their
  // text, not their scripts).
  const texts = (el) => {
    const walker = document.createTreeWalker(el, NodeFilter.SHOW_TEXT, {
      acceptNode: (n) => n.parentElement.closest(
          'script, style, template, [style*="display: none"]')
        ? NodeFilter.FILTER_REJECT : NodeFilter.FILTER_ACCEPT});
    const parts = [];
    while (walker.nextNode()) parts.push(walker.currentNode.nodeValue.trim());
    return parts.filter(Boolean).join('\\n');
  };
  for (const el of document.querySelectorAll(
      '.w-autosave-indicator__text, .w-dialog, [role=dialog], [role=tooltip]')) {
    out.push(texts(el));
  }
  const names = ['title', 'aria-label', 'placeholder', 'alt',
                 'data-w-tooltip-content-value'];
  for (const el of document.querySelectorAll(
      '[title],[aria-label],[placeholder],[alt],[data-w-tooltip-content-value]')) {
    if (el.closest('svg, [data-w-preview-target]')) continue;
    for (const name of names) {
      const value = el.getAttribute(name);
      if (value) out.push(value);
    }
  }
  return out.join('\\n');
}"""

# Content, not UI: phone/slug/code-like tokens that happen to be letters.
CONTENT = re.compile(
    r"https?://\S+|/[\w/.-]*|\b[A-Z0-9]{6}\b|#[0-9A-Fa-f]{3,6}|[\w.+-]+@[\w.-]+"
    r"|\b[a-z0-9]+(?:-[a-z0-9]+)+\b"  # slugs (pinyin) of the demo's pictures
    r"|\b[a-z_]+\.[a-z_]+\b"  # a model's identifier (home.articlepage)
)


def english_lines(page) -> set[str]:
    """The lines on ``page`` with an English word outside the allow-list."""
    return {
        line.strip()[:160]
        for line in page.evaluate(COLLECT).splitlines()
        if any(word not in ALLOWED for word in WORD.findall(CONTENT.sub(" ", line)))
    }


class Walk:
    """One user's walk; ``check(name)`` records the English on the current screen."""

    def __init__(self, page, server):
        self.page = page
        self.server = server
        self.found: dict[str, list[str]] = {}  # line → screens

    def goto(self, path: str, name: str | None = None):
        self.page.goto(self.server.url + path)
        self.page.wait_for_load_state("networkidle")
        self.check(name or path)

    def check(self, name: str):
        for line in english_lines(self.page):
            self.flag(name, line)

    def expect(self, text: str):
        """``text`` is on the screen: the walk reached the state it checks."""
        self.page.get_by_text(text).filter(visible=True).first.wait_for()

    def flag(self, name: str, line: str):
        self.found.setdefault(line, []).append(name)

    def login(self, username: str):
        self.goto("/admin/login/", "login")
        self.page.fill("input[name=username]", username)
        self.page.fill("input[name=password]", "wrong-password-1")
        self.page.click("button[type=submit]")
        self.page.wait_for_load_state("networkidle")
        self.check("login (wrong password)")
        self.page.fill("input[name=username]", username)
        self.page.fill("input[name=password]", DEFAULT_DEMO_PASSWORD)
        self.page.click("button[type=submit]")
        self.page.wait_for_url("**/admin/")
        self.page.wait_for_load_state("networkidle")
        self.check("dashboard")

    def open_dialog(self, trigger, name: str, text: str):
        trigger.click()
        self.page.wait_for_selector(".w-dialog:not([aria-hidden=true]) .w-dialog__box")
        self.expect(text)
        self.check(name)
        self.page.keyboard.press("Escape")

    def report(self) -> str:
        return "\n".join(
            f"{line!r} on {', '.join(dict.fromkeys(screens))}"
            for line, screens in sorted(self.found.items())
        )


@pytest.fixture
def desktop(browser):
    context = browser.new_context(
        viewport={"width": 1366, "height": 900}, locale="zh-CN", accept_downloads=True
    )
    page = context.new_page()
    page.set_default_timeout(20_000)
    yield page
    context.close()


def page_id(server, title: str) -> int:
    return server.python(
        f"from wagtail.models import Page\nprint(Page.objects.get(title={title!r}).id)"
    )


# Wagtail's unsaved-changes check (w-unsaved) takes the form as it is
# ``initialDelayValue`` (2 s) after it connects as the state edits are measured
# against — from two timers started about 40 ms apart as it connects — so an
# edit made before the later one is part of the baseline and never autosaved.
# Wait for the baseline and a second past that delay.
UNSAVED_BASELINE_TAKEN = """() => {
    const form = document.querySelector("form[data-edit-form]");
    const unsaved = form && window.wagtail.app.getControllerForElementAndIdentifier(
        form, "w-unsaved"
    );
    return Boolean(unsaved && unsaved.initialFormData)
        && performance.now() > unsaved.constructor.initialDelayValue + 1000;
}"""


def edit_page_screens(walk, edit_path: str, label: str):
    """The edit view of a page: checks panel, scheduling, shortcuts, autosave."""
    page = walk.page
    walk.goto(edit_path, label)
    # The checks panel (content metrics, readability …) and its explainer.
    page.click("[data-side-panel-toggle='checks']")
    walk.expect("内容指标")
    walk.check(f"{label}: checks panel")
    page.click("[data-side-panel-toggle='checks']")
    # The status panel and its scheduling dialog.
    page.click("[data-side-panel-toggle='status']")
    walk.check(f"{label}: status panel")
    walk.open_dialog(
        page.locator("[data-a11y-dialog-show='schedule-publishing-dialog']").first,
        f"{label}: scheduling dialog",
        "选择页面的上线和/或下线时间",
    )
    page.click("[data-side-panel-toggle='status']")
    # The keyboard-shortcuts dialog, from the help menu.
    page.evaluate(
        "document.querySelector(\"[data-a11y-dialog-show='keyboard-shortcuts-dialog']\")"
        ".click()"
    )
    page.wait_for_selector("#keyboard-shortcuts-dialog:not([aria-hidden=true])")
    walk.expect("粘贴为纯文本")
    walk.check(f"{label}: keyboard shortcuts")
    page.keyboard.press("Escape")
    # Autosave: an empty title pauses it (the form no longer validates) …
    title = page.locator("#id_title")
    original = title.input_value()
    # On a fast machine the steps above take less than Wagtail's 2 s.
    page.wait_for_function(UNSAVED_BASELINE_TAKEN)
    paused = ".w-autosave-indicator__state--paused"
    # Wagtail autosaves when its unsaved-changes check reports a change; a change
    # made while an earlier autosave is still on its way (the pinyin address
    # filled in from the title is one) is sometimes folded into that one: edit
    # the title again until the failed save pauses it.
    for attempt in range(3):
        title.fill(original + "。" * attempt)
        title.fill("")
        title.dispatch_event("change")
        try:
            page.wait_for_selector(paused, state="visible", timeout=10_000)
            break
        except PlaywrightTimeout:
            continue
    page.wait_for_selector(paused, state="visible")
    walk.expect("自动保存已暂停")
    page.hover("#w-autosave-indicator")
    walk.expect("有填写错误，点击保存可标出错误所在。")
    walk.check(f"{label}: autosave paused")
    # The other states' text ("Saved" …) is read from the indicator's hidden
    # states on every screen.
    title.fill(original)


def new_page_screens(walk, add_path: str, title: str, slug: str) -> None:
    """A new page saved empty (validation errors), then with ``title`` and the
    address ``slug`` a sibling already has (core/forms.py: the slug sits on the
    main tab for news and activities, on 推荐 for other types)."""
    page = walk.page
    walk.goto(add_path, "new page")
    page.click("footer button:has-text('保存草稿')")
    page.wait_for_load_state("networkidle")
    walk.expect("页面有填写错误，未能创建。")
    walk.expect("转到第一个错误")
    walk.check("new page: validation errors")
    page.fill("#id_title", title)
    if not page.is_visible("#id_slug"):
        page.click("[role=tab]:has-text('推荐')")
    page.fill("#id_slug", slug)
    page.click("footer button:has-text('保存草稿')")
    page.wait_for_load_state("networkidle")
    if not page.is_visible("#id_slug"):
        page.click("[role=tab]:has-text('推荐')")
    walk.expect(f"同一栏目下已有网址为“{slug}”的页面。")
    walk.check("new page: slug in use")


def download(page, server, path: str) -> bytes:
    response = page.request.get(server.url + path)
    assert response.status == 200, path
    return response.body()


def registrations_screens(walk):
    page = walk.page
    walk.goto("/admin/registrations/", "报名管理")
    walk.goto("/admin/registrations/?status=confirmed", "报名管理 (filtered)")
    walk.goto("/admin/checkin/", "现场签到")
    from openpyxl import load_workbook

    workbook = load_workbook(
        io.BytesIO(download(page, walk.server, "/admin/registrations/?export=xlsx"))
    )
    assert workbook.sheetnames == ["报名名单"]
    headings = [c.value for c in next(workbook.active.iter_rows(max_row=1))]
    csv = download(page, walk.server, "/admin/registrations/?export=csv").decode(
        "utf-8-sig"
    )
    for name, line in (
        ("XLSX headings", " ".join(map(str, headings))),
        ("CSV headings", csv.splitlines()[0]),
    ):
        for word in WORD.findall(line):
            if word not in ALLOWED:
                walk.flag(f"报名管理 {name}", line)


def common_screens(walk, explore_id: int):
    walk.goto(f"/admin/pages/{explore_id}/", "explorer")
    walk.goto(f"/admin/pages/search/?q={urllib.parse.quote('社区')}", "page search")
    walk.goto("/admin/images/", "images")
    walk.goto("/admin/images/?ordering=-usage_count", "images by usage")
    walk.goto("/admin/images/multiple/add/", "image upload")
    walk.goto("/admin/reports/site-history/", "site history")
    walk.goto("/admin/reports/page-types-usage/", "page types usage")
    walk.goto("/admin/account/", "account")
    registrations_screens(walk)


DRAFT = """
import datetime
from django.contrib.auth import get_user_model
from wagtail.models import Page
from home.models import ArticlePage
user = get_user_model().objects.get(username={user!r})
parent = Page.objects.get(title={parent!r})
page = parent.add_child(instance=ArticlePage(
    title={title!r}, slug={slug!r}, date=datetime.date(2026, 12, 1), live=False,
    body=[("paragraph", "<p>座谈会邀请老党员、楼栋长和居民代表共话新年。</p>")],
    owner=user))
page.save_revision(user=user)
if {submit!r}:
    page.get_workflow().start(page, user)
print(page.id)
"""


def draft(
    server, user: str, parent: str, title: str, submit: bool = False, slug=None
) -> int:
    """A draft news article under ``parent`` by ``user`` (submitted for approval when
    ``submit``), made on the server: the browser walk needs one to edit."""
    return server.python(
        DRAFT.format(
            user=user, parent=parent, title=title, submit=submit, slug=slug or title
        )
    )


def test_a_community_editor_meets_only_chinese(demo_server, desktop):
    walk = Walk(desktop, demo_server)
    walk.login("jiayuan")
    community = page_id(demo_server, "甲院社区")
    common_screens(walk, community)
    image = demo_server.python(
        "from wagtail.images.models import Image\n"
        "print(Image.objects.order_by('id').first().id)"
    )
    walk.goto(f"/admin/images/{image}/", "image edit")
    walk.goto(f"/admin/images/usage/{image}/", "image usage")
    slug = "jiayuan-yingxinchun-zuotanhui"
    news = draft(demo_server, "jiayuan", "甲院社区", "甲院社区迎新春座谈会", slug=slug)
    new_page_screens(
        walk,
        f"/admin/pages/add/home/articlepage/{community}/",
        "甲院社区迎新春座谈会",
        slug,
    )
    edit_page_screens(walk, f"/admin/pages/{news}/edit/", "news edit")
    # Submit it for approval, from the footer's menu.
    walk.page.click("footer [data-w-dropdown-target='toggle']")
    walk.check("news edit: footer actions")
    walk.page.click("footer button[name=action-submit]")
    walk.page.wait_for_load_state("networkidle")
    walk.check("submitted for approval")
    walk.goto("/admin/", "dashboard with a page in moderation")
    walk.goto(f"/admin/pages/{news}/history/", "page history")
    walk.goto(f"/admin/pages/{community}/edit/", "community page edit")
    assert not walk.found, "English in the admin:\n" + walk.report()


def test_the_subdistrict_office_meets_only_chinese(demo_server, desktop):
    title = "甲院社区冬季消防演练"
    news = draft(demo_server, "jiayuan", "甲院社区", title, submit=True)
    walk = Walk(desktop, demo_server)
    walk.login("xuanchuan")
    home = page_id(demo_server, "首页")
    common_screens(walk, home)
    activities = page_id(demo_server, "活动日历")
    walk.goto(f"/admin/pages/{activities}/", "explorer: activities")
    walk.goto(f"/admin/pages/add_subpage/{activities}/", "choose an activity type")
    activity = demo_server.python(
        "from events.models import ActivityPage\n"
        "print(ActivityPage.objects.order_by('id').first().id)"
    )
    edit_page_screens(walk, f"/admin/pages/{activity}/edit/", "activity edit")
    # Moderation: the submitted article, approved with a comment.
    walk.goto(f"/admin/pages/{news}/edit/", "page in moderation")
    page = walk.page
    page.click("footer [data-w-dropdown-target='toggle']")
    walk.check("moderation actions")
    page.click("footer button:has-text('批准'):has-text('评论')")
    page.wait_for_selector(".modal-content textarea")
    walk.check("approve with a comment")
    page.fill(".modal-content textarea", "内容属实，同意发布。")
    page.click(".modal-content [type=submit]")
    page.wait_for_selector(".messages .success")
    page.wait_for_load_state("networkidle")
    walk.check("approved")
    walk.goto(f"/admin/pages/{news}/workflow_history/", "workflow history")
    walk.goto(f"/admin/pages/{news}/history/", "page history")
    for path in (
        "/admin/documents/",
        "/admin/documents/multiple/add/",
        "/admin/reports/locked/",
        "/admin/reports/aging-pages/",
        "/admin/reports/workflow/",
        "/admin/reports/workflow_tasks/",
        "/admin/snippets/",
        "/admin/snippets/search/synonymgroup/",
        "/admin/snippets/search/synonymgroup/add/",
    ):
        walk.goto(path)
    assert not walk.found, "English in the admin:\n" + walk.report()
