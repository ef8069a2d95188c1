"""The post service (岗位): volunteers sign up for a post at an activity's
session with mobile + volunteer code; at the door they are checked in and out,
and checking out records the hours served and deposits them (``bank.py``).

Never overfilled, the sign-up service's way (``events/registration.py``): one
transaction that first locks the post row (``SELECT … FOR UPDATE`` /
``BEGIN IMMEDIATE``), re-counts the confirmed places from the sign-ups, then
moves ``taken`` with ``UPDATE … WHERE taken + 1 <= capacity`` whose row count
decides. The ``post_never_overfilled`` check constraint backs it up, and a
partial unique constraint keeps one place per volunteer per session.
"""

from decimal import ROUND_HALF_UP, Decimal

from django.db.models import F
from django.utils import timezone

from . import audit, bank, roster
from .errors import InvalidInputError, NotFoundError, PostFullError, RefusedError
from .locking import lock_rows, service_transaction
from .models import (
    DAY_HOURS,
    PostSignup,
    PostSignupStatus,
    ServiceSource,
    VolunteerPost,
)


def _session_text(occurrence) -> str:
    return (
        f"{occurrence.page.title} {timezone.localtime(occurrence.start):%Y-%m-%d %H:%M}"
    )


def _lock_post(post_id: int) -> VolunteerPost:
    rows = lock_rows(VolunteerPost.objects.filter(pk=post_id))
    if not rows:
        raise NotFoundError("post_missing")
    return VolunteerPost.objects.select_related("occurrence__page").get(pk=post_id)


def _confirmed(post_id: int) -> int:
    return PostSignup.objects.filter(
        post_id=post_id, status=PostSignupStatus.CONFIRMED
    ).count()


def _claim(post: VolunteerPost) -> bool:
    """Re-count, then take one place if one is left. Call holding the lock."""
    confirmed = _confirmed(post.pk)
    rows = VolunteerPost.objects.filter(pk=post.pk)
    if post.taken != confirmed:
        rows.update(taken=confirmed)
    return rows.filter(taken__lte=F("capacity") - 1).update(taken=F("taken") + 1) == 1


def update_post(
    post_id: int,
    *,
    title: str,
    capacity: int,
    description: str = "",
    occurrence_id: int | None = None,
) -> VolunteerPost:
    """Change a post's name, number of places, description and (while nobody
    holds a place) session — the admin's edit form — under the post's lock, so
    that a sign-up at the same moment is either counted before the check or
    waits for it. Only these fields are written: ``taken`` is the service's
    alone (the form's copy may be stale). Raises NotFoundError,
    InvalidInputError (``post_capacity_invalid``, ``post_capacity_below_taken``,
    ``post_title_taken``, ``post_session_fixed``), BusyError."""
    if capacity is None or capacity < 1:
        raise InvalidInputError("post_capacity_invalid", field="capacity")
    with service_transaction():
        post = _lock_post(post_id)
        taken = _confirmed(post.pk)
        if occurrence_id is not None and occurrence_id != post.occurrence_id:
            if taken:
                raise InvalidInputError("post_session_fixed", field="occurrence")
            post.occurrence_id = occurrence_id
        if capacity < taken:
            raise InvalidInputError(
                "post_capacity_below_taken", field="capacity", taken=taken
            )
        if (
            VolunteerPost.objects.filter(occurrence_id=post.occurrence_id, title=title)
            .exclude(pk=post.pk)
            .exists()
        ):
            raise InvalidInputError("post_title_taken", field="title")
        post.title, post.capacity, post.description = title, capacity, description
        post.taken = taken
        post.save(
            update_fields=["occurrence", "title", "capacity", "description", "taken"]
        )
    return post


def sign_up(post_id: int, *, phone: str, code: str, now=None) -> PostSignup:
    """A volunteer (在册, found by mobile + code) takes a place in a post. Raises
    InvalidInputError (``credentials_wrong``, the same for any mismatch),
    NotFoundError, RefusedError (session started or cancelled, already has a
    post in this session), PostFullError, BusyError."""
    volunteer = roster.find_by_credentials(phone, code)
    now = now or timezone.now()
    with service_transaction():
        post = _lock_post(post_id)
        occurrence = post.occurrence
        if occurrence.cancelled or occurrence.start <= now or not occurrence.page.live:
            raise RefusedError("post_closed")
        if PostSignup.objects.filter(
            volunteer=volunteer,
            occurrence=occurrence,
            status=PostSignupStatus.CONFIRMED,
        ).exists():
            raise RefusedError("post_already")
        if not _claim(post):
            raise PostFullError(capacity=post.capacity)
        signup = PostSignup.objects.create(
            post=post, volunteer=volunteer, occurrence=occurrence, created_at=now
        )
        audit.log(
            signup,
            audit.POST_SIGNED_UP,
            None,
            volunteer,
            post=post.title,
            session=_session_text(occurrence),
        )
    return signup


