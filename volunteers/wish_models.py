"""微心愿: a resident's small wish that staff publish on the public board
(``WishBoardPage``), that one volunteer or one 驻区单位 claims, and that staff mark
fulfilled with a photo and a line.

Only ``volunteers/wishes.py`` writes these rows. One claim per wish: the service
locks the wish row and moves its state with ``UPDATE … WHERE state = 'open'``;
the partial unique constraint ``wish_one_active_claim`` refuses a second live
claim even without the lock.
"""

from django.conf import settings
from django.db import models
from django.utils import timezone

from events.privacy import ERASED_NAME, mask_name, masked_phone

from .models import Volunteer, community_field


class WishState(models.TextChoices):
    OPEN = "open", "待认领"
    CLAIMED = "claimed", "已认领"
    FULFILLED = "fulfilled", "已完成"
    WITHDRAWN = "withdrawn", "已撤下"


# What the public board shows (a withdrawn wish is gone from it).
PUBLIC_STATES = (WishState.OPEN, WishState.CLAIMED, WishState.FULFILLED)


class WishQuerySet(models.QuerySet):
    def public(self):
        return self.filter(state__in=PUBLIC_STATES)

    def for_board(self):
        """The board's cards: community, live claim and photo in the same query."""
        return self.public().select_related(
            "community", "fulfilment_photo", "live_claim__volunteer"
        )


class Wish(models.Model):
    """微心愿: what a resident wishes for (一台助听器、陪老人去医院复查), for whom
    (their name stays in the admin; the board shows 李** or a description such as
    独居老人), which community (empty = 全街道) and by when."""

    title = models.CharField("心愿", max_length=60, help_text="如“想要一台收音机”")
    description = models.TextField("详细说明", max_length=300, blank=True)
    recipient_name = models.CharField(
        "心愿人姓名",
        max_length=30,
        blank=True,
        help_text="只有工作人员能看到全名，公开页面显示为“李**”",
    )
    recipient_label = models.CharField(
        "心愿人说明",
        max_length=20,
        blank=True,
        help_text="公开显示，如“独居老人”“困难家庭儿童”",
    )
    community = community_field()
    due_date = models.DateField("希望完成日期")
    state = models.CharField(
        "状态", max_length=10, choices=WishState.choices, default=WishState.OPEN
    )
    published_at = models.DateTimeField("发布时间", default=timezone.now)
    claimed_at = models.DateTimeField("认领时间", null=True, blank=True)
    fulfilled_at = models.DateTimeField("完成时间", null=True, blank=True)
    fulfilment_photo = models.ForeignKey(
        "wagtailimages.Image",
        verbose_name="完成照片",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    fulfilment_line = models.CharField("完成说明", max_length=120, blank=True)
    withdrawn_reason = models.CharField("撤下原因", max_length=120, blank=True)
    # The claim the wish has now (the service keeps it in step with ``state``):
    # the board reads it in the same query as the wish. A claim is only ever
    # deleted with its wish (CASCADE), so nothing is left pointing at it.
    live_claim = models.OneToOneField(
        "volunteers.WishClaim",
        null=True,
        blank=True,
        editable=False,
        on_delete=models.DO_NOTHING,
        related_name="+",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField("创建时间", default=timezone.now)
    updated_at = models.DateTimeField("更新时间", auto_now=True)

    objects = WishQuerySet.as_manager()

    class Meta:
        verbose_name = "微心愿"
        verbose_name_plural = "微心愿"
        ordering = ["-published_at", "-pk"]
        indexes = [models.Index(fields=["state", "community"])]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(state__in=[s.value for s in WishState]),
                name="wish_state_known",
            ),
            # A claimed or fulfilled wish has its claim.
            models.CheckConstraint(
                condition=models.Q(state__in=["open", "withdrawn"])
                | models.Q(live_claim__isnull=False),
                name="wish_claimed_has_claim",
            ),
        ]

    def __str__(self):
        return self.title

    @property
    def masked_recipient_name(self) -> str:
        name = self.recipient_name
        return name if name == ERASED_NAME else mask_name(name)

    @property
    def public_recipient(self) -> str:
        """For whom, as anyone may read it: 李** · 独居老人."""
        parts = [self.masked_recipient_name, self.recipient_label]
        return " · ".join(p for p in parts if p and p != ERASED_NAME) or "社区居民"

    @property
    def is_open(self) -> bool:
        return self.state == WishState.OPEN


class ClaimKind(models.TextChoices):
    VOLUNTEER = "volunteer", "志愿者"
    UNIT = "unit", "驻区单位"


class WishClaim(models.Model):
    """Who claimed a wish: a 在册 volunteer (phone + 志愿者编号) or a 驻区单位 (unit
    name, contact person and phone). A claim staff cancel (取消认领) stays as a
    record; at most one live claim per wish."""

    wish = models.ForeignKey(Wish, on_delete=models.CASCADE, related_name="claims")
    kind = models.CharField("认领方", max_length=10, choices=ClaimKind.choices)
    volunteer = models.ForeignKey(
        Volunteer,
        verbose_name="志愿者",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="wish_claims",
    )
    unit_name = models.CharField("单位名称", max_length=60, blank=True)
    contact_name = models.CharField("联系人", max_length=30, blank=True)
    contact_phone = models.CharField("联系电话", max_length=11, blank=True)
    created_at = models.DateTimeField("认领时间", default=timezone.now)
    cancelled_at = models.DateTimeField("取消时间", null=True, blank=True)
    cancel_reason = models.CharField("取消原因", max_length=120, blank=True)

    class Meta:
        verbose_name = "心愿认领"
        verbose_name_plural = "心愿认领"
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["wish"],
                condition=models.Q(cancelled_at__isnull=True),
                name="wish_one_active_claim",
            ),
            models.CheckConstraint(
                condition=(
                    models.Q(kind="volunteer", volunteer__isnull=False)
                    | (
                        models.Q(kind="unit", volunteer__isnull=True)
                        & ~models.Q(unit_name="")
                    )
                ),
                name="wish_claim_has_claimant",
            ),
        ]

    def __str__(self):
        return f"{self.wish} · {self.public_claimant}"

    @property
    def public_claimant(self) -> str:
        """As the board shows it: 志愿者 王** / the unit's name."""
        if self.kind == ClaimKind.UNIT:
            return self.unit_name
        return f"志愿者 {self.volunteer.masked_name}"

    @property
    def masked_contact(self) -> str:
        if self.kind == ClaimKind.UNIT:
            name = self.contact_name
            shown = name if name == ERASED_NAME else mask_name(name)
            return " ".join(p for p in (shown, masked_phone(self.contact_phone)) if p)
        return f"{self.volunteer.code} {self.volunteer.masked_phone}"


# The board page lives beside the wishes (volunteers/wish_pages.py).
from .wish_pages import WishBoardPage  # noqa: E402, F401
