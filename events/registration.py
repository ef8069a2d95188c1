"""The sign-up service: the only code that creates, cancels, promotes or checks in a
``Registration``, or erases its personal data (on request, or after the retention
period: ``purge_personal_data``).

Never oversold. Every change to an occurrence's seats happens inside one
transaction that first takes the occurrence's lock:

- PostgreSQL: ``SELECT … FOR UPDATE`` on the occurrence row, with ``lock_timeout``
  so that a resident waits at most ``portal.services.LOCK_TIMEOUT`` seconds.
- SQLite: ``select_for_update`` does nothing there, but the project opens every
  transaction with ``BEGIN IMMEDIATE`` (see ``portal/settings/base.py``), which takes
  the database's write lock before the first read; ``busy_timeout`` bounds the wait.

Holding the lock, the service re-counts the confirmed people from the registrations
(it does not trust a number read earlier), then moves the occurrence's ``taken``
counter with a conditional ``UPDATE … WHERE taken + n <= capacity`` whose row count
decides between 已报名 and 候补. The ``occurrence_never_oversold`` check constraint
backs this up, and a partial unique constraint keeps one active sign-up per phone
per occurrence.

The service writes the audit log (站点历史) entries of what it changes — 取消报名,
候补转正, 签到, a resident erasing their data — inside the same transaction, so
an action that rolls back leaves none. A resident's own actions, and the
promotions they trigger, are logged with no user and no personal data.

Every refusal is a ``SignupError`` (``events/errors.py``) with a code and the
Chinese message to show; a lock that cannot be had is its ``BusyError``, raised
where the lock is taken (the view then shows the form again with the input kept).
"""

import re
import secrets
import unicodedata
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import IntegrityError, OperationalError, transaction
from django.db.models import F, Q, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone

from portal import pagecache, services
from portal.text import clean_text, has_visible

from .errors import (
    AlreadySignedUpError,
    BusyError,
    CheckInRefusedError,
    EventFullError,
    InvalidSignupError,
    RegistrationNotFoundError,
    SignupClosedError,
    SignupError,  # noqa: F401 - callers may catch registration.SignupError
)
from .models import (
    ACTIVE_STATUSES,
    Occurrence,
    Registration,
    RegistrationStatus,
)
from .privacy import ERASED_NAME
from .signals import personal_data_erased, registrations_promoted
from .staff import audit

# The waitlist rule for parties, as residents read it on their result page and
# the sign-up form (``_promote`` applies it).
WAITLIST_RULE = (
    "有人取消时，空出的名额按候补先后依次递补，一份报名的几个人一起递补、"
    "不拆开。空出的名额不够排在前面的一份报名时，先递补后面人数少、"
    "名额够的报名；排在前面的报名位置不变，名额够时优先递补。"
)
CODE_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"  # no 0/O, 1/I
CODE_LENGTH = 6
PHONE_RE = re.compile(r"1[3-9]\d{9}")


@dataclass
class SignUpResult:
    registration: Registration
    created: bool


# ---------------------------------------------------------------------------
# Phone numbers and codes as typed
# ---------------------------------------------------------------------------


def normalise_name(raw: str) -> str:
    """A name as it is stored: NFKC (full-width letters and digits read as the
    usual ones), control, bidi and zero-width characters removed, spaces joined
    (``portal.text.clean_text``). Raises InvalidSignupError when nothing is typed,
    nothing visible is left (a name pasted as invisible characters) or it is
    longer than 30 characters."""
    if not (raw or "").strip():
        raise InvalidSignupError("name_missing")
    name = clean_text(unicodedata.normalize("NFKC", raw))
    if not has_visible(name):
        raise InvalidSignupError("name_invisible")
    if len(name) > 30:
        raise InvalidSignupError("name_too_long")
    return name


def normalise_phone(raw: str) -> str:
    """A mainland mobile number as 11 digits. Spaces, dashes, dots, brackets and a
    +86 / 0086 / 86 prefix are tolerated. Raises InvalidSignupError otherwise."""
    text = (raw or "").strip()
    text = text.translate(str.maketrans("０１２３４５６７８９＋", "0123456789+"))
    digits = re.sub(r"[\s\-–—.()（）]", "", text)
    if digits.startswith("+86"):
        digits = digits[3:]
    elif digits.startswith("0086"):
        digits = digits[4:]
    elif digits.startswith("86") and len(digits) == 13:
        digits = digits[2:]
    if not PHONE_RE.fullmatch(digits):
        raise InvalidSignupError("phone_invalid")
    return digits


