"""The request's Wagtail Site and its specific root page, remembered per content
generation (core/sites.py): page views stop looking them up, and a publish or a
changed Site is seen at once."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from wagtail.models import Site

pytestmark = pytest.mark.django_db


def site_queries(client, path) -> list[str]:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(path).status_code == 200
    return [
        q["sql"]
        for q in ctx.captured_queries
        if 'FROM "wagtailcore_site"' in q["sql"] or 'FROM "home_homepage"' in q["sql"]
    ]


def test_page_views_no_longer_look_up_the_site(client):
    client.get("/")
    client.get("/activities/")
    assert site_queries(client, "/") == []
    assert site_queries(client, "/activities/") == []
    assert site_queries(client, "/activities/calendar.ics") == []


def test_a_publish_and_a_site_change_are_seen_at_once(client, home):
    client.get("/")
    home.banner_title = "新的横幅标题"
    home.save_revision().publish()
    assert "新的横幅标题" in client.get("/").content.decode()
    site = Site.objects.get(root_page=home)
    site.site_name = "另一个站点名"
    site.save()
    # Looked up again (the Site, the root page, and Wagtail's own list of site
    # root paths, which it drops on a Site save), then remembered.
    again = site_queries(client, "/")
    assert any('FROM "home_homepage"' in sql for sql in again)
    assert sum('FROM "wagtailcore_site"' in sql for sql in again) >= 1
    assert site_queries(client, "/") == []
