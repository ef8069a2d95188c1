"""One row per message a resident is to get: (sign-up, kind, version) is unique,
so each change is told at most once however often it is noticed (a page
published twice, ``send_reminders`` run twice, two workers). The row is written
in the transaction of the change itself and the send is a background task after
the commit; a failed send stays here, with its attempts, until it is delivered,
given up on (``FAILED``) or no longer wanted (``SKIPPED``).

No personal data: the phone and the text are read from the sign-up when the
message is sent; rows of an erased sign-up are deleted with its data."""

from django.db import models
from django.utils import timezone


class MessageKind(models.TextChoices):
    PROMOTED = "promoted", "候补转正"
    CHANGED = "changed", "时间或地点变更"
    CANCELLED = "cancelled", "本场取消"
    REMINDER = "reminder", "活动前一天提醒"


class MessageStatus(models.TextChoices):
    PENDING = "pending", "待发送"
    SENDING = "sending", "发送中"
    SENT = "sent", "已发送"
    FAILED = "failed", "发送失败"
    SKIPPED = "skipped", "未发送"


class Message(models.Model):
    registration = models.ForeignKey(
        "events.Registration",
        verbose_name="报名",
        on_delete=models.CASCADE,
        related_name="+",
    )
    kind = models.CharField("类型", max_length=10, choices=MessageKind.choices)
    # What the message is about, so that a new change is a new message: the
    # page's iCalendar sequence for a change, the session's start for a
    # reminder, "" for a promotion or a cancellation (once per sign-up).
    version = models.CharField("版本", max_length=40, blank=True)
    status = models.CharField(
        "状态",
        max_length=10,
        choices=MessageStatus.choices,
        default=MessageStatus.PENDING,
    )
    attempts = models.PositiveSmallIntegerField("尝试次数", default=0)
    next_attempt_at = models.DateTimeField("下次尝试时间", default=timezone.now)
    claimed_at = models.DateTimeField("开始发送时间", null=True, blank=True)
    created_at = models.DateTimeField("创建时间", default=timezone.now)
    sent_at = models.DateTimeField("发送时间", null=True, blank=True)
    # The provider's error code or the exception's type, phones masked.
    last_error = models.CharField("最近的错误", max_length=200, blank=True)
    provider_id = models.CharField("服务商回执编号", max_length=64, blank=True)

    class Meta:
        verbose_name = "短信"
        verbose_name_plural = "短信"
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["registration", "kind", "version"],
                name="message_once_per_registration_kind_version",
            )
        ]
        indexes = [models.Index(fields=["status", "next_attempt_at"])]

    def __str__(self):
        return f"{self.get_kind_display()} #{self.registration_id}"
