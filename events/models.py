"""Activities (活动): everything with a time that residents can come to.

``EventIndexPage`` (活动日历) lists the activity pages under it. The three activity
types share the abstract ``EventPage``: general ``ActivityPage``, 先锋讲堂
``LecturePage`` with a ``Lecturer`` from the 讲师团, and ``FestivalActivityPage``
whose date is suggested from the lunar calendar.
"""

from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.functional import cached_property
from wagtail.admin.panels import FieldPanel, FieldRowPanel, HelpPanel, MultiFieldPanel
from wagtail.fields import StreamField
from wagtail.models import Page, PageManager
from wagtail.search import index
from wagtail.snippets.models import register_snippet

from home.blocks import BodyBlock
from home.models import (
    CARD_RENDITION,
    BasePage,
    CommunityPage,
    ListingQuerySet,
    community_field,
    image_field,
    int_or_none,
    paginate,
    with_image,
)

from .lunar import Festival, next_festival_date


class EventStatus(models.TextChoices):
    SCHEDULED = "scheduled", "按计划举行"
    POSTPONED = "postponed", "延期"
    CANCELLED = "cancelled", "已取消"


class LecturerTitle(models.TextChoices):
    OLD_PARTY_MEMBER = "老党员", "老党员"
    OLD_CADRE = "老干部", "老干部"
    OLD_TEACHER = "老教师", "老教师"
    SECRETARY = "书记", "书记"
    EXPERT = "专家", "专家"


class Lecturer(index.Indexed, models.Model):
    """A member of the 讲师团 (老党员、老干部、老教师) who gives 先锋讲堂 lectures."""

    name = models.CharField("姓名", max_length=30)
    title = models.CharField(
        "身份",
        max_length=10,
        choices=LecturerTitle.choices,
        help_text="如 老党员、老教师",
    )
    photo = image_field("照片")
    bio = models.TextField("简介", max_length=500, blank=True)
    community = community_field("所在社区", "lecturers")

    panels = [
        FieldRowPanel([FieldPanel("name"), FieldPanel("title")]),
        FieldPanel("photo"),
        FieldPanel("bio"),
        FieldPanel("community"),
    ]
    search_fields = [index.SearchField("name"), index.SearchField("bio")]

    class Meta:
        verbose_name = "讲师"
        verbose_name_plural = "讲师团"
        ordering = ["name"]

    def __str__(self):
        return f"{self.name}（{self.title}）"


register_snippet(Lecturer)


class EventIndexPage(BasePage):
    """活动日历: upcoming activities grouped by day, filters by community and type,
    and past activities."""

    intro = models.TextField("导语", blank=True, max_length=300)

    content_panels = Page.content_panels + [FieldPanel("intro")]
    parent_page_types = ["home.HomePage"]
    subpage_types = [
        "events.ActivityPage",
        "events.LecturePage",
        "events.FestivalActivityPage",
    ]
    max_count = 1
    per_page = 30

    class Meta:
        verbose_name = "活动日历"

    def get_context(self, request, *args, **kwargs):
        context = super().get_context(request, *args, **kwargs)
        now = timezone.now()
        past = request.GET.get("when") == "past"
        community = int_or_none(request.GET.get("community"))
        kind = request.GET.get("type") or ""
        if kind not in dict(EVENT_KINDS):
            kind = ""
        kinds = [kind] if kind else None
        events = event_listing(
            self.path, now=now, past=past, community=community, kinds=kinds
        )
        page_obj = paginate(request, events, self.per_page)
        context.update(
            events=page_obj,
            days=group_by_day(page_obj.object_list),
            past=past,
            communities=CommunityPage.objects.live()
            .order_by("path")
            .only("id", "title", "path"),
            kinds=EVENT_KINDS,
            selected_community=community,
            selected_type=kind,
        )
        return context


