"""Activities (活动): everything with a time that residents can come to.

``EventIndexPage`` (活动日历) lists the activity pages under it. The three activity
types share the abstract ``EventPage``: general ``ActivityPage``, 先锋讲堂
``LecturePage`` with a ``Lecturer`` from the 讲师团, and ``FestivalActivityPage``
whose date is suggested from the lunar calendar.
"""

import html
from datetime import datetime
from urllib.parse import quote

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.http import Http404, HttpResponsePermanentRedirect
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.html import strip_tags
from wagtail.admin.panels import FieldPanel, FieldRowPanel, HelpPanel, MultiFieldPanel
from wagtail.contrib.redirects.models import Redirect
from wagtail.contrib.routable_page.models import RoutablePageMixin, path
from wagtail.fields import StreamField
from wagtail.models import Page, PageManager, Site
from wagtail.search import index
from wagtail.url_routing import RouteResult

from core.blocks import BodyBlock
from core.models import TITLE_PANELS, BasePage, ListingQuerySet, image_field
from core.panels import OpenWhenUsedPanel
from home.models import CommunityPage, community_field

from .. import recurrence
from ..lunar import Festival, next_festival_date
from ..recurrence import Repeat, WeekdaysField
from .lecturers import Lecturer


class EventStatus(models.TextChoices):
    SCHEDULED = "scheduled", "按计划举行"
    POSTPONED = "postponed", "延期"
    CANCELLED = "cancelled", "已取消"


def _views(result_actions=False):
    """events/views.py (or events/result_actions.py), for the routes below.
    Imported on first use: it imports these models, and Wagtail's views need
    the app registry ready."""
    if result_actions:
        from .. import result_actions as module
    else:
        from .. import views as module
    return module


def moved_permanently(request, url):
    return HttpResponsePermanentRedirect(url)


class EventIndexPage(RoutablePageMixin, BasePage):
    """活动日历: upcoming activities grouped by day, filters by community and type,
    and past activities — of the whole site: the subdistrict's own activities are
    this page's children, a community's are children of its ``CommunityPage``."""

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

    # The routes only hand the request to events/views.py.

    @path("")
    def upcoming(self, request):
        return _views().event_index(self, request)

    @path("month/")
    def month(self, request):
        return _views().month_view(self, request)

    @path("calendar.ics/")
    def ical(self, request):
        return _views().index_feed(self, request)

    def route(self, request, path_components):
        """Wagtail's routing, then for an activity that used to be here (moved to
        its community: a redirect Wagtail created on the move) a 301 to where it
        is now, its sub-route (``signup/``, ``r/<code>/`` …) and query kept:
        residents hold links to their sign-ups. Wagtail's redirect middleware
        alone would only redirect the page's own path."""
        try:
            return super().route(request, path_components)
        except Http404:
            target = self._moved_to(request, path_components)
            if target is None:
                raise
            return RouteResult(self, args=(moved_permanently, (target,), {}))

    def _moved_to(self, request, path_components) -> str | None:
        if not path_components:
            return None
        site = Site.find_for_request(request)
        parts = self.get_url_parts(request)
        if site is None or parts is None or parts[0] != site.pk:
            return None
        old_path = Redirect.normalise_path(parts[2] + path_components[0])
        redirect = (
            Redirect.get_for_site(site)
            .filter(old_path=old_path, redirect_page__isnull=False)
            .select_related("redirect_page")
            .first()
        )
        page_url = redirect.redirect_page.get_url(request) if redirect else None
        if not page_url:
            return None
        # Quoted: a component may hold anything the visitor sent (%0A included).
        rest = "".join(f"{quote(part)}/" for part in path_components[1:])
        query = request.META.get("QUERY_STRING", "")
        return page_url + rest + (f"?{query}" if query else "")


def community_of_parent(parent_path: str) -> int | None:
    """The id of the community page at ``parent_path``: the community of an
    activity placed there (None for the 活动日历)."""
    return (
        CommunityPage.objects.filter(path=parent_path)
        .values_list("pk", flat=True)
        .first()
    )


class EventPageQuerySet(ListingQuerySet):
    def for_listing(self, within: str | None = None, private=None):
        """Live activities for cards (which show no picture) and feeds, with
        their community's title."""
        return self.listed(within, private).with_community_title()