def new_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def normalise_code(raw: str) -> str:
    """A code as typed at the door: upper case, spaces, dashes and anything
    invisible removed."""
    return re.sub(r"[\s\-]", "", clean_text(raw)).upper()


# ---------------------------------------------------------------------------
# Locking
# ---------------------------------------------------------------------------


def _transaction():
    """The service's transaction (``portal.services``); its busy error is
    ``BusyError``."""
    return services.service_transaction(BusyError)


def _lock(occurrence_id: int) -> Occurrence:
    """Lock and return the occurrence; call inside ``_transaction``. Raises
    BusyError when PostgreSQL's ``lock_timeout`` runs out (the transaction is
    then rolled back by the caller's ``with``), Occurrence.DoesNotExist."""
    services.set_lock_timeout()
    try:
        return Occurrence.objects.select_for_update().get(pk=occurrence_id)
    except OperationalError as error:
        if services.lock_not_available(error):
            raise BusyError() from error
        raise


def _lock_registration(registration_id: int) -> Registration:
    """Lock the sign-up's occurrence and return the sign-up as it is now; call
    inside ``_transaction``. Raises RegistrationNotFoundError, BusyError."""
    occurrence_id = (
        Registration.objects.filter(pk=registration_id)
        .values_list("occurrence_id", flat=True)
        .first()
    )
    if occurrence_id is None:
        raise RegistrationNotFoundError()
    occurrence = _lock(occurrence_id)
    registration = (
        Registration.objects.select_related("page").filter(pk=registration_id).first()
    )
    if registration is None:  # deleted while we waited for the lock
        raise RegistrationNotFoundError()
    registration.occurrence = occurrence
    return registration


def _confirmed_people(occurrence_id: int) -> int:
    return (
        Registration.objects.filter(
            occurrence_id=occurrence_id, status=RegistrationStatus.CONFIRMED
        ).aggregate(n=Sum("party_size"))["n"]
        or 0
    )


def _claim(occurrence: Occurrence, people: int) -> bool:
    """Re-count the confirmed people and, if ``people`` more still fit, move the
    counter. The UPDATE's row count decides. Call while holding the lock."""
    confirmed = _confirmed_people(occurrence.pk)
    if occurrence.taken != confirmed:
        Occurrence.objects.filter(pk=occurrence.pk).update(taken=confirmed)
    rows = Occurrence.objects.filter(pk=occurrence.pk)
    if occurrence.capacity is not None:
        rows = rows.filter(taken__lte=occurrence.capacity - people)
    return rows.update(taken=F("taken") + people) == 1


# ---------------------------------------------------------------------------
# Sign-up window
# ---------------------------------------------------------------------------


def closed_error(page, occurrence: Occurrence, now=None) -> SignupClosedError | None:
    """Why this occurrence takes no sign-ups now, as the error ``sign_up`` would
    raise (None when it does take them)."""
    now = now or timezone.now()
    if not page.registration_required:
        return SignupClosedError("no_signup_needed")
    if not page.live:
        return SignupClosedError("page_offline")
    if page.status == "cancelled":
        return SignupClosedError("event_cancelled")
    if occurrence.cancelled:
        return SignupClosedError("occurrence_cancelled")
    if occurrence.page_id != page.pk:
        return SignupClosedError("occurrence_elsewhere")
    if page.registration_opens and now < page.registration_opens:
        opens = timezone.localtime(page.registration_opens)
        return SignupClosedError("not_open_yet", opens=opens)
    closes = page.registration_closes or occurrence.start
    if now >= min(closes, occurrence.start):
        return SignupClosedError("closed")
    return None


def closed_reason(page, occurrence: Occurrence, now=None) -> str:
    """Why this occurrence takes no sign-ups now ("" when it does)."""
    error = closed_error(page, occurrence, now)
    return error.message if error else ""


# ---------------------------------------------------------------------------
# The operations
# ---------------------------------------------------------------------------


