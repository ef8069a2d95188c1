"""What the volunteers' exports share: CSV with a BOM (Excel and WPS then read
it as UTF-8, as 报名管理's export does) and hours as two-decimal numbers."""

from decimal import Decimal

from django.http import StreamingHttpResponse
from django.utils.http import content_disposition_header

CENT = Decimal("0.01")


def hours_text(value) -> Decimal:
    """Hours to two places (SQLite's sums of decimals come back as floats)."""
    return Decimal(value or 0).quantize(CENT)


class BomCsvMixin:
    """For a Wagtail index view (``SpreadsheetExportMixin``)."""

    def stream_csv(self, queryset):
        yield "\ufeff".encode()
        yield from super().stream_csv(queryset)

    def write_csv_response(self, queryset):
        response = StreamingHttpResponse(
            self.stream_csv(queryset), content_type="text/csv; charset=utf-8"
        )
        response["Content-Disposition"] = content_disposition_header(
            True, f"{self.get_filename()}.csv"
        )
        return response
