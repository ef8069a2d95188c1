"""Grow the demo site into a large synthetic one for `make bench`.

Run with Django configured for the bench database (``python -m bench.site``, called
by ``bench/run.py`` after ``migrate`` and ``load_demo``). Adds, on top of the demo:
activities up to ``--activities`` (spread over the past 120 and the coming 240 days,
all communities and types, a third taking sign-ups), honours up to ``--honours``,
articles up to ``--articles`` and sign-ups up to ``--signups``.

Pages are created live without revisions (a revision per page would double the
build time and nothing served reads them). Sign-ups are bulk-inserted rather than
going through ``events.registration.sign_up`` one by one: 20,000 locked
transactions would take minutes, and the seat counters are set to what the rows
say, so the data obeys the same invariants the service keeps.
"""

import argparse
import random
import secrets
import sys
import time
from datetime import timedelta

import django

SYLLABLES = "花园 邻里 先锋 红色 书香 健康 敬老 亲子 文明 和谐 平安 绿色".split()
ACTIVITY_WORDS = "讲座 义诊 茶话会 观影 手工课 书画课 健步走 读书会 运动会".split()
SURNAMES, GIVEN = "王李张刘陈杨赵黄周吴", "秀建国桂玉志德丽海"


def build(activities: int, honours: int, articles: int, signups: int, seed: int = 7):
    from django.db import transaction
    from django.db.models import Sum
    from django.utils import timezone
    from wagtail.images import get_image_model

    from events.lunar import Festival
    from events.models import (
        ActivityPage,
        FestivalActivityPage,
        LecturePage,
        Occurrence,
        Registration,
        RegistrationStatus,
    )
    from events.occurrences import sync_occurrences
    from home.models import (
        ArticlePage,
        CommunityPage,
        HonourCategory,
        HonourIndexPage,
        HonourPage,
        NewsIndexPage,
    )

    rng = random.Random(seed)
    honour_index = HonourIndexPage.objects.get(slug="honours")
    news_index = NewsIndexPage.objects.get(slug="news")
    communities = list(CommunityPage.objects.live().order_by("path"))
    images = list(get_image_model().objects.order_by("pk")[:40])
    now = timezone.now()
    started = time.monotonic()

    def body(text):
        return [("paragraph", f"<p>{text}</p>")]

    kinds = [ActivityPage, LecturePage, FestivalActivityPage]
    existing = sum(model.objects.count() for model in kinds)
    for n in range(existing, activities):
        community = communities[n % len(communities)]
        model = kinds[n % 3]
        day = now + timedelta(days=rng.randint(-120, 240), hours=rng.randint(-3, 3))
        start = day.replace(minute=0, second=0, microsecond=0)
        theme = f"{rng.choice(SYLLABLES)}{rng.choice(ACTIVITY_WORDS)}"
        fields = {
            "title": f"{community.short_name}{theme}（第{n + 1}期）",
            "slug": f"bench-{n}",
            "start": start,
            "end": start + timedelta(hours=2),
            "venue": f"{community.title}活动室",
            "organiser": f"{community.title}居委会",
            "summary": f"{community.title}{theme}，欢迎居民参加。",
            "body": body(f"{community.brand_name}品牌活动：{theme}。"),
            "cover": images[n % len(images)] if images else None,
        }
        if model is LecturePage:
            fields.update(series="先锋讲堂", topic=theme)
        if model is FestivalActivityPage:
            fields["festival"] = rng.choice(Festival.values)
        if n % 3 == 0 and start > now:
            fields.update(
                registration_required=True, capacity=rng.choice([20, 40, 60, 100])
            )
        page = model(**fields)
        with transaction.atomic():
            # A community's activities sit under its page (events/placement.py).
            community.add_child(instance=page)
            sync_occurrences(page)
        if n % 250 == 0:
            print(f"  活动 {n}/{activities}（{time.monotonic() - started:.0f} 秒）")

    years = [2021, 2022, 2023, 2024, 2025]
    categories = HonourCategory.values
    for n in range(honour_index.get_children().count(), honours):
        community = communities[n % len(communities)]
        name = f"{rng.choice(SURNAMES)}{rng.choice(GIVEN)}{n}"
        honour_index.add_child(
            instance=HonourPage(
                title=f"{name}：{community.short_name}的榜样",
                slug=f"bench-honour-{n}",
                person_name=name,
                year=years[n % len(years)],
                category=categories[n % len(categories)],
                community=community,
                citation=f"{name}热心社区事务，多年如一日服务{community.title}居民。",
                body=body("事迹材料。"),
                portrait=images[n % len(images)] if images else None,
            )
        )
    for n in range(news_index.get_children().count(), articles):
        community = communities[n % len(communities)]
        news_index.add_child(
            instance=ArticlePage(
                title=f"{community.title}{rng.choice(SYLLABLES)}新动态（{n}）",
                slug=f"bench-news-{n}",
                date=(now - timedelta(days=n)).date(),
                summary=f"{community.title}开展{rng.choice(ACTIVITY_WORDS)}。",
                body=body("街道动态正文。"),
                community=community,
                cover=images[n % len(images)] if images else None,
            )
        )
    print(f"  页面完成（{time.monotonic() - started:.0f} 秒）")

    # Sign-ups: fill open occurrences in turn, confirmed while seats last.
    missing = signups - Registration.objects.count()
    occurrences = list(
        Occurrence.objects.filter(capacity__isnull=False, cancelled=False).order_by(
            "pk"
        )
    )
    rows = []
    serial = Registration.objects.count()
    taken = {o.pk: o.taken for o in occurrences}
    while missing > 0 and occurrences:
        for occurrence in occurrences:
            if missing <= 0:
                break
            serial += 1
            missing -= 1
            party = 1 + (serial % 2)
            confirmed = taken[occurrence.pk] + party <= occurrence.capacity
            if confirmed:
                taken[occurrence.pk] += party
            rows.append(
                Registration(
                    page_id=occurrence.page_id,
                    occurrence=occurrence,
                    name=f"居民{serial}",
                    phone=f"139{serial:08d}",
                    party_size=party,
                    status=(
                        RegistrationStatus.CONFIRMED
                        if confirmed
                        else RegistrationStatus.WAITLISTED
                    ),
                    code=f"B{serial:05d}"[-6:],
                    token=secrets.token_urlsafe(32),
                    created_at=now,
                    consented_at=now,
                )
            )
    with transaction.atomic():
        Registration.objects.bulk_create(rows, batch_size=1000)
        totals = (
            Registration.objects.filter(status=RegistrationStatus.CONFIRMED)
            .values("occurrence_id")
            .annotate(people=Sum("party_size"))
        )
        for row in totals:
            Occurrence.objects.filter(pk=row["occurrence_id"]).update(
                taken=row["people"]
            )
    took = time.monotonic() - started
    print(f"  报名 {Registration.objects.count()} 条（{took:.0f} 秒）")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--activities", type=int, default=2000)
    parser.add_argument("--honours", type=int, default=500)
    parser.add_argument("--articles", type=int, default=300)
    parser.add_argument("--signups", type=int, default=20000)
    args = parser.parse_args(argv)
    django.setup()
    build(args.activities, args.honours, args.articles, args.signups)


if __name__ == "__main__":
    sys.exit(main())
