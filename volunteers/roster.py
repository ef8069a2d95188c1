"""The volunteer roster service: applications, staff registrations, approval,
leaving, the lookup by phone + volunteer code, and the purge of departed
volunteers' personal data. The only code that creates or changes a
``Volunteer``; each change writes its audit entry in the same transaction.

A volunteer code (志愿者编号) is six characters of ``CODE_ALPHABET`` (no 0/O,
1/I), unique; a mobile has at most one current (申请中 or 在册) volunteer.
"""

import secrets
from dataclasses import dataclass
from datetime import timedelta

from django.contrib.contenttypes.models import ContentType
from django.db import IntegrityError, transaction
from django.utils import timezone
from wagtail.log_actions import registry as log_registry

from events import registration as signup_service
from events.errors import SignupError
from events.privacy import ERASED_NAME
from portal.text import clean_text

from . import audit
from .errors import InvalidInputError, NotFoundError, RefusedError
from .locking import lock_rows, service_transaction
from .models import (
    CURRENT_STATUSES,
    TimeBankAccount,
    Volunteer,
    VolunteerStatus,
)

CODE_ALPHABET = signup_service.CODE_ALPHABET
CODE_LENGTH = 6


def new_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def normalise_code(raw: str) -> str:
    return signup_service.normalise_code(raw or "")[:20]


def clean_person(name: str, phone: str, skills: str = "") -> tuple[str, str, str]:
    """(name, phone, skills) as stored; raises InvalidInputError."""
    try:
        name = signup_service.normalise_name(name)
        phone = signup_service.normalise_phone(phone)
    except SignupError as error:
        raise InvalidInputError(error.code) from None
    skills = clean_text(skills or "")
    if len(skills) > 200:
        raise InvalidInputError("skills_too_long")
    return name, phone, skills


def _create(*, status, user, now, teams=(), **fields) -> Volunteer:
    """Insert with a fresh code (a collision, 1 in 10⁹, retries) and its account."""
    if Volunteer.objects.filter(
        phone=fields["phone"], status__in=CURRENT_STATUSES
    ).exists():
        raise InvalidInputError("phone_taken")
    for _attempt in range(5):
        try:
            with transaction.atomic():
                volunteer = Volunteer.objects.create(
                    code=new_code(),
                    status=status,
                    applied_at=now,
                    approved_at=now if status == VolunteerStatus.ACTIVE else None,
                    approved_by=user if status == VolunteerStatus.ACTIVE else None,
                    **fields,
                )
        except IntegrityError:
            if Volunteer.objects.filter(
                phone=fields["phone"], status__in=CURRENT_STATUSES
            ).exists():
                raise InvalidInputError("phone_taken") from None
            continue
        TimeBankAccount.objects.create(volunteer=volunteer)
        if teams:
            volunteer.teams.set(teams)
        return volunteer
    raise RuntimeError("could not generate a unique volunteer code")


def apply(
    *, name: str, phone: str, community=None, skills: str = "", teams=(), now=None
) -> Volunteer:
    """A public application (申请中) that staff approve. Raises InvalidInputError
    (bad name or phone, the phone already current), BusyError."""
    return _register(
        VolunteerStatus.APPLIED,
        audit.APPLIED,
        None,
        name,
        phone,
        community,
        skills,
        teams,
        now,
    )


def _register(status, action, user, name, phone, community, skills, teams, now):
    name, phone, skills = clean_person(name, phone, skills)
    with service_transaction():
        volunteer = _create(
            status=status,
            user=user,
            now=now or timezone.now(),
            teams=teams,
            name=name,
            phone=phone,
            community=community,
            skills=skills,
        )
        audit.log(volunteer, action, user, volunteer)
    return volunteer


def add(
    *, name: str, phone: str, user, community=None, skills: str = "", teams=(), now=None
) -> Volunteer:
    """Staff register a volunteer directly (在册). Raises as ``apply``."""
    return _register(
        VolunteerStatus.ACTIVE,
        audit.ADDED,
        user,
        name,
        phone,
        community,
        skills,
        teams,
        now,
    )


def _locked(volunteer_id: int) -> Volunteer:
    rows = lock_rows(Volunteer.objects.filter(pk=volunteer_id))
    if not rows:
        raise NotFoundError("volunteer_missing")
    return rows[0]


