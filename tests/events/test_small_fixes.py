"""The small ones of issue 18 (point 6): an activity's description is shown once;
calendar feeds and the sitemap link to the address the site is served on, and
the demo's Site is the address `make run` serves; the poster of a full activity
says 候补. Activities are built here with times computed from now."""

import re

import icalendar
import pytest
from django.test import RequestFactory
from wagtail.models import Site

from demo.management.commands import load_demo
from events.models import EventIndexPage, Occurrence
from sharing import content
from tests.factories import ActivityPageFactory, signup_activity

pytestmark = pytest.mark.django_db

SERVED_ON = "portal.example:8443"  # an address no Site record names


def paragraph(text):
    return [("paragraph", f"<p>{text}</p>")]


# ---------------------------------------------------------------------------
# Description once
# ---------------------------------------------------------------------------


def test_a_summary_repeated_as_the_first_paragraph_is_shown_once(client):
    text = "退休美术老师教书法和国画，笔墨纸砚社区准备。"
    page = signup_activity(summary=text, body=paragraph(text), capacity=10)
    html = client.get(page.url).content.decode()
    article = html[html.index("<article") : html.index("</article>")]
    assert article.count(text) == 1
    assert page.lead == ""


def test_a_different_summary_stays_above_the_body(client):
    page = signup_activity(
        summary="一句话简介。", body=paragraph("详细介绍的第一段。"), capacity=10
    )
    article = client.get(page.url).content.decode()
    assert '<p class="lead">一句话简介。</p>' in article
    assert "详细介绍的第一段。" in article


def test_no_demo_activity_shows_its_description_twice(client):
    # The demo's bodies repeat their summaries: each is shown once.
    from events.models import ActivityPage

    for page in ActivityPage.objects.live()[:5]:
        html = client.get(page.url).content.decode()
        article = html[html.index("<article") : html.index("</article>")]
        assert article.count(page.summary) == 1, page.title


# ---------------------------------------------------------------------------
# Feeds and sitemap on the site's own address
# ---------------------------------------------------------------------------


def links_of(ics: bytes) -> list[str]:
    calendar = icalendar.Calendar.from_ical(ics)
    urls = [str(c["URL"]) for c in calendar.walk("VEVENT") if "URL" in c]
    if "URL" in calendar:
        urls.append(str(calendar["URL"]))
    return urls


def test_feeds_link_to_the_address_they_are_served_on(client):
    page = signup_activity(capacity=10)
    for path in ("/activities/calendar.ics", page.url + "calendar.ics"):
        response = client.get(path, HTTP_HOST=SERVED_ON)
        assert response.status_code == 200, path
        urls = links_of(response.content)
        assert urls, path
        for url in urls:
            assert url.startswith(f"http://{SERVED_ON}/"), url
    assert f"http://{SERVED_ON}{page.url}" in links_of(
        client.get(page.url + "calendar.ics", HTTP_HOST=SERVED_ON).content
    )


def test_feed_etags_differ_by_address(client):
    path = "/activities/calendar.ics"
    one = client.get(path, HTTP_HOST=SERVED_ON)["ETag"]
    other = client.get(path, HTTP_HOST="other.example")["ETag"]
    assert one != other


def test_the_sitemap_links_to_the_address_it_is_served_on(client):
    xml = client.get("/sitemap.xml", HTTP_HOST=SERVED_ON).content.decode()
    locations = re.findall(r"<loc>([^<]+)</loc>", xml)
    assert len(locations) > 10
    assert all(url.startswith(f"http://{SERVED_ON}/") for url in locations)
    assert "localhost" not in xml


def test_on_the_sites_own_hostname_links_use_its_root_url(client):
    site = Site.objects.get(is_default_site=True)
    xml = client.get("/sitemap.xml", HTTP_HOST=site.hostname).content.decode()
    assert f"<loc>{site.root_url}/</loc>" in xml


