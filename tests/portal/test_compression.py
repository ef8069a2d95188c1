"""gzip where the app serves pages (portal/compression.py): a miss and a hit come
compressed to a browser that asks, the page cache keeps one copy, forms with a
CSRF token never compress alike (BREACH), and a browser without gzip gets the
page as it is."""

import gzip

import pytest
from django.core.cache import cache
from django.test import override_settings

from events.models import ActivityPage, EventIndexPage
from portal import pagecache

pytestmark = pytest.mark.django_db

GZIP = {"HTTP_ACCEPT_ENCODING": "gzip, deflate, br"}


@pytest.fixture
def page_cache():
    cache.clear()
    with override_settings(PAGE_CACHE_SECONDS=300):
        yield
    cache.clear()


def test_miss_and_hit_come_gzipped_and_unpack_to_the_page(client, page_cache):
    url = EventIndexPage.objects.get(slug="activities").url
    plain = client.get(url)  # no Accept-Encoding: stored, sent as it is
    assert plain[pagecache.HEADER] == "MISS"
    assert "Content-Encoding" not in plain
    assert "Accept-Encoding" in plain["Vary"]
    page = plain.content
    assert "活动日历" in page.decode()

    cache.clear()
    for state in ("MISS", "HIT", "HIT"):
        response = client.get(url, **GZIP)
        assert response[pagecache.HEADER] == state
        assert response["Content-Encoding"] == "gzip"
        assert "Accept-Encoding" in response["Vary"]
        assert int(response["Content-Length"]) == len(response.content)
        assert gzip.decompress(response.content) == page
        assert len(response.content) < len(page) / 3

    # A hit to a browser without gzip: the stored copy unpacked.
    again = client.get(url)
    assert again[pagecache.HEADER] == "HIT"
    assert "Content-Encoding" not in again
    assert again.content == page
    assert int(again["Content-Length"]) == len(page)


def test_the_cache_keeps_one_gzipped_copy_per_page(client, page_cache):
    url = EventIndexPage.objects.get(slug="activities").url
    zipped = client.get(url, **GZIP).wsgi_request
    plain = client.get(url)
    assert plain[pagecache.HEADER] == "HIT"  # the same entry for both
    key = zipped._page_cache_key
    assert key == plain.wsgi_request._page_cache_key
    entry = cache.get(key)
    assert entry["encoding"] == "gzip"
    assert gzip.decompress(entry["content"]) == plain.content


def test_csrf_form_is_compressed_with_random_padding(client, page_cache):
    """The sign-up form carries a CSRF token: never stored, compressed per
    response with Django's random padding, so two answers never have the same
    length for the same content (BREACH)."""
    page = ActivityPage.objects.live().filter(registration_required=True).first()
    url = page.url + "signup/"
    lengths, pages = set(), set()
    for _ in range(6):
        client.cookies.clear()
        response = client.get(url, **GZIP)
        assert response[pagecache.HEADER] == "PASS"
        assert response["Content-Encoding"] == "gzip"
        lengths.add(len(response.content))
        pages.add(gzip.decompress(response.content))
    assert len(lengths) > 1
    assert "csrfmiddlewaretoken" in pages.pop().decode()


def test_without_the_page_cache_pages_are_compressed_too(client):
    response = client.get("/", **GZIP)
    assert response["Content-Encoding"] == "gzip"
    assert "<html" in gzip.decompress(response.content).decode()


def test_pictures_and_short_answers_are_left_alone(client):
    robots = client.get("/robots.txt", **GZIP)
    assert robots.status_code == 200
    if len(robots.content) < 200:
        assert "Content-Encoding" not in robots
    page = ActivityPage.objects.live().exclude(cover=None).first()
    png = client.get(f"/share/{page.pk}/qr.png", **GZIP)
    assert png.status_code == 200 and png["Content-Type"] == "image/png"
    assert "Content-Encoding" not in png
    svg = client.get(f"/share/{page.pk}/qr.svg", **GZIP)
    assert svg.status_code == 200 and svg["Content-Encoding"] == "gzip"