def approve(volunteer_id: int, *, user, now=None) -> Volunteer:
    """申请中 → 在册. Raises NotFoundError, RefusedError (not an application)."""
    with service_transaction():
        volunteer = _locked(volunteer_id)
        if volunteer.status != VolunteerStatus.APPLIED:
            raise RefusedError("not_applied")
        volunteer.status = VolunteerStatus.ACTIVE
        volunteer.approved_at = now or timezone.now()
        volunteer.approved_by = user
        volunteer.save(update_fields=["status", "approved_at", "approved_by"])
        audit.log(volunteer, audit.APPROVED, user, volunteer)
    return volunteer


def leave(volunteer_id: int, *, user, now=None) -> Volunteer:
    """The volunteer leaves (已退出; an application may be turned down the same
    way). Hours, records and the balance stay; personal data goes after the
    retention period (``purge_departed``). Raises NotFoundError, RefusedError."""
    with service_transaction():
        volunteer = _locked(volunteer_id)
        if volunteer.status == VolunteerStatus.LEFT:
            raise RefusedError("already_left")
        volunteer.status = VolunteerStatus.LEFT
        volunteer.left_at = now or timezone.now()
        volunteer.save(update_fields=["status", "left_at"])
        audit.log(volunteer, audit.LEFT, user, volunteer)
    return volunteer


def find_by_credentials(phone: str, code: str) -> Volunteer:
    """The 在册 volunteer with this mobile and volunteer code. Anything else — a
    bad phone, a wrong code, someone not 在册 — is the one neutral
    ``credentials_wrong``, so that the answer tells nobody whose number it is."""
    try:
        phone = signup_service.normalise_phone(phone)
    except SignupError:
        raise InvalidInputError("credentials_wrong") from None
    volunteer = Volunteer.objects.filter(
        phone=phone, code=normalise_code(code), status=VolunteerStatus.ACTIVE
    ).first()
    if volunteer is None:
        raise InvalidInputError("credentials_wrong")
    return volunteer


# ---------------------------------------------------------------------------
# Retention: a departed volunteer's personal data goes after the same period
# as sign-ups' (站点设置 › 报名信息保留天数), counted from leaving
# ---------------------------------------------------------------------------


@dataclass
class PurgeResult:
    purged: int
    days: int
    dry_run: bool


def retention_days() -> int:
    from wagtail.models import Site

    from home.models import RETENTION_DAYS_DEFAULT, SiteSettings

    site = Site.objects.filter(is_default_site=True).first()
    if site is None:
        return RETENTION_DAYS_DEFAULT
    return SiteSettings.for_site(site).registration_retention_days


def purge_departed(*, days: int | None = None, dry_run=False, now=None) -> PurgeResult:
    """Erase name, phone, skills and family links of volunteers who left more than
    ``days`` (default: the retention setting) ago; their code, hours, records and
    ledger stay, so totals and the year's figures do not change. Their audit
    entries keep the code only. Idempotent; one audit entry per run."""
    if days is not None and days < 1:
        raise ValueError("保留天数至少为 1 天。")
    days = days or retention_days()
    now = now or timezone.now()
    candidates = Volunteer.objects.filter(
        status=VolunteerStatus.LEFT, left_at__lt=now - timedelta(days=days)
    ).exclude(name=ERASED_NAME, phone="")
    if dry_run:
        return PurgeResult(candidates.count(), days, True)
    with transaction.atomic():
        ids = list(candidates.values_list("pk", flat=True))
        Volunteer.objects.filter(pk__in=ids).update(
            name=ERASED_NAME, phone="", skills=""
        )
        Volunteer.family.through.objects.filter(from_volunteer_id__in=ids).delete()
        Volunteer.family.through.objects.filter(to_volunteer_id__in=ids).delete()
        # Their entries (records, ledger, posts too) keep the code, not the name.
        model = log_registry.get_log_model_for_model(Volunteer)
        app_types = ContentType.objects.filter(app_label="volunteers")
        for code in Volunteer.objects.filter(pk__in=ids).values_list("code", flat=True):
            model.objects.filter(
                content_type__in=app_types, label__startswith=f"{code} "
            ).update(label=code)
        from wagtail.log_actions import log as log_action

        log_action(
            instance=Volunteer(pk=0),
            action=audit.PURGED,
            user=None,
            title="志愿者信息到期清除",
            data={"rows": len(ids), "days": days},
        )
    return PurgeResult(len(ids), days, False)
