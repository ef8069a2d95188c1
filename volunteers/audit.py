"""Audit log (站点历史) entries of the volunteer services, written inside the
service's transaction (``wagtail.log_actions.log``), as ``events/staff/audit.py``
does for sign-ups. Labels carry the volunteer code and the masked name; data
holds codes, hours, dates and the reason typed for a correction — never a full
name or phone."""

from wagtail.log_actions import LogFormatter
from wagtail.log_actions import log as log_action

ADDED = "volunteers.volunteer.added"
APPLIED = "volunteers.volunteer.applied"
APPROVED = "volunteers.volunteer.approved"
LEFT = "volunteers.volunteer.left"
PURGED = "volunteers.volunteer.purged"
RECORDED = "volunteers.hours.recorded"
CORRECTED = "volunteers.hours.corrected"
WITHDRAWN = "volunteers.bank.withdrawn"
TRANSFERRED = "volunteers.bank.transferred"
POST_SIGNED_UP = "volunteers.post.signed_up"
POST_CANCELLED = "volunteers.post.cancelled"
CHECKED_IN = "volunteers.post.checked_in"
CHECKED_OUT = "volunteers.post.checked_out"
EXPORTED = "volunteers.records.exported"
WISH_PUBLISHED = "volunteers.wish.published"
WISH_EDITED = "volunteers.wish.edited"
WISH_CLAIMED = "volunteers.wish.claimed"
WISH_RELEASED = "volunteers.wish.released"
WISH_FULFILLED = "volunteers.wish.fulfilled"
WISH_WITHDRAWN = "volunteers.wish.withdrawn"
WISH_PURGED = "volunteers.wish.purged"


def label(volunteer) -> str:
    return f"{volunteer.code} {volunteer.masked_name}".strip()


def log(instance, action: str, user, volunteer, **data):
    return log_action(
        instance=instance,
        action=action,
        user=user,
        title=label(volunteer),
        data={"code": volunteer.code, **data},
    )


def log_wish(wish, action: str, user, **data):
    """A 微心愿 entry: labelled with the wish's title; data holds the wish id and
    what was done (a claimant as the board shows it: 志愿者 王** / unit name)."""
    return log_action(
        instance=wish,
        action=action,
        user=user,
        title=wish.title[:60],
        data={"wish": wish.pk, "title": wish.title, **data},
    )


def _text(data: dict, template: str) -> str:
    try:
        return template.format(**data)
    except (KeyError, IndexError, ValueError):
        return template.split("：")[0]


def _formatter(action_label: str, template: str):
    class Formatter(LogFormatter):
        label = action_label

        def format_message(self, log_entry):
            return _text(log_entry.data or {}, template)

    Formatter.__name__ = f"Formatter_{action_label}"
    return Formatter


FORMATTERS = {
    ADDED: _formatter("登记志愿者", "工作人员登记志愿者：{code}"),
    APPLIED: _formatter("志愿者申请", "志愿者申请：{code}"),
    APPROVED: _formatter("志愿者审核通过", "审核通过志愿者：{code}"),
    LEFT: _formatter("志愿者退出", "志愿者退出：{code}"),
    PURGED: _formatter("志愿者信息到期清除", "清除已退出志愿者的个人信息：{rows} 人"),
    RECORDED: _formatter(
        "记录服务时长", "记录服务时长：{code} {date} {hours} 小时（{description}）"
    ),
    CORRECTED: _formatter(
        "更正服务时长",
        "更正服务时长：{code} {date} {old_hours} → {new_hours} 小时，原因：{reason}",
    ),
    WITHDRAWN: _formatter(
        "时间银行支取", "时间银行支取：{code} {hours} 小时（{kind}：{note}）"
    ),
    TRANSFERRED: _formatter(
        "时间银行转赠", "时间银行转赠：{code} → {to_code} {hours} 小时"
    ),
    POST_SIGNED_UP: _formatter("岗位报名", "岗位报名：{code} {post}（{session}）"),
    POST_CANCELLED: _formatter("取消岗位报名", "取消岗位报名：{code} {post}"),
    CHECKED_IN: _formatter("志愿者签到", "志愿者签到：{code} {post}（{session}）"),
    CHECKED_OUT: _formatter(
        "志愿者签退", "志愿者签退：{code} {post}，服务 {hours} 小时"
    ),
    EXPORTED: _formatter(
        "导出服务记录",
        "导出服务记录（全国系统）：{rows} 条，服务日期 {date_from}–{date_to}",
    ),
    WISH_PUBLISHED: _formatter("发布微心愿", "发布微心愿：{title}"),
    WISH_EDITED: _formatter("修改微心愿", "修改微心愿：{title}"),
    WISH_CLAIMED: _formatter("认领微心愿", "认领微心愿：{title}（{claimant}）"),
    WISH_RELEASED: _formatter(
        "取消心愿认领", "取消心愿认领：{title}（{claimant}），原因：{reason}"
    ),
    WISH_FULFILLED: _formatter("微心愿已完成", "微心愿已完成：{title}（{line}）"),
    WISH_WITHDRAWN: _formatter("撤下微心愿", "撤下微心愿：{title}，原因：{reason}"),
    WISH_PURGED: _formatter(
        "微心愿个人信息到期清除",
        "清除微心愿的个人信息：{wishes} 个心愿，{claims} 份认领",
    ),
}
