"""Occurrences (one dated row per session of an activity) and residents'
sign-ups for them. Only ``events/occurrences.py`` writes occurrences and only
``events/registration.py`` writes sign-ups."""

from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.dateformat import format as date_format
from django.utils.functional import cached_property

from home.models import CommunityPage

from .. import privacy
from .pages import EVENT_KINDS

WEEKDAYS = "一二三四五六日"


def day_label(day, rest: str = "", this_year: int | None = None) -> str:
    """A date (or a local datetime's date) as a resident reads it in a list:
    4月5日, or 2027年4月5日 when it is not in ``this_year`` (today's local
    year if not given), so that next spring's dates read as next spring's;
    then, after a space, ``rest`` in the ``date`` filter's format ("l H:i":
    星期一 09:30)."""
    if this_year is None:
        this_year = timezone.localdate().year
    label = f"{day.month}月{day.day}日"
    if day.year != this_year:
        label = f"{day.year}年{label}"
    return f"{label} {date_format(day, rest)}" if rest else label


@dataclass(frozen=True)
class LocalWhen:
    """A local time's parts as cards print them (Chinese, as Django's ``date``
    filter prints them for zh-hans): 3 · 12月 · 12月3日 · 星期四 · 周四 · 09:30.
    The date carries its year when it is not ``this_year`` (2027年4月5日 in a
    list read in December 2026), as ``day_label`` prints it."""

    iso: str
    day: int
    month: str
    date: str
    weekday: str
    short_weekday: str
    time: str

    @classmethod
    def of(cls, local: datetime, this_year: int | None = None) -> "LocalWhen":
        weekday = WEEKDAYS[local.weekday()]
        return cls(
            iso=local.isoformat(),
            day=local.day,
            month=f"{local.month}月",
            date=day_label(local, this_year=this_year),
            weekday=f"星期{weekday}",
            short_weekday=f"周{weekday}",
            time=f"{local:%H:%M}",
        )


class Occurrence(models.Model):
    """One date of an activity: the only one for a one-off activity, one per date of
    a recurring one. Written from the page's schedule when the page is saved with
    its content (see ``events/occurrences.py``); sign-ups belong to an occurrence.

    ``taken`` counts the people confirmed; the registration service keeps it in step
    with the registrations while holding this row's lock, and a check constraint
    makes overselling impossible even for code that forgets to lock."""

    page = models.ForeignKey(
        "wagtailcore.Page", on_delete=models.CASCADE, related_name="occurrences"
    )
    start = models.DateTimeField("开始时间", db_index=True)
    end = models.DateTimeField("结束时间", null=True, blank=True)
    all_day = models.BooleanField(default=False)
    cancelled = models.BooleanField(
        "本场取消", default=False, help_text="停课日期，或已从日程中删除但有报名"
    )
    # Copied from the page so that listings and filters need no join per type.
    kind = models.CharField(max_length=10, choices=EVENT_KINDS)
    community = models.ForeignKey(
        CommunityPage,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    capacity = models.PositiveIntegerField("名额", null=True, blank=True)
    taken = models.PositiveIntegerField("已确认人数", default=0)

    class Meta:
        verbose_name = "活动场次"
        verbose_name_plural = "活动场次"
        ordering = ["start", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["page", "start"], name="occurrence_unique_start"
            ),
            models.CheckConstraint(
                condition=models.Q(capacity__isnull=True)
                | models.Q(taken__lte=models.F("capacity")),
                name="occurrence_never_oversold",
            ),
        ]

    def __str__(self):
        return f"{self.page.title} {timezone.localtime(self.start):%Y-%m-%d %H:%M}"

    @property
    def local_start(self) -> datetime:
        return timezone.localtime(self.start)

    @cached_property
    def when(self) -> "LocalWhen":
        """The start as the listing card prints it, worked out once: the card
        printed it through eight ``date`` filters, a tenth of a listing's render."""
        return LocalWhen.of(self.local_start)

    @property
    def local_end(self) -> datetime | None:
        return timezone.localtime(self.end) if self.end else None

    @property
    def seats_left(self) -> int | None:
        if self.capacity is None:
            return None
        return max(self.capacity - self.taken, 0)

    @property
    def is_full(self) -> bool:
        return self.capacity is not None and self.taken >= self.capacity

    def has_ended(self, now=None) -> bool:
        return (self.end or self.start) < (now or timezone.now())


