"""活动统计 (报告 › 活动统计, ``events_year_report``): the year-end figures of
``events/stats.py`` for 街道宣传办 — every community and 全街道 — and, limited to
their own community (``access.community_scope``), for a community's 宣传员.

``?year=`` picks the year (default: this year; anything unusable shows this year
with a Chinese message, never an error page); ``?export=xlsx`` downloads the same
tables as a workbook with one sheet per breakdown. Needs
``events.view_registration``; no sign-up is shown one by one, so no personal
data either.
"""

from __future__ import annotations

from io import BytesIO

from django.http import HttpResponse
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.views.generic import TemplateView
from openpyxl import Workbook
from openpyxl.styles import Font
from wagtail.admin.views.generic.base import WagtailAdminTemplateMixin

from portal.text import spreadsheet_text

from .. import report_sections, stats
from . import access, charts

URL_NAME = "events_year_report"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PERCENT = "0.0%"


def _cell(value):
    return spreadsheet_text(value) if isinstance(value, str) else value


def _as_text(cell) -> None:
    """Store a label as text even when it starts with "=": openpyxl writes such a
    string as a formula, which the spreadsheet would run (an editor typed the
    community's title, not a formula)."""
    if cell.data_type == "f":
        cell.data_type = "s"


def workbook(
    figures: stats.YearFigures,
    scope_label: str,
    sections: list[report_sections.SectionTable] = (),
) -> bytes:
    """The report's tables as XLSX: sheets 按社区 / 按月份 / 按类型 (each with its
    合计 row), one per section other apps add (``report_sections``), and 说明."""
    book = Workbook()
    book.remove(book.active)  # openpyxl's "Sheet"
    headings = [label for _, label in stats.COLUMNS]
    for title, first_heading, rows in figures.tables():
        sheet = book.create_sheet(title)
        sheet.append([first_heading, *headings])
        for label, row in [*rows, ("合计", figures.total)]:
            sheet.append([_cell(label), *row.values()])
            _as_text(sheet.cell(row=sheet.max_row, column=1))
        rate_column = 2 + [name for name, _ in stats.COLUMNS].index("attendance")
        for (cell,) in sheet.iter_rows(
            min_row=2, min_col=rate_column, max_col=rate_column
        ):
            cell.number_format = PERCENT
        for cell in sheet[1]:
            cell.font = Font(bold=True)
        sheet.column_dimensions["A"].width = 16
        sheet.freeze_panes = "B2"
    for table in sections:
        sheet = book.create_sheet(table.section.sheet[:31])
        sheet.append([table.section.heading, *table.headings])
        for label, values in [*table.rows, ("合计", table.total)]:
            sheet.append([_cell(label), *(_cell(value) for value in values)])
            _as_text(sheet.cell(row=sheet.max_row, column=1))
        for cell in sheet[1]:
            cell.font = Font(bold=True)
        sheet.column_dimensions["A"].width = 16
        sheet.freeze_panes = "B2"
    notes = book.create_sheet("说明")
    for line in [
        ("年份", figures.year),
        ("范围", _cell(scope_label)),
        ("导出时间", timezone.localtime().strftime("%Y-%m-%d %H:%M")),
        *[("口径", line) for line in definitions(sections)],
    ]:
        notes.append(list(line))
        _as_text(notes.cell(row=notes.max_row, column=2))
    notes.column_dimensions["B"].width = 80
    out = BytesIO()
    book.save(out)
    return out.getvalue()


DEFINITIONS = [
    "举办场次：当年已开始且未取消的场次（只算已发布的活动）。",
    "报名：这些场次的已确认报名（份）及人数（含同行人数）；已取消的报名不计。",
    "签到人数：已确认报名中已签到的人数。",
    "到场率：签到人数 ÷ 报名人数。",
    "候补：活动开始时仍在候补的报名（份）及人数，即名额未能满足的需求。",
]


def definitions(sections) -> list[str]:
    return [*DEFINITIONS, *(line for t in sections for line in t.section.definitions)]


class YearReportView(WagtailAdminTemplateMixin, TemplateView):
    template_name = "events/admin/year_report.html"
    page_title = "活动统计"
    header_icon = "table"

    def dispatch(self, request, *args, **kwargs):
        if not access.can_view(request.user):
            # A 403 that says why: Wagtail would turn PermissionDenied into a
            # redirect to the dashboard with an untranslated message.
            return TemplateResponse(
                request,
                "events/admin/year_report_forbidden.html",
                {"page_title": self.page_title},
                status=403,
            )
        return super().dispatch(request, *args, **kwargs)

    def get_breadcrumbs_items(self):
        return self.breadcrumbs_items + [{"url": "", "label": self.page_title}]

    def get(self, request, *args, **kwargs):
        this_year = timezone.localdate().year
        self.year, self.problem = stats.parse_year(request.GET.get("year"), this_year)
        self.scope = access.community_scope(request.user)
        self.figures = stats.year_figures(self.year, community_ids=self.scope)
        self.sections = report_sections.year_sections(
            self.year, community_ids=self.scope, communities=self.figures.communities
        )
        if request.GET.get("export") == "xlsx":
            return self.export()
        return super().get(request, *args, **kwargs)

    @property
    def scope_label(self) -> str:
        if self.scope is None:
            return "全街道及各社区"
        return "、".join(label for label, _ in self.figures.by_community) or "无"

    def export(self) -> HttpResponse:
        response = HttpResponse(
            workbook(self.figures, self.scope_label, self.sections),
            content_type=XLSX,
        )
        response["Content-Disposition"] = content_disposition_header(
            as_attachment=True, filename=f"活动统计-{self.year}.xlsx"
        )
        return response

    def get_context_data(self, **kwargs):
        years = stats.report_years(self.scope)
        if self.year not in years:
            years = sorted([*years, self.year], reverse=True)
        return super().get_context_data(
            figures=self.figures,
            tables=[
                (title, heading, [*rows], chart)
                for (title, heading, rows), chart in zip(
                    self.figures.tables(),
                    charts.year_charts(self.figures)
                    if self.figures.total.sessions
                    else [None] * 3,
                    strict=True,
                )
            ],
            headings=[label for _, label in stats.COLUMNS],
            sections=self.sections,
            definitions=definitions(self.sections),
            year=self.year,
            years=years,
            problem=self.problem,
            scope_label=self.scope_label,
            export_url=f"{reverse(URL_NAME)}?year={self.year}&export=xlsx",
            **kwargs,
        )
