"""What gets sent, to whom, and how a send is tried until it is delivered.

Recording (``queue``): inside the transaction of the change — a promotion in the
registration service, a page published with a new time or place or a
cancellation, ``send_reminders`` — one ``Message`` row per opted-in sign-up with
a phone, unique per (sign-up, kind, version), so the same change noticed twice
records nothing new. Each new row enqueues ``notify.tasks.deliver_message`` when
the transaction commits (``portal.tasks.enqueue_on_commit``: a queue that cannot
take it is logged, never raised; the row stays pending for ``sweep``).

Sending (``deliver``): claims the row (a conditional UPDATE from 待发送 to
发送中, so two workers never both send it), checks that it is still wanted (the
resident still opted in, the sign-up active, the session ahead), then calls the
backend. A provider failure is an attempt: the row goes back to 待发送 with
``next_attempt_at`` after an exponential backoff (``SMS_RETRY_SECONDS``,
doubling, at most ``SMS_RETRY_MAX_SECONDS``) and a deferred task is enqueued when
the backend can defer; after ``SMS_MAX_ATTEMPTS`` (or an error a retry cannot
fix) it is 发送失败. Nothing raises out of ``deliver``: a request that triggered
a send (the immediate backend, or RQ with Redis down) never fails because of it.

``sweep`` (run by ``manage.py send_reminders``, every few minutes) enqueues
again what is due and was not picked up — a backend without deferral, a lost
task — and releases rows left 发送中 by a worker that died.

Logs carry the masked phone (138****1234) only; the error kept on the row is
masked too.
"""

import logging
from datetime import UTC, timedelta

from django.conf import settings
from django.db.models import F
from django.utils import timezone
from django.utils.dateformat import format as date_format

from events.models import ACTIVE_STATUSES, Registration
from events.signals import (
    personal_data_erased,
    registrations_promoted,
    sessions_changed,
)
from portal.tasks import enqueue_on_commit

from .backends import SendError, get_backend, masked
from .models import Message, MessageKind, MessageStatus

logger = logging.getLogger(__name__)

STALE_SENDING = timedelta(minutes=15)  # a claim older than this was lost
SWEEP_GRACE = timedelta(minutes=1)  # the task enqueued at the time goes first
SWEEP_BATCH = 500

TEXTS = {
    MessageKind.PROMOTED: (
        "您候补的“{title}”（{time}）已转为报名成功，地点：{place}，报名码 {code}。"
        "不能参加请在报名结果页取消。"
    ),
    MessageKind.CHANGED: (
        "您报名的“{title}”时间或地点有变：{time}，地点：{place}，报名码 {code}。"
        "不能参加请在报名结果页取消。"
    ),
    MessageKind.CANCELLED: "很抱歉，您报名的“{title}”（{time}）已取消。",
    MessageKind.REMINDER: (
        "提醒：您报名的“{title}”将于 {time} 在 {place} 举行，报名码 {code}。"
    ),
}


# ---------------------------------------------------------------------------
# Recording
# ---------------------------------------------------------------------------


def queue(registrations, kind: str, version: str = "") -> int:
    """Record ``kind`` (``version``) for each opted-in sign-up with a phone and
    send it after the commit; the number recorded now (those recorded before
    are not sent again)."""
    from .tasks import deliver_message

    wanted = [r.pk for r in registrations if r.sms_consent and r.phone]
    same = Message.objects.filter(kind=kind, version=version)
    earlier = same.filter(registration_id__in=wanted)
    before = set(earlier.values_list("registration_id", flat=True))
    for pk in sorted(before):
        logger.info("短信 %s 已记录过（报名 #%s），不再重复发送", kind, pk)
    missing = [pk for pk in wanted if pk not in before]
    if not missing:
        return 0
    # One INSERT for all; a row another process recorded meanwhile is skipped by
    # the unique constraint (and, if read back below, claimed only once when sent).
    Message.objects.bulk_create(
        [Message(registration_id=pk, kind=kind, version=version) for pk in missing],
        ignore_conflicts=True,
    )
    new = list(same.filter(registration_id__in=missing).values_list("pk", flat=True))
    for pk in new:
        enqueue_on_commit(deliver_message, pk)
    return len(new)


def version_of(start) -> str:
    """A session's start as a reminder's version (a moved session: a new one)."""
    return start.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def on_promoted(sender, registrations, **kwargs) -> None:
    queue(registrations, MessageKind.PROMOTED)


def on_sessions_changed(sender, page, changed, cancelled, **kwargs) -> None:
    affected = Registration.objects.filter(
        status__in=ACTIVE_STATUSES,
        sms_consent=True,
        occurrence__start__gt=timezone.now(),
    ).exclude(phone="")
    if changed:
        queue(
            affected.filter(occurrence_id__in=changed),
            MessageKind.CHANGED,
            f"seq{page.ical_sequence}",
        )
    if cancelled:
        queue(affected.filter(occurrence_id__in=cancelled), MessageKind.CANCELLED)


def on_personal_data_erased(sender, registration_ids, **kwargs) -> None:
    Message.objects.filter(registration_id__in=registration_ids).delete()


def connect_signals() -> None:
    registrations_promoted.connect(on_promoted, dispatch_uid="notify-promoted")
    sessions_changed.connect(on_sessions_changed, dispatch_uid="notify-changed")
    personal_data_erased.connect(on_personal_data_erased, dispatch_uid="notify-erased")


