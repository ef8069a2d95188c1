"""The 微心愿 service: staff publish a resident's wish, one volunteer (mobile +
志愿者编号) or one 驻区单位 claims it, staff cancel a claim (取消认领), mark the
wish fulfilled with a photo and a line (标记已完成) or withdraw it (撤下). The
only code that writes ``Wish`` and ``WishClaim``; the admin, the public board
and the demo all call it.

One claim per wish, the post service's way (``posts.py``): one transaction
that locks the wish row (``SELECT … FOR UPDATE`` / ``BEGIN IMMEDIATE``), then
moves the state with ``UPDATE … WHERE state = 'open'`` whose row count decides.
The partial unique constraint ``wish_one_active_claim`` backs it up. Every
change writes its audit entry in the same transaction, and after it commits
the page cache is bumped (the board and the community pages show the counts)
and the board's search document refreshed (it lists the open wishes' titles).
"""

from dataclasses import dataclass
from datetime import date, timedelta

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from events import registration as signup_service
from events.errors import SignupError
from events.privacy import ERASED_NAME
from portal import pagecache
from portal.text import clean_text

from . import audit, roster
from .errors import InvalidInputError, NotFoundError, RefusedError, WishTakenError
from .locking import lock_rows, service_transaction
from .models import ClaimKind, Wish, WishClaim, WishState

FINISHED = (WishState.FULFILLED, WishState.WITHDRAWN)


def _text(value, limit: int, missing: str | None, too_long: str) -> str:
    text = clean_text(value or "")
    if not text and missing:
        raise InvalidInputError(missing)
    if len(text) > limit:
        raise InvalidInputError(too_long)
    return text


def clean_wish(
    *,
    title,
    description="",
    recipient_name="",
    recipient_label="",
    due_date=None,
    today: date | None = None,
    check_due=True,
) -> dict:
    """The wish's fields as stored; raises InvalidInputError."""
    fields = {
        "title": _text(title, 60, "wish_title_missing", "wish_title_too_long"),
        "description": clean_text(description or "", multiline=True),
        "recipient_label": _text(
            recipient_label, 20, None, "wish_recipient_label_too_long"
        ),
    }
    if len(fields["description"]) > 300:
        raise InvalidInputError("wish_description_too_long")
    name = clean_text(recipient_name or "")
    if name:
        try:
            name = signup_service.normalise_name(name)
        except SignupError as error:
            raise InvalidInputError(error.code, field="recipient_name") from None
    if not name and not fields["recipient_label"]:
        raise InvalidInputError("wish_recipient_missing")
    fields["recipient_name"] = name
    if not isinstance(due_date, date):
        raise InvalidInputError("wish_due_missing")
    if check_due and due_date < (today or timezone.localdate()):
        raise InvalidInputError("wish_due_past")
    fields["due_date"] = due_date
    return fields


def _changed() -> None:
    """After the commit: the cached pages that show wishes, and the board's
    search document (its text lists the open wishes)."""
    pagecache.bump("content")
    transaction.on_commit(refresh_board_documents)


def refresh_board_documents() -> None:
    from search.documents import refresh_document

    from .wish_pages import WishBoardPage

    for board in WishBoardPage.objects.live():
        refresh_document(board)


def _locked(wish_id) -> Wish:
    rows = lock_rows(Wish.objects.filter(pk=wish_id)) if wish_id else []
    if not rows:
        raise NotFoundError("wish_missing")
    return rows[0]


def publish(*, user, community=None, now=None, **fields) -> Wish:
    """A new wish on the board (待认领). ``fields``: title, description,
    recipient_name, recipient_label, due_date. Raises InvalidInputError."""
    now = now or timezone.now()
    cleaned = clean_wish(**fields, today=timezone.localdate(now))
    with service_transaction():
        wish = Wish.objects.create(
            community=community,
            published_at=now,
            created_at=now,
            created_by=user,
            **cleaned,
        )
        audit.log_wish(wish, audit.WISH_PUBLISHED, user)
        _changed()
    return wish