class EventPageQuerySet(ListingQuerySet):
    def for_listing(self, within: str | None = None):
        return (
            self.listed(within)
            .select_related("community")
            .prefetch_related(with_image("cover", CARD_RENDITION))
        )

    def upcoming(self, now=None):
        """Activities that have not ended yet (those without an end: not started)."""
        now = now or timezone.now()
        return self.filter(
            models.Q(end__gte=now) | models.Q(end__isnull=True, start__gte=now)
        ).order_by("start", "pk")

    def past(self, now=None):
        now = now or timezone.now()
        return self.filter(
            models.Q(end__lt=now) | models.Q(end__isnull=True, start__lt=now)
        ).order_by("-start", "-pk")


class EventPage(BasePage):
    """Abstract base of every activity type: when, where, who, status."""

    start = models.DateTimeField("开始时间")
    end = models.DateTimeField("结束时间", null=True, blank=True)
    all_day = models.BooleanField("全天活动", default=False)
    venue = models.CharField(
        "地点", max_length=120, help_text="如 甲院社区党群服务中心二楼"
    )
    community = community_field("所属社区", "+", help_text="留空表示全街道的活动")
    organiser = models.CharField("主办单位", max_length=80, blank=True)
    cover = image_field("封面图")
    summary = models.TextField(
        "简介",
        max_length=200,
        blank=True,
        help_text="列表和分享卡片上显示，60 字以内为宜",
    )
    body = StreamField(BodyBlock(), verbose_name="活动详情", blank=True)
    status = models.CharField(
        "状态",
        max_length=10,
        choices=EventStatus.choices,
        default=EventStatus.SCHEDULED,
    )
    status_reason = models.CharField(
        "延期或取消原因",
        max_length=200,
        blank=True,
        help_text="延期或取消时必填，会显示在页面上",
    )

    time_panels = [
        FieldRowPanel([FieldPanel("start"), FieldPanel("end")]),
        FieldPanel("all_day"),
        FieldPanel("venue"),
        FieldRowPanel([FieldPanel("community"), FieldPanel("organiser")]),
    ]
    status_panels = [
        MultiFieldPanel(
            [FieldPanel("status"), FieldPanel("status_reason")], heading="状态"
        )
    ]
    description_panels = [
        FieldPanel("cover"),
        FieldPanel("summary"),
        FieldPanel("body"),
    ]

    search_fields = Page.search_fields + [
        index.SearchField("summary"),
        index.SearchField("venue"),
        index.SearchField("body"),
        index.FilterField("start"),
    ]
    parent_page_types = ["events.EventIndexPage"]
    subpage_types = []
    share_image_field = "cover"
    kind = ""
    kind_label = ""

    class Meta:
        abstract = True

    def clean(self):
        super().clean()
        errors = {}
        if self.end and self.start and self.end <= self.start:
            errors["end"] = "结束时间必须晚于开始时间。"
        if self.status != EventStatus.SCHEDULED and not self.status_reason.strip():
            errors["status_reason"] = (
                "活动延期或取消时，请填写原因，居民会在页面上看到。"
            )
        if errors:
            raise ValidationError(errors)

    @property
    def is_cancelled(self) -> bool:
        return self.status == EventStatus.CANCELLED

    @property
    def is_postponed(self) -> bool:
        return self.status == EventStatus.POSTPONED

    def has_ended(self, now=None) -> bool:
        now = now or timezone.now()
        return (self.end or self.start) < now

    @property
    def local_start(self) -> datetime:
        return timezone.localtime(self.start)

    def get_context(self, request, *args, **kwargs):
        context = super().get_context(request, *args, **kwargs)
        context["has_ended"] = self.has_ended()
        return context


class ActivityPage(EventPage):
    """A community activity: 文化庙会, 邻里节, 运动会, 义诊 …"""

    content_panels = (
        Page.content_panels
        + EventPage.time_panels
        + EventPage.description_panels
        + EventPage.status_panels
    )
    kind = "activity"
    kind_label = "社区活动"
    objects = PageManager.from_queryset(EventPageQuerySet)()

    class Meta:
        verbose_name = "社区活动"