# ---------------------------------------------------------------------------
# Sending
# ---------------------------------------------------------------------------


def content(message: Message) -> tuple[dict, str]:
    """The template parameters and the text of ``message``, read now."""
    registration = message.registration
    page = registration.page.specific
    occurrence = registration.occurrence
    if page.is_postponed and message.kind == MessageKind.CHANGED:
        when = "延期举行，新时间另行通知"
    else:
        when = date_format(
            occurrence.local_start, "n月j日" if occurrence.all_day else "n月j日 H:i"
        )
    params = {
        "title": page.title[:20],
        "time": when,
        "place": page.venue[:20],
        "code": registration.code,
    }
    return params, TEXTS[message.kind].format(**params)


def why_not(message: Message, now) -> str:
    """Why ``message`` is no longer to be sent ("" when it is)."""
    registration = message.registration
    if not registration.sms_consent:
        return "居民已退订短信"
    if not registration.phone:
        return "手机号已删除"
    if not registration.is_active:
        return "报名已取消"
    occurrence = registration.occurrence
    if occurrence.start <= now:
        return "活动已开始"
    if message.kind != MessageKind.CANCELLED:
        if occurrence.cancelled or registration.page.specific.is_cancelled:
            return "本场已取消"
    if message.kind == MessageKind.REMINDER and not registration.is_confirmed:
        return "未确认报名"
    return ""


def deliver(message_id: int) -> str:
    """Send the message if it is due and still wanted: "sent", "retry",
    "failed", "skipped" or "not due" (already sent, being sent, or waiting for
    its next attempt). Never raises."""
    now = timezone.now()
    claimed = Message.objects.filter(
        pk=message_id, status=MessageStatus.PENDING, next_attempt_at__lte=now
    ).update(status=MessageStatus.SENDING, claimed_at=now)
    if not claimed:
        return "not due"
    message = (
        Message.objects.select_related("registration__occurrence", "registration__page")
        .filter(pk=message_id)
        .first()
    )
    if message is None:  # erased meanwhile
        return "skipped"
    phone = message.registration.phone
    try:
        reason = why_not(message, now)
        if reason:
            _finish(message, MessageStatus.SKIPPED, last_error=reason)
            return "skipped"
        params, text = content(message)
        provider_id = get_backend().send(phone, message.kind, params, text)
    except Exception as error:
        if not isinstance(error, SendError):
            error = SendError(f"{type(error).__name__}: {error}")
        return _failed(message, error, phone)
    _finish(
        message,
        MessageStatus.SENT,
        sent_at=timezone.now(),
        attempts=F("attempts") + 1,
        provider_id=provider_id[:64],
        last_error="",
    )
    logger.info(
        "短信已发送：%s 至 %s（报名 #%s，第 %d 次尝试）",
        message.get_kind_display(),
        masked(phone),
        message.registration_id,
        message.attempts + 1,
    )
    return "sent"


def _finish(message: Message, status: str, **fields) -> None:
    Message.objects.filter(pk=message.pk).update(status=status, **fields)


def backoff(attempts: int) -> timedelta:
    """The wait after the ``attempts``-th failed try."""
    seconds = settings.SMS_RETRY_SECONDS * 2 ** (attempts - 1)
    return timedelta(seconds=min(seconds, settings.SMS_RETRY_MAX_SECONDS))


def _failed(message: Message, error: SendError, phone: str) -> str:
    from .tasks import deliver_message

    attempts = message.attempts + 1
    label = message.get_kind_display()
    if error.permanent or attempts >= settings.SMS_MAX_ATTEMPTS:
        _finish(
            message, MessageStatus.FAILED, attempts=attempts, last_error=error.reason
        )
        logger.error(
            "短信发送失败，不再重试：%s 至 %s（报名 #%s，%d 次尝试）：%s",
            label,
            masked(phone),
            message.registration_id,
            attempts,
            error.reason,
        )
        return "failed"
    retry_at = timezone.now() + backoff(attempts)
    _finish(
        message,
        MessageStatus.PENDING,
        attempts=attempts,
        next_attempt_at=retry_at,
        last_error=error.reason,
    )
    logger.warning(
        "短信发送失败，%d 秒后重试：%s 至 %s（报名 #%s，第 %d 次尝试）：%s",
        backoff(attempts).total_seconds(),
        label,
        masked(phone),
        message.registration_id,
        attempts,
        error.reason,
    )
    if deliver_message.get_backend().supports_defer:
        enqueue_on_commit(deliver_message.using(run_after=retry_at), message.pk)
    return "retry"


def sweep(now=None) -> int:
    """Enqueue again the messages due and not picked up, release claims lost by
    a worker that died; the number enqueued."""
    from .tasks import deliver_message

    now = now or timezone.now()
    Message.objects.filter(
        status=MessageStatus.SENDING, claimed_at__lt=now - STALE_SENDING
    ).update(status=MessageStatus.PENDING, next_attempt_at=now)
    due = list(
        Message.objects.filter(
            status=MessageStatus.PENDING, next_attempt_at__lte=now - SWEEP_GRACE
        )
        .order_by("next_attempt_at")
        .values_list("pk", flat=True)[:SWEEP_BATCH]
    )
    for pk in due:
        enqueue_on_commit(deliver_message, pk)
    return len(due)
