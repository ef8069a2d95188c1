"""Audit log (站点历史) entries of sign-ups.

Changes of state (签到, 取消报名, 候补转正, a resident erasing their data) are
written by the sign-up service (``events/registration.py``) inside its
transaction, so an action that rolls back leaves no entry and one that commits
always has one. A resident's own actions, and the promotions they trigger, have
no user. Showing one sign-up's full name and phone (door page, cancel
confirmation) is logged by the staff views. All of these are logged against
that ``Registration`` as a ``ModelLogEntry``; they appear in the registration's
操作记录 and in 报表 › 站点历史. Actions on the list as a whole (导出, 查看完整名单)
are logged against the registration type with object id ``0`` (no such row),
labelled with the list's filters, so that they appear in 站点历史 for everyone
who may see sign-ups and can be filtered by action there. So is the daily
报名信息到期清除 (no user: it is the system's own run).

No entry stores a name or a full phone number: the label is the code and the
masked phone, and the data holds codes, ids and titles only; a list's search
term is kept masked (``safe_filters``). When a sign-up's personal data goes (the
resident erases it, or the retention purge), ``scrub_registrations`` rewrites
its entries in the same transaction: no code, no masked phone, only where,
when, how many and what happened.
"""

from django.contrib.contenttypes.models import ContentType
from django.utils import timezone
from wagtail.log_actions import LogFormatter
from wagtail.log_actions import log as log_action
from wagtail.log_actions import registry as log_registry

from ..models import Registration
from ..privacy import SCRUBBED_LABEL, mask_filters, scrub_log_data

CHECK_IN = "events.registration.checked_in"
CANCEL = "events.registration.cancelled"  # by staff
CANCEL_BY_RESIDENT = "events.registration.cancelled_by_resident"
PROMOTE = "events.registration.promoted"
ERASE = "events.registration.erased"  # by the resident, after cancelling
EXPORT = "events.registration.export"
VIEW_PERSONAL_DATA = "events.registration.view_personal_data"
PURGE = "events.registration.purge_personal_data"

LIST_OBJECT_ID = 0  # the registration list as a whole (no Registration has pk 0)


def local(value, fmt: str = "%Y-%m-%d %H:%M") -> str:
    """A stored time as local wall-clock text ("" for None)."""
    return timezone.localtime(value).strftime(fmt) if value else ""


def registration_data(registration: Registration, **extra) -> dict:
    return {
        "code": registration.code,
        "page_id": registration.page_id,
        "page_title": registration.page.title,
        "occurrence_id": registration.occurrence_id,
        "occurrence_start": local(registration.occurrence.start),
        "party_size": registration.party_size,
        "status": registration.status,
        **extra,
    }


def registration_label(registration: Registration) -> str:
    """What an entry is labelled with: the code and the masked phone, no name."""
    return f"{registration.code} {registration.masked_phone}".strip()


def log_registration(registration: Registration, action: str, user, **extra):
    return log_action(
        instance=registration,
        action=action,
        user=user,
        title=registration_label(registration),
        data=registration_data(registration, **extra),
    )


def safe_filters(params) -> dict:
    """The listing's query parameters as an audit entry keeps them: the search
    term masked (``privacy.mask_filters``)."""
    return mask_filters(params)


def scrub_registrations(ids) -> int:
    """Rewrite the audit entries of the sign-ups ``ids``, whose personal data was
    just erased: label ``SCRUBBED_LABEL``, data ``privacy.scrub_log_data``. Call
    inside the transaction that erases them. Returns the entries rewritten."""
    model = log_registry.get_log_model_for_model(Registration)
    entries = list(
        model.objects.filter(
            content_type=ContentType.objects.get_for_model(Registration),
            object_id__in=[str(pk) for pk in ids],
        ).only("pk", "label", "data")
    )
    for entry in entries:
        entry.label = SCRUBBED_LABEL
        entry.data = scrub_log_data(entry.data)
    model.objects.bulk_update(entries, ["label", "data"], batch_size=500)
    return len(entries)


def log_list(action: str, user, *, title: str, data: dict):
    return log_action(
        instance=Registration(pk=LIST_OBJECT_ID),
        action=action,
        user=user,
        title=title,
        data=data,
    )


