"""The one exception of the volunteer services, and what people read.

Every refusal of ``roster.py``, ``bank.py`` and ``posts.py`` is a
``VolunteerError``: a stable ``code``, the Chinese ``message`` from ``MESSAGES``
and, where it belongs to one, the form ``field`` — the pattern of
``events/errors.py``. When one is raised, nothing was stored.
"""

from portal.services import ServiceError

MESSAGES = {
    # What was typed
    "name_missing": "请填写姓名。",
    "name_too_long": "姓名最多 30 个字。",
    "name_invisible": (
        "姓名里没有能看清的文字（可能是复制来的特殊符号），请直接输入姓名。"
    ),
    "phone_invalid": "请填写正确的 11 位手机号码，如 138 0000 1234。",
    "skills_too_long": "特长最多 200 个字。",
    "phone_taken": "这个手机号已经登记为志愿者（或正在申请），请联系社区工作人员。",
    "hours_invalid": "请填写服务时长（小时），如 2 或 1.5。",
    "hours_not_positive": "服务时长必须大于 0 小时。",
    "hours_absurd": "一次服务时长不能超过 24 小时，请核对。",
    "hours_day_over": (
        "这一天已记录 {recorded} 小时，再加 {hours} 小时就超过 24 小时了，请核对。"
    ),
    "hours_unchanged": "更正后的时长与原来相同，没有修改。",
    "reason_missing": "请填写更正原因。",
    "description_missing": "请填写服务内容，如“每天民事调解”。",
    "date_in_future": "服务日期不能晚于今天。",
    "note_missing": "请写明支取的用途（享受了什么服务或兑换了什么物品）。",
    "withdraw_kind_invalid": "请选择支取类型：享受服务或兑换物品。",
    "post_capacity_invalid": "岗位人数至少为 1。",
    "post_capacity_below_taken": "已有 {taken} 人报名，人数不能少于 {taken}。",
    "post_title_taken": "这一场已经有叫这个名字的岗位了，请换一个名字。",
    "post_session_fixed": "这个岗位已有人报名，不能换到别的场次。",
    # Who
    "credentials_wrong": "手机号或志愿者编号不对，请核对；忘记编号请联系社区工作人员。",
    "not_active": "这位志愿者不在册（申请中或已退出），不能操作。",
    "not_applied": "只有“申请中”的志愿者可以审核通过。",
    "already_left": "这位志愿者已经退出。",
    "volunteer_missing": "没有找到这位志愿者。",
    "record_missing": "没有找到这条服务记录。",
    # The time bank
    "insufficient_balance": "时间银行余额只有 {balance} 小时，不够支取 {hours} 小时。",
    "correction_below_balance": (
        "这条记录的时长已经有一部分被支取或转赠，余额只有 {balance} 小时，"
        "最多只能减少 {balance} 小时。"
    ),
    "transfer_not_allowed": "本社区的时间银行不允许转赠家人。",
    "transfer_not_family": "只能转赠给登记为家人的志愿者。",
    "transfer_to_self": "不能转赠给自己。",
    # Posts
    "post_missing": "没有找到这个岗位。",
    "post_full": "这个岗位已满（共 {capacity} 人）。",
    "post_closed": "这一场已经开始或已取消，不能再报名岗位。",
    "post_already": "您已经报名了这一场的岗位。",
    "signup_missing": "没有找到这份岗位报名。",
    "signup_cancelled": "这份岗位报名已取消。",
    "not_checked_in": "还没有签到，不能签退。",
    "already_checked_out": "已经签退，服务时长已记录。",
    "checkout_too_long": (
        "签到已超过 24 小时，不能自动计算时长，请由工作人员手工录入服务时长。"
    ),
    "checkout_too_short": "签到后不到 1 分钟，不能签退。",
    # 微心愿
    "wish_title_missing": "请填写心愿内容，如“想要一台收音机”。",
    "wish_title_too_long": "心愿内容最多 60 个字，详细情况请写在说明里。",
    "wish_description_too_long": "详细说明最多 300 个字。",
    "wish_recipient_missing": "请填写心愿人姓名或说明（如“独居老人”）。",
    "wish_recipient_label_too_long": "心愿人说明最多 20 个字。",
    "wish_due_missing": "请填写希望完成日期。",
    "wish_due_past": "希望完成日期不能早于今天。",
    "wish_missing": "没有找到这个心愿。",
    "wish_taken": "这个心愿已经被认领了，谢谢您的好意！可以看看其他待认领的心愿。",
    "wish_not_open": "这个心愿已经完成或已撤下，不能认领。",
    "wish_not_claimed": "这个心愿还没有人认领，不能{action}。",
    "wish_finished": "这个心愿已经完成或已撤下，不能{action}。",
    "unit_name_missing": "请填写单位名称。",
    "unit_name_too_long": "单位名称最多 60 个字。",
    "contact_name_missing": "请填写联系人姓名。",
    "photo_missing": "请选择一张完成照片。",
    "line_missing": "请写一句完成说明，如“已送到李奶奶家中”。",
    "line_too_long": "完成说明最多 120 个字。",
    "withdraw_reason_missing": "请填写撤下原因。",
    "cancel_reason_missing": "请填写取消认领的原因。",
    # Everything else
    "busy": "系统繁忙，请稍后再试。",
}

FIELDS = {
    "name_missing": "name",
    "name_too_long": "name",
    "name_invisible": "name",
    "phone_invalid": "phone",
    "phone_taken": "phone",
    "skills_too_long": "skills",
    "hours_invalid": "hours",
    "hours_not_positive": "hours",
    "hours_absurd": "hours",
    "hours_day_over": "hours",
    "hours_unchanged": "hours",
    "reason_missing": "reason",
    "description_missing": "description",
    "date_in_future": "date",
    "note_missing": "note",
    "insufficient_balance": "hours",
    "wish_title_missing": "title",
    "wish_title_too_long": "title",
    "wish_description_too_long": "description",
    "wish_recipient_missing": "recipient_name",
    "wish_recipient_label_too_long": "recipient_label",
    "wish_due_missing": "due_date",
    "wish_due_past": "due_date",
    "unit_name_missing": "unit_name",
    "unit_name_too_long": "unit_name",
    "contact_name_missing": "contact_name",
    "photo_missing": "photo",
    "line_missing": "line",
    "line_too_long": "line",
    "withdraw_reason_missing": "reason",
    "cancel_reason_missing": "reason",
}


def message(code: str, **params) -> str:
    return MESSAGES[code].format(**params)


class VolunteerError(ServiceError):
    """A change refused for a reason the volunteer or staff member can act on
    (``portal.services.ServiceError`` with this catalogue)."""

    messages = MESSAGES
    fields = FIELDS


class InvalidInputError(VolunteerError):
    """What was typed cannot be stored."""


class NotFoundError(VolunteerError):
    """The volunteer, record, post or sign-up does not exist (for this caller)."""


class RefusedError(VolunteerError):
    """The state forbids it (not in 册, already left, transfer not allowed …)."""


class InsufficientBalanceError(VolunteerError):
    code = "insufficient_balance"


class PostFullError(VolunteerError):
    code = "post_full"


class WishTakenError(VolunteerError):
    """Someone else claimed the wish first."""

    code = "wish_taken"


class BusyError(VolunteerError):
    """The lock could not be had in time; nothing stored, the request may be sent
    again."""

    code = "busy"
