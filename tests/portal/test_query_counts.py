"""Every page type runs the same number of queries with 5 items as with 50.

A site of its own (host qc.test) is built from factories, first with 5 of
everything — communities, honours, articles, activities of the three types, and
sign-ups for one activity — then with 50. Each page is requested twice to warm
the caches (site, settings, tree facts) and counted on the third request. Each
batch has a recurring activity of each type: listed once, with its next sessions
(one query more on the pages that list them, whatever their number). The
figures are listed in the README's performance section; a change that moves one
of them must say why there, and growth with the number of items is never allowed.
Breadcrumbs are kept like the menu (``pagecache.remember``) and a routed page is
loaded with its pictures: one query fewer on most pages since issue 19.
"""

from datetime import datetime, timedelta

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from wagtail.models import Page

from events import registration
from events.models import Lecturer
from home.models import CommunityGalleryImage, CommunitySubBrand
from tests.factories import (
    ActivityPageFactory,
    ArticlePageFactory,
    CommunityIndexPageFactory,
    CommunityPageFactory,
    EventIndexPageFactory,
    FestivalActivityPageFactory,
    HomePageFactory,
    HonourIndexPageFactory,
    HonourPageFactory,
    ImageFactory,
    LecturePageFactory,
    NewsIndexPageFactory,
    make_site,
)
from volunteers import wishes
from volunteers.wish_pages import WishBoardPage

pytestmark = pytest.mark.django_db

HOST = "qc.test"

EXPECTED_QUERIES = {
    # Since issue 19's second part, every page Wagtail serves two fewer: the
    # request's Site and its root page are remembered (core/sites.py); and the
    # pages listing activities load the three activity types in one query (two
    # fewer more). Search is a view of its own and looks its site up (3).
    "home": 11,
    "communities": 4,
    # Every picture's renditions in one query, both activity lists and the
    # series' sessions in one occurrence query, the activity pages of the three
    # types in one, honours and articles in one, the page loaded with its cover
    # (18 before issue 19, 13 after its first part). The bound is 8.
    # + 1: its 微心愿 counts, one conditional aggregate ({% community_wishes %},
    # issue 20).
    "community": 7 + 1,
    "honours": 5,
    "honours by year": 5,
    "news": 4,
    "news by tag": 4,
    "activities": 5,
    "activities by type": 5,
    "month": 3,
    "activity": 3,
    "signup": 2,
    "search": 3,
    "feed": 5,
    "feed by type": 3,
    "feed by community": 6,
    "activity feed": 2,
}


def first_of_next_month():
    today = timezone.localdate()
    first = (today.replace(day=1) + timedelta(days=32)).replace(day=1)
    return timezone.make_aware(datetime.combine(first, datetime.min.time()))


@pytest.fixture
def qc_site(db):
    home = HomePageFactory(parent=Page.get_first_root_node(), slug="qc-home")
    make_site(HOST, home)
    site = {
        "home": home,
        "communities": CommunityIndexPageFactory(parent=home),
        "events": EventIndexPageFactory(parent=home, slug="activities"),
        "honours": HonourIndexPageFactory(parent=home),
        "news": NewsIndexPageFactory(parent=home),
        "lecturer": Lecturer.objects.create(name="王老师", photo=ImageFactory()),
        # The 微心愿 board: the community page shows its counts.
        "wishes": WishBoardPage(title="微心愿", slug="wishes"),
    }
    home.add_child(instance=site["wishes"])
    site["community"] = CommunityPageFactory(
        parent=site["communities"], slug="c-main", cover=ImageFactory()
    )
    # A community's activities sit under its page; the calendar lists them.
    site["activity"] = ActivityPageFactory(
        parent=site["community"],
        slug="a-main",
        title="邻里节主会场",
        community=site["community"],
        registration_required=True,
        capacity=500,
        max_party_size=1,
        start=first_of_next_month() + timedelta(hours=9),
        end=first_of_next_month() + timedelta(hours=11),
    )
    return site


ACTIVITY_TYPES = (ActivityPageFactory, LecturePageFactory, FestivalActivityPageFactory)


def add_items(site, count, start):
    """``count`` more of everything, all of it about the main community."""
    community = site["community"]
    month = first_of_next_month()
    for i in range(start, start + count):
        CommunityPageFactory(
            parent=site["communities"], slug=f"c{i}", cover=ImageFactory()
        )
        HonourPageFactory(
            parent=site["honours"],
            slug=f"h{i}",
            community=community,
            year=2025 + i % 2,
            category=("好邻居", "志愿之星")[i % 2],
            portrait=ImageFactory(),
        )
        article = ArticlePageFactory(
            parent=site["news"],
            slug=f"n{i}",
            title=f"邻里新闻{i}",
            community=community,
            cover=ImageFactory(),
        )
        article.tags.add("党建引领", f"标签{i % 3}")
        article.save()
        kind = ACTIVITY_TYPES[i % 3]
        extra = {"lecturer": site["lecturer"]} if kind is LecturePageFactory else {}
        begins = month + timedelta(hours=12 * i + 9)
        if i - start < 3:
            # Every batch: a recurring activity of each type, daily from the
            # first day (whatever its weekday), so that the short lists show it.
            extra.update(repeat="DAILY", repeat_count=8)
            begins = month + timedelta(hours=1, minutes=i)
        kind(
            parent=community,
            slug=f"e{i}",
            title=f"邻里活动{i}",
            community=community,
            start=begins,
            end=begins + timedelta(hours=2),
            registration_required=True,
            capacity=20,
            cover=ImageFactory(),
            **extra,
        )
        # The community page's own lists: 板块, 照片墙 and a past activity.
        CommunitySubBrand.objects.create(
            page=community, name=f"板块{i}", image=ImageFactory(), sort_order=i
        )
        CommunityGalleryImage.objects.create(
            page=community, image=ImageFactory(), sort_order=i
        )
        ended = timezone.now() - timedelta(days=2 + i)
        ACTIVITY_TYPES[(i + 1) % 3](
            parent=community,
            slug=f"p{i}",
            title=f"往期活动{i}",
            community=community,
            start=ended,
            end=ended + timedelta(hours=2),
            cover=ImageFactory(),
            **({"lecturer": site["lecturer"]} if (i + 1) % 3 == 1 else {}),
        )
        wish = wishes.publish(
            user=None,
            community=community,
            title=f"心愿{i}",
            recipient_name=f"张{i}",
            due_date=timezone.localdate() + timedelta(days=30),
        )
        if i % 2:
            wishes.claim_by_unit(
                wish.pk, unit_name=f"单位{i}", contact_name="赵明", phone="13800004444"
            )
        activity = site["activity"]
        registration.sign_up(
            activity,
            activity.occurrences.get().pk,
            name=f"居民{i}",
            phone=f"138{i:08d}",
        )
    call_command("rebuild_search_documents", verbosity=0)


