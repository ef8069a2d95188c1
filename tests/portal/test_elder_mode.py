"""长辈模式 (portal/elder.py): the switch sets or deletes its cookie and goes back
only to a path on this site; pages show the mode's class, stylesheet and switch;
the page cache keeps each mode as its own variant, with the standard mode's
entries unchanged (its HIT ratio is not split by the new mode)."""

import hashlib

import pytest
from django.core.cache import cache
from django.test import override_settings
from django.test.client import RequestFactory

from home.models import HonourIndexPage
from portal import elder, pagecache

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


def test_switch_to_elder_sets_a_lasting_cookie_and_goes_back(client):
    response = client.get("/mode/elder/", {"next": "/activities/?when=past"})
    assert response.status_code == 302
    assert response["Location"] == "/activities/?when=past"
    morsel = response.cookies[elder.COOKIE]
    assert morsel.value == elder.ELDER
    assert int(morsel["max-age"]) >= 300 * 24 * 3600
    assert morsel["httponly"] and morsel["samesite"] == "Lax"
    assert "no-store" in response["Cache-Control"]


def test_switch_back_to_standard_deletes_the_cookie(client):
    client.cookies[elder.COOKIE] = elder.ELDER
    response = client.get("/mode/standard/", {"next": "/news/"})
    assert response["Location"] == "/news/"
    assert response.cookies[elder.COOKIE].value == ""
    assert response.cookies[elder.COOKIE]["max-age"] == 0


@pytest.mark.parametrize(
    "target",
    [
        "https://evil.example/",
        "http://evil.example/activities/",
        "//evil.example/",
        "///evil.example/",
        "/\\evil.example/",
        "\\\\evil.example/",
        "/\t/evil.example/",
        "/\n/evil.example/",
        " //evil.example/",
        "javascript:alert(1)",
        "data:text/html,hi",
        "evil.example",
        "",
    ],
)
def test_switch_never_sends_anyone_to_another_site(client, target):
    response = client.get("/mode/elder/", {"next": target})
    assert response.status_code == 302
    assert response["Location"] == "/"


def test_switch_without_next_goes_home(client):
    assert client.get("/mode/elder/")["Location"] == "/"


def test_switch_takes_get_only_and_known_modes(client):
    assert client.post("/mode/elder/", {"next": "/"}).status_code == 405
    assert client.get("/mode/large/").status_code == 404


def test_pages_show_the_mode_and_a_switch_back_to_themselves(client, honours_url):
    standard = client.get(honours_url + "?year=2025&from=singlemessage").content
    standard = standard.decode()
    assert "mode-elder" not in standard and "css/elder" not in standard
    # The switch comes back to this page, without WeChat's share parameters.
    assert '/mode/elder/?next=%2Fhonours%2F%3Fyear%3D2025"' in standard
    assert ">长辈模式</a>" in standard

    client.cookies[elder.COOKIE] = elder.ELDER
    page = client.get(honours_url).content.decode()
    assert "mode-elder" in page and "css/elder" in page
    assert '/mode/standard/?next=%2Fhonours%2F"' in page
    assert ">标准模式</a>" in page


def test_page_cache_keeps_each_mode_as_its_own_variant(client, honours_url):
    first = client.get(honours_url)
    assert first[HEADER] == "MISS"
    assert client.get(honours_url)[HEADER] == "HIT"

    client.cookies[elder.COOKIE] = elder.ELDER
    large = client.get(honours_url)
    assert large[HEADER] == "MISS"  # never the standard page
    assert b"mode-elder" in large.content
    again = client.get(honours_url)
    assert again[HEADER] == "HIT" and b"mode-elder" in again.content

    del client.cookies[elder.COOKIE]
    standard = client.get(honours_url)
    assert standard[HEADER] == "HIT"  # the standard entry is still there
    assert b"mode-elder" not in standard.content
    assert standard.content == first.content


def test_an_elder_page_cached_first_is_never_served_to_the_standard_mode(client):
    client.cookies[elder.COOKIE] = elder.ELDER
    assert client.get("/activities/")[HEADER] == "MISS"
    del client.cookies[elder.COOKIE]
    standard = client.get("/activities/")
    assert standard[HEADER] == "MISS"
    assert b"mode-elder" not in standard.content


def test_standard_key_is_unchanged_and_other_cookie_values_share_it():
    factory = RequestFactory()
    plain = factory.get("/activities/")
    odd = factory.get("/activities/")
    odd.COOKIES[elder.COOKIE] = "huge"
    large = factory.get("/activities/")
    large.COOKIES[elder.COOKIE] = elder.ELDER
    assert pagecache.cache_key(plain) == pagecache.cache_key(odd)
    assert pagecache.cache_key(large) != pagecache.cache_key(plain)
    # The standard mode's key is the one it had before the mode existed, so
    # entries stored before a deploy stay hits.
    raw = "|".join(("testserver", "/activities/", "", "", ""))
    expected = "pagecache:" + hashlib.sha256(raw.encode()).hexdigest()
    assert pagecache.cache_key(plain) == expected