def sign_up(
    page,
    occurrence_id: int,
    *,
    name: str,
    phone: str,
    party_size: int = 1,
    household: str = "",
    note: str = "",
    sms_consent: bool = False,
    mine: Collection[int] = (),
    now=None,
) -> SignUpResult:
    """Sign a resident up for one occurrence: 已报名 while seats last, then 候补 if
    the activity keeps a waitlist. The same phone again for the same date returns
    the existing sign-up (``created=False``) only when its id is in ``mine`` (the
    sign-ups the caller knows to be this resident's: the browser's signed cookie,
    ``events/signup_cookie.py``) and the name is the same; otherwise it is an
    AlreadySignedUpError, the same whatever the name, so that knowing a name and
    a phone gives nothing away. Raises SignupError (nothing stored): InvalidSignupError,
    SignupClosedError, AlreadySignedUpError, EventFullError, BusyError.
    ``now`` (default: the time) decides whether sign-up is open; the stored time,
    which orders the waitlist, is taken once the lock is held, so waitlist order
    is the order places were decided in. ``sms_consent``: the resident ticked
    the separate box for SMS about this sign-up."""
    clock = now
    now = now or timezone.now()
    name = normalise_name(name)
    phone = normalise_phone(phone)
    if not isinstance(party_size, int) or party_size < 1:
        raise InvalidSignupError("party_size_too_small")
    if party_size > page.max_party_size:
        raise InvalidSignupError(
            "party_size_too_large", max_party_size=page.max_party_size
        )
    if page.capacity is not None and party_size > page.capacity:
        # Such a party could never be confirmed, not even from the waitlist.
        raise InvalidSignupError("party_size_over_capacity", capacity=page.capacity)
    # Only what the activity asks for is stored (PIPL minimisation), whoever calls.
    household = clean_text(household)[:60] if page.ask_household else ""
    note = clean_text(note, multiline=True)[:200] if page.ask_note else ""

    with _transaction():
        try:
            occurrence = _lock(occurrence_id)
        except Occurrence.DoesNotExist:
            raise InvalidSignupError("occurrence_missing") from None
        closed = closed_error(page, occurrence, now)
        if closed is not None:
            raise closed
        existing = Registration.objects.filter(
            occurrence=occurrence, phone=phone, status__in=ACTIVE_STATUSES
        ).first()
        if existing is not None:
            if existing.pk in mine and existing.name == name:
                return SignUpResult(existing, created=False)
            raise AlreadySignedUpError()
        if _claim(occurrence, party_size):
            status = RegistrationStatus.CONFIRMED
        elif page.waitlist_enabled:
            status = RegistrationStatus.WAITLISTED
        else:
            left = occurrence.capacity - _confirmed_people(occurrence.pk)
            raise EventFullError(
                field="party_size" if left > 0 else None, left=max(left, 0)
            )
        registration = _create(
            page_id=page.pk,
            occurrence=occurrence,
            name=name,
            phone=phone,
            party_size=party_size,
            household=household,
            note=note,
            status=status,
            created_at=clock or timezone.now(),
            consented_at=now,
            sms_consent=bool(sms_consent),
        )
        pagecache.bump("seats")
    return SignUpResult(registration, created=True)


def _create(**fields) -> Registration:
    """Insert with a fresh code and token; a code collision (1 in 10⁹) retries."""
    for _attempt in range(5):
        try:
            with transaction.atomic():
                return Registration.objects.create(
                    code=new_code(), token=secrets.token_urlsafe(32), **fields
                )
        except IntegrityError:
            if Registration.objects.filter(
                occurrence=fields["occurrence"],
                phone=fields["phone"],
                status__in=ACTIVE_STATUSES,
            ).exists():
                raise
    raise RuntimeError("could not generate a unique registration code")


def cancel(
    registration_id: int, *, user=None, erase: bool = False, now=None
) -> list[Registration]:
    """Cancel a sign-up (by the resident when ``user`` is None, else by staff) and
    promote waitlisted people in order while seats allow. Returns those promoted.
    With ``erase`` the resident's name, phone and notes are removed as well (the
    count stays), and so are the code and masked phone from its audit entries.
    Cancelling an already cancelled sign-up changes nothing except that it can
    still be erased. Writes the audit entries of the cancellation
    and each promotion (with ``user``: None for the resident's own).
    Raises RegistrationNotFoundError, BusyError.
    The cancellation and promotion times are read once the lock is held (unless
    ``now`` is given), so promotions in order carry times in order."""
    with _transaction():
        registration = _lock_registration(registration_id)
        now = now or timezone.now()
        occurrence = registration.occurrence
        erased = erase and not registration.is_erased
        if erased:
            erase_personal_data(registration)
        if not registration.is_active:
            if erased:
                audit.log_registration(registration, audit.ERASE, user)
                audit.scrub_registrations([registration.pk])
            return []
        was_confirmed = registration.is_confirmed
        registration.status = RegistrationStatus.CANCELLED
        registration.cancelled_at = now
        registration.cancelled_by = user
        registration.save(update_fields=["status", "cancelled_at", "cancelled_by"])
        if was_confirmed:
            Occurrence.objects.filter(pk=occurrence.pk).update(
                taken=_confirmed_people(occurrence.pk)
            )
        pagecache.bump("seats")
        promoted = _promote(occurrence, now)
        for other in promoted:
            other.page = registration.page
            audit.log_registration(
                other, audit.PROMOTE, user, freed_by=registration.code
            )
        audit.log_registration(
            registration,
            audit.CANCEL if user is not None else audit.CANCEL_BY_RESIDENT,
            user,
            promoted=[other.code for other in promoted],
            erased=erased,
        )
        if erased:
            audit.scrub_registrations([registration.pk])
        return promoted


