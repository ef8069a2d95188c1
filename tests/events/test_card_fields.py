"""Listing cards load only what they print (``card_fields``, through
``core.models.specific_query``) and print the start from ``Occurrence.when``,
worked out once instead of through eight ``date`` filters."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.template.defaultfilters import date as date_filter
from django.utils import timezone, translation

from events.models import Occurrence
from events.models.registrations import LocalWhen
from events.occurrences import event_pages
from home.models import ArticlePage, CommunityPage, HonourPage

SHANGHAI = ZoneInfo("Asia/Shanghai")


@pytest.mark.parametrize("days", range(0, 14))
def test_the_cards_dates_read_as_djangos_date_filter_prints_them(days):
    local = datetime(2026, 9, 7, 8, 5, tzinfo=SHANGHAI) + timedelta(
        days=days * 29, minutes=days * 97, microseconds=days % 2 * 250
    )
    when = LocalWhen.of(local, this_year=local.year)
    with translation.override("zh-hans"), timezone.override(SHANGHAI):
        assert when.iso == date_filter(local, "c")
        assert str(when.day) == date_filter(local, "j")
        assert when.month == date_filter(local, "n月")
        assert f"{when.date} {when.weekday}" == date_filter(local, "n月j日 l")
        assert when.short_weekday == "周" + date_filter(local, "l").replace("星期", "")
        assert when.time == date_filter(local, "H:i")


@pytest.mark.django_db
def test_activity_cards_load_only_their_card_fields():
    ids = set(Occurrence.objects.values_list("page_id", flat=True)[:20])
    pages = list(event_pages(ids).values())
    assert pages
    for page in pages:
        deferred = page.get_deferred_fields()
        assert {"organiser", "summary", "body", "registration_opens"} <= deferred
        assert not deferred & {"title", "url_path", *page.card_fields}


@pytest.mark.django_db
def test_honour_and_article_cards_load_only_their_card_fields():
    community = (
        CommunityPage.objects.live()
        .filter(honours__isnull=False, articles__isnull=False)
        .first()
    )
    honours, articles = community.honours_and_articles(honours=6, articles=5)
    assert honours and articles
    for page in honours:
        assert isinstance(page, HonourPage)
        assert "citation" in page.get_deferred_fields()
        assert not page.get_deferred_fields() & {"person_name", "year", "portrait"}
    for page in articles:
        assert isinstance(page, ArticlePage)
        assert "body" in page.get_deferred_fields()
        assert not page.get_deferred_fields() & {"date", "summary", "cover"}
