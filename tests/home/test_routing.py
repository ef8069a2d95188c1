"""Routing remembered per content generation (``HomePage.route``): the second
request for a page finds it in one query however deep it is, and every change
that moves a URL (publish with a new slug, move, unpublish, delete) is seen at
once because it bumps the content generation."""

import pytest
from django.db import connection
from django.http import Http404
from django.test.client import RequestFactory
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from events.models import ActivityPage, EventIndexPage
from events.registration import sign_up
from home.models import HonourPage
from portal import pagecache

pytestmark = pytest.mark.django_db


def route(home, path):
    request = RequestFactory().get(path)
    components = [part for part in path.split("/") if part]
    with CaptureQueriesContext(connection) as queries:
        result = home.route(request, components)
    return result, len(queries)


def remembered(home, path) -> bool:
    components = "/".join(part for part in path.split("/") if part)
    key = f"pagecache:remember:route:{home.pk}:{components}:"
    return pagecache.cache().get(key + pagecache.generation("content")) is not None


def an_honour() -> HonourPage:
    return HonourPage.objects.live().order_by("path").first()


def test_a_deep_page_is_one_query_the_second_time(home):
    honour = an_honour()
    first, first_queries = route(home, honour.url)
    second, second_queries = route(home, honour.url)
    assert first[0].pk == second[0].pk == honour.pk
    assert type(second[0]) is HonourPage
    assert first_queries == 4  # two per level: the index, then the honour
    assert second_queries == 1


def test_sub_routes_are_the_pages_own(home):
    index = EventIndexPage.objects.get()
    for suffix in ("", "month/", "calendar.ics/"):
        route(home, index.url + suffix)
        (page, args, _kwargs), queries = route(home, index.url + suffix)
        assert page.pk == index.pk and queries == 1
        view = args[0]
        assert view.__name__ == {"": "upcoming", "month/": "month"}.get(suffix, "ical")


def test_personal_links_and_unknown_paths_are_not_remembered(home):
    activity = ActivityPage.objects.live().filter(registration_required=True).first()
    occurrence = activity.occurrences.filter(start__gt=timezone.now()).first()
    result = sign_up(activity, occurrence.pk, name="王小明", phone="13911110000")
    personal = f"{activity.url}r/{result.registration.token}/"
    (page, _args, _kwargs), _queries = route(home, personal)
    assert page.pk == activity.pk
    assert not remembered(home, personal)
    with pytest.raises(Http404):
        route(home, "/honours/no-such-person/")
    assert not remembered(home, "/honours/no-such-person/")


def test_a_new_slug_moves_the_url_at_once(home, django_capture_on_commit_callbacks):
    honour = an_honour()
    old_url = honour.url
    route(home, old_url)
    assert remembered(home, old_url)
    honour.slug = "renamed-honour"
    with django_capture_on_commit_callbacks(execute=True):
        honour.save_revision().publish()
    with pytest.raises(Http404):
        route(home, old_url)
    (page, _args, _kwargs), _queries = route(
        home, old_url.rsplit("/", 2)[0] + "/renamed-honour/"
    )
    assert page.pk == honour.pk


def test_moving_and_unpublishing_are_seen(home, django_capture_on_commit_callbacks):
    honour = an_honour()
    old_url = honour.url
    route(home, old_url)
    with django_capture_on_commit_callbacks(execute=True):
        honour.move(home, pos="last-child")
    with pytest.raises(Http404):
        route(home, old_url)
    honour.refresh_from_db()
    (page, _args, _kwargs), _queries = route(home, f"/{honour.slug}/")
    assert page.pk == honour.pk
    with django_capture_on_commit_callbacks(execute=True):
        honour.unpublish()
    with pytest.raises(Http404):
        route(home, f"/{honour.slug}/")


def test_a_remembered_page_that_is_gone_falls_back_to_routing(home):
    honour = an_honour()
    route(home, honour.url)
    # The remembered id no longer exists without the generation having moved (as
    # after a rolled-back transaction): routing walks the tree again.
    components = "/".join(part for part in honour.url.split("/") if part)
    key = f"pagecache:remember:route:{home.pk}:{components}:"
    pagecache.cache().set(
        key + pagecache.generation("content"), (10**9, honour.content_type_id, 2)
    )
    (page, _args, _kwargs), _queries = route(home, honour.url)
    assert page.pk == honour.pk