def _lock_signup(signup_id: int) -> PostSignup:
    ids = list(
        PostSignup.objects.filter(pk=signup_id).values_list("post_id", flat=True)
    )
    if not ids:
        raise NotFoundError("signup_missing")
    _lock_post(ids[0])
    return PostSignup.objects.select_related(
        "post", "volunteer", "occurrence__page", "occurrence__community"
    ).get(pk=signup_id)


def cancel(signup_id: int, *, user=None, now=None) -> PostSignup:
    """Give the place back (by the volunteer when ``user`` is None, else staff).
    A checked-in place cannot be cancelled. Raises NotFoundError, RefusedError,
    BusyError."""
    now = now or timezone.now()
    with service_transaction():
        signup = _lock_signup(signup_id)
        if signup.status == PostSignupStatus.CANCELLED:
            return signup
        if signup.checked_in_at:
            raise RefusedError("already_checked_out")
        signup.status = PostSignupStatus.CANCELLED
        signup.cancelled_at = now
        signup.save(update_fields=["status", "cancelled_at"])
        VolunteerPost.objects.filter(pk=signup.post_id, taken__gt=0).update(
            taken=F("taken") - 1
        )
        audit.log(
            signup, audit.POST_CANCELLED, user, signup.volunteer, post=signup.post.title
        )
    return signup


def check_in(signup_id: int, *, user, now=None) -> tuple[PostSignup, bool]:
    """签到 at the door. Returns (sign-up, newly checked in). Raises
    NotFoundError, RefusedError (cancelled), BusyError."""
    now = now or timezone.now()
    with service_transaction():
        signup = _lock_signup(signup_id)
        if signup.status == PostSignupStatus.CANCELLED:
            raise RefusedError("signup_cancelled")
        if signup.checked_in_at:
            return signup, False
        signup.checked_in_at = now
        signup.save(update_fields=["checked_in_at"])
        audit.log(
            signup,
            audit.CHECKED_IN,
            user,
            signup.volunteer,
            post=signup.post.title,
            session=_session_text(signup.occurrence),
        )
    return signup, True


def served_hours(checked_in_at, checked_out_at) -> Decimal:
    """Hours between check-in and check-out, to two places. Raises
    InvalidInputError: under a minute, or over 24 hours (staff enter those by
    hand: someone forgot to check out yesterday)."""
    seconds = (checked_out_at - checked_in_at).total_seconds()
    if seconds < 60:
        raise InvalidInputError("checkout_too_short")
    hours = (Decimal(int(seconds // 60)) / 60).quantize(
        Decimal("0.01"), rounding=ROUND_HALF_UP
    )
    if hours > DAY_HOURS:
        raise InvalidInputError("checkout_too_long")
    return hours


def check_out(signup_id: int, *, user, now=None) -> PostSignup:
    """签退 at the door: records the hours since check-in as a service record of
    the activity's community (a subdistrict-wide activity's: the volunteer's
    community) and deposits them in the time bank (one
    transaction). Checking out twice records nothing more. Raises
    NotFoundError, RefusedError (cancelled, not checked in, already out),
    InvalidInputError (under a minute, over 24 hours, over 24 that day),
    BusyError."""
    now = now or timezone.now()
    with service_transaction():
        signup = _lock_signup(signup_id)
        if signup.status == PostSignupStatus.CANCELLED:
            raise RefusedError("signup_cancelled")
        if not signup.checked_in_at:
            raise RefusedError("not_checked_in")
        if signup.checked_out_at:
            raise RefusedError("already_checked_out")
        hours = served_hours(signup.checked_in_at, now)
        occurrence = signup.occurrence
        record = bank.record_locked(
            signup.volunteer,
            hours=hours,
            day=timezone.localdate(signup.checked_in_at),
            description=f"{occurrence.page.title} · {signup.post.title}"[:120],
            source=ServiceSource.POST,
            user=user,
            community=occurrence.community,
            now=now,
        )
        signup.checked_out_at = now
        signup.record = record
        signup.save(update_fields=["checked_out_at", "record"])
        audit.log(
            signup,
            audit.CHECKED_OUT,
            user,
            signup.volunteer,
            post=signup.post.title,
            hours=str(hours),
        )
    return signup
