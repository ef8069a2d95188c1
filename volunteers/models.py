"""Teams, volunteers, posts at activities, service records and the time bank.

Only the services write these rows: ``roster.py`` (volunteers: apply, add,
approve, leave, purge), ``bank.py`` (service hours, corrections, withdrawals,
transfers) and ``posts.py`` (post sign-ups, check-in and check-out at the door).
The database backs their rules up: a post is never overfilled
(``post_never_overfilled``), a balance never goes below zero
(``account_balance_not_negative``), a record's hours lie in (0, 24].
"""

from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.utils import timezone
from wagtail.admin.panels import FieldPanel, MultiFieldPanel
from wagtail.contrib.settings.models import BaseSiteSetting, register_setting

from events.privacy import ERASED_NAME, mask_name, masked_phone
from home.models import CommunityPage

HOURS = {"max_digits": 7, "decimal_places": 2}
DAY_HOURS = Decimal(24)
STAR_DEFAULTS = (100, 300, 600, 1000, 1500)  # 民政部《志愿服务记录办法》


def community_field(**kwargs):
    return models.ForeignKey(
        CommunityPage,
        verbose_name="所属社区",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="空 = 全街道",
        **kwargs,
    )


class Team(models.Model):
    """志愿服务队: a community's team (党员志愿服务队, 楼组志愿者 …) or a
    subdistrict-wide one (所属社区 empty)."""

    name = models.CharField("队名", max_length=60)
    community = community_field()
    description = models.TextField("简介", blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        verbose_name = "志愿服务队"
        verbose_name_plural = "志愿服务队"
        ordering = ["community__title", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["community", "name"], name="team_unique_name_per_community"
            )
        ]

    def __str__(self):
        return self.name


class VolunteerStatus(models.TextChoices):
    APPLIED = "applied", "申请中"
    ACTIVE = "active", "在册"
    LEFT = "left", "已退出"


CURRENT_STATUSES = (VolunteerStatus.APPLIED, VolunteerStatus.ACTIVE)


class Volunteer(models.Model):
    """A volunteer (志愿者), known by a volunteer code (志愿者编号) and mobile."""

    code = models.CharField("志愿者编号", max_length=8, unique=True, editable=False)
    name = models.CharField("姓名", max_length=30)
    phone = models.CharField("手机号", max_length=11, blank=True)
    community = community_field()
    teams = models.ManyToManyField(
        Team, verbose_name="志愿服务队", blank=True, related_name="volunteers"
    )
    skills = models.CharField("特长", max_length=200, blank=True)
    status = models.CharField(
        "状态",
        max_length=10,
        choices=VolunteerStatus.choices,
        default=VolunteerStatus.APPLIED,
    )
    family = models.ManyToManyField(
        "self",
        verbose_name="登记的家人",
        blank=True,
        symmetrical=True,
        help_text="时间银行可转赠给登记的家人（社区允许时）",
    )
    applied_at = models.DateTimeField("申请时间", default=timezone.now)
    approved_at = models.DateTimeField("通过时间", null=True, blank=True)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    left_at = models.DateTimeField("退出时间", null=True, blank=True)

    class Meta:
        verbose_name = "志愿者"
        verbose_name_plural = "志愿者"
        ordering = ["-applied_at", "pk"]
        permissions = [("view_volunteer_personal_data", "查看志愿者姓名和手机号")]
        constraints = [
            # One current registration per mobile: the lookup and post sign-ups
            # find a volunteer by phone + code.
            models.UniqueConstraint(
                fields=["phone"],
                condition=models.Q(status__in=["applied", "active"])
                & ~models.Q(phone=""),
                name="volunteer_one_current_per_phone",
            ),
        ]

    def __str__(self):
        return f"{self.code} {self.masked_name}"

    @property
    def masked_name(self) -> str:
        return self.name if self.is_erased else mask_name(self.name)

    @property
    def masked_phone(self) -> str:
        return masked_phone(self.phone)

    @property
    def is_erased(self) -> bool:
        return self.name == ERASED_NAME and not self.phone

    @property
    def is_active(self) -> bool:
        return self.status == VolunteerStatus.ACTIVE


