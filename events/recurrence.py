"""Recurring activities (每周书画课, 每天民事调解, 四点钟课堂).

Editors choose a subset of RFC 5545 RRULE: daily, or weekly on chosen weekdays, until
a date or for a number of times, plus dates on which the activity does not take place
(停课日期, EXDATE). Expansion uses python-dateutil's ``rrule``; the same parts are
written into the iCalendar feed, so calendar apps compute the same dates.
"""

from dataclasses import dataclass
from datetime import date, datetime, time

from dateutil import rrule
from django import forms
from django.db import models
from django.utils import timezone

MAX_OCCURRENCES = 200


class Repeat(models.TextChoices):
    NONE = "", "不重复"
    DAILY = "DAILY", "每天"
    WEEKLY = "WEEKLY", "每周"


WEEKDAYS = [
    ("MO", "周一"),
    ("TU", "周二"),
    ("WE", "周三"),
    ("TH", "周四"),
    ("FR", "周五"),
    ("SA", "周六"),
    ("SU", "周日"),
]
WEEKDAY_CODES = [code for code, _ in WEEKDAYS]
WEEKDAY_LABELS = dict(WEEKDAYS)


class WeekdaysField(models.CharField):
    """A list of RRULE weekday codes (["MO", "WE"]) stored as "MO,WE", edited as
    checkboxes."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("max_length", 20)
        kwargs.setdefault("blank", True)
        kwargs.setdefault("default", "")
        super().__init__(*args, **kwargs)

    @staticmethod
    def _as_list(value) -> list[str]:
        if not value:
            return []
        if isinstance(value, str):
            value = value.replace("，", ",").split(",")
        codes = {str(v).strip().upper() for v in value}
        return [code for code in WEEKDAY_CODES if code in codes]

    def from_db_value(self, value, expression, connection):
        return self._as_list(value)

    def to_python(self, value):
        return self._as_list(value)

    def get_prep_value(self, value):
        return ",".join(self._as_list(value))

    def value_to_string(self, obj):
        return self.get_prep_value(self.value_from_object(obj))

    def validate(self, value, model_instance):
        # Choices are enforced by _as_list; the CharField checks would see a list.
        if not self.blank and not value:
            raise forms.ValidationError("请至少选择一天。")

    def formfield(self, **kwargs):
        return forms.TypedMultipleChoiceField(
            choices=WEEKDAYS,
            required=not self.blank,
            label=self.verbose_name,
            help_text=self.help_text,
            widget=forms.CheckboxSelectMultiple,
        )


def parse_dates(text: str) -> list[date]:
    """One date per line (2026-12-24, 2026/12/24 or 2026.12.24); blank lines are
    ignored. Raises ValueError with a message for editors."""
    dates = []
    for line in (text or "").splitlines():
        line = line.strip().replace("/", "-").replace(".", "-")
        if not line:
            continue
        try:
            dates.append(date.fromisoformat(line))
        except ValueError:
            raise ValueError(
                f"“{line}”不是有效的日期，请按 2026-12-24 的格式每行填写一个。"
            ) from None
    return sorted(set(dates))


@dataclass(frozen=True)
class Slot:
    start: datetime
    end: datetime | None
    excluded: bool = False


def rule(
    start: datetime,
    *,
    repeat: str,
    weekdays: list[str],
    until: date | None,
    count: int | None,
) -> rrule.rrule | None:
    """The dateutil rule in local (naive) time, or None for a one-off activity."""
    if not repeat:
        return None
    local = timezone.localtime(start).replace(tzinfo=None)
    kwargs = {"dtstart": local, "count": None, "until": None}
    if count:
        kwargs["count"] = min(count, MAX_OCCURRENCES)
    elif until:
        kwargs["until"] = datetime.combine(until, time.max)
    else:
        kwargs["count"] = MAX_OCCURRENCES
    if repeat == Repeat.WEEKLY:
        codes = weekdays or [WEEKDAY_CODES[local.weekday()]]
        kwargs["byweekday"] = [getattr(rrule, code) for code in codes]
        return rrule.rrule(rrule.WEEKLY, **kwargs)
    return rrule.rrule(rrule.DAILY, **kwargs)


def expand(
    start: datetime,
    end: datetime | None,
    *,
    repeat: str = "",
    weekdays: list[str] | None = None,
    until: date | None = None,
    count: int | None = None,
    excluded: list[date] | None = None,
) -> list[Slot]:
    """Every occurrence of the schedule, excluded dates included but marked, at most
    MAX_OCCURRENCES. Times are aware, in the site's time zone."""
    recurrence = rule(
        start, repeat=repeat, weekdays=weekdays or [], until=until, count=count
    )
    if recurrence is None:
        return [Slot(start, end)]
    duration = (end - start) if end else None
    skip = set(excluded or [])
    slots = []
    for local in recurrence[:MAX_OCCURRENCES]:
        aware = timezone.make_aware(local)
        slots.append(
            Slot(aware, aware + duration if duration else None, local.date() in skip)
        )
    return slots


def short_pattern(repeat: str, weekdays: list[str]) -> str:
    """The pattern as a listing card says it: “每天”, “每周二、四”, “每周一至五”."""
    if not repeat:
        return ""
    if repeat != Repeat.WEEKLY:
        return "每天"
    days = [WEEKDAY_CODES.index(code) for code in weekdays or []]
    if not days:
        return "每周"
    if len(days) == 7:
        return "每天"
    numbers = [WEEKDAY_LABELS[WEEKDAY_CODES[d]][1:] for d in days]
    if len(days) >= 3 and days == list(range(days[0], days[-1] + 1)):
        return f"每周{numbers[0]}至{numbers[-1]}"
    return "每周" + "、".join(numbers)


def describe(
    repeat: str, weekdays: list[str], until: date | None, count: int | None
) -> str:
    """A short Chinese description: “每周二、周四，至 2027年1月31日”."""
    if not repeat:
        return ""
    if repeat == Repeat.WEEKLY:
        days = "、".join(WEEKDAY_LABELS[c] for c in weekdays) if weekdays else ""
        text = f"每{days}" if days else "每周"
    else:
        text = "每天"
    if count:
        text += f"，共 {count} 次"
    elif until:
        text += f"，至 {until.year}年{until.month}月{until.day}日"
    return text
