"""The shared page cache (portal/pagecache.py) through the test client on the demo
site: what is stored, what is shared, what is never cached, what invalidates."""

import pytest
from django.core.cache import cache
from django.test import override_settings
from django.test.client import RequestFactory
from django.utils import timezone
from wagtail.models import Page

from events.models import EventIndexPage, Occurrence
from events.registration import closed_reason, sign_up
from home.models import HonourIndexPage, HonourPage
from portal import pagecache
from tests.e2e.conftest import WECHAT_UA

pytestmark = pytest.mark.django_db

HEADER = pagecache.HEADER


@pytest.fixture(autouse=True)
def page_cache():
    cache.clear()
    with override_settings(PAGE_CACHE_SECONDS=300):
        yield
    cache.clear()


@pytest.fixture
def honours_url(db):
    return HonourIndexPage.objects.get(slug="honours").url


def test_second_anonymous_view_is_a_hit_without_queries(
    client, honours_url, django_assert_num_queries
):
    first = client.get(honours_url)
    assert first.status_code == 200
    assert first[HEADER] == "MISS"
    with django_assert_num_queries(0):
        second = client.get(honours_url)
    assert second[HEADER] == "HIT"
    assert second.content == first.content
    assert second["Content-Type"] == first["Content-Type"]


@pytest.mark.parametrize(
    "suffix",
    [
        "?from=singlemessage&isappinstalled=0",
        "?from=timeline",
        "?from=groupmessage&isappinstalled=0",
        "?utm_source=wechat&utm_medium=share",
    ],
)
def test_wechat_and_tracking_parameters_share_the_plain_entry(
    client, honours_url, suffix
):
    plain = client.get(honours_url)
    shared = client.get(honours_url + suffix)
    assert shared[HEADER] == "HIT"
    assert shared.content == plain.content


def test_other_query_strings_stay_distinct(client, honours_url):
    client.get(honours_url)
    year = client.get(honours_url + "?year=2024")
    assert year[HEADER] == "MISS"
    assert client.get(honours_url + "?year=2024&from=timeline")[HEADER] == "HIT"
    assert client.get(honours_url + "?page=2")[HEADER] == "MISS"


def test_wechat_browser_gets_its_own_entry(client):
    url = "/activities/"
    plain = client.get(url)
    wechat = client.get(url, HTTP_USER_AGENT=WECHAT_UA)
    assert wechat[HEADER] == "MISS"
    assert "在浏览器打开" in wechat.content.decode()
    assert "在浏览器打开" not in plain.content.decode()
    assert client.get(url, HTTP_USER_AGENT=WECHAT_UA)[HEADER] == "HIT"


def test_head_is_served_from_the_get_entry(client, honours_url):
    client.get(honours_url)
    assert client.head(honours_url)[HEADER] == "HIT"


def test_logged_in_editor_is_never_served_or_stored(
    client, honours_url, django_user_model
):
    client.get(honours_url)  # an anonymous entry exists
    editor = django_user_model.objects.get(username="admin")
    client.force_login(editor)
    response = client.get(honours_url)
    assert HEADER not in response
    assert "wagtail-userbar" in response.content.decode()
    client.logout()
    client.cookies.clear()
    anonymous = client.get(honours_url)
    assert anonymous[HEADER] == "HIT"
    assert "wagtail-userbar" not in anonymous.content.decode()


def open_occurrence() -> tuple[Page, Occurrence]:
    """A coming occurrence of an activity that takes sign-ups and has seats left."""
    for occurrence in Occurrence.objects.filter(
        cancelled=False, capacity__isnull=False, start__gt=timezone.now()
    ).order_by("start"):
        page = Page.objects.get(pk=occurrence.page_id).specific
        if (
            page.live
            and occurrence.taken < occurrence.capacity
            and not (closed_reason(page, occurrence, timezone.now()))
        ):
            return page, occurrence
    raise AssertionError("the demo has no open activity")


