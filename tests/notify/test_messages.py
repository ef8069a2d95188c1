"""Messages to residents who opted in (notify/, issue 18 point 2), through the
real 阿里云短信 SDK against the fake provider on 127.0.0.1 (tests/fake_sms.py):
a promotion from the waitlist, a session moved or cancelled by staff, the
reminder the day before (once, by the worker, however often the command runs),
a provider that fails and then recovers. Times are the factory's (an activity
three days from now) or computed from them; the clock is moved with
time-machine where a wait matters."""

import logging
from datetime import timedelta

import pytest
import time_machine
from django.core.management import call_command
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_tasks import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from events import registration as service
from events.models import Occurrence, Registration
from notify import service as notify
from notify.models import Message, MessageKind, MessageStatus
from notify.reminders import reminder_time
from tests.factories import signup_activity
from tests.server import free_port

from .conftest import FIGURES, KIND_OF_TEMPLATE

pytestmark = pytest.mark.django_db

DATABASE_TASKS = {
    "default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}
}
DELIVER = "notify.tasks.deliver_message"


def phone(n: int) -> str:
    return f"1380013{n:04d}"


def activity(capacity=10, **fields):
    return signup_activity(
        capacity=capacity, max_party_size=1, waitlist_enabled=True, **fields
    )


def sign(page, n, *, consent=True, occurrence=None):
    occurrence = occurrence or Occurrence.objects.get(page_id=page.pk)
    return service.sign_up(
        page, occurrence.pk, name=f"居民{n}", phone=phone(n), sms_consent=consent
    ).registration


def kinds_to(fake, n) -> list[str]:
    return [
        KIND_OF_TEMPLATE[r["TemplateCode"]]
        for r in fake.delivered
        if r["PhoneNumbers"] == phone(n)
    ]


@pytest.fixture
def worker(monkeypatch, django_capture_on_commit_callbacks):
    """The database backend's worker (``python -m portal.worker --batch``) run
    here, on the test's connection: its connection housekeeping would close
    that connection, since a test runs inside a transaction; and what a task
    enqueues "on commit" is enqueued when the task is done."""
    from django_tasks_db.management.commands import db_worker

    monkeypatch.setattr(db_worker, "close_old_connections", lambda: None)

    def run():
        with django_capture_on_commit_callbacks(execute=True):
            call_command("db_worker", "--batch", "--no-startup-delay", verbosity=0)

    return run


def publish(page, captured, **changes):
    for field, value in changes.items():
        setattr(page, field, value)
    with captured(execute=True):
        page.save_revision().publish()


def test_a_promotion_sends_exactly_one_message(
    sms, client, django_capture_on_commit_callbacks
):
    page = activity(capacity=1)
    first = sign(page, 1)
    waiting = sign(page, 2)
    not_asked = sign(page, 3, consent=False)
    assert waiting.is_waitlisted and not_asked.is_waitlisted

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"{page.url}r/{first.token}/cancel/")
    assert response.status_code == 303
    assert kinds_to(sms, 2) == ["promoted"]
    (sent,) = sms.delivered
    assert sent["SignName"] == "花园路街道"
    assert sent["TemplateParam"]["code"] == waiting.code
    assert sent["TemplateParam"]["title"] == page.title
    message = Message.objects.get(registration=waiting)
    assert (message.status, message.attempts) == (MessageStatus.SENT, 1)
    assert message.provider_id

    # The next promotion goes to one who did not opt in: nothing is sent.
    with django_capture_on_commit_callbacks(execute=True):
        service.cancel(waiting.pk)
        service.promote_waitlist(waiting.occurrence_id)
    assert Registration.objects.get(pk=not_asked.pk).is_confirmed
    assert len(sms.delivered) == 1
    assert not Message.objects.filter(registration=not_asked).exists()

    # Told once: the same promotion noticed again records nothing.
    with django_capture_on_commit_callbacks(execute=True):
        assert notify.queue([waiting], MessageKind.PROMOTED) == 0
    FIGURES["deduplicated"] += 1
    assert len(sms.delivered) == 1


