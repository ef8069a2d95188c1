"""A resident on a phone in WeChat: home page → a community's brand page."""

import pytest

pytestmark = pytest.mark.browser


def test_home_to_community_brand_page(demo_server, phone, screenshot_dir):
    external = []
    phone.on(
        "request",
        lambda r: None if r.url.startswith(demo_server.url) else external.append(r.url),
    )
    phone.goto(demo_server.url + "/")
    assert phone.title().endswith("花园路街道社区门户")
    assert phone.locator("h1").first.inner_text() != ""
    phone.screenshot(path=screenshot_dir / "home-390x844.png")

    card = phone.get_by_role("link", name="甲院·党建 / 拾光 / 新颜").first
    card.scroll_into_view_if_needed()
    card.click()
    phone.wait_for_url("**/communities/jiayuan/")
    brand = phone.locator("h1.brand-hero__brand")
    assert brand.inner_text() == "甲院·党建 / 拾光 / 新颜"
    for sub_brand in ("甲院·党建", "甲院·拾光", "甲院·新颜"):
        assert phone.get_by_role("heading", name=sub_brand, exact=True).is_visible()
    # Nothing overflows the phone's width.
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390
    phone.screenshot(path=screenshot_dir / "community-390x844.png")
    assert external == []
