"""Cached parts of pages (``{% fragment %}``, ``portal.pagecache.fragment``): the
home page's listings come from the cache when the page is rendered again, look
exactly as rendered fresh, and change as soon as what they show changes."""

import re
from datetime import timedelta

import pytest
from django.core.cache import cache
from django.template import Context, Template, TemplateSyntaxError
from django.test import override_settings
from django.test.client import RequestFactory
from django.utils import timezone

from events.models import EventIndexPage, Occurrence
from events.registration import sign_up
from home.models import NewsIndexPage
from portal import pagecache
from tests.factories import ActivityPageFactory, ArticlePageFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def fragments():
    cache.clear()
    with override_settings(FRAGMENT_CACHE_SECONDS=300):
        yield
    cache.clear()


def home_html(client) -> str:
    return client.get("/").content.decode()


def seats_badges(html: str) -> list[str]:
    return re.findall(r"余 (\d+) 个名额", html)


def test_listings_from_the_cache_are_what_a_fresh_render_shows(
    client, django_assert_max_num_queries
):
    with override_settings(FRAGMENT_CACHE_SECONDS=0):
        fresh = home_html(client)
    first = home_html(client)
    with django_assert_max_num_queries(4):
        second = home_html(client)
    assert fresh == first == second
    assert second.count('class="card card--event') == 4


@pytest.mark.parametrize(
    "url",
    [
        "/activities/",
        "/activities/?page=2",
        "/activities/?page=99",
        "/activities/?type=lecture",
        "/activities/?when=past",
        "/activities/month/",
    ],
)
def test_every_filter_and_page_of_the_index_is_its_own_fragment(client, url):
    with override_settings(FRAGMENT_CACHE_SECONDS=0):
        fresh = {u: client.get(u).content for u in ("/activities/", url)}
    for u in ("/activities/", url):  # fill the cache, the plain list first
        client.get(u)
    assert client.get(url).content == fresh[url]
    assert client.get("/activities/").content == fresh["/activities/"]


def test_publishing_shows_in_the_listing_at_once(
    client, django_capture_on_commit_callbacks
):
    home_html(client)
    news = NewsIndexPage.objects.get()
    with django_capture_on_commit_callbacks(execute=True):
        article = ArticlePageFactory(
            parent=news, title="新的街道动态", date=timezone.localdate()
        )
        article.save_revision().publish()
    assert "新的街道动态" in home_html(client)


def test_a_sign_up_changes_the_seats_in_the_cached_listing(
    client, django_capture_on_commit_callbacks
):
    # An activity of its own, first on the home page whatever the day: what the
    # demo has coming depends on the day the test runs.
    page = ActivityPageFactory(
        parent=EventIndexPage.objects.get(),
        start=timezone.now() + timedelta(hours=1),
        registration_required=True,
        capacity=10,
        max_party_size=2,
    )
    occurrence = Occurrence.objects.get(page_id=page.pk)
    Occurrence.objects.filter(start__lt=occurrence.start).exclude(
        pk=occurrence.pk
    ).update(cancelled=True)
    before = home_html(client)
    badges = seats_badges(before)
    assert "余 10 个名额" in before
    with django_capture_on_commit_callbacks(execute=True):
        sign_up(page, occurrence.pk, name="陈小兰", phone="13955556666", party_size=2)
    after = home_html(client)
    assert "余 8 个名额" in after
    assert seats_badges(after) != badges
    assert sum(map(int, seats_badges(before))) - sum(map(int, seats_badges(after))) == 2


def test_key_holds_host_values_and_generations():
    factory = RequestFactory()
    one = factory.get("/", HTTP_HOST="a.test")
    other = factory.get("/", HTTP_HOST="b.test")
    key = pagecache.fragment_key(one, "home-events", ("seats",), (3,))
    assert key == pagecache.fragment_key(one, "home-events", ("seats",), (3,))
    assert key != pagecache.fragment_key(other, "home-events", ("seats",), (3,))
    assert key != pagecache.fragment_key(one, "home-events", ("seats",), (4,))
    assert key != pagecache.fragment_key(one, "home-events", (), (3,))
    pagecache.bump("seats")
    assert key != pagecache.fragment_key(one, "home-events", ("seats",), (3,))
    with pytest.raises(ValueError):
        pagecache.fragment_key(one, "home-events", ("weather",))


def test_tag_renders_once_and_needs_a_name():
    template = Template(
        '{% load fragment_tags %}{% fragment "t" n depends="seats" %}'
        "{{ counter.next }}{% endfragment %}"
    )

    class Counter:
        calls = 0

        def next(self):
            self.calls += 1
            return self.calls

    counter = Counter()
    request = RequestFactory().get("/")
    context = {"counter": counter, "n": 1, "request": request}
    assert template.render(Context(context)) == "1"
    assert template.render(Context(context)) == "1"
    assert template.render(Context({**context, "n": 2})) == "2"
    with override_settings(FRAGMENT_CACHE_SECONDS=0):
        assert template.render(Context(context)) == "3"
    with pytest.raises(TemplateSyntaxError):
        Template("{% load fragment_tags %}{% fragment %}{% endfragment %}")
