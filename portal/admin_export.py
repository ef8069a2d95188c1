"""XLSX exports of admin listings with a Chinese sheet name.

Wagtail's ``SpreadsheetExportMixin.write_xlsx`` names the one sheet "Sheet1", a
literal no catalogue can translate. Views that mix this in ahead of Wagtail's
listing give it ``export_sheet_title`` instead; the rest is Wagtail's method as
it stands in 8.0 (write-only workbook, headings, one row per item)."""

from wagtail.admin.views.mixins import ExcelDateFormatter


class SheetTitleExportMixin:
    #: Excel allows 31 characters and none of ``[]:*?/\``.
    export_sheet_title = "工作表1"

    def write_xlsx(self, queryset, output):
        from openpyxl import Workbook

        workbook = Workbook(write_only=True, iso_dates=True)
        worksheet = workbook.create_sheet(title=self.export_sheet_title)
        worksheet.append(
            self.get_heading(queryset, field) for field in self.list_export
        )
        date_format = ExcelDateFormatter().get()
        for item in queryset:
            worksheet.append(
                self.generate_xlsx_row(
                    worksheet, self.to_row_dict(item), date_format=date_format
                )
            )
        workbook.save(output)
