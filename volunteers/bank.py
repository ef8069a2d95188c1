"""The time bank (时间银行) service: service hours recorded and deposited,
corrected with a reason, withdrawn (a service received or a gift) and
transferred to a registered family member. The only code that writes
``ServiceRecord``, ``TimeBankAccount`` or ``TimeBankEntry``.

Never negative. Each operation opens one transaction and first locks the
accounts it touches (``locking.lock_rows``: ``SELECT … FOR UPDATE`` in pk order
on PostgreSQL, ``BEGIN IMMEDIATE`` on SQLite), reads the balance under the lock,
and moves it with ``UPDATE … WHERE balance >= n`` whose row count decides; the
check constraint ``account_balance_not_negative`` backs it up for code that
forgets the lock. Every ledger line carries the balance after it, so the
passbook (存折) reads in order. Every refusal is a ``VolunteerError`` and
stores nothing; every change writes its audit entry in the same transaction.

Hours: a positive number of at most two decimals, at most 24 per record and
per volunteer per day (``DAY_HOURS``).
"""

from datetime import date as date_type
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django.db.models import F, Sum
from django.utils import timezone
from wagtail.models import Site

from portal.text import clean_text

from . import audit
from .errors import (
    InsufficientBalanceError,
    InvalidInputError,
    NotFoundError,
    RefusedError,
)
from .locking import lock_rows, service_transaction
from .models import (
    DAY_HOURS,
    STAR_DEFAULTS,
    WITHDRAWAL_KINDS,
    EntryKind,
    ServiceRecord,
    ServiceSource,
    TimeBankAccount,
    TimeBankEntry,
    Volunteer,
    VolunteerSettings,
)

CENT = Decimal("0.01")


def parse_hours(raw) -> Decimal:
    """Hours as typed ("2", "1.5", "１.５", Decimal) to a Decimal of two places.
    Raises InvalidInputError: not a number, not above 0, above 24."""
    if isinstance(raw, bool):
        raise InvalidInputError("hours_invalid")
    text = raw if isinstance(raw, Decimal | int) else clean_text(str(raw or ""))
    if isinstance(text, str):
        import unicodedata

        text = unicodedata.normalize("NFKC", text).strip()
        if not text or len(text) > 12:
            raise InvalidInputError("hours_invalid")
    try:
        hours = Decimal(text)
    except (InvalidOperation, ValueError):
        raise InvalidInputError("hours_invalid") from None
    if not hours.is_finite():
        raise InvalidInputError("hours_invalid")
    hours = hours.quantize(CENT, rounding=ROUND_HALF_UP)
    if hours <= 0:
        raise InvalidInputError("hours_not_positive")
    if hours > DAY_HOURS:
        raise InvalidInputError("hours_absurd")
    return hours


def _text(raw: str, code: str, limit: int = 120) -> str:
    text = clean_text(raw or "")[:limit]
    if not text.strip():
        raise InvalidInputError(code)
    return text


def _accounts(*volunteer_ids: int) -> dict[int, TimeBankAccount]:
    rows = lock_rows(TimeBankAccount.objects.filter(pk__in=volunteer_ids))
    found = {row.pk: row for row in rows}
    if len(found) != len(set(volunteer_ids)):
        raise NotFoundError("volunteer_missing")
    return found


def _move(account: TimeBankAccount, hours: Decimal, *, total: Decimal = Decimal(0)):
    """Add ``hours`` (negative: take) to the balance and ``total`` to the
    cumulative hours, refusing to go below zero. Call holding the lock."""
    rows = TimeBankAccount.objects.filter(pk=account.pk)
    if hours < 0:
        rows = rows.filter(balance__gte=-hours)
    if total < 0:
        rows = rows.filter(total_hours__gte=-total)
    if rows.update(balance=F("balance") + hours, total_hours=F("total_hours") + total):
        account.refresh_from_db(fields=["balance", "total_hours"])
        return True
    return False


def _day_total(volunteer_id: int, day: date_type, exclude_pk=None) -> Decimal:
    rows = ServiceRecord.objects.filter(volunteer_id=volunteer_id, date=day)
    if exclude_pk is not None:
        rows = rows.exclude(pk=exclude_pk)
    return rows.aggregate(n=Sum("hours"))["n"] or Decimal(0)


