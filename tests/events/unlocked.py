"""The control for tests/events/test_concurrency.py: what ``events.registration``
would do without its lock. Run inside the demo server's environment."""

import time

from django.db import transaction
from django.db.models import F

from events.models import Occurrence, RegistrationStatus
from events.registration import _confirmed_people, _create


def sign_up_without_lock(page, occurrence_id: int, pause: float = 0.0, **fields):
    """The sign-up decision made the naive way — read the count, then write —
    with no lock, to show that the race is real (several requests decide there is
    a seat) and that the check constraint refuses the excess."""
    occurrence = Occurrence.objects.get(pk=occurrence_id)
    fits = _confirmed_people(occurrence_id) + fields.get("party_size", 1) <= (
        occurrence.capacity
    )
    time.sleep(pause)
    if not fits:
        return "waitlisted"
    with transaction.atomic():
        Occurrence.objects.filter(pk=occurrence_id).update(
            taken=F("taken") + fields.get("party_size", 1)
        )
        _create(
            page_id=page.pk,
            occurrence=occurrence,
            status=RegistrationStatus.CONFIRMED,
            phone=fields["phone"],
            name=fields["name"],
            party_size=fields.get("party_size", 1),
        )
    return "confirmed"