class RegistrationStatus(models.TextChoices):
    CONFIRMED = "confirmed", "已报名"
    WAITLISTED = "waitlisted", "候补"
    CANCELLED = "cancelled", "已取消"


ACTIVE_STATUSES = [RegistrationStatus.CONFIRMED, RegistrationStatus.WAITLISTED]


class Registration(models.Model):
    """A resident's sign-up for one occurrence. Created, cancelled, promoted and
    checked in only by ``events/registration.py``."""

    page = models.ForeignKey(
        "wagtailcore.Page",
        verbose_name="活动",
        on_delete=models.CASCADE,
        related_name="registrations",
    )
    occurrence = models.ForeignKey(
        Occurrence,
        verbose_name="场次",
        on_delete=models.CASCADE,
        related_name="registrations",
    )
    name = models.CharField("姓名", max_length=30)
    phone = models.CharField("手机号", max_length=11, db_index=True)
    party_size = models.PositiveSmallIntegerField(
        "人数", default=1, validators=[MinValueValidator(1)]
    )
    household = models.CharField("所在社区/楼院", max_length=60, blank=True)
    note = models.CharField("备注", max_length=200, blank=True)
    status = models.CharField("状态", max_length=10, choices=RegistrationStatus.choices)
    code = models.CharField("报名码", max_length=8, unique=True)
    token = models.CharField(max_length=43, unique=True, editable=False)
    created_at = models.DateTimeField("报名时间", default=timezone.now)
    consented_at = models.DateTimeField("同意隐私说明时间", null=True)
    # A separate opt-in, unticked on the form: SMS about this sign-up only
    # (notify/): 候补转正, a new time or place, cancellation, the day-before
    # reminder. Withdrawn from the result page; cleared with the phone.
    sms_consent = models.BooleanField("同意接收短信通知", default=False)
    promoted_at = models.DateTimeField("候补转正时间", null=True, blank=True)
    cancelled_at = models.DateTimeField("取消时间", null=True, blank=True)
    cancelled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="取消人",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="空表示居民自己取消",
    )
    checked_in_at = models.DateTimeField("签到时间", null=True, blank=True)
    checked_in_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="签到人",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        verbose_name = "报名"
        verbose_name_plural = "报名"
        ordering = ["occurrence", "created_at", "pk"]
        permissions = [("view_personal_data", "查看报名人姓名和手机号")]
        indexes = [models.Index(fields=["occurrence", "status", "created_at"])]
        constraints = [
            # Erased and purged sign-ups keep their status (the counts stay right)
            # but have no phone, so they are left out.
            models.UniqueConstraint(
                fields=["occurrence", "phone"],
                condition=models.Q(status__in=ACTIVE_STATUSES) & ~models.Q(phone=""),
                name="registration_one_active_per_phone",
            ),
            models.CheckConstraint(
                condition=models.Q(party_size__gte=1), name="registration_party_size"
            ),
        ]

    def __str__(self):
        return f"{self.code} {self.masked_name} {self.masked_phone}"

    @property
    def masked_phone(self) -> str:
        return privacy.masked_phone(self.phone)

    @property
    def masked_name(self) -> str:
        return privacy.masked_name(self.name, self.phone)

    @property
    def is_erased(self) -> bool:
        """The resident's personal data was removed (by them, or on expiry)."""
        return privacy.is_erased(self.name, self.phone)

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE_STATUSES

    @property
    def is_confirmed(self) -> bool:
        return self.status == RegistrationStatus.CONFIRMED

    @property
    def is_waitlisted(self) -> bool:
        return self.status == RegistrationStatus.WAITLISTED