def _check_day(volunteer_id: int, day: date_type, hours: Decimal, exclude_pk=None):
    recorded = _day_total(volunteer_id, day, exclude_pk)
    if recorded + hours > DAY_HOURS:
        raise InvalidInputError("hours_day_over", recorded=recorded, hours=hours)


def _entry(account, kind, hours, *, user, now, **fields) -> TimeBankEntry:
    return TimeBankEntry.objects.create(
        account=account,
        kind=kind,
        hours=hours,
        balance_after=account.balance,
        created_by=user,
        created_at=now,
        **fields,
    )


def record_locked(
    volunteer: Volunteer,
    *,
    hours: Decimal,
    day: date_type,
    description: str,
    source: str,
    user,
    community=None,
    now,
) -> ServiceRecord:
    """Record and deposit, inside a caller's transaction that holds nothing yet
    (``posts.check_out`` uses it); takes the account's lock."""
    account = _accounts(volunteer.pk)[volunteer.pk]
    _check_day(volunteer.pk, day, hours)
    record = ServiceRecord.objects.create(
        volunteer=volunteer,
        community=community if community is not None else volunteer.community,
        date=day,
        hours=hours,
        source=source,
        description=description,
        recorded_by=user,
        created_at=now,
    )
    _move(account, hours, total=hours)
    _entry(account, EntryKind.DEPOSIT, hours, user=user, now=now, record=record)
    audit.log(
        record,
        audit.RECORDED,
        user,
        volunteer,
        date=day.isoformat(),
        hours=str(hours),
        description=description,
        source=source,
    )
    return record


def record_service(
    volunteer_id: int,
    *,
    hours,
    day: date_type | None = None,
    description: str,
    user,
    community=None,
    now=None,
) -> ServiceRecord:
    """Staff record hours served outside an activity (e.g. 每天民事调解) and
    deposit them. ``day`` defaults to today. Raises InvalidInputError (hours,
    description, a future date, over 24 hours that day), NotFoundError,
    RefusedError (not 在册), BusyError."""
    hours = parse_hours(hours)
    description = _text(description, "description_missing")
    now = now or timezone.now()
    day = day or timezone.localdate(now)
    if day > timezone.localdate(now):
        raise InvalidInputError("date_in_future")
    with service_transaction():
        volunteer = Volunteer.objects.filter(pk=volunteer_id).first()
        if volunteer is None:
            raise NotFoundError("volunteer_missing")
        if not volunteer.is_active:
            raise RefusedError("not_active")
        return record_locked(
            volunteer,
            hours=hours,
            day=day,
            description=description,
            source=ServiceSource.DUTY,
            user=user,
            community=community,
            now=now,
        )


def correct_hours(
    record_id: int, *, hours, reason: str, user, now=None
) -> ServiceRecord:
    """Staff correct a record's hours, with a reason (audit log). The difference
    goes through the time bank as a 时长更正 line; a decrease larger than the
    balance left is refused (those hours were already spent). Raises
    InvalidInputError (hours, reason, unchanged, over 24 that day),
    NotFoundError, BusyError."""
    hours = parse_hours(hours)
    reason = _text(reason, "reason_missing")
    now = now or timezone.now()
    with service_transaction():
        record = (
            ServiceRecord.objects.select_related("volunteer")
            .filter(pk=record_id)
            .first()
        )
        if record is None:
            raise NotFoundError("record_missing")
        account = _accounts(record.volunteer_id)[record.volunteer_id]
        record.refresh_from_db(fields=["hours"])  # as it is under the lock
        old = record.hours
        delta = hours - old
        if delta == 0:
            raise InvalidInputError("hours_unchanged")
        _check_day(record.volunteer_id, record.date, hours, exclude_pk=record.pk)
        if not _move(account, delta, total=delta):
            raise RefusedError("correction_below_balance", balance=account.balance)
        record.hours = hours
        record.corrected_at = now
        record.save(update_fields=["hours", "corrected_at"])
        _entry(
            account,
            EntryKind.CORRECTION,
            delta,
            user=user,
            now=now,
            record=record,
            note=reason,
        )
        audit.log(
            record,
            audit.CORRECTED,
            user,
            record.volunteer,
            date=record.date.isoformat(),
            old_hours=str(old),
            new_hours=str(hours),
            reason=reason,
        )
    return record


