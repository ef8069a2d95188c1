"""Year-end figures of activities and sign-ups (年终评比, 述职): ``year_figures``.

What is counted (the report says the same under its tables):

- 举办场次: sessions (occurrences) of published activities that started in the
  year, before ``now``, and were not cancelled (停课 or removed from the schedule).
- Every sign-up figure is over those sessions only: sign-ups of a cancelled or
  not yet held session are not part of what was achieved.
- 报名: confirmed sign-ups (份) and the people they bring (人数 = party sizes);
  cancelled sign-ups count nowhere.
- 签到人数: the people of confirmed sign-ups checked in at the door.
- 到场率: 签到人数 ÷ 报名人数 (none when nobody was confirmed).
- 候补: sign-ups still on the waitlist when the session took place (份 / 人数),
  the demand the seats did not meet.

All of it is one grouped query over (community, month, type) with conditional
aggregates, folded into the three breakdowns here, plus one query for the names
of the communities: the number of queries does not grow with the data.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from datetime import datetime

from django.db.models import (
    Case,
    Count,
    IntegerField,
    Max,
    Min,
    Q,
    Sum,
    Value,
    When,
)
from django.utils import timezone

from home.models import CommunityPage

from .models import Occurrence, RegistrationStatus
from .models.pages import EVENT_KINDS

SUBDISTRICT = "全街道"
MIN_YEAR, MAX_YEAR = 2000, 2100
COLUMNS = [
    ("sessions", "举办场次"),
    ("signups", "报名（份）"),
    ("people", "报名人数"),
    ("checked_in", "签到人数"),
    ("attendance", "到场率"),
    ("waitlisted", "候补（份）"),
    ("waitlisted_people", "候补人数"),
]


@dataclass
class Figures:
    sessions: int = 0
    signups: int = 0
    people: int = 0
    checked_in: int = 0
    waitlisted: int = 0
    waitlisted_people: int = 0

    def add(self, other: Figures) -> None:
        for f in fields(self):
            setattr(self, f.name, getattr(self, f.name) + getattr(other, f.name))

    @property
    def attendance(self) -> float | None:
        """签到人数 ÷ 报名人数, None when nobody was confirmed."""
        return self.checked_in / self.people if self.people else None

    @property
    def attendance_text(self) -> str:
        """到场率 as the report shows it: "85.7%", or "—"."""
        rate = self.attendance
        return "—" if rate is None else f"{rate * 100:.1f}%"

    def values(self) -> list:
        return [getattr(self, name) for name, _ in COLUMNS]


@dataclass
class YearFigures:
    year: int
    by_community: list[tuple[str, Figures]] = field(default_factory=list)
    by_month: list[tuple[str, Figures]] = field(default_factory=list)
    by_kind: list[tuple[str, Figures]] = field(default_factory=list)
    total: Figures = field(default_factory=Figures)
    # The rows' communities in order, (pk or None for 全街道, title, live):
    # other tables of the report (``report_sections``) line up with them.
    communities: list[tuple[int | None, str, bool]] = field(default_factory=list)

    def tables(self) -> list[tuple[str, str, list[tuple[str, Figures]]]]:
        """(sheet / section title, first column heading, rows)."""
        return [
            ("按社区", "社区", self.by_community),
            ("按月份", "月份", self.by_month),
            ("按类型", "活动类型", self.by_kind),
        ]


def parse_year(raw: str | None, default: int) -> tuple[int, str]:
    """(year, "") for a usable ``?year=``; (default, the reason in Chinese) for
    anything else. Never raises."""
    text = (raw or "").strip()
    if not text:
        return default, ""
    try:
        year = int(text[:8])
    except ValueError:
        year = None
    if year is None or len(text) > 8 or not MIN_YEAR <= year <= MAX_YEAR:
        return default, (
            f"年份「{text[:20]}」无效，请选择 {MIN_YEAR}–{MAX_YEAR} 之间的年份。"
            f"下面是 {default} 年的数据。"
        )
    return year, ""


def year_bounds(year: int) -> tuple[datetime, datetime]:
    """The year in local time (Asia/Shanghai), as aware datetimes [start, end)."""
    return (
        timezone.make_aware(datetime(year, 1, 1)),
        timezone.make_aware(datetime(year + 1, 1, 1)),
    )


def held_sessions(year: int, *, community_ids: list[int] | None = None, now=None):
    """Sessions of published activities that took place in ``year`` before ``now``,
    not cancelled; only those of ``community_ids`` unless it is None."""
    start, end = year_bounds(year)
    now = now or timezone.now()
    sessions = Occurrence.objects.filter(
        start__gte=start,
        start__lt=min(end, now),
        cancelled=False,
        page__live=True,
    )
    if community_ids is not None:
        sessions = sessions.filter(community_id__in=community_ids)
    return sessions


def _local_month(year: int) -> Case:
    """The local (Asia/Shanghai) month of ``start`` as comparisons with the
    month boundaries: plain SQL on every database, where a time-zone conversion
    (``ExtractMonth``) is a Python function called per row on SQLite."""
    bounds = [timezone.make_aware(datetime(year, month, 1)) for month in range(2, 13)]
    return Case(
        *[When(start__lt=bound, then=Value(n)) for n, bound in enumerate(bounds, 1)],
        default=Value(12),
        output_field=IntegerField(),
    )


def _grouped_rows(sessions, year: int):
    confirmed = Q(registrations__status=RegistrationStatus.CONFIRMED)
    waitlisted = Q(registrations__status=RegistrationStatus.WAITLISTED)
    checked_in = confirmed & Q(registrations__checked_in_at__isnull=False)
    people = "registrations__party_size"
    return (
        sessions.annotate(month=_local_month(year))
        .order_by()
        .values("community_id", "month", "kind")
        .annotate(
            sessions=Count("pk", distinct=True),
            signups=Count("registrations", filter=confirmed),
            people=Sum(people, filter=confirmed, default=0),
            checked_in=Sum(people, filter=checked_in, default=0),
            waitlisted=Count("registrations", filter=waitlisted),
            waitlisted_people=Sum(people, filter=waitlisted, default=0),
        )
    )


def year_figures(
    year: int, *, community_ids: list[int] | None = None, now=None
) -> YearFigures:
    """The figures of ``year`` by community (全街道 first, for an unscoped
    report), month and type, and in total. ``community_ids``: limit everything to
    these communities (a community editor's scope, ``access.community_scope``);
    None for the whole subdistrict. Two queries whatever the data."""
    names = [f.name for f in fields(Figures)]
    by_community: dict[int | None, Figures] = {}
    by_month = {month: Figures() for month in range(1, 13)}
    by_kind = {kind: Figures() for kind, _ in EVENT_KINDS}
    total = Figures()
    sessions = held_sessions(year, community_ids=community_ids, now=now)
    for row in _grouped_rows(sessions, year):
        figures = Figures(**{name: row[name] or 0 for name in names})
        by_community.setdefault(row["community_id"], Figures()).add(figures)
        by_month[row["month"]].add(figures)
        by_kind.setdefault(row["kind"], Figures()).add(figures)
        total.add(figures)

    communities = CommunityPage.objects.order_by("path")
    if community_ids is not None:
        communities = communities.filter(pk__in=community_ids)
    community_rows = []
    community_list = []
    if community_ids is None:
        community_rows.append((SUBDISTRICT, by_community.pop(None, Figures())))
        community_list.append((None, SUBDISTRICT, True))
    for pk, title, live in communities.values_list("pk", "title", "live"):
        community_list.append((pk, title, live))
        figures = by_community.pop(pk, None)
        if live or figures:
            community_rows.append((title, figures or Figures()))
    kind_labels = dict(EVENT_KINDS)
    return YearFigures(
        year=year,
        by_community=community_rows,
        by_month=[(f"{month}月", figures) for month, figures in by_month.items()],
        by_kind=[(kind_labels.get(k, k), figures) for k, figures in by_kind.items()],
        total=total,
        communities=community_list,
    )


def report_years(community_ids: list[int] | None = None) -> list[int]:
    """The years from the first session to the last (within the scope) and this
    year, newest first. One aggregate query (``dates()`` would convert every
    row's time zone, per row on SQLite)."""
    sessions = Occurrence.objects.all()
    if community_ids is not None:
        sessions = sessions.filter(community_id__in=community_ids)
    span = sessions.aggregate(first=Min("start"), last=Max("start"))
    this_year = timezone.localdate().year
    years = {this_year}
    if span["first"]:
        first = max(timezone.localtime(span["first"]).year, MIN_YEAR)
        last = min(timezone.localtime(span["last"]).year, MAX_YEAR)
        years.update(range(first, last + 1))
    return sorted(years, reverse=True)