class TimeBankAccount(models.Model):
    """A volunteer's time-bank balance (余额) and cumulative service hours (累计时长,
    which decide the star rating). Written only by ``bank.py`` under this row's
    lock; the check constraint refuses a negative balance even without it."""

    volunteer = models.OneToOneField(
        Volunteer, on_delete=models.CASCADE, primary_key=True, related_name="account"
    )
    balance = models.DecimalField("余额（小时）", default=Decimal(0), **HOURS)
    total_hours = models.DecimalField("累计服务时长", default=Decimal(0), **HOURS)

    class Meta:
        verbose_name = "时间银行账户"
        verbose_name_plural = "时间银行账户"
        constraints = [
            models.CheckConstraint(
                condition=models.Q(balance__gte=0), name="account_balance_not_negative"
            ),
            models.CheckConstraint(
                condition=models.Q(total_hours__gte=0),
                name="account_total_not_negative",
            ),
        ]

    def __str__(self):
        return f"{self.volunteer} {self.balance}"


class ServiceSource(models.TextChoices):
    POST = "post", "活动岗位"
    DUTY = "duty", "日常服务"


class ServiceRecord(models.Model):
    """服务记录: hours served on a date, from a post at an activity (checked out
    at the door) or entered by staff (e.g. 每天民事调解). Each is deposited in the
    time bank as it is recorded."""

    volunteer = models.ForeignKey(
        Volunteer, on_delete=models.PROTECT, related_name="service_records"
    )
    community = community_field()
    date = models.DateField("服务日期")
    hours = models.DecimalField("时长（小时）", **HOURS)
    source = models.CharField("来源", max_length=10, choices=ServiceSource.choices)
    description = models.CharField("服务内容", max_length=120)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="记录人",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField("记录时间", default=timezone.now)
    corrected_at = models.DateTimeField("更正时间", null=True, blank=True)

    class Meta:
        verbose_name = "服务记录"
        verbose_name_plural = "服务记录"
        ordering = ["-date", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(hours__gt=0) & models.Q(hours__lte=DAY_HOURS),
                name="service_hours_within_a_day",
            )
        ]

    def __str__(self):
        return f"{self.date} {self.description} {self.hours} 小时"


class EntryKind(models.TextChoices):
    DEPOSIT = "deposit", "存入"
    CORRECTION = "correction", "时长更正"
    SERVICE = "service", "支取：享受服务"
    GIFT = "gift", "支取：兑换物品"
    TRANSFER_OUT = "transfer_out", "转赠家人"
    TRANSFER_IN = "transfer_in", "家人转入"


WITHDRAWAL_KINDS = (EntryKind.SERVICE, EntryKind.GIFT)


class TimeBankEntry(models.Model):
    """One line of a volunteer's 存折: hours in (+) or out (−), the balance after."""

    account = models.ForeignKey(
        TimeBankAccount, on_delete=models.CASCADE, related_name="entries"
    )
    kind = models.CharField("类型", max_length=14, choices=EntryKind.choices)
    hours = models.DecimalField("时长（小时）", **HOURS)
    balance_after = models.DecimalField("余额", **HOURS)
    record = models.ForeignKey(
        ServiceRecord,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="entries",
    )
    counterpart = models.ForeignKey(
        Volunteer,
        verbose_name="转赠对象",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    note = models.CharField("说明", max_length=120, blank=True)
    created_at = models.DateTimeField("时间", default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="经办人",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        verbose_name = "时间银行流水"
        verbose_name_plural = "时间银行流水"
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(hours=0), name="entry_hours_not_zero"
            ),
            models.CheckConstraint(
                condition=models.Q(balance_after__gte=0),
                name="entry_balance_not_negative",
            ),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} {self.hours}"


class VolunteerPost(models.Model):
    """岗位: volunteers an activity's session asks for (引导 ×4, 签到 ×2)."""

    occurrence = models.ForeignKey(
        "events.Occurrence",
        verbose_name="活动场次",
        on_delete=models.CASCADE,
        related_name="volunteer_posts",
    )
    title = models.CharField("岗位", max_length=30, help_text="如“引导”“签到”")
    capacity = models.PositiveIntegerField(
        "人数", validators=[MinValueValidator(1)], default=1
    )
    taken = models.PositiveIntegerField("已报名", default=0, editable=False)
    description = models.CharField("岗位说明", max_length=120, blank=True)

    class Meta:
        verbose_name = "志愿岗位"
        verbose_name_plural = "志愿岗位"
        ordering = ["occurrence__start", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["occurrence", "title"], name="post_unique_title"
            ),
            models.CheckConstraint(
                condition=models.Q(taken__lte=models.F("capacity")),
                name="post_never_overfilled",
            ),
        ]

    def __str__(self):
        return f"{self.title} ×{self.capacity}"

    @property
    def places_left(self) -> int:
        return max(self.capacity - self.taken, 0)


