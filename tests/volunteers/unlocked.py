"""The controls for tests/volunteers/test_concurrency.py: the post sign-up and
the withdrawal decided the naive way — read, then write — with no lock, to show
that the race is real and that the check constraints refuse the excess. Run
inside a prepared demo database's environment (``DemoServer.python``)."""

import time
from decimal import Decimal

from django.db import transaction
from django.db.models import F

from volunteers.models import (
    EntryKind,
    PostSignup,
    PostSignupStatus,
    TimeBankAccount,
    TimeBankEntry,
    VolunteerPost,
)


def sign_up_without_lock(post_id: int, volunteer, pause: float) -> str:
    post = VolunteerPost.objects.get(pk=post_id)
    confirmed = PostSignup.objects.filter(
        post_id=post_id, status=PostSignupStatus.CONFIRMED
    ).count()
    fits = confirmed + 1 <= post.capacity
    time.sleep(pause)
    if not fits:
        return "full"
    with transaction.atomic():
        VolunteerPost.objects.filter(pk=post_id).update(taken=F("taken") + 1)
        PostSignup.objects.create(
            post=post, volunteer=volunteer, occurrence_id=post.occurrence_id
        )
    return "confirmed"


def withdraw_without_lock(volunteer_id: int, hours: Decimal, pause: float) -> str:
    account = TimeBankAccount.objects.get(pk=volunteer_id)
    enough = account.balance >= hours
    time.sleep(pause)
    if not enough:
        return "refused"
    with transaction.atomic():
        TimeBankAccount.objects.filter(pk=volunteer_id).update(
            balance=F("balance") - hours
        )
        account.refresh_from_db()
        TimeBankEntry.objects.create(
            account=account,
            kind=EntryKind.GIFT,
            hours=-hours,
            balance_after=account.balance,
            note="对照",
        )
    return "withdrawn"
