"""Listing queries whose SQL is worked out once (core/prepared.py, issue 19):
the same rows as the query built afresh, whatever the time asked about; built
once per set of arguments; a query that works the time out is refused.

Times are computed from now, so nothing depends on today's date."""

import sys
import threading
from datetime import timedelta

import pytest
from django.db.models import F
from django.utils import timezone
from wagtail.models import Page, PageViewRestriction

from core.prepared import NotPreparable, prepared
from events.models import Occurrence
from events.occurrences import (
    ListedOccurrences,
    coming_and_past_rows,
    listed_occurrences,
    listed_rows,
)
from tests.factories import (
    ActivityPageFactory,
    CommunityIndexPageFactory,
    CommunityPageFactory,
    HomePageFactory,
    in_days,
    make_site,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def community(db):
    home = HomePageFactory(parent=Page.get_first_root_node(), slug="prepared-home")
    make_site("prepared.test", home)
    community = CommunityPageFactory(
        parent=CommunityIndexPageFactory(parent=home), slug="c-prepared"
    )
    for days in (-20, -9, -2, 0, 1, 4, 12, 30):
        ActivityPageFactory(
            parent=community,
            slug=f"a{days + 100}",
            start=in_days(days, 9),
            end=in_days(days, 11),
        )
    ActivityPageFactory(
        parent=community,
        slug="weekly",
        start=in_days(-15, 14),
        end=in_days(-15, 16),
        repeat="WEEKLY",
        repeat_weekdays=["MO", "TH"],
        repeat_count=16,
    )
    return community


def test_rows_are_those_of_the_query_built_afresh_at_any_time(community):
    arguments = {
        "within": community.get_parent().get_parent().path,
        "community": community.pk,
        "coming": 3,
        "past": 2,
    }
    seen = set()
    moments = [(-30, 8), (-9, 10), (0, 10), (0, 12), (5, 0), (60, 0)]
    for now in (in_days(days, hour) for days, hour in moments):
        prepared_ids = [o.pk for o in coming_and_past_rows(now, **arguments)]
        built = coming_and_past_rows.__wrapped__(now, **arguments)
        assert prepared_ids == list(built.values_list("pk", flat=True)), now
        seen.add(tuple(prepared_ids))
    assert len(seen) == 6, "the time given changes the rows: it is not frozen"
    assert all(
        isinstance(o, Occurrence) and o.start
        for o in coming_and_past_rows(in_days(0, 10), **arguments)
    )


def test_the_query_is_built_once_per_set_of_arguments(community):
    builds = []

    @prepared
    def starting_after(now, *, community):
        builds.append(now)
        return Occurrence.objects.filter(start__gte=now, community_id=community)

    for days in (-30, -5, 0, 6):
        rows = list(starting_after(in_days(days, 0), community=community.pk))
        expected = Occurrence.objects.filter(
            start__gte=in_days(days, 0), community_id=community.pk
        )
        assert {o.pk for o in rows} == set(expected.values_list("pk", flat=True))
        assert rows or days > 30
    assert len(builds) == 2  # the two marker times, at the first call only
    assert list(starting_after(in_days(0, 0), community=community.pk + 1000)) == []
    assert len(builds) == 4 and len(starting_after.cache) == 2


@pytest.mark.parametrize(
    "build",
    [
        lambda now: Occurrence.objects.filter(start__gte=now - timedelta(days=1)),
        lambda now: Occurrence.objects.filter(start__date=now.date()),
        lambda now: Occurrence.objects.all()[: now.year % 7],
    ],
    ids=["a day before", "the date", "the SQL itself"],
)
def test_a_query_that_works_the_time_out_is_refused(db, build):
    with pytest.raises(NotPreparable):
        list(prepared(build)(timezone.now()))


@pytest.mark.parametrize(
    "filters",
    [{}, {"past": True}, {"kinds": ["activity"]}, {"past": True, "community": -1}],
    ids=["coming", "past", "one kind", "no such community"],
)
def test_the_index_listing_counts_and_slices_as_the_built_query(community, filters):
    within = community.get_parent().get_parent().path
    if filters.get("community") == -1:
        filters = {**filters, "community": community.pk}
    for now in (in_days(-10, 10), in_days(0, 10), in_days(20, 10)):
        built = listed_occurrences(within, now=now, **filters)
        ids = list(built.values_list("pk", flat=True))
        listing = ListedOccurrences(within, now=now, **filters)
        assert listing.count() == len(listing) == len(ids)
        for window in (slice(0, 2), slice(2, 5), slice(1, None), slice(50, 60)):
            assert [o.pk for o in listing[window]] == ids[window], (now, window)
        assert [o.pk for o in listed_rows(within, now=now, limit=3, **filters)] == (
            ids[:3]
        )


def test_the_kept_sql_is_bounded(db, monkeypatch):
    monkeypatch.setattr("core.prepared.MAX_QUERIES", 2)

    @prepared
    def starting_after(now, *, page):
        return Occurrence.objects.filter(start__gte=now, page_id=page)

    for page in (1, 2, 3, 2, 4):
        list(starting_after(timezone.now(), page=page))
    # The oldest goes first: 1 when 3 came, 2 when 4 came.
    assert [key[-1] for key in starting_after.cache] == [(("page", 3),), (("page", 4),)]


def test_a_community_page_stops_listing_an_honour_made_private(db):
    from home.models import CommunityPage, HonourPage

    community = next(
        c
        for c in CommunityPage.objects.live().order_by("path")
        if HonourPage.objects.live().filter(community=c).exists()
    )
    people, news = community.honours_and_articles(honours=6, articles=5)
    assert people, "the demo gives the community an honour"
    PageViewRestriction.objects.create(
        page=people[0], restriction_type=PageViewRestriction.PASSWORD, password="x"
    )
    after, news_after = community.honours_and_articles(honours=6, articles=5)
    assert people[0].pk not in {p.pk for p in after}
    assert [p.pk for p in news_after] == [p.pk for p in news]


def test_threads_share_the_kept_sql_within_its_bound(db, monkeypatch):
    """gunicorn's threads call the same prepared query: the oldest SQL goes as
    new arrives, and no thread meets a half-changed cache."""
    monkeypatch.setattr("core.prepared.MAX_QUERIES", 3)
    sys.setswitchinterval(1e-6)  # switch threads as often as possible
    try:

        @prepared
        def starting_after(now, *, page):
            return Occurrence.objects.filter(start__gte=now, page_id=page)

        errors = []

        def caller(n):
            try:
                for i in range(150):
                    *_, params = starting_after.sql(timezone.now(), page=(n + i) % 9)
                    assert (n + i) % 9 in params
            except Exception as error:  # noqa: BLE001 - the test reports it
                errors.append(repr(error))

        threads = [threading.Thread(target=caller, args=(n,)) for n in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        sys.setswitchinterval(0.005)
    assert errors == []
    assert len(starting_after.cache) <= 3


def test_values_are_parameters_kept_per_number_of_ids(
    community, django_assert_num_queries
):
    """``values``: the pages of other ids come from the same SQL, with what
    select_related joined and the annotations, as the built query gives them."""
    builds = []

    @prepared(values=("ids",))
    def pages_of(now, *, ids):
        builds.append(ids)
        return (
            Page.objects.filter(pk__in=ids)
            .select_related("locale")
            .annotate(doubled=F("depth") * 2)
            .order_by("pk")
        )

    pages = list(
        Page.objects.filter(path__startswith=community.path)
        .select_related("locale")
        .order_by("pk")
    )
    for chosen in (pages[:3], pages[3:6], pages[-3:]):
        expected = [(p.pk, p.locale.language_code, p.depth * 2) for p in chosen]
        with django_assert_num_queries(1):
            found = pages_of(None, ids=[page.pk for page in chosen])
            assert [(p.pk, p.locale.language_code, p.doubled) for p in found] == (
                expected
            )
    assert len(builds) == 2  # the markers, once for three ids
    assert [p.pk for p in pages_of(None, ids=[pages[0].pk, -5])] == [pages[0].pk]
    assert len(builds) == 4 and len(pages_of.cache) == 2
    with django_assert_num_queries(0):
        assert pages_of(None, ids=[]) == []


def test_a_single_value_and_the_time_together(community):
    @prepared(values=("page",))
    def coming_sessions(now, *, page):
        return Occurrence.objects.filter(start__gte=now, page_id=page).order_by("start")

    event_ids = Occurrence.objects.filter(
        page__path__startswith=community.path
    ).values_list("page_id", flat=True)
    for page_id in set(event_ids):
        for now in (in_days(-20, 0), in_days(0, 12)):
            expected = Occurrence.objects.filter(start__gte=now, page_id=page_id)
            assert [o.pk for o in coming_sessions(now, page=page_id)] == list(
                expected.order_by("start").values_list("pk", flat=True)
            )
    assert len(coming_sessions.cache) == 1


@pytest.mark.parametrize(
    "build",
    [
        lambda now, page: Occurrence.objects.filter(page_id=abs(page)),
        lambda now, page: Occurrence.objects.all(),
        lambda now, page: Occurrence.objects.filter(page_id=page).prefetch_related(
            "signups"
        ),
    ],
    ids=["worked out from", "left out", "prefetch"],
)
def test_a_value_not_given_as_a_parameter_is_refused(db, build):
    with pytest.raises(NotPreparable):
        prepared(build, values=("page",))(None, page=5)


def test_a_query_of_values_gives_its_sql_not_rows(db):
    @prepared
    def ids(now, *, page):
        return Occurrence.objects.filter(page_id=page).values("pk")

    model, sql, params = ids.sql(None, page=5)
    assert model is Occurrence and "SELECT" in sql and params == [5]
    with pytest.raises(TypeError):
        ids(None, page=5)


def test_an_activity_made_private_leaves_the_cards(community):
    from events.occurrences import event_pages

    ids = set(
        Occurrence.objects.filter(page__path__startswith=community.path).values_list(
            "page_id", flat=True
        )
    )
    assert set(event_pages(ids)) == ids
    hidden = Page.objects.get(pk=min(ids))
    PageViewRestriction.objects.create(
        page=hidden, restriction_type=PageViewRestriction.PASSWORD, password="x"
    )
    assert set(event_pages(ids)) == ids - {hidden.pk}


def test_page_children_from_kept_sql_and_a_previews_from_memory(
    db, django_assert_num_queries
):
    from core.models import page_children
    from home.models import CommunityPage, CommunitySubBrand

    page = next(c for c in CommunityPage.objects.live() if c.sub_brands.count() > 1)
    expected = list(page.sub_brands.select_related("image"))
    for _ in range(2):
        with django_assert_num_queries(1):
            found = page_children(page, "sub_brands", "image")
            assert [(b.pk, b.name, b.image) for b in found] == [
                (b.pk, b.name, b.image) for b in expected
            ]
    # A preview: the edited children, not the saved ones.
    page.sub_brands = [CommunitySubBrand(name="预览里的新板块"), expected[0]]
    with django_assert_num_queries(0):
        assert [b.name for b in page_children(page, "sub_brands", "image")] == [
            "预览里的新板块",
            expected[0].name,
        ]