def update(wish_id: int, *, user, community=None, **fields) -> Wish:
    """Staff correct a wish's text, recipient, community or date (not its state).
    A date already passed may stay as it was. Raises NotFoundError,
    InvalidInputError, RefusedError (withdrawn), BusyError."""
    with service_transaction():
        wish = _locked(wish_id)
        if wish.state == WishState.WITHDRAWN:
            raise RefusedError("wish_finished", action="修改")
        cleaned = clean_wish(
            **fields, check_due=fields.get("due_date") != wish.due_date
        )
        for name, value in cleaned.items():
            setattr(wish, name, value)
        wish.community = community
        wish.save(update_fields=[*cleaned, "community", "updated_at"])
        audit.log_wish(wish, audit.WISH_EDITED, user)
        _changed()
    return wish


def _claim(wish_id: int, now, **claimant) -> WishClaim:
    with service_transaction():
        wish = _locked(wish_id)
        if wish.state in FINISHED:
            raise RefusedError("wish_not_open")
        if wish.state != WishState.OPEN:
            raise WishTakenError()
        claim = WishClaim.objects.create(wish=wish, created_at=now, **claimant)
        # The row count decides (the claim above is rolled back with the error).
        moved = Wish.objects.filter(pk=wish.pk, state=WishState.OPEN).update(
            state=WishState.CLAIMED, claimed_at=now, live_claim=claim
        )
        if moved != 1:
            raise WishTakenError()
        audit.log_wish(wish, audit.WISH_CLAIMED, None, claimant=claim.public_claimant)
        _changed()
    return claim


def claim_by_volunteer(wish_id: int, *, phone: str, code: str, now=None) -> WishClaim:
    """A 在册 volunteer (mobile + 志愿者编号) claims an open wish. Raises
    InvalidInputError (``credentials_wrong``, the same for any mismatch),
    NotFoundError, WishTakenError, RefusedError (fulfilled or withdrawn),
    BusyError."""
    volunteer = roster.find_by_credentials(phone, code)
    return _claim(
        wish_id, now or timezone.now(), kind=ClaimKind.VOLUNTEER, volunteer=volunteer
    )


def clean_unit(unit_name, contact_name, phone) -> tuple[str, str, str]:
    unit = _text(unit_name, 60, "unit_name_missing", "unit_name_too_long")
    if not clean_text(contact_name or ""):
        raise InvalidInputError("contact_name_missing")
    try:
        contact = signup_service.normalise_name(contact_name)
        phone = signup_service.normalise_phone(phone)
    except SignupError as error:
        field = "phone" if error.code.startswith("phone") else "contact_name"
        raise InvalidInputError(error.code, field=field) from None
    return unit, contact, phone


def claim_by_unit(
    wish_id: int, *, unit_name: str, contact_name: str, phone: str, now=None
) -> WishClaim:
    """A 驻区单位 claims an open wish, with its contact person and phone (seen by
    staff only). Raises InvalidInputError, NotFoundError, WishTakenError,
    RefusedError, BusyError."""
    unit, contact, phone = clean_unit(unit_name, contact_name, phone)
    return _claim(
        wish_id,
        now or timezone.now(),
        kind=ClaimKind.UNIT,
        unit_name=unit,
        contact_name=contact,
        contact_phone=phone,
    )


def _release_claim(wish: Wish, reason: str, now) -> WishClaim | None:
    claim = (
        WishClaim.objects.select_related("volunteer")
        .filter(wish=wish, cancelled_at__isnull=True)
        .first()
    )
    if claim is not None:
        claim.cancelled_at, claim.cancel_reason = now, reason
        claim.save(update_fields=["cancelled_at", "cancel_reason"])
    return claim


def release(wish_id: int, *, user, reason: str, now=None) -> Wish:
    """取消认领: the claim is cancelled (kept as a record) and the wish is open
    again. Raises NotFoundError, InvalidInputError (no reason), RefusedError
    (not claimed, or already fulfilled / withdrawn), BusyError."""
    reason = _text(reason, 120, "cancel_reason_missing", "cancel_reason_missing")
    now = now or timezone.now()
    with service_transaction():
        wish = _locked(wish_id)
        if wish.state in FINISHED:
            raise RefusedError("wish_finished", action="取消认领")
        if wish.state != WishState.CLAIMED:
            raise RefusedError("wish_not_claimed", action="取消认领")
        claim = _release_claim(wish, reason, now)
        wish.state, wish.claimed_at, wish.live_claim = WishState.OPEN, None, None
        wish.save(update_fields=["state", "claimed_at", "live_claim", "updated_at"])
        audit.log_wish(
            wish,
            audit.WISH_RELEASED,
            user,
            claimant=claim.public_claimant if claim else "",
            reason=reason,
        )
        _changed()
    return wish


