"""A resident in WeChat on a phone signs up for an activity, sees the code and the
check-in QR, fetches the calendar entry and cancels; a bad phone number first
gets a clear message."""

import pytest

pytestmark = pytest.mark.browser


def test_sign_up_see_code_add_to_calendar_and_cancel(
    demo_server, phone, screenshot_dir
):
    external = []
    phone.on(
        "request",
        lambda r: None if r.url.startswith(demo_server.url) else external.append(r.url),
    )
    phone.goto(demo_server.url + "/activities/?type=festival")
    card = phone.locator("a", has_text="冬至包饺子 邻里一家亲").first
    assert "余 16 个名额" in card.inner_text()  # 30 seats, 14 taken by the demo
    card.click()
    phone.wait_for_url("**/communities/weishengting/dongzhi-jiaozi/")
    phone.screenshot(path=screenshot_dir / "activity-390x844.png", full_page=True)
    assert phone.locator("form").count() == 0  # cacheable: the form is one tap away
    assert "还有 16 个名额" in phone.locator("#signup").inner_text()

    phone.get_by_role("link", name="我要报名").click()
    phone.wait_for_url("**/dongzhi-jiaozi/signup/")
    form = phone.locator("form[action$='signup/']")
    form.scroll_into_view_if_needed()
    form.get_by_label("姓名").fill("赵晓梅")
    form.get_by_role("textbox", name="手机号", exact=True).fill("139-1234-5678x")
    form.get_by_label("我已阅读并同意").check()
    with phone.expect_navigation():
        form.get_by_role("button", name="提交报名").click()
    assert "请填写正确的 11 位手机号码" in phone.content()
    assert phone.get_by_label("姓名").input_value() == "赵晓梅"  # input kept

    phone.get_by_role("textbox", name="手机号", exact=True).fill("+86 139 1234 5678")
    phone.get_by_label("我已阅读并同意").check()
    phone.get_by_role("button", name="提交报名").click()
    phone.wait_for_url("**/r/*/")
    assert phone.locator("h1").inner_text() == "已报名"
    code = phone.locator(".code").first.inner_text()
    assert len(code) == 6 and not set(code) & set("0O1I")
    assert phone.locator(".qr svg").is_visible()
    assert "139****5678" in phone.content()
    assert "13912345678" not in phone.content()
    # Inside WeChat the calendar link comes with the hint to open a real browser.
    assert phone.get_by_text("在浏览器打开").is_visible()
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390
    phone.screenshot(path=screenshot_dir / "signup-result-390x844.png", full_page=True)

    ics_href = phone.get_by_role("link", name="添加到我的日历").get_attribute("href")
    response = phone.request.get(demo_server.url + ics_href)
    assert response.status == 200
    assert response.headers["content-type"].startswith("text/calendar")
    assert "BEGIN:VEVENT" in response.text()
    assert "冬至包饺子" in response.text()

    phone.get_by_role("link", name="取消报名").click()
    phone.wait_for_url("**/cancel/")
    phone.get_by_role("button", name="确认取消").click()
    phone.wait_for_url("**/r/*/")
    assert phone.locator("h1").inner_text() == "报名已取消"
    phone.screenshot(path=screenshot_dir / "signup-cancelled-390x844.png")
    assert external == []