def test_a_session_moved_by_staff_tells_each_opted_in_resident_once(
    sms, django_capture_on_commit_callbacks
):
    page = activity()
    for n in (1, 2):
        sign(page, n)
    sign(page, 3, consent=False)
    new_start = page.start + timedelta(days=1, hours=5)

    publish(
        page,
        django_capture_on_commit_callbacks,
        start=new_start,
        end=new_start + timedelta(hours=2),
    )
    assert [kinds_to(sms, n) for n in (1, 2, 3)] == [["changed"], ["changed"], []]
    local = timezone.localtime(new_start)
    assert sms.delivered[0]["TemplateParam"]["time"] == f"{local:%-m月%-d日 %H:%M}"

    # Published again with nothing changed: no new message.
    publish(page, django_capture_on_commit_callbacks, summary="新的简介")
    assert len(sms.delivered) == 2

    # A new place is a new change: one more message each.
    publish(page, django_capture_on_commit_callbacks, venue="街道文化站三楼")
    assert [kinds_to(sms, n) for n in (1, 2, 3)] == [
        ["changed", "changed"],
        ["changed", "changed"],
        [],
    ]
    assert sms.delivered[-1]["TemplateParam"]["place"] == "街道文化站三楼"


def test_a_cancelled_activity_tells_each_opted_in_resident_once(
    sms, django_capture_on_commit_callbacks
):
    page = activity()
    for n in (1, 2):
        sign(page, n)
    sign(page, 3, consent=False)
    publish(
        page,
        django_capture_on_commit_callbacks,
        status="cancelled",
        status_reason="场地维修",
    )
    assert [kinds_to(sms, n) for n in (1, 2, 3)] == [["cancelled"], ["cancelled"], []]
    publish(page, django_capture_on_commit_callbacks, status_reason="场地临时维修")
    assert len(sms.delivered) == 2


def test_a_date_taken_out_of_a_series_tells_only_that_dates_residents(
    sms, django_capture_on_commit_callbacks
):
    page = activity(repeat="DAILY", repeat_count=3)
    first, second, _third = Occurrence.objects.filter(page_id=page.pk)
    sign(page, 1, occurrence=first)
    sign(page, 2, occurrence=second)
    day = timezone.localtime(second.start).date()
    publish(page, django_capture_on_commit_callbacks, excluded_dates=day.isoformat())
    assert Occurrence.objects.get(pk=second.pk).cancelled
    assert [kinds_to(sms, n) for n in (1, 2)] == [[], ["cancelled"]]


@override_settings(TASKS=DATABASE_TASKS)
def test_the_reminder_is_sent_once_by_the_worker_however_often_the_command_runs(
    sms, worker, django_capture_on_commit_callbacks
):
    page = activity()
    for n in (1, 2):
        sign(page, n)
    sign(page, 3, consent=False)
    start = Occurrence.objects.get(page_id=page.pk).start
    due = reminder_time(start)
    assert timezone.localtime(due).hour == 10
    assert timezone.localtime(due).date() == timezone.localtime(start).date() - (
        timedelta(days=1)
    )

    with time_machine.travel(due - timedelta(minutes=5), tick=False):
        with django_capture_on_commit_callbacks(execute=True):
            call_command("send_reminders", stdout=open("/dev/null", "w"))
        assert not Message.objects.exists()  # not yet
    with time_machine.travel(due + timedelta(minutes=5), tick=False):
        for _run in range(2):
            with django_capture_on_commit_callbacks(execute=True):
                call_command("send_reminders", stdout=open("/dev/null", "w"))
        FIGURES["deduplicated"] += 2  # the second run's two
        assert DBTaskResult.objects.filter(task_path=DELIVER).count() == 2
        assert sms.delivered == []  # queued for the worker, not sent here
        worker()
    assert [kinds_to(sms, n) for n in (1, 2, 3)] == [["reminder"], ["reminder"], []]
    with time_machine.travel(due + timedelta(minutes=15), tick=False):
        with django_capture_on_commit_callbacks(execute=True):
            call_command("send_reminders", stdout=open("/dev/null", "w"))
        worker()
    FIGURES["deduplicated"] += 2
    assert len(sms.delivered) == 2
    assert Message.objects.filter(status=MessageStatus.SENT).count() == 2