def erase_personal_data(registration: Registration) -> None:
    """Anonymise one sign-up: the row (and the numbers) stay, the person goes."""
    registration.name = ERASED_NAME
    registration.phone = ""
    registration.household = ""
    registration.note = ""
    registration.sms_consent = False
    registration.save(
        update_fields=["name", "phone", "household", "note", "sms_consent"]
    )
    personal_data_erased.send(Registration, registration_ids=[registration.pk])


def withdraw_sms_consent(registration_id: int) -> bool:
    """The resident wants no more SMS about this sign-up (the result page's
    不再接收短信). True when it changed anything."""
    rows = Registration.objects.filter(pk=registration_id, sms_consent=True)
    return rows.update(sms_consent=False) == 1


def _promote(occurrence: Occurrence, now) -> list[Registration]:
    """Fill free seats from the waitlist in sign-up order; a party bigger than
    the seats still free is passed over for now and keeps its place, so it is
    the first promoted once enough seats are free (``WAITLIST_RULE``). No seat
    stays empty while a waiting party fits it, and the seats an activity shows
    as free are the seats a new sign-up can have. Call while holding the lock."""
    occurrence.refresh_from_db(fields=["taken", "capacity"])
    promoted = []
    waiting = Registration.objects.filter(
        occurrence=occurrence, status=RegistrationStatus.WAITLISTED
    ).order_by("created_at", "pk")
    for registration in waiting:
        free = occurrence.seats_left
        if free == 0:
            break
        if free is not None and registration.party_size > free:
            continue  # passed over, not moved: still ahead of those behind
        if not _claim(occurrence, registration.party_size):
            break
        occurrence.refresh_from_db(fields=["taken"])
        registration.status = RegistrationStatus.CONFIRMED
        registration.promoted_at = now
        registration.save(update_fields=["status", "promoted_at"])
        registration.occurrence = occurrence
        promoted.append(registration)
    if promoted:
        registrations_promoted.send(Registration, registrations=promoted)
    return promoted


def promote_waitlist(occurrence_id: int, *, user=None, now=None) -> list[Registration]:
    """Fill seats freed by a larger capacity from the waitlist, with an audit
    entry per promotion. Raises BusyError."""
    with _transaction():
        occurrence = _lock(occurrence_id)
        promoted = _promote(occurrence, now or timezone.now())
        if promoted:
            pagecache.bump("seats")
            page = occurrence.page
            for registration in promoted:
                registration.page = page
                audit.log_registration(registration, audit.PROMOTE, user)
        return promoted


def check_in(registration_id: int, *, user, now=None) -> tuple[Registration, bool]:
    """Mark a confirmed sign-up as arrived. Returns (registration, newly checked
    in); a new check-in gets its audit entry. Raises CheckInRefusedError for a
    cancelled or waitlisted sign-up, RegistrationNotFoundError, BusyError."""
    now = now or timezone.now()
    with _transaction():
        registration = _lock_registration(registration_id)  # a cancel may promote
        if registration.status == RegistrationStatus.CANCELLED:
            raise CheckInRefusedError("checkin_cancelled")
        if registration.status == RegistrationStatus.WAITLISTED:
            raise CheckInRefusedError("checkin_waitlisted")
        if registration.checked_in_at:
            return registration, False
        registration.checked_in_at = now
        registration.checked_in_by = user
        registration.save(update_fields=["checked_in_at", "checked_in_by"])
        audit.log_registration(registration, audit.CHECK_IN, user)
        return registration, True


def waitlist_position(registration: Registration) -> int | None:
    """候补第 N 位 (counting sign-ups, not people); None when not waitlisted."""
    if not registration.is_waitlisted:
        return None
    return (
        Registration.objects.filter(
            occurrence_id=registration.occurrence_id,
            status=RegistrationStatus.WAITLISTED,
            created_at__lte=registration.created_at,
        )
        .exclude(created_at=registration.created_at, pk__gt=registration.pk)
        .count()
    )


# ---------------------------------------------------------------------------
# Retention: residents' personal data outlives its activity only so long
# ---------------------------------------------------------------------------

PURGE_BATCH_SIZE = 500
PURGE_TITLE = "报名信息到期清除"


