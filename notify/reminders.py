"""The reminder the day before: due from ``SMS_REMINDER_HOUR`` (local time) on
the day before a session until it starts, for confirmed sign-ups made (or
promoted) before that hour — one who signed up later has just seen the time.
Recorded once per sign-up and start (``Message.version``): a session moved to
another day is reminded of again, a second run records nothing."""

from datetime import datetime, time, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from events.models import Occurrence, Registration, RegistrationStatus

from .models import MessageKind
from .service import queue, version_of


def reminder_time(start) -> datetime:
    day_before = timezone.localtime(start).date() - timedelta(days=1)
    hour = time(settings.SMS_REMINDER_HOUR)
    return timezone.make_aware(datetime.combine(day_before, hour))


def queue_reminders(now=None) -> int:
    """Record the reminders due now (sent after the commit); how many."""
    now = now or timezone.now()
    recorded = 0
    upcoming = Occurrence.objects.filter(
        start__gt=now, start__lte=now + timedelta(days=2), cancelled=False
    )
    with transaction.atomic():
        for occurrence in upcoming:
            remind_at = reminder_time(occurrence.start)
            if now < remind_at:
                continue
            registrations = (
                Registration.objects.filter(
                    occurrence=occurrence,
                    status=RegistrationStatus.CONFIRMED,
                    sms_consent=True,
                    created_at__lt=remind_at,
                )
                .filter(Q(promoted_at__isnull=True) | Q(promoted_at__lt=remind_at))
                .exclude(phone="")
            )
            recorded += queue(
                registrations, MessageKind.REMINDER, version_of(occurrence.start)
            )
    return recorded