class EventPage(RoutablePageMixin, BasePage):
    """Abstract base of every activity type: when, where, who, status, how often it
    repeats and how residents sign up. Saving a page with its content (publishing,
    or creating it in code) rewrites its ``Occurrence`` rows (a ``post_save``
    receiver, ``events.occurrences.page_saved``); sign-ups, listings and the
    calendar work on those. The public routes (sign-up, result, feeds) are in
    ``events/views.py``."""

    # The card's and page's kicker reads ``series`` (讲堂) and ``festival``
    # (节日活动) on every type: blank here, fields of those types. A name a
    # template asks of a page that lacks it costs Django a ``dir()`` of the page
    # (a failed lookup), which was a tenth of the activity index's render.
    series = ""
    festival = ""
    # What the listing card (includes/event_card.html) reads: listings load
    # only these (core.models.specific_query).
    card_fields = (
        "venue",
        "status",
        "repeat",
        "repeat_weekdays",
        "registration_required",
        "waitlist_enabled",
    )

    start = models.DateTimeField(
        "开始时间", help_text="重复活动填第一次活动的开始时间，以后每次同一时刻开始"
    )
    end = models.DateTimeField(
        "结束时间",
        null=True,
        blank=True,
        help_text="重复活动填第一次活动的结束时间（同一天），不是整个系列的结束日期",
    )
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

    # Bumped whenever time, place or status change, so that calendar apps that
    # subscribed to the feed replace their copy (iCalendar SEQUENCE).
    ical_sequence = models.PositiveIntegerField(default=0, editable=False)

    # Recurrence (an RRULE subset): daily or weekly, until a date or N times.
    repeat = models.CharField(
        "重复", max_length=10, choices=Repeat.choices, blank=True, default=""
    )
    repeat_weekdays = WeekdaysField("每周的哪几天", help_text="每周重复时选择")
    repeat_until = models.DateField(
        "重复到哪天为止", null=True, blank=True, help_text="与“重复次数”二选一"
    )
    repeat_count = models.PositiveSmallIntegerField(
        "重复次数",
        null=True,
        blank=True,
        validators=[MaxValueValidator(recurrence.MAX_OCCURRENCES)],
    )
    excluded_dates = models.TextField(
        "停课日期",
        blank=True,
        help_text=(
            "重复活动中不举办的日期（如节假日），每行一个，如 2027-01-28；"
            "不是整个活动的取消（取消请改“状态”）"
        ),
    )

    # Sign-ups (报名)
    registration_required = models.BooleanField(
        "需要报名",
        default=True,
        help_text="勾选后页面上显示报名表，居民报名后得到报名码和签到二维码",
    )
    capacity = models.PositiveIntegerField(
        "名额（人）",
        null=True,
        blank=True,
        validators=[MinValueValidator(1)],
        help_text="按人数计算；重复活动为每一场的名额；留空表示不限",
    )
    max_party_size = models.PositiveSmallIntegerField(
        "每份报名最多几人",
        default=4,
        validators=[MinValueValidator(1), MaxValueValidator(10)],
        help_text="一位居民一次最多替几人报名（含本人），如全家参加",
    )
    waitlist_enabled = models.BooleanField(
        "名额满后可候补",
        default=True,
        help_text="有人取消时，候补的居民按顺序自动递补",
    )
    registration_opens = models.DateTimeField(
        "报名开始时间", null=True, blank=True, help_text="留空表示发布后即可报名"
    )
    registration_closes = models.DateTimeField(
        "报名截止时间", null=True, blank=True, help_text="留空表示活动开始时截止"
    )
    # Personal data minimisation (个人信息保护法 第六条): the form asks name, phone
    # and party size only; these two are asked when the activity needs them.
    ask_household = models.BooleanField(
        "询问所在社区/楼院",
        default=False,
        help_text="勾选后报名表多一项选填的“所在社区/楼院”，如需按楼院分组或送餐上门时再勾选",
    )
    ask_note = models.BooleanField(
        "允许填写备注",
        default=False,
        help_text="勾选后报名表多一项选填的“备注”，如需了解饮食禁忌、带几岁孩子等时再勾选",
    )

    time_panels = [
        FieldRowPanel([FieldPanel("start"), FieldPanel("end")]),
        FieldPanel("all_day"),
        FieldPanel("venue"),
        FieldPanel("organiser"),
    ]
    status_panels = [
        MultiFieldPanel(
            [FieldPanel("status"), FieldPanel("status_reason")], heading="状态"
        )
    ]
    repeat_panels = [
        OpenWhenUsedPanel(
            [
                FieldPanel("repeat"),
                FieldPanel("repeat_weekdays"),
                FieldRowPanel([FieldPanel("repeat_until"), FieldPanel("repeat_count")]),
                FieldPanel("excluded_dates"),
            ],
            heading="重复活动",
            help_text="每周、每天举办的课程等；不重复的活动不用填",
            used_if=("repeat", "excluded_dates"),
        )
    ]
    registration_panels = [
        MultiFieldPanel(
            [
                HelpPanel(template="events/panels/registration_counts.html"),
                FieldPanel("registration_required"),
                FieldRowPanel([FieldPanel("capacity"), FieldPanel("max_party_size")]),
                FieldPanel("waitlist_enabled"),
                FieldRowPanel(
                    [
                        FieldPanel("registration_opens"),
                        FieldPanel("registration_closes"),
                    ]
                ),
                FieldRowPanel([FieldPanel("ask_household"), FieldPanel("ask_note")]),
            ],
            heading="报名",
        )
    ]
    description_panels = [
        FieldPanel("cover"),
        FieldPanel("summary"),
        FieldPanel("body"),
    ]

    promote_panels = []  # the slug is on the main tab (TITLE_PANELS)
    search_fields = Page.search_fields + [
        index.SearchField("summary"),
        index.SearchField("venue"),
        index.SearchField("body"),
        index.FilterField("start"),
    ]
    # A community's activities sit under its page, where its editors may add
    # pages; the subdistrict's own under the 活动日历. ``community`` follows.
    parent_page_types = ["events.EventIndexPage", "home.CommunityPage"]
    subpage_types = []
    share_image_field = "cover"
    image_sizes = {"cover": ("cover", "share")}
    kind = ""
    kind_label = ""

    class Meta:
        abstract = True

    @property
    def community_name(self) -> str:
        """The community's title: annotated by listings (``for_listing``), read
        from the community page otherwise."""
        if "community_title" in self.__dict__:
            return self.community_title or ""
        return self.community.title if self.community_id and self.community else ""

    def clean(self):
        super().clean()
        errors = {}
        if self.end and self.start and self.end <= self.start:
            errors["end"] = "结束时间必须晚于开始时间。"
        if self.status != EventStatus.SCHEDULED and not self.status_reason.strip():
            errors["status_reason"] = (
                "活动延期或取消时，请填写原因，居民会在页面上看到。"
            )
        if self.repeat:
            if self.repeat_until and self.repeat_count:
                errors["repeat_count"] = "“重复到哪天为止”和“重复次数”只填一个。"
            elif not (self.repeat_until or self.repeat_count):
                errors["repeat_until"] = "重复活动请填写“重复到哪天为止”或“重复次数”。"
            elif (
                self.repeat_until
                and self.start
                and self.repeat_until < timezone.localdate(self.start)
            ):
                errors["repeat_until"] = "截止日期不能早于第一次活动的日期。"
        try:
            recurrence.parse_dates(self.excluded_dates)
        except ValueError as error:
            errors["excluded_dates"] = str(error)
        if self.repeat and self.start and not errors and not self.schedule():
            errors["repeat_weekdays"] = (
                "按这个规则一次活动也没有：请检查每周的哪几天和截止日期。"
            )
        if (
            self.registration_opens
            and self.registration_closes
            and self.registration_closes <= self.registration_opens
        ):
            errors["registration_closes"] = "报名截止时间必须晚于报名开始时间。"
        if self.capacity and self.pk:
            from ..occurrences import most_confirmed

            taken = most_confirmed(self)
            if taken > self.capacity:
                errors["capacity"] = (
                    f"已有一场活动确认报名 {taken} 人，名额不能少于 {taken}。"
                    "如需减少，请先在报名管理中取消部分报名。"
                )
        if errors:
            raise ValidationError(errors)

    SEQUENCE_FIELDS = (
        "start",
        "end",
        "all_day",
        "venue",
        "status",
        "repeat",
        "repeat_weekdays",
        "repeat_until",
        "repeat_count",
        "excluded_dates",
        "title",
    )

    def community_from_tree(self) -> int | None:
        """The community page this activity sits under, None under the 活动日历."""
        if not self.path or self.depth <= 1:
            return self.community_id
        return community_of_parent(self.path[: -self.steplen])

    def save(self, *args, **kwargs):
        if kwargs.get("update_fields") is None:
            self.community_id = self.community_from_tree()
        if self.pk and kwargs.get("update_fields") is None:
            stored = (
                type(self)
                .objects.filter(pk=self.pk)
                .values("ical_sequence", *self.SEQUENCE_FIELDS)
                .first()
            )
            if stored:
                sequence = stored.pop("ical_sequence")
                stored["repeat_weekdays"] = WeekdaysField._as_list(
                    stored["repeat_weekdays"]
                )
                changed = any(
                    getattr(self, field) != value for field, value in stored.items()
                )
                self.ical_sequence = sequence + 1 if changed else sequence
                # What the page said before: sync_occurrences tells residents
                # of a new place or a cancellation (events/signals.py).
                self._stored_before_save = stored
        super().save(*args, **kwargs)
        # The Occurrence rows follow in events.occurrences.page_saved (post_save).

    @property
    def excluded_date_list(self):
        try:
            return recurrence.parse_dates(self.excluded_dates)
        except ValueError:
            return []

    def schedule(self) -> list[recurrence.Slot]:
        """Every occurrence of this page's schedule (one for a one-off activity)."""
        return recurrence.expand(
            self.start,
            self.end,
            repeat=self.repeat,
            weekdays=self.repeat_weekdays,
            until=self.repeat_until,
            count=self.repeat_count,
            excluded=self.excluded_date_list,
        )

    @property
    def first_local_start(self) -> datetime:
        """The first date of the schedule (a weekly rule may skip ``start``'s day)."""
        slots = self.schedule()
        return timezone.localtime(slots[0].start if slots else self.start)

    @property
    def repeat_pattern(self) -> str:
        """“每周二、四”: the pattern on listing cards."""
        return recurrence.short_pattern(self.repeat, self.repeat_weekdays)

    @property
    def repeat_description(self) -> str:
        return recurrence.describe(
            self.repeat, self.repeat_weekdays, self.repeat_until, self.repeat_count
        )

    @property
    def lead(self) -> str:
        """The summary shown above the body: empty when the body's first
        paragraph already says it (editors often paste it there), so that the
        page does not read the same text twice."""
        summary = " ".join(self.summary.split())
        if not summary:
            return ""
        first = " ".join(strip_tags(self.first_paragraph()).split())
        return "" if html.unescape(first).startswith(summary) else self.summary

    @property
    def is_cancelled(self) -> bool:
        return self.status == EventStatus.CANCELLED

    @property
    def is_postponed(self) -> bool:
        return self.status == EventStatus.POSTPONED

    def has_ended(self, now=None) -> bool:
        now = now or timezone.now()
        slots = self.schedule()
        last = slots[-1] if slots else recurrence.Slot(self.start, self.end)
        return (last.end or last.start) < now

    @property
    def local_start(self) -> datetime:
        return timezone.localtime(self.start)

    # The routes only hand the request to events/views.py, which builds each
    # page's context itself.

    @path("")
    def detail(self, request):
        return _views().event_detail(self, request)

    @path("signup/")
    def signup(self, request):
        return _views().signup(self, request)

    @path("r/<str:token>/")
    def registration(self, request, token):
        return _views().registration_result(self, request, token)

    @path("r/<str:token>/cancel/")
    def cancel_registration(self, request, token):
        return _views().registration_cancel(self, request, token)

    @path("r/<str:token>/qr.svg/")
    def registration_qr(self, request, token):
        return _views().registration_qr(self, request, token)

    @path("r/<str:token>/sms/")
    def registration_sms(self, request, token):
        return _views(result_actions=True).stop_sms(self, request, token)

    @path("r/<str:token>/calendar.ics/")
    def registration_calendar(self, request, token):
        return _views(result_actions=True).signup_calendar(self, request, token)

    @path("calendar.ics/")
    def ical(self, request):
        return _views().event_feed(self, request)