class LectureSeries(models.TextChoices):
    PIONEER = "先锋讲堂", "先锋讲堂"
    SECRETARY = "书记讲坛", "书记讲坛"
    MORALITY = "道德讲堂", "道德讲堂"
    UNIT = "单位书记巡回党课", "单位书记巡回党课"


class LecturePage(EventPage):
    """A 先锋讲堂 lecture (or 书记讲坛 / 道德讲堂): series, lecturer, topic.
    Sessions rotate through the communities."""

    series = models.CharField(
        "系列",
        max_length=20,
        choices=LectureSeries.choices,
        default=LectureSeries.PIONEER,
    )
    topic = models.CharField("主题", max_length=80)
    lecturer = models.ForeignKey(
        Lecturer,
        verbose_name="讲师",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="lectures",
    )

    content_panels = (
        Page.content_panels
        + [
            FieldRowPanel([FieldPanel("series"), FieldPanel("lecturer")]),
            FieldPanel("topic"),
        ]
        + EventPage.time_panels
        + EventPage.description_panels
        + EventPage.status_panels
    )
    search_fields = EventPage.search_fields + [
        index.SearchField("topic"),
        index.SearchField("series"),
        index.RelatedFields("lecturer", [index.SearchField("name")]),
    ]
    kind = "lecture"
    kind_label = "先锋讲堂"
    objects = PageManager.from_queryset(EventPageQuerySet)()

    class Meta:
        verbose_name = "讲堂"

    def get_summary_text(self):
        return self.summary or self.topic


class FestivalActivityPage(EventPage):
    """A festival activity (春节 元宵 端午 中秋 重阳 …); the editor sees the festival's
    next date computed from the lunar calendar."""

    festival = models.CharField("节日", max_length=10, choices=Festival.choices)

    content_panels = (
        Page.content_panels
        + [
            FieldPanel("festival"),
            HelpPanel(template="events/panels/festival_dates.html", heading="节日日期"),
        ]
        + EventPage.time_panels
        + EventPage.description_panels
        + EventPage.status_panels
    )
    search_fields = EventPage.search_fields + [index.SearchField("festival")]
    kind = "festival"
    kind_label = "节日活动"
    objects = PageManager.from_queryset(EventPageQuerySet)()

    class Meta:
        verbose_name = "节日活动"

    @cached_property
    def suggested_date(self):
        """The festival's next date (from today), by the lunar calendar."""
        if not self.festival:
            return None
        return next_festival_date(self.festival, timezone.localdate())


EVENT_MODELS = (ActivityPage, LecturePage, FestivalActivityPage)
EVENT_KINDS = [(model.kind, model.kind_label) for model in EVENT_MODELS]


def event_listing(
    within: str,
    *,
    now=None,
    past=False,
    community: int | None = None,
    kinds: list[str] | None = None,
    limit: int | None = None,
) -> list[EventPage]:
    """Activities of every type under the tree path ``within``, in date order
    (past ones newest first), optionally of one community and of some kinds.
    One query per type plus its prefetches, however many activities there are."""
    now = now or timezone.now()
    events = []
    for model in EVENT_MODELS:
        if kinds and model.kind not in kinds:
            continue
        qs = model.objects.for_listing(within)
        qs = qs.past(now) if past else qs.upcoming(now)
        if community is not None:
            qs = qs.filter(community_id=community)
        events.extend(qs[:limit] if limit else qs)
    events.sort(key=lambda e: (e.start, e.pk), reverse=past)
    return events[:limit] if limit else events


def group_by_day(events) -> list[tuple]:
    """[(date, [events that start that day]), …] in local time."""
    days: dict = {}
    for event in events:
        days.setdefault(event.local_start.date(), []).append(event)
    return list(days.items())
