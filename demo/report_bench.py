"""Timing of the year-end report 活动统计 (``manage.py bench_report``, ``make
bench-report``): build a year of activities with 10,000 sign-ups, then request
the report (page and XLSX export) as the 街道宣传办 would and take the median.

The data sits under a home page of its own (``report-bench``) with its own
communities, so the command runs in any database; ``make bench-report`` gives it
one of its own. Sessions and sign-ups are bulk-inserted (seeded, so a count
always gives the same data): 10,000 sign-ups through the locking service would
take minutes and measure the service, not the report. Every session is in
``BENCH_YEAR``, in the past, so all of it is counted.
"""

from __future__ import annotations

import random
import secrets
import statistics
import time
from datetime import datetime, timedelta

from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext, override_settings
from django.urls import reverse
from django.utils import timezone
from wagtail.models import Page

BENCH_SLUG = "report-bench"
BENCH_YEAR = 2025
BENCH_USER = "report-bench"
COMMUNITIES = ["甲", "乙", "丙", "丁", "戊", "己", "庚", "辛"]
PAGES_PER_KIND = 20


def _tree():
    from events.models import EventIndexPage
    from home.models import CommunityIndexPage, CommunityPage, HomePage

    root = Page.get_first_root_node()
    home = root.get_children().filter(slug=BENCH_SLUG).first()
    if home is None:
        home = root.add_child(
            instance=HomePage(title="统计基准", slug=BENCH_SLUG, banner_title="基准")
        )
    home = home.specific

    def child(model, slug, title):
        page = home.get_children().filter(slug=slug).first()
        if page:
            return page.specific
        return home.add_child(instance=model(title=title, slug=slug))

    index = child(EventIndexPage, "activities", "活动日历")
    community_index = child(CommunityIndexPage, "communities", "一社一品")
    communities = []
    for n, name in enumerate(COMMUNITIES):
        slug = f"report-bench-{n}"
        page = CommunityPage.objects.filter(slug=slug).first()
        if page is None:
            page = community_index.add_child(
                instance=CommunityPage(
                    title=f"{name}院基准社区",
                    slug=slug,
                    short_name=f"{name}院",
                    brand_name=f"{name}院品牌",
                    summary="统计基准用的社区。",
                )
            )
        communities.append(page)
    return index, communities


def ensure(signups: int, seed: int = 2025, stdout=None) -> int:
    """At least ``signups`` sign-ups on sessions of ``BENCH_YEAR`` under the
    bench home; returns how many there are."""
    from events.models import (
        ActivityPage,
        FestivalActivityPage,
        LecturePage,
        Occurrence,
        Registration,
        RegistrationStatus,
    )

    index, communities = _tree()
    ours = Registration.objects.filter(page__path__startswith=index.path)
    existing = ours.count()
    if existing >= signups:
        return existing
    rng = random.Random(seed)
    pages = list(
        Page.objects.child_of(index).specific().order_by("path")
        if Page.objects.child_of(index).exists()
        else []
    )
    first = timezone.make_aware(datetime(BENCH_YEAR, 1, 6, 9))
    if not pages:
        for n in range(PAGES_PER_KIND * 3):
            model = [ActivityPage, LecturePage, FestivalActivityPage][n % 3]
            community = (communities + [None])[n % (len(communities) + 1)]
            start = first + timedelta(days=n % 7, hours=n % 5)
            fields = {
                "title": f"统计基准活动{n}",
                "slug": f"report-bench-{n}",
                "start": start,
                "end": start + timedelta(hours=2),
                "venue": "活动室",
                "summary": "统计基准。",
                "community": community,
                "registration_required": True,
                "capacity": 40,
                "max_party_size": 3,
            }
            if model is LecturePage:
                fields["topic"] = "基准讲堂"
            if model is FestivalActivityPage:
                fields["festival"] = "中秋节"
            with transaction.atomic():
                index.add_child(instance=model(**fields))
            pages.append(model.objects.get(slug=fields["slug"]))
        # A session every other week for the year beside the page's own first
        # one; some cancelled (停课).
        extra = []
        for page in pages:
            for week in range(2, 52, 2):
                start = page.start + timedelta(weeks=week)
                extra.append(
                    Occurrence(
                        page_id=page.pk,
                        start=start,
                        end=start + timedelta(hours=2),
                        cancelled=rng.random() < 0.05,
                        kind=page.kind,
                        community_id=page.community_id,
                        capacity=page.capacity,
                    )
                )
        Occurrence.objects.bulk_create(extra, batch_size=1000)
    occurrences = list(
        Occurrence.objects.filter(page__path__startswith=index.path).order_by("pk")
    )
    if stdout:
        stdout.write(f"  {len(pages)} 个活动，{len(occurrences)} 个场次")
    rows = []
    serial = Registration.objects.count()
    statuses = (
        [RegistrationStatus.CONFIRMED] * 8
        + [RegistrationStatus.WAITLISTED]
        + [RegistrationStatus.CANCELLED]
    )
    for n in range(existing, signups):
        occurrence = occurrences[n % len(occurrences)]
        status = rng.choice(statuses)
        serial += 1
        rows.append(
            Registration(
                page_id=occurrence.page_id,
                occurrence=occurrence,
                name=f"居民{serial}",
                phone=f"135{serial:08d}",
                party_size=rng.randint(1, 3),
                status=status,
                code=f"R{serial:07d}",
                token=secrets.token_urlsafe(32),
                created_at=occurrence.start - timedelta(days=3),
                consented_at=occurrence.start - timedelta(days=3),
                cancelled_at=(
                    occurrence.start - timedelta(days=1)
                    if status == RegistrationStatus.CANCELLED
                    else None
                ),
                checked_in_at=(
                    occurrence.start
                    if status == RegistrationStatus.CONFIRMED and rng.random() < 0.7
                    else None
                ),
            )
        )
    Registration.objects.bulk_create(rows, batch_size=1000)
    return ours.count()


def measure(rounds: int = 7) -> dict:
    """Median, best and worst milliseconds of the report page and of its XLSX
    export for ``BENCH_YEAR``, after one warm-up request each, and their query
    counts."""
    user = get_user_model().objects.filter(username=BENCH_USER).first()
    if user is None:
        user = get_user_model().objects.create_superuser(
            BENCH_USER, password=secrets.token_urlsafe(16)
        )
    client = Client()
    client.force_login(user)
    url = reverse("events_year_report")
    result = {}
    with override_settings(ALLOWED_HOSTS=["*"]):
        for name, params in (
            ("page", {"year": BENCH_YEAR}),
            ("xlsx", {"year": BENCH_YEAR, "export": "xlsx"}),
        ):
            assert client.get(url, params).status_code == 200
            times = []
            for _ in range(rounds):
                with CaptureQueriesContext(connection) as queries:
                    started = time.perf_counter()
                    response = client.get(url, params)
                    times.append((time.perf_counter() - started) * 1000)
                assert response.status_code == 200
            result[name] = {
                "median_ms": round(statistics.median(times), 1),
                "min_ms": round(min(times), 1),
                "max_ms": round(max(times), 1),
                "queries": len(queries),
            }
    return result