class ActivityPage(EventPage):
    """A community activity: 文化庙会, 邻里节, 运动会, 义诊 …"""

    content_panels = (
        TITLE_PANELS
        + EventPage.time_panels
        + EventPage.repeat_panels
        + EventPage.description_panels
        + EventPage.registration_panels
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
        TITLE_PANELS
        + [
            FieldRowPanel([FieldPanel("series"), FieldPanel("lecturer")]),
            FieldPanel("topic"),
        ]
        + EventPage.time_panels
        + EventPage.repeat_panels
        + EventPage.description_panels
        + EventPage.registration_panels
        + EventPage.status_panels
    )
    search_fields = EventPage.search_fields + [
        index.SearchField("topic"),
        index.SearchField("series"),
        index.RelatedFields("lecturer", [index.SearchField("name")]),
    ]
    kind = "lecture"
    kind_label = "先锋讲堂"
    card_fields = EventPage.card_fields + ("series",)
    objects = PageManager.from_queryset(EventPageQuerySet)()

    class Meta:
        verbose_name = "讲堂"

    def get_summary_text(self):
        return self.summary or self.topic

    def get_images_to_render(self):
        yield from super().get_images_to_render()
        if self.lecturer is not None and self.lecturer.photo is not None:
            yield self.lecturer.photo, ("lecturer",)


class FestivalActivityPage(EventPage):
    """A festival activity (春节 元宵 端午 中秋 重阳 …); the editor sees the festival's
    next date computed from the lunar calendar."""

    festival = models.CharField("节日", max_length=10, choices=Festival.choices)

    content_panels = (
        TITLE_PANELS
        + [
            FieldPanel("festival"),
            HelpPanel(template="events/panels/festival_dates.html", heading="节日日期"),
        ]
        + EventPage.time_panels
        + EventPage.repeat_panels
        + EventPage.description_panels
        + EventPage.registration_panels
        + EventPage.status_panels
    )
    search_fields = EventPage.search_fields + [index.SearchField("festival")]
    kind = "festival"
    kind_label = "节日活动"
    card_fields = EventPage.card_fields + ("festival",)
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