# ---------------------------------------------------------------------------
# Formatters (registered with the ``register_log_actions`` hook)
# ---------------------------------------------------------------------------


def _code(data: dict) -> str:
    """The entry's 报名码, or a word saying it was removed with the person's data."""
    return data.get("code") or "（已删除）"


def _promoted(data: dict) -> str:
    promoted = data.get("promoted") or []
    if promoted:
        return f"；候补递补：{'、'.join(promoted)}"
    if data.get("promoted_count"):
        return f"；候补递补 {data['promoted_count']} 份"
    return ""


def _where(data: dict) -> str:
    parts = [data.get("page_title", ""), data.get("occurrence_start", "")]
    return " ".join(part for part in parts if part)


class CheckInFormatter(LogFormatter):
    label = "报名签到"

    def format_message(self, log_entry):
        data = log_entry.data
        return f"签到：报名码 {_code(data)}（{_where(data)}）"


class CancelFormatter(LogFormatter):
    label = "取消报名（工作人员）"

    def format_message(self, log_entry):
        data = log_entry.data
        message = f"工作人员取消报名：报名码 {_code(data)}（{_where(data)}）"
        return message + _promoted(data)


class ResidentCancelFormatter(LogFormatter):
    label = "取消报名（居民本人）"

    def format_message(self, log_entry):
        data = log_entry.data
        message = f"居民取消报名：报名码 {_code(data)}（{_where(data)}）"
        if data.get("erased"):
            message += "，并删除了姓名和手机号"
        return message + _promoted(data)


class PromoteFormatter(LogFormatter):
    label = "候补转正"

    def format_message(self, log_entry):
        data = log_entry.data
        freed_by = data.get("freed_by")
        if freed_by:
            reason = f"因 {freed_by} 取消"
        else:
            reason = "因他人取消" if data.get("freed_by_cancel") else "因名额增加"
        return f"候补转为已报名：报名码 {_code(data)}（{_where(data)}），{reason}"


class EraseFormatter(LogFormatter):
    label = "删除报名人信息（居民本人）"

    def format_message(self, log_entry):
        data = log_entry.data
        return f"居民删除了报名码 {_code(data)} 的姓名和手机号（{_where(data)}）"


class ExportFormatter(LogFormatter):
    label = "导出报名名单"

    def format_message(self, log_entry):
        data = log_entry.data
        kind = "含姓名和手机号" if data.get("personal_data") else "脱敏"
        export_format = data.get("format", "").upper()
        return f"导出报名名单（{export_format}，{data.get('rows', 0)} 条，{kind}）"


class ViewPersonalDataFormatter(LogFormatter):
    label = "查看报名名单（含姓名和手机号）"

    def format_message(self, log_entry):
        data = log_entry.data
        if "code" in data or data.get("scrubbed"):  # one sign-up: door, cancel
            return f"查看报名码 {_code(data)} 的完整姓名和手机号（{_where(data)}）"
        if data.get("roster"):  # the printed 签到表 of one session
            return (
                f"查看签到表，显示完整姓名 {data.get('rows', 0)} 条（{_where(data)}）"
            )
        return f"查看报名名单，显示完整姓名和手机号 {data.get('rows', 0)} 条"


class PurgeFormatter(LogFormatter):
    label = "报名信息到期清除"

    def format_message(self, log_entry):
        data = log_entry.data
        rules = data.get("rules") or []
        days = "、".join(sorted({f"{rule.get('days')} 天" for rule in rules}))
        return (
            f"清除过期报名的个人信息 {data.get('rows', 0)} 条"
            f"（{data.get('occurrences', 0)} 个场次，保留期 {days}）"
        )


# Registered with the ``register_log_actions`` hook in events/wagtail_hooks.py.
FORMATTERS = {
    CHECK_IN: CheckInFormatter,
    CANCEL: CancelFormatter,
    CANCEL_BY_RESIDENT: ResidentCancelFormatter,
    PROMOTE: PromoteFormatter,
    ERASE: EraseFormatter,
    EXPORT: ExportFormatter,
    VIEW_PERSONAL_DATA: ViewPersonalDataFormatter,
    PURGE: PurgeFormatter,
}
