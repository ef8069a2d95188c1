"""A resident in WeChat on a phone (390×844) finds a recurring activity in the
activity index as one card, taps one of its sessions and finds it chosen on the
sign-up form; choosing a full session turns the button into 加入候补. The
activity's page offers 我要报名 before its session list. The activity is made
here with times computed from now; screenshots go to the test-output folder."""

import pytest

pytestmark = pytest.mark.browser

CREATE = """
import json
from datetime import datetime, time, timedelta
from django.utils import timezone
from events.models import EventIndexPage, Occurrence
from tests.factories import ActivityPageFactory
day = timezone.localdate() + timedelta(days=1)
start = timezone.make_aware(datetime.combine(day, time(14, 30)))
page = ActivityPageFactory(parent=EventIndexPage.objects.get(slug="activities"),
    slug="e2e-shufa", title="测试书法课", start=start,
    end=start + timedelta(hours=2), repeat="DAILY", repeat_count=10,
    registration_required=True, capacity=3, max_party_size=4,
    summary="退休老师教毛笔字，笔墨纸砚社区准备。")
sessions = list(Occurrence.objects.filter(page_id=page.pk).order_by("start"))
Occurrence.objects.filter(pk=sessions[0].pk).update(taken=3)  # the first is full
print(json.dumps({"url": page.url, "sessions": [s.pk for s in sessions]}))
"""


def no_sideways_scroll(phone):
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390


def test_series_card_session_tap_and_waitlist_button(
    demo_server, phone, screenshot_dir
):
    activity = demo_server.python(CREATE)
    url, sessions = activity["url"], activity["sessions"]

    phone.goto(demo_server.url + "/activities/")
    cards = phone.locator(".card__title", has_text="测试书法课")
    assert cards.count() == 1  # one card, not one per date
    card = phone.locator("li.card", has=cards)
    assert "下一场" in card.inner_text()
    chips = card.locator(".card__sessions a")
    assert chips.count() == 3
    for i in range(3):
        box = chips.nth(i).bounding_box()
        assert box["height"] >= 48 and box["width"] >= 48
    assert "满·可候补" in chips.first.inner_text()
    no_sideways_scroll(phone)
    card.scroll_into_view_if_needed()
    phone.screenshot(path=screenshot_dir / "listings-index-390x844.png")

    # Tapping the second session opens the form with it chosen.
    chips.nth(1).click()
    phone.wait_for_url(f"**{url}signup/?occurrence={sessions[1]}")
    chosen = phone.locator("input[name=occurrence]:checked")
    assert chosen.get_attribute("value") == str(sessions[1])
    labels = phone.locator("#id_occurrence label")
    assert labels.count() == 10
    for i in range(labels.count()):  # whole rows to tap, not 13 px circles
        box = labels.nth(i).bounding_box()
        assert box["height"] >= 48 and box["width"] >= 300
    radio = chosen.bounding_box()
    assert radio["width"] >= 24 and radio["height"] >= 24
    button = phone.locator("form button[type=submit]")
    assert button.inner_text() == "提交报名"
    assert "一份报名最多 3 人" in phone.content()  # capped by the 3 seats
    no_sideways_scroll(phone)
    phone.screenshot(
        path=screenshot_dir / "listings-signup-390x844.png", full_page=True
    )

    # Choosing the full first session: the form says 候补.
    phone.locator(f"input[name=occurrence][value='{sessions[0]}']").check()
    assert button.inner_text() == "加入候补"
    assert phone.locator("[data-waitlist-note]").is_visible()
    phone.locator(f"input[name=occurrence][value='{sessions[1]}']").check()
    assert button.inner_text() == "提交报名"

    # The activity page: 我要报名 first, then the sessions, each a big link.
    phone.goto(demo_server.url + url)
    signup = phone.locator("#signup-heading").bounding_box()
    dates = phone.locator("#dates-heading").bounding_box()
    assert signup["y"] < dates["y"]
    first_date = phone.locator(".dates li a").first
    assert first_date.bounding_box()["height"] >= 48
    assert phone.locator("article").inner_text().count("退休老师教毛笔字") == 1
    no_sideways_scroll(phone)
    phone.screenshot(
        path=screenshot_dir / "listings-activity-390x844.png", full_page=True
    )