class PostSignupStatus(models.TextChoices):
    CONFIRMED = "confirmed", "已报名"
    CANCELLED = "cancelled", "已取消"


class PostSignup(models.Model):
    """A volunteer's place in a post; checked in and out at the door, which
    records the service (``record``)."""

    post = models.ForeignKey(
        VolunteerPost, on_delete=models.CASCADE, related_name="signups"
    )
    volunteer = models.ForeignKey(
        Volunteer, on_delete=models.PROTECT, related_name="post_signups"
    )
    # The post's session, copied so that one place per session can be a constraint.
    occurrence = models.ForeignKey(
        "events.Occurrence", on_delete=models.CASCADE, related_name="+"
    )
    status = models.CharField(
        "状态",
        max_length=10,
        choices=PostSignupStatus.choices,
        default=PostSignupStatus.CONFIRMED,
    )
    created_at = models.DateTimeField("报名时间", default=timezone.now)
    cancelled_at = models.DateTimeField("取消时间", null=True, blank=True)
    checked_in_at = models.DateTimeField("签到时间", null=True, blank=True)
    checked_out_at = models.DateTimeField("签退时间", null=True, blank=True)
    record = models.OneToOneField(
        ServiceRecord,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="post_signup",
    )

    class Meta:
        verbose_name = "岗位报名"
        verbose_name_plural = "岗位报名"
        ordering = ["created_at", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["volunteer", "occurrence"],
                condition=models.Q(status="confirmed"),
                name="post_signup_one_per_session",
            )
        ]

    def __str__(self):
        return f"{self.post.title} {self.volunteer}"


@register_setting(icon="group")
class VolunteerSettings(BaseSiteSetting):
    """志愿服务设置: star thresholds (星级评定, by cumulative hours) and which
    communities' time banks allow transfers to a registered family member."""

    star_1 = models.PositiveIntegerField("一星（小时）", default=STAR_DEFAULTS[0])
    star_2 = models.PositiveIntegerField("二星（小时）", default=STAR_DEFAULTS[1])
    star_3 = models.PositiveIntegerField("三星（小时）", default=STAR_DEFAULTS[2])
    star_4 = models.PositiveIntegerField("四星（小时）", default=STAR_DEFAULTS[3])
    star_5 = models.PositiveIntegerField("五星（小时）", default=STAR_DEFAULTS[4])
    transfer_communities = models.ManyToManyField(
        CommunityPage,
        verbose_name="允许转赠家人的社区",
        blank=True,
        related_name="+",
        help_text="这些社区的时间银行可以把时长转给同样登记的家人",
    )
    transfer_subdistrict = models.BooleanField(
        "全街道志愿者允许转赠家人", default=False
    )

    panels = [
        MultiFieldPanel(
            [FieldPanel(f"star_{n}") for n in range(1, 6)],
            heading="星级评定（累计服务时长达到即评定）",
        ),
        MultiFieldPanel(
            [FieldPanel("transfer_communities"), FieldPanel("transfer_subdistrict")],
            heading="时间银行",
        ),
    ]

    class Meta:
        verbose_name = "志愿服务设置"

    @property
    def thresholds(self) -> tuple[int, ...]:
        return (self.star_1, self.star_2, self.star_3, self.star_4, self.star_5)

    def clean(self):
        super().clean()
        values = self.thresholds
        if any(b <= a for a, b in zip(values, values[1:], strict=False)) or not (
            values[0] > 0
        ):
            raise ValidationError("星级时长须大于 0，并且一星到五星逐级增加。")


from .pages import *  # noqa: E402, F401, F403 - the page type, in models for Django
from .wish_models import ClaimKind, Wish, WishClaim, WishState  # noqa: E402, F401
