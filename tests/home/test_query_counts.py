"""Every index runs the same number of queries with 3 children as with 30.

A separate site (host qc.test) is built from factories so the counts do not depend
on the demo content. Each page is rendered once to create image renditions, then
counted on the second render.
"""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.factories import (
    ArticlePageFactory,
    CommunityIndexPageFactory,
    CommunityPageFactory,
    HomePageFactory,
    HonourIndexPageFactory,
    HonourPageFactory,
    NewsIndexPageFactory,
    make_site,
)

pytestmark = pytest.mark.django_db

HOST = "qc.test"

# The figures asserted below (and listed in the README). If a change moves one of
# them, the test says so; growth with the number of children is never allowed.
# The share panel (分享本页) checks view restrictions from the cached private
# sections (home.models.private_sections), so it adds no query.
EXPECTED_QUERIES = {
    "home": 21,
    "communities": 13,
    "honours": 14,
    "news": 14,
}


@pytest.fixture
def qc_site(db):
    from wagtail.models import Page

    home = HomePageFactory(parent=Page.get_first_root_node(), slug="qc-home")
    make_site(HOST, home)
    return {
        "home": home,
        "communities": CommunityIndexPageFactory(parent=home),
        "honours": HonourIndexPageFactory(parent=home),
        "news": NewsIndexPageFactory(parent=home),
    }


def add_children(site, count, start):
    for i in range(start, start + count):
        community = CommunityPageFactory(parent=site["communities"], slug=f"c{i}")
        HonourPageFactory(
            parent=site["honours"], slug=f"h{i}", community=community, year=2025 + i % 2
        )
        article = ArticlePageFactory(
            parent=site["news"], slug=f"a{i}", community=community
        )
        article.tags.add("党建引领", f"标签{i % 3}")
        article.save()


def count_queries(client, path) -> int:
    # The first request creates renditions and the settings row (a content change,
    # so the second reads the cached private sections again); count the third.
    assert client.get(path, HTTP_HOST=HOST).status_code == 200
    assert client.get(path, HTTP_HOST=HOST).status_code == 200
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(path, HTTP_HOST=HOST)
    assert response.status_code == 200
    return len(ctx.captured_queries)


PATHS = {
    "home": "/",
    "communities": "/communities/",
    "honours": "/honours/",
    "news": "/news/",
}


def test_query_counts_do_not_grow_with_children(client, qc_site):
    add_children(qc_site, 3, 0)
    small = {name: count_queries(client, path) for name, path in PATHS.items()}
    html = client.get("/communities/", HTTP_HOST=HOST).content.decode()
    assert html.count('class="card card--community"') == 3

    add_children(qc_site, 27, 3)
    large = {name: count_queries(client, path) for name, path in PATHS.items()}
    html = client.get("/communities/", HTTP_HOST=HOST).content.decode()
    assert html.count('class="card card--community"') == 30

    assert small == large
    assert large == EXPECTED_QUERIES


def test_filtered_honour_index_query_count_is_constant(client, qc_site):
    add_children(qc_site, 3, 0)
    small = count_queries(client, "/honours/?year=2025&category=好邻居")
    add_children(qc_site, 27, 3)
    assert count_queries(client, "/honours/?year=2025&category=好邻居") == small