def withdraw(
    volunteer_id: int, *, hours, kind: str, note: str, user, now=None
) -> TimeBankEntry:
    """Staff record a withdrawal: a service the volunteer received or a gift
    exchanged (``kind``: EntryKind.SERVICE / GIFT), ``note`` says which. Raises
    InvalidInputError, InsufficientBalanceError (nothing taken), NotFoundError,
    BusyError. A volunteer who left may still spend their balance."""
    hours = parse_hours(hours)
    if kind not in WITHDRAWAL_KINDS:
        raise InvalidInputError("withdraw_kind_invalid")
    note = _text(note, "note_missing")
    now = now or timezone.now()
    with service_transaction():
        account = _accounts(volunteer_id)[volunteer_id]
        if not _move(account, -hours):
            raise InsufficientBalanceError(balance=account.balance, hours=hours)
        entry = _entry(account, kind, -hours, user=user, now=now, note=note)
        volunteer = Volunteer.objects.get(pk=volunteer_id)
        audit.log(
            entry,
            audit.WITHDRAWN,
            user,
            volunteer,
            hours=str(hours),
            kind=EntryKind(kind).label,
            note=note,
        )
    return entry


def transfer_allowed(volunteer: Volunteer, settings=None) -> bool:
    """Whether the volunteer's community's time bank allows transfers to family."""
    settings = settings or volunteer_settings()
    if volunteer.community_id is None:
        return settings.transfer_subdistrict
    return settings.transfer_communities.filter(pk=volunteer.community_id).exists()


def transfer(
    from_id: int, to_id: int, *, hours, user, note: str = "", now=None
) -> tuple[TimeBankEntry, TimeBankEntry]:
    """Transfer hours to a registered family member (登记的家人, 在册), when the
    giver's community allows it. Both accounts are locked (pk order). Raises
    InvalidInputError, RefusedError (not allowed, not family, to oneself, not
    在册), InsufficientBalanceError, NotFoundError, BusyError."""
    hours = parse_hours(hours)
    if from_id == to_id:
        raise RefusedError("transfer_to_self")
    note = clean_text(note or "")[:120]
    now = now or timezone.now()
    with service_transaction():
        accounts = _accounts(from_id, to_id)
        giver = Volunteer.objects.get(pk=from_id)
        taker = Volunteer.objects.get(pk=to_id)
        if not taker.is_active:
            raise RefusedError("not_active")
        if not giver.family.filter(pk=to_id).exists():
            raise RefusedError("transfer_not_family")
        if not transfer_allowed(giver):
            raise RefusedError("transfer_not_allowed")
        source, target = accounts[from_id], accounts[to_id]
        if not _move(source, -hours):
            raise InsufficientBalanceError(balance=source.balance, hours=hours)
        _move(target, hours)
        out = _entry(
            source,
            EntryKind.TRANSFER_OUT,
            -hours,
            user=user,
            now=now,
            counterpart=taker,
            note=note,
        )
        into = _entry(
            target,
            EntryKind.TRANSFER_IN,
            hours,
            user=user,
            now=now,
            counterpart=giver,
            note=note,
        )
        audit.log(
            out, audit.TRANSFERRED, user, giver, to_code=taker.code, hours=str(hours)
        )
    return out, into


# ---------------------------------------------------------------------------
# Star ratings (星级评定)
# ---------------------------------------------------------------------------


def volunteer_settings(site=None) -> VolunteerSettings:
    site = site or Site.objects.filter(is_default_site=True).first()
    return VolunteerSettings.for_site(site)


def stars(total_hours, thresholds=STAR_DEFAULTS) -> int:
    """0–5: the number of thresholds the cumulative hours reach."""
    return sum(1 for limit in thresholds if Decimal(total_hours) >= limit)
