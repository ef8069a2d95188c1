"""The portal itself, under every content app: settings, root URLconf, page cache
(pagecache.py, pagecache_local.py), security headers and CSP (security.py),
database failure handling (failure.py), client address and login lockout,
backup and restore (backup.py, ``backup_site`` / ``restore_site``), the
``{% fragment %}`` tag, and clean input and exports (text.py, input.py). Nothing
here imports a content app at module level; content apps plug in through
settings or their own ``AppConfig.ready``."""

from django.apps import AppConfig


class PortalConfig(AppConfig):
    name = "portal"
    verbose_name = "门户基础"

    def ready(self):
        from portal import cache, pagecache

        pagecache.connect_signals()
        cache.on_reconnect(pagecache.redis_reconnected)
        safe_spreadsheet_exports()


def safe_spreadsheet_exports():
    """Every admin export (报名管理, 站点历史, any listing with ``list_export``) goes
    through Wagtail's ``SpreadsheetExportMixin``; its strings are cleaned on the
    way out, whatever is stored: an XLSX cell without the characters a worksheet
    cannot hold (openpyxl's IllegalCharacterError was a 500), a CSV cell that
    never starts a formula."""
    from wagtail.admin.views.mixins import SpreadsheetExportMixin

    from portal.text import csv_cell, spreadsheet_text

    original = SpreadsheetExportMixin.preprocess_field_value
    if getattr(original, "cleans_text", False):
        return

    def preprocess_field_value(self, field, value, export_format):
        value = original(self, field, value, export_format)
        if isinstance(value, str):
            if export_format == self.FORMAT_XLSX:
                return spreadsheet_text(value)
            return csv_cell(value)
        return value

    preprocess_field_value.cleans_text = True
    SpreadsheetExportMixin.preprocess_field_value = preprocess_field_value