def test_personal_and_form_pages_are_not_stored(client):
    page, occurrence = open_occurrence()
    result = sign_up(page, occurrence.pk, name="李冬梅", phone="13911112222")
    personal = f"{page.url}r/{result.registration.token}/"
    assert client.get(personal)[HEADER] == "PASS"
    assert client.get(personal)[HEADER] == "PASS"
    assert HEADER not in client.post(page.url + "signup/", {})


def test_publishing_invalidates_every_cached_page(
    client, honours_url, django_capture_on_commit_callbacks
):
    honour = HonourPage.objects.live().order_by("-year", "path").first()
    client.get(honours_url)
    client.get(honour.url)
    honour.title = honour.person_name = "新的榜样"
    with django_capture_on_commit_callbacks(execute=True):
        honour.save_revision().publish()
    page = client.get(honour.url)
    listing = client.get(honours_url)
    assert page[HEADER] == listing[HEADER] == "MISS"
    assert "新的榜样" in page.content.decode()
    assert "新的榜样" in listing.content.decode()


def test_unpublishing_drops_the_page(client, django_capture_on_commit_callbacks):
    honour = HonourPage.objects.live().first()
    assert client.get(honour.url).status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        honour.unpublish()
    assert client.get(honour.url).status_code == 404


def test_a_sign_up_invalidates_pages_that_show_seats_only(
    client, honours_url, django_capture_on_commit_callbacks
):
    page, occurrence = open_occurrence()
    index = "/activities/"
    client.get(index)
    client.get(honours_url)
    with django_capture_on_commit_callbacks(execute=True):
        sign_up(page, occurrence.pk, name="周小红", phone="13922223333")
    assert client.get(index)[HEADER] == "MISS"
    assert client.get(honours_url)[HEADER] == "HIT"


def test_a_lost_generation_key_invalidates_instead_of_reviving(client, honours_url):
    client.get(honours_url)
    cache.delete("pagecache:gen:content")
    assert client.get(honours_url)[HEADER] == "MISS"


def test_disabled_cache_passes_everything_through(client, honours_url):
    with override_settings(PAGE_CACHE_SECONDS=0):
        assert HEADER not in client.get(honours_url)
        assert HEADER not in client.get(honours_url)


def test_key_ignores_wechat_parameters_but_keeps_filters():
    factory = RequestFactory()

    def key(url, **extra):
        return pagecache.cache_key(factory.get(url, **extra))

    assert key("/a/") == key("/a/?from=singlemessage&isappinstalled=0")
    assert key("/a/?type=lecture&page=2") == key("/a/?page=2&type=lecture&from=x")
    assert key("/a/?type=lecture") != key("/a/?type=festival")
    assert key("/a/") != key("/b/")
    assert key("/a/") != key("/a/", HTTP_USER_AGENT=WECHAT_UA)


def test_unknown_generation_is_a_programming_error():
    with pytest.raises(ValueError):
        pagecache.bump("everything")


def test_a_cached_feed_answers_a_matching_etag_with_304(
    client, django_assert_num_queries
):
    feed = EventIndexPage.objects.get().url + "calendar.ics"
    first = client.get(feed)
    assert first[HEADER] == "MISS" and first["ETag"]
    with django_assert_num_queries(0):
        again = client.get(feed, HTTP_IF_NONE_MATCH=first["ETag"])
    assert again.status_code == 304 and again.content == b""
    assert again["ETag"] == first["ETag"] and again[HEADER] == "HIT"
    other = client.get(feed, HTTP_IF_NONE_MATCH='W/"something-else"')
    assert other.status_code == 200 and other.content == first.content


def test_static_files_are_not_looked_up(client):
    response = client.get("/static/css/portal.css")
    assert response.status_code == 200
    assert HEADER not in response
    request = RequestFactory().get("/static/css/portal.css")
    assert not pagecache.public_read(request)
    assert not pagecache.public_read(RequestFactory().get("/media/images/a.webp"))
    assert pagecache.public_read(RequestFactory().get("/activities/"))
