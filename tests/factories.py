"""factory_boy factories. Page factories take ``parent=`` and add the page under it
(live), the way an editor would in the admin."""

import datetime
import itertools
import secrets

import factory
from django.utils import timezone
from factory.django import DjangoModelFactory
from wagtail.images import get_image_model
from wagtail.models import Site

from events import models as event_models
from home import models


class ImageFactory(DjangoModelFactory):
    class Meta:
        model = get_image_model()

    title = factory.Sequence(lambda n: f"测试图片{n}")
    file = factory.django.ImageField(width=320, height=240, color="#a8071a")


_SLUGS = itertools.count(1)
_PROCESS = secrets.token_hex(3)


class PageFactory(DjangoModelFactory):
    class Meta:
        abstract = True

    title = factory.Sequence(lambda n: f"页面{n}")
    # One counter for every page type, so siblings of different types never clash;
    # and this process's own tag, since served demos get pages from many processes
    # (each ``server.python`` call starts the counter again).
    slug = factory.LazyFunction(lambda: f"page-{next(_SLUGS)}-{_PROCESS}")

    @classmethod
    def _create(cls, model_class, *args, parent=None, **kwargs):
        if parent is None:
            raise ValueError(f"{cls.__name__} needs parent=")
        page = model_class(*args, **kwargs)
        parent.add_child(instance=page)
        return page


class HomePageFactory(PageFactory):
    class Meta:
        model = models.HomePage

    title = "首页"
    banner_title = "测试横幅"
    banner_image = factory.SubFactory(ImageFactory)


class CommunityIndexPageFactory(PageFactory):
    class Meta:
        model = models.CommunityIndexPage

    title = "一社一品"
    slug = "communities"


class CommunityPageFactory(PageFactory):
    class Meta:
        model = models.CommunityPage

    title = factory.Sequence(lambda n: f"测试{n}社区")
    short_name = factory.Sequence(lambda n: f"测试{n}")
    brand_name = factory.Sequence(lambda n: f"品牌{n}")
    slogan = "邻里一家亲"
    cover = factory.SubFactory(ImageFactory)
    summary = "社区简介"


class HonourIndexPageFactory(PageFactory):
    class Meta:
        model = models.HonourIndexPage

    title = "花园榜样"
    slug = "honours"


class HonourPageFactory(PageFactory):
    class Meta:
        model = models.HonourPage

    person_name = factory.Sequence(lambda n: f"榜样{n}")
    title = factory.LazyAttribute(lambda o: f"{o.person_name}的故事")
    year = 2026
    category = models.HonourCategory.NEIGHBOUR
    citation = "热心肠，好邻居。"
    portrait = factory.SubFactory(ImageFactory)


class NewsIndexPageFactory(PageFactory):
    class Meta:
        model = models.NewsIndexPage

    title = "街道动态"
    slug = "news"


class ArticlePageFactory(PageFactory):
    class Meta:
        model = models.ArticlePage

    title = factory.Sequence(lambda n: f"新闻{n}")
    date = datetime.date(2026, 11, 1)
    summary = "新闻摘要"
    body = [("paragraph", "<p>正文</p>")]
    cover = factory.SubFactory(ImageFactory)


class StandardPageFactory(PageFactory):
    class Meta:
        model = models.StandardPage

    title = factory.Sequence(lambda n: f"普通页面{n}")


class EventIndexPageFactory(PageFactory):
    class Meta:
        model = event_models.EventIndexPage

    title = "活动日历"


def in_days(days: int, hour: int = 9, minute: int = 0) -> datetime.datetime:
    """``hour``:``minute`` local time, ``days`` from today (negative: ago)."""
    day = timezone.localdate() + datetime.timedelta(days=days)
    return timezone.make_aware(
        datetime.datetime.combine(day, datetime.time(hour, minute))
    )


class ActivityPageFactory(PageFactory):
    """A one-off activity three days from now, 9:00–11:00; pass
    ``registration_required=True, capacity=…`` for sign-ups."""

    class Meta:
        model = event_models.ActivityPage

    title = factory.Sequence(lambda n: f"活动{n}")
    start = factory.LazyFunction(lambda: in_days(3))
    end = factory.LazyAttribute(lambda o: o.start + datetime.timedelta(hours=2))
    venue = "社区活动室"
    summary = "活动简介"
    # The model's default (on, for editors) is not what most tests build.
    registration_required = False


class LecturePageFactory(ActivityPageFactory):
    class Meta:
        model = event_models.LecturePage

    title = factory.Sequence(lambda n: f"讲堂{n}")
    topic = "讲堂主题"


class FestivalActivityPageFactory(ActivityPageFactory):
    class Meta:
        model = event_models.FestivalActivityPage

    title = factory.Sequence(lambda n: f"节日活动{n}")
    festival = "中秋节"


def make_site(hostname: str, root_page) -> Site:
    return Site.objects.create(hostname=hostname, port=80, root_page=root_page)


def signup_activity(**fields) -> event_models.ActivityPage:
    """A one-off activity with sign-up (``ActivityPageFactory``), under the demo's
    活动日历 (/activities/) unless ``parent=`` says otherwise."""
    if "parent" not in fields:
        fields["parent"] = event_models.EventIndexPage.objects.get(slug="activities")
    return ActivityPageFactory(registration_required=True, **fields)


RESIDENT_NAME, RESIDENT_PHONE = "王秀兰", "138 0000 1234"


def signup_form(page, **changes) -> dict[str, str]:
    """The sign-up form of ``page``'s one session as a resident fills it in (name,
    phone, one person, consent, the honeypot left empty); ``changes`` replace or
    add fields, ``None`` leaves one out."""
    data = {
        "occurrence": str(event_models.Occurrence.objects.get(page_id=page.pk).pk),
        "name": RESIDENT_NAME,
        "phone": RESIDENT_PHONE,
        "party_size": "1",
        "consent": "on",
        "website": "",
        **changes,
    }
    return {key: value for key, value in data.items() if value is not None}