def test_a_provider_down_is_retried_with_backoff_and_nothing_is_lost(
    sms, settings, client, caplog, django_capture_on_commit_callbacks
):
    """The immediate backend (no deferred tasks): ``send_reminders``' sweep
    tries again once each wait is over. HTTP 500 first, then a refused
    connection, then the provider is back."""
    caplog.set_level(logging.INFO, logger="notify")
    page = activity(capacity=1)
    first = sign(page, 1)
    waiting = sign(page, 2)
    sms.fail_next(1, status=500)
    t0 = timezone.now()
    with time_machine.travel(t0, tick=False) as clock:
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(f"{page.url}r/{first.token}/cancel/")
        assert response.status_code == 303  # the resident sees nothing of it
        message = Message.objects.get(registration=waiting)
        assert (message.status, message.attempts) == (MessageStatus.PENDING, 1)
        assert message.next_attempt_at == t0 + timedelta(seconds=60)

        clock.move_to(t0 + timedelta(seconds=30))  # still waiting: not tried
        with django_capture_on_commit_callbacks(execute=True):
            notify.sweep()
        assert len(sms.requests) == 1

        settings.SMS_ENDPOINT = f"http://127.0.0.1:{free_port()}"  # refused
        clock.move_to(t0 + timedelta(seconds=125))
        with django_capture_on_commit_callbacks(execute=True):
            assert notify.sweep() == 1
        message.refresh_from_db()
        assert (message.status, message.attempts) == (MessageStatus.PENDING, 2)
        assert message.next_attempt_at == t0 + timedelta(seconds=125 + 120)

        settings.SMS_ENDPOINT = sms.url
        clock.move_to(t0 + timedelta(seconds=125 + 185))
        with django_capture_on_commit_callbacks(execute=True):
            assert notify.sweep() == 1
        with django_capture_on_commit_callbacks(execute=True):
            assert notify.sweep() == 0
    message.refresh_from_db()
    assert (message.status, message.attempts) == (MessageStatus.SENT, 3)
    assert kinds_to(sms, 2) == ["promoted"]
    assert [r["status"] for r in sms.requests] == [500, 200]
    FIGURES["retried"] += 2
    # The log tells each try, never the full number.
    assert caplog.text.count("短信发送失败，") == 2
    assert "138****0002" in caplog.text
    assert phone(2) not in caplog.text and phone(1) not in caplog.text
    assert phone(2) not in message.last_error


@override_settings(TASKS=DATABASE_TASKS)
def test_a_failed_send_is_deferred_to_the_worker_after_its_backoff(
    sms, worker, django_capture_on_commit_callbacks
):
    page = activity(capacity=1)
    first = sign(page, 1)
    waiting = sign(page, 2)
    sms.fail_next(2, status=503)
    t0 = timezone.now()
    with time_machine.travel(t0, tick=False) as clock:
        with django_capture_on_commit_callbacks(execute=True):
            service.cancel(first.pk)
        worker()
        tasks = DBTaskResult.objects.filter(task_path=DELIVER)
        assert tasks.count() == 2
        queued = tasks.filter(status=TaskResultStatus.READY)
        assert queued.get().run_after == t0 + timedelta(seconds=60)
        worker()  # not due yet: nothing runs
        assert len(sms.requests) == 1
        clock.move_to(t0 + timedelta(seconds=61))
        worker()
        assert queued.get().run_after == t0 + timedelta(seconds=61 + 120)
        clock.move_to(t0 + timedelta(seconds=61 + 121))
        worker()
        assert not queued.exists() and tasks.count() == 3
    message = Message.objects.get(registration=waiting)
    assert (message.status, message.attempts) == (MessageStatus.SENT, 3)
    assert [r["status"] for r in sms.requests] == [503, 503, 200]
    FIGURES["retried"] += 2


