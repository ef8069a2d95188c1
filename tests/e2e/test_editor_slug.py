"""A community editor on a desktop writes a news article: the address (slug) sits
on the main tab under the title, and once Wagtail's autosave has kept the draft
it shows the title's pinyin — never the Chinese title; 发布日期 is today."""

import re

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import log_in

pytestmark = pytest.mark.browser


@pytest.fixture
def desktop(browser):
    context = browser.new_context(
        viewport={"width": 1366, "height": 900}, locale="zh-CN"
    )
    page = context.new_page()
    yield page
    context.close()


def test_pinyin_slug_appears_on_the_main_tab(demo_server, desktop, screenshot_dir):
    log_in(desktop, demo_server, "jiayuan")
    # A community editor's explorer opens at their community page.
    desktop.goto(demo_server.url + "/admin/pages/")
    community_id = re.search(r"/admin/pages/(\d+)/$", desktop.url).group(1)
    assert "甲院社区" in desktop.locator("h1").inner_text()
    desktop.goto(f"{demo_server.url}/admin/pages/add/home/articlepage/{community_id}/")

    slug = desktop.locator("#id_slug")
    assert slug.is_visible()  # on the first tab, no need to look for it
    assert slug.input_value() == ""
    date = desktop.locator("#id_date").input_value()
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", date)

    # Wagtail's w-unsaved controller notes the form's initial state 2 s after it
    # starts (initialDelayValue); what is typed before that counts as initial.
    expect(desktop.locator("#page-edit-form")).not_to_have_attribute(
        "data-controller", re.compile("w-init")
    )
    desktop.wait_for_timeout(2500)
    desktop.locator("#id_title").press_sequentially("甲院社区开展垃圾分类宣传")
    # Wagtail's script no longer copies the Chinese title into the slug.
    assert "甲院" not in slug.input_value()
    # …and goes on to the next fields, as editors do; the autosave follows.
    desktop.locator("#id_summary").press_sequentially("居民学习垃圾分类。")
    expect(slug).to_have_value(re.compile("^jia-yuan"), timeout=15000)
    assert slug.input_value() == "jia-yuan-she-qu-kai-zhan-la-ji-fen-lei-xuan-chuan"
    desktop.screenshot(path=screenshot_dir / "editor-slug-1366x900.png")