def test_the_sites_hostname_on_another_port_links_to_that_port(client):
    """A copy of the demo served on another port than its Site record's (a test
    server, a second `make run`) links to itself, not to the Site's port."""
    site = Site.objects.get(is_default_site=True)
    other = f"{site.hostname}:{site.port + 1234}"
    xml = client.get("/sitemap.xml", HTTP_HOST=other).content.decode()
    locations = re.findall(r"<loc>([^<]+)</loc>", xml)
    assert locations and all(url.startswith(f"http://{other}/") for url in locations)
    own = f"{site.hostname}:{site.port}"
    xml = client.get("/sitemap.xml", HTTP_HOST=own).content.decode()
    assert f"<loc>{site.root_url}/</loc>" in xml


def test_the_demo_site_is_the_address_make_run_serves():
    makefile = open("Makefile", encoding="utf-8").read()
    host = re.search(r"^HOST \?= (\S+)", makefile, re.M).group(1)
    port = int(re.search(r"^PORT \?= (\d+)", makefile, re.M).group(1))
    assert "load_demo --host $(HOST) --port $(PORT)" in makefile
    assert (load_demo.DEMO_HOST, load_demo.DEMO_PORT) == (host, port)
    site = Site.objects.get(is_default_site=True)  # built by load_demo
    assert (site.hostname, site.port) == (host, port)
    assert site.root_url == f"http://{host}:{port}"


def test_load_demo_moves_only_the_stock_site():
    site = Site.objects.get(is_default_site=True)
    home = site.root_page
    command = load_demo.Command()
    command.created, command.host, command.port = 0, "10.0.0.5", 9000
    Site.objects.filter(pk=site.pk).update(hostname="localhost", port=80)
    command.site(home)
    site.refresh_from_db()
    assert (site.hostname, site.port) == ("10.0.0.5", 9000)
    # An address an admin gave the site is kept.
    Site.objects.filter(pk=site.pk).update(hostname="huayuanlu.example.cn", port=443)
    command.site(home)
    site.refresh_from_db()
    assert (site.hostname, site.port) == ("huayuanlu.example.cn", 443)


# ---------------------------------------------------------------------------
# The poster of a full activity
# ---------------------------------------------------------------------------


def poster_caption(page) -> str:
    request = RequestFactory().get(page.url)
    return content.poster_data(page, request).caption_detail


def fill(page):
    Occurrence.objects.filter(page_id=page.pk).update(taken=page.capacity)


def test_a_full_activitys_poster_says_waitlist():
    page = signup_activity(capacity=5, waitlist_enabled=True)
    assert "在线报名" in poster_caption(page)
    fill(page)
    caption = poster_caption(page)
    assert "候补" in caption and "在线报名" not in caption


def test_a_full_activity_without_waitlist_does_not_invite_signups():
    page = signup_activity(capacity=5, waitlist_enabled=False)
    fill(page)
    caption = poster_caption(page)
    assert "在线报名" not in caption and "已满" in caption


def test_a_series_poster_says_waitlist_only_when_every_coming_session_is_full():
    page = ActivityPageFactory(
        parent=EventIndexPage.objects.get(slug="activities"),
        registration_required=True,
        capacity=3,
        repeat="DAILY",
        repeat_count=3,
    )
    first = Occurrence.objects.filter(page_id=page.pk).order_by("start").first()
    Occurrence.objects.filter(pk=first.pk).update(taken=3)
    assert "在线报名" in poster_caption(page)
    fill(page)
    assert "候补" in poster_caption(page)


def test_the_poster_file_changes_when_the_activity_fills(client):
    page = signup_activity(capacity=2)
    first = client.get(f"/share/{page.pk}/poster/").content.decode()
    fill(page)
    second = client.get(f"/share/{page.pk}/poster/").content.decode()
    src = re.compile(r'src="([^"]+poster[^"]*)"')
    assert src.search(first).group(1) != src.search(second).group(1)
