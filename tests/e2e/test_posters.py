"""The new-media station on a phone in WeChat: opens an activity, unfolds 分享本页,
goes to 保存海报 and finds the poster ready to long-press. Screenshots (and the
poster itself) land in test-output/ for a reviewer to look at."""

from io import BytesIO

import pytest
import zxingcpp
from PIL import Image

pytestmark = pytest.mark.browser

ACTIVITY = "/communities/weishengting/yizhen-weishengting/"


def test_activity_share_panel_and_poster(demo_server, phone, screenshot_dir):
    external = []
    phone.on(
        "request",
        lambda r: None if r.url.startswith(demo_server.url) else external.append(r.url),
    )
    phone.goto(demo_server.url + ACTIVITY)
    assert phone.locator("h1").inner_text() == "健康义诊进楼院"

    panel = phone.locator("details.share-panel")
    summary = panel.locator("summary")
    summary.scroll_into_view_if_needed()
    assert "分享本页" in summary.inner_text()
    qr = panel.get_by_role("img", name="本页二维码")
    assert not qr.is_visible()  # folded until asked for: short pages on a phone
    summary.click()
    assert qr.is_visible()
    box = qr.bounding_box()
    assert box["width"] >= 180 and box["height"] >= 180
    save = panel.get_by_role("link", name="保存海报")
    assert save.is_visible()
    assert panel.get_by_role("link", name="下载二维码").is_visible()
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390
    panel.scroll_into_view_if_needed()
    phone.screenshot(path=screenshot_dir / "activity-page-wechat.png")
    phone.screenshot(
        path=screenshot_dir / "activity-page-wechat-full.png", full_page=True
    )

    save.click()
    phone.wait_for_url("**/share/*/poster/")
    assert phone.get_by_text("长按图片保存，或发送给朋友").is_visible()
    image = phone.locator("img.poster-page__image")
    # Polled from here, not wait_for_function: its in-page eval() is refused by the
    # public CSP (no 'unsafe-eval') whenever the first check is false.
    for _ in range(300):
        if image.evaluate("img => img.complete && img.naturalWidth > 0"):
            break
        phone.wait_for_timeout(100)
    assert image.evaluate("img => img.naturalWidth") == 750
    assert image.evaluate("img => img.naturalHeight") == 1334
    shown = image.bounding_box()
    assert 300 <= shown["width"] <= 390
    assert phone.get_by_role("link", name="下载海报").is_visible()
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390
    phone.screenshot(path=screenshot_dir / "poster-page-wechat.png", full_page=True)

    # The poster itself, as a resident saves it: its code opens the activity.
    src = image.get_attribute("src")
    response = phone.request.get(demo_server.url + src)
    assert response.status == 200
    assert response.headers["content-type"] == "image/png"
    (screenshot_dir / "poster-activity.png").write_bytes(response.body())
    poster = Image.open(BytesIO(response.body())).convert("RGB")
    assert poster.size == (750, 1334)
    codes = [r.text for r in zxingcpp.read_barcodes(poster)]
    assert codes == [demo_server.url + ACTIVITY]
    assert external == []