@dataclass
class RetentionRule:
    """Sign-ups of activities under ``site`` ("" = any) that ended before
    ``cutoff`` lose their personal data."""

    site: str
    days: int
    cutoff: datetime


@dataclass
class PurgeResult:
    purged: int  # sign-ups anonymised (with dry_run: that would be)
    occurrences: int  # the occurrences (场次) they belong to
    rules: list[RetentionRule]
    dry_run: bool


def _has_personal_data() -> Q:
    return ~Q(name=ERASED_NAME) | ~Q(phone="") | ~Q(household="") | ~Q(note="")


def _expired(now, days: int | None) -> tuple[Q, list[RetentionRule]]:
    """The condition "ended longer ago than its site's retention period" (on
    the annotation ``ended``), and the rules it is made of. A page belongs to
    the site with the deepest root above it; a page under no site's root (none
    in a normal install) follows the default site."""
    from wagtail.models import Site

    from home.models import RETENTION_DAYS_DEFAULT, SiteSettings

    if days is not None:
        cutoff = now - timedelta(days=days)
        return Q(ended__lt=cutoff), [RetentionRule("", days, cutoff)]
    sites = sorted(
        Site.objects.select_related("root_page"),
        key=lambda s: (-len(s.root_page.path), not s.is_default_site, s.pk),
    )
    condition = Q(pk__in=[])
    claimed = Q()
    rules = []
    default_days = RETENTION_DAYS_DEFAULT
    for site in sites:
        site_days = SiteSettings.for_site(site).registration_retention_days
        if site.is_default_site:
            default_days = site_days
        cutoff = now - timedelta(days=site_days)
        under = Q(page__path__startswith=site.root_page.path)
        condition |= under & claimed & Q(ended__lt=cutoff)
        claimed &= ~under
        rules.append(RetentionRule(str(site), site_days, cutoff))
    cutoff = now - timedelta(days=default_days)
    condition |= claimed & Q(ended__lt=cutoff)
    return condition, rules


def purge_personal_data(
    *,
    days: int | None = None,
    dry_run: bool = False,
    batch_size: int = PURGE_BATCH_SIZE,
    now=None,
) -> PurgeResult:
    """Anonymise the sign-ups of occurrences that ended more than the retention
    period ago (the site setting 报名信息保留天数, or ``days``): the name becomes
    ``ERASED_NAME``; phone, household and note are emptied. Status, party size,
    codes and the sign-up, promotion and check-in times stay, so seats, counts
    and statistics do not change.

    Their audit entries are scrubbed in the same transaction
    (``audit.scrub_registrations``: no code, no masked phone left).

    Idempotent: rows already without personal data are not touched again.
    Works in batches of ``batch_size``, each its own short transaction, so a
    large first run never holds SQLite's write lock for long. Writes one audit
    log entry per run (none with ``dry_run``, which changes nothing).
    Raises ValueError when ``days`` is less than 1."""
    if days is not None and days < 1:
        raise ValueError("保留天数至少为 1 天。")
    now = now or timezone.now()
    expired, rules = _expired(now, days)
    candidates = (
        Registration.objects.annotate(
            ended=Coalesce("occurrence__end", "occurrence__start")
        )
        .filter(expired)
        .filter(_has_personal_data())
        .order_by("pk")
    )
    if dry_run:
        return PurgeResult(
            purged=candidates.count(),
            occurrences=candidates.values("occurrence_id").distinct().count(),
            rules=rules,
            dry_run=True,
        )
    purged, occurrences, last = 0, set(), 0
    while True:
        with transaction.atomic():
            batch = list(
                candidates.filter(pk__gt=last).values_list("pk", "occurrence_id")[
                    :batch_size
                ]
            )
            if not batch:
                break
            ids = [pk for pk, _ in batch]
            Registration.objects.filter(pk__in=ids).update(
                name=ERASED_NAME, phone="", household="", note="", sms_consent=False
            )
            audit.scrub_registrations(ids)
            personal_data_erased.send(Registration, registration_ids=ids)
        purged += len(batch)
        occurrences.update(occurrence_id for _, occurrence_id in batch)
        last = batch[-1][0]
    audit.log_list(
        audit.PURGE,
        None,
        title=PURGE_TITLE,
        data={
            "rows": purged,
            "occurrences": len(occurrences),
            "rules": [
                {
                    "site": rule.site,
                    "days": rule.days,
                    "cutoff": audit.local(rule.cutoff),
                }
                for rule in rules
            ],
            "override": days is not None,
        },
    )
    return PurgeResult(purged, len(occurrences), rules, dry_run=False)
