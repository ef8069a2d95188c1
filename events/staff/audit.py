"""Audit log (站点历史) entries for the staff side of sign-ups.

Actions on one sign-up (签到, 取消报名, 候补转正, and showing its full name and phone
on the door page or the cancel confirmation) are logged against that
``Registration`` as a ``ModelLogEntry``; they appear in the registration's 操作记录
and in 报表 › 站点历史. Actions on the list as a whole (导出, 查看完整名单) are
logged against the registration type with object id ``0`` (no such row), labelled
with the list's filters, so that they appear in 站点历史 for everyone who may see
sign-ups and can be filtered by action there. So is the daily 报名信息到期清除
(no user: it is the system's own run).

No entry stores a full name or phone number: the label is ``str(registration)``
(code and masked name/phone) and the data holds codes, ids and titles only.
"""

from django.utils import timezone
from wagtail.log_actions import LogFormatter
from wagtail.log_actions import log as log_action

from ..models import Registration

CHECK_IN = "events.registration.check_in"
CANCEL = "events.registration.cancel"
PROMOTE = "events.registration.promote"
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


def log_registration(registration: Registration, action: str, user, **extra):
    return log_action(
        instance=registration,
        action=action,
        user=user,
        data=registration_data(registration, **extra),
    )


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


def _where(data: dict) -> str:
    parts = [data.get("page_title", ""), data.get("occurrence_start", "")]
    return " ".join(part for part in parts if part)


class CheckInFormatter(LogFormatter):
    label = "报名签到"

    def format_message(self, log_entry):
        data = log_entry.data
        return f"签到：报名码 {data.get('code', '')}（{_where(data)}）"


class CancelFormatter(LogFormatter):
    label = "取消报名（工作人员）"

    def format_message(self, log_entry):
        data = log_entry.data
        message = f"工作人员取消报名：报名码 {data.get('code', '')}（{_where(data)}）"
        promoted = data.get("promoted") or []
        if promoted:
            message += f"；候补递补：{'、'.join(promoted)}"
        return message


class PromoteFormatter(LogFormatter):
    label = "候补转正"

    def format_message(self, log_entry):
        data = log_entry.data
        return (
            f"候补转为已报名：报名码 {data.get('code', '')}（{_where(data)}），"
            f"因 {data.get('freed_by', '')} 取消"
        )


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
        if "code" in data:  # one sign-up: door page, cancel confirmation
            return f"查看报名码 {data['code']} 的完整姓名和手机号（{_where(data)}）"
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


FORMATTERS = {
    CHECK_IN: CheckInFormatter,
    CANCEL: CancelFormatter,
    PROMOTE: PromoteFormatter,
    EXPORT: ExportFormatter,
    VIEW_PERSONAL_DATA: ViewPersonalDataFormatter,
    PURGE: PurgeFormatter,
}


def register_log_actions(actions) -> None:
    for action, formatter in FORMATTERS.items():
        actions.register_action(action)(formatter)