def fulfil(wish_id: int, *, user, photo, line: str, now=None) -> Wish:
    """标记已完成 with a photo (a Wagtail image) and a line, both shown on the
    board. Only a claimed wish. Raises NotFoundError, InvalidInputError,
    RefusedError, BusyError."""
    if photo is None:
        raise InvalidInputError("photo_missing")
    line = _text(line, 120, "line_missing", "line_too_long")
    with service_transaction():
        wish = _locked(wish_id)
        if wish.state in FINISHED:
            raise RefusedError("wish_finished", action="标记完成")
        if wish.state != WishState.CLAIMED:
            raise RefusedError("wish_not_claimed", action="标记完成")
        wish.state = WishState.FULFILLED
        wish.fulfilled_at = now or timezone.now()
        wish.fulfilment_photo, wish.fulfilment_line = photo, line
        wish.save(
            update_fields=[
                "state",
                "fulfilled_at",
                "fulfilment_photo",
                "fulfilment_line",
                "updated_at",
            ]
        )
        audit.log_wish(wish, audit.WISH_FULFILLED, user, line=line)
        _changed()
    return wish


def withdraw(wish_id: int, *, user, reason: str, now=None) -> Wish:
    """撤下: the wish leaves the board (an open or claimed one; a claim is
    cancelled with the same reason). Raises NotFoundError, InvalidInputError,
    RefusedError, BusyError."""
    reason = _text(reason, 120, "withdraw_reason_missing", "withdraw_reason_missing")
    now = now or timezone.now()
    with service_transaction():
        wish = _locked(wish_id)
        if wish.state in FINISHED:
            raise RefusedError("wish_finished", action="撤下")
        _release_claim(wish, reason, now)
        wish.state, wish.withdrawn_reason, wish.live_claim = (
            WishState.WITHDRAWN,
            reason,
            None,
        )
        wish.save(
            update_fields=["state", "withdrawn_reason", "live_claim", "updated_at"]
        )
        audit.log_wish(wish, audit.WISH_WITHDRAWN, user, reason=reason)
        _changed()
    return wish


# ---------------------------------------------------------------------------
# Retention
# ---------------------------------------------------------------------------


@dataclass
class WishPurgeResult:
    wishes: int
    claims: int
    days: int
    dry_run: bool


def purge_personal_data(
    *, days: int | None = None, dry_run=False, now=None
) -> WishPurgeResult:
    """Erase the resident's name of wishes finished (已完成 / 已撤下) more than
    ``days`` (default: 报名信息保留天数) ago, and the contact person and phone
    of their claims and of claims cancelled that long ago. Titles, units,
    photos and lines stay (the board keeps showing the good deed). Idempotent;
    one audit entry per run that changed something."""
    if days is not None and days < 1:
        raise ValueError("保留天数至少为 1 天。")
    days = days or roster.retention_days()
    cutoff = (now or timezone.now()) - timedelta(days=days)
    finished = (
        Wish.objects.filter(state__in=FINISHED, updated_at__lt=cutoff)
        .exclude(recipient_name="")
        .exclude(recipient_name=ERASED_NAME)
    )
    finished_ids = Wish.objects.filter(state__in=FINISHED, updated_at__lt=cutoff)
    claims = (
        WishClaim.objects.filter(kind=ClaimKind.UNIT)
        .filter(Q(cancelled_at__lt=cutoff) | Q(wish__in=finished_ids))
        .exclude(contact_phone="", contact_name=ERASED_NAME)
    )
    if dry_run:
        return WishPurgeResult(finished.count(), claims.count(), days, True)
    with transaction.atomic():
        wish_ids = list(finished.values_list("pk", flat=True))
        claim_ids = list(claims.values_list("pk", flat=True))
        # ``update()``: the rows' own updated_at (the clock of this rule) stays.
        Wish.objects.filter(pk__in=wish_ids).update(recipient_name=ERASED_NAME)
        WishClaim.objects.filter(pk__in=claim_ids).update(
            contact_name=ERASED_NAME, contact_phone=""
        )
        if wish_ids or claim_ids:
            audit.log_wish(
                Wish(pk=0, title="微心愿个人信息到期清除"),
                audit.WISH_PURGED,
                None,
                wishes=len(wish_ids),
                claims=len(claim_ids),
                days=days,
            )
    return WishPurgeResult(len(wish_ids), len(claim_ids), days, False)
