"""More tables for 活动统计 from apps that events may not import (志愿服务时长 by
community from ``volunteers``; 微心愿 can be one more): the Wagtail hook
``year_report_sections``.

A provider is registered with ``@hooks.register("year_report_sections")`` and
called as ``provider(year, community_ids=…, now=…)`` — ``community_ids`` is the
user's scope (None: the whole subdistrict), exactly as ``stats.year_figures``
gets it. It returns a ``Section`` (or None to add nothing): its columns and the
figures of each community (key ``None``: 全街道, the subdistrict-wide rows) and
in total. The report lays the rows out in its own community order (全街道 first
when unscoped, then every community in tree order, zero rows included), so every
table of the page and of the XLSX lines up; the section's definitions join the
report's 统计口径. A provider's queries must not grow with its data: the report's
query count is asserted.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from wagtail import hooks

HOOK = "year_report_sections"


@dataclass
class Section:
    title: str  # the heading on the page
    sheet: str  # the XLSX sheet's name (31 characters at most)
    columns: list[tuple[str, str]]  # (key, label) after the community column
    by_community: dict  # community pk (None: 全街道) → {key: value}
    total: dict  # {key: value}
    zero: dict = field(default_factory=dict)  # a community without figures
    definitions: list[str] = field(default_factory=list)
    heading: str = "社区"


@dataclass
class SectionTable:
    """A section laid out along the report's communities."""

    section: Section
    rows: list[tuple[str, list]]
    total: list

    @property
    def headings(self) -> list[str]:
        return [label for _, label in self.section.columns]


def layout(section: Section, communities) -> SectionTable:
    """Rows for ``communities`` ((pk or None, title, live) in the report's
    order): the live ones and any other with figures."""
    keys = [key for key, _ in section.columns]

    def values(figures: dict) -> list:
        return [figures.get(key, section.zero.get(key, 0)) for key in keys]

    rows = [
        (title, values(section.by_community.get(pk, {})))
        for pk, title, live in communities
        if live or pk in section.by_community
    ]
    return SectionTable(section, rows, values(section.total))


def year_sections(year: int, *, community_ids, communities, now=None):
    """Every registered provider's section for ``year``, laid out."""
    tables = []
    for provider in hooks.get_hooks(HOOK):
        section = provider(year, community_ids=community_ids, now=now)
        if section is not None:
            tables.append(layout(section, communities))
    return tables
