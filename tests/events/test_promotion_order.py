"""Promotions from the waitlist carry their times in the order they happened
(issue 16, item 8): ``cancel()`` reads the time once it holds the occurrence's
lock, not before it waits for it.

Two cancellations at once: A reads the clock, then waits for the lock that B
holds; B promotes the first waitlisted person; then A gets the lock and promotes
the second. The wait is played deterministically: the lock of A's transaction is
wrapped so that B's whole cancellation runs (as a savepoint on the same
connection) while the clock moves on, before A's lock is taken. Before the fix
the second promotion carried A's earlier time (T0+1 s, then T0)."""

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from events import registration as service
from events.models import EventIndexPage, Occurrence, Registration
from tests.factories import ActivityPageFactory

pytestmark = pytest.mark.django_db


def test_promotions_in_order_carry_times_in_order(monkeypatch):
    page = ActivityPageFactory(
        parent=EventIndexPage.objects.get(slug="activities"),
        registration_required=True,
        capacity=2,
        max_party_size=1,
        waitlist_enabled=True,
    )
    occurrence = Occurrence.objects.get(page_id=page.pk)
    start = timezone.now()

    def sign(n):
        return service.sign_up(
            page, occurrence.pk, name=f"居民{n}", phone=f"1390000{n:04d}"
        ).registration

    with time_machine.travel(start, tick=False) as clock:
        a, b = sign(1), sign(2)
        clock.shift(timedelta(seconds=1))
        first_waiting = sign(3)
        clock.shift(timedelta(seconds=1))
        second_waiting = sign(4)
        assert first_waiting.is_waitlisted and second_waiting.is_waitlisted
        t0 = start + timedelta(seconds=10)
        clock.move_to(t0)

        lock = service._lock_registration
        waited = []

        def lock_after_b(registration_id):
            if registration_id == a.pk and not waited:
                waited.append(True)
                # While A waits for the lock, B cancels a second later.
                clock.move_to(t0 + timedelta(seconds=1))
                assert [r.pk for r in service.cancel(b.pk)] == [first_waiting.pk]
                clock.move_to(t0 + timedelta(seconds=2))
            return lock(registration_id)

        monkeypatch.setattr(service, "_lock_registration", lock_after_b)
        promoted = service.cancel(a.pk)  # starts at T0, gets the lock at T0+2
    assert waited and [r.pk for r in promoted] == [second_waiting.pk]

    first_waiting.refresh_from_db()
    second_waiting.refresh_from_db()
    a.refresh_from_db()
    times = [first_waiting.promoted_at, second_waiting.promoted_at]
    print(f"promoted_at: {[(t - t0).total_seconds() for t in times]} s after T0")
    assert times == [t0 + timedelta(seconds=1), t0 + timedelta(seconds=2)]
    assert a.cancelled_at == t0 + timedelta(seconds=2)  # decided under the lock
    confirmed = Registration.objects.filter(occurrence=occurrence, status="confirmed")
    assert set(confirmed.values_list("pk", flat=True)) == {
        first_waiting.pk,
        second_waiting.pk,
    }