def paths(site) -> dict[str, str]:
    month = timezone.localtime(first_of_next_month())
    community = site["community"]
    return {
        "home": "/",
        "communities": "/communities/",
        "community": "/communities/c-main/",
        "honours": "/honours/",
        "honours by year": "/honours/?year=2025&category=好邻居",
        "news": "/news/",
        "news by tag": "/news/?tag=党建引领",
        "activities": "/activities/",
        "activities by type": "/activities/?type=lecture",
        "month": f"/activities/month/?m={month:%Y-%m}",
        "activity": "/communities/c-main/a-main/",
        "signup": "/communities/c-main/a-main/signup/",
        "search": "/search/?q=邻里",
        "feed": "/activities/calendar.ics",
        "feed by type": "/activities/calendar.ics?type=lecture",
        "feed by community": f"/activities/calendar.ics?community={community.pk}",
        "activity feed": "/communities/c-main/a-main/calendar.ics",
    }


def count_queries(client, path) -> int:
    for _warm in range(2):
        assert client.get(path, HTTP_HOST=HOST).status_code == 200, path
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(path, HTTP_HOST=HOST)
    assert response.status_code == 200, path
    return len(ctx.captured_queries)


def shown(client, path, marker) -> int:
    return client.get(path, HTTP_HOST=HOST).content.decode().count(marker)


def test_query_counts_do_not_grow_with_items(client, qc_site):
    add_items(qc_site, 5, 0)
    small = {name: count_queries(client, path) for name, path in paths(qc_site).items()}
    assert shown(client, "/communities/", 'class="card card--community"') == 6
    assert shown(client, "/news/", 'class="card card--article"') == 5
    assert shown(client, "/activities/", 'class="card card--event') == 6
    # A recurring activity is one card, with its next sessions to tap.
    assert shown(client, "/activities/", ">邻里活动0</strong>") == 1
    assert shown(client, "/activities/", 'class="card__sessions"') == 3
    community = client.get("/communities/c-main/", HTTP_HOST=HOST).content.decode()
    assert community.count('card__title">往期活动') == 3
    assert community.count("<h3>板块") == 5
    # Its recurring activities (one of each type) with their next sessions.
    assert community.count('class="card__sessions"') == 3
    assert community.count('card__title">邻里活动') == 5

    add_items(qc_site, 45, 5)
    large = {name: count_queries(client, path) for name, path in paths(qc_site).items()}
    assert shown(client, "/communities/", 'class="card card--community"') == 51
    assert shown(client, "/news/", 'class="card card--article"') == 10  # a page
    assert shown(client, "/activities/", 'class="card card--event') == 30  # a page
    assert shown(client, "/activities/", ">邻里活动0</strong>") == 1
    assert shown(client, "/search/?q=邻里", '<li class="search-result ') == 10
    community = client.get("/communities/c-main/", HTTP_HOST=HOST).content.decode()
    assert community.count('card__title">往期活动') == 3
    # The coming six are now all series (one of each type per batch).
    assert community.count('card__title">邻里活动') == 6
    assert community.count('class="card__sessions"') == 6
    assert community.count('class="card card--honour"') == 6
    assert community.count('class="card card--article"') == 5

    assert small == large
    assert large == EXPECTED_QUERIES, str(sorted(large.items()))


# With the cached parts of pages on ({% fragment %}, FRAGMENT_CACHE_SECONDS; the
# test settings turn them off so the counts above are of the full render): what a
# page still queries when it is rendered again and its listings come from the cache.
EXPECTED_WITH_FRAGMENTS = {
    # The routed page itself: 4 / 3 / 3 before the Site and the root page were
    # remembered (core/sites.py), which also joined the home page's banner.
    "home": 1,
    "activities": 1,
    "activities by type": 1,
}


def test_cached_fragments_leave_a_constant_few(client, qc_site, settings):
    settings.FRAGMENT_CACHE_SECONDS = 300
    every = paths(qc_site)
    names = EXPECTED_WITH_FRAGMENTS
    add_items(qc_site, 5, 0)
    small = {name: count_queries(client, every[name]) for name in names}
    home = client.get("/", HTTP_HOST=HOST).content.decode()
    assert home.count('class="card card--event') == 4

    add_items(qc_site, 45, 5)
    large = {name: count_queries(client, every[name]) for name in names}
    assert small == large
    assert large == EXPECTED_WITH_FRAGMENTS, large
