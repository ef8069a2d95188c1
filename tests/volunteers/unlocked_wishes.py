"""The control for tests/volunteers/test_wishes_concurrency.py: a wish claimed
the naive way — read the state, then write — with no lock, to show that the
race is real and that the partial unique constraint ``wish_one_active_claim``
refuses every claim after the first. Run inside a prepared demo database's
environment (``DemoServer.python``)."""

import time

from django.db import transaction
from django.utils import timezone

from volunteers.models import ClaimKind, Wish, WishClaim, WishState


def claim_without_lock(wish_id: int, volunteer, pause: float) -> str:
    open_ = Wish.objects.get(pk=wish_id).state == WishState.OPEN
    time.sleep(pause)
    if not open_:
        return "taken"
    with transaction.atomic():
        claim = WishClaim.objects.create(
            wish_id=wish_id, kind=ClaimKind.VOLUNTEER, volunteer=volunteer
        )
        Wish.objects.filter(pk=wish_id).update(
            state=WishState.CLAIMED, claimed_at=timezone.now(), live_claim=claim
        )
    return "claimed"