def test_an_error_no_retry_can_fix_is_given_up_at_once(
    sms, settings, caplog, django_capture_on_commit_callbacks
):
    settings.SMS_TEMPLATES = {**settings.SMS_TEMPLATES, "promoted": ""}
    page = activity(capacity=1)
    first = sign(page, 1)
    waiting = sign(page, 2)
    with django_capture_on_commit_callbacks(execute=True):
        service.cancel(first.pk)
    message = Message.objects.get(registration=waiting)
    assert (message.status, message.attempts) == (MessageStatus.FAILED, 1)
    assert "短信发送失败，不再重试" in caplog.text
    assert phone(2) not in caplog.text


def test_the_log_backend_writes_the_text_with_the_phone_masked(
    caplog, django_capture_on_commit_callbacks
):
    caplog.set_level(logging.INFO, logger="notify")
    page = activity(capacity=1)
    first = sign(page, 1)
    waiting = sign(page, 2)
    with django_capture_on_commit_callbacks(execute=True):
        service.cancel(first.pk)
    assert "日志后端，未真正发送" in caplog.text
    assert f"已转为报名成功，地点：社区活动室，报名码 {waiting.code}" in caplog.text
    assert "138****0002" in caplog.text and phone(2) not in caplog.text
    assert Message.objects.get(registration=waiting).status == MessageStatus.SENT


def test_withdrawn_consent_and_erased_data_stop_messages(
    sms, django_capture_on_commit_callbacks
):
    page = activity(capacity=1)
    first = sign(page, 1)
    waiting = sign(page, 2)
    service.withdraw_sms_consent(waiting.pk)
    with django_capture_on_commit_callbacks(execute=True):
        service.cancel(first.pk)
    assert sms.delivered == []

    # Recorded, then the data erased before it went: the row goes with the data.
    other = activity(capacity=1)
    holder = sign(other, 4)
    later = sign(other, 5)
    with django_capture_on_commit_callbacks(execute=False):
        service.cancel(holder.pk)
    assert Message.objects.filter(registration=later).exists()
    service.cancel(later.pk, erase=True)
    assert not Message.objects.filter(registration=later).exists()
    assert not Registration.objects.get(pk=later.pk).sms_consent


def test_the_purge_clears_the_messages_of_the_sign_ups_it_purges(
    sms, django_capture_on_commit_callbacks
):
    page = activity(capacity=1)
    first = sign(page, 1)
    waiting = sign(page, 2)
    with django_capture_on_commit_callbacks(execute=True):
        service.cancel(first.pk)
    assert Message.objects.filter(registration=waiting).count() == 1
    later = Occurrence.objects.get(page_id=page.pk).end + timedelta(days=2)
    assert service.purge_personal_data(days=1, now=later).purged >= 2
    assert not Message.objects.filter(registration=waiting).exists()
    purged = Registration.objects.get(pk=waiting.pk)
    assert (purged.phone, purged.sms_consent) == ("", False)


def test_recording_costs_the_same_few_queries_for_any_number_of_sign_ups(
    django_capture_on_commit_callbacks,
):
    """A staff change reaches every sign-up of a session: the messages are
    recorded with a constant number of queries (read the earlier ones, one
    INSERT, read back), not two per sign-up."""
    counts = []
    for size in (3, 30):
        page = activity(capacity=size)
        registrations = [sign(page, 100 * size + n) for n in range(size)]
        with django_capture_on_commit_callbacks():
            with CaptureQueriesContext(connection) as queries:
                assert notify.queue(registrations, MessageKind.CHANGED, "v1") == size
            counts.append(len(queries))
            # Again: all recorded before, nothing new, one query.
            assert notify.queue(registrations, MessageKind.CHANGED, "v1") == 0
    assert counts[0] == counts[1] <= 3
    assert Message.objects.filter(kind=MessageKind.CHANGED, version="v1").count() == 33
