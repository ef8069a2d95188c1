"""Admin hooks of the events app: 报名管理 (the sign-up listing), the door page
现场签到 (``events_checkin``), the year-end report 活动统计 (under 报告,
``events_year_report``), the audit-log actions and the community scope of the
audit log."""

from django.db import models
from django.urls import path, reverse
from wagtail import hooks
from wagtail.admin.menu import MenuItem
from wagtail.admin.ui.menus.pages import PageMenuItem
from wagtail.models import ModelLogEntry

from . import recap
from .models import EVENT_MODELS, ScopedModelLogEntry
from .staff import access, audit
from .staff.checkin import CheckInView
from .staff.recap import URL_NAME as RECAP_URL_NAME
from .staff.recap import RecapView, recap_url
from .staff.viewsets import RegistrationViewSet


@hooks.register("register_admin_viewset")
def register_registration_viewset():
    return RegistrationViewSet()


@hooks.register("register_admin_urls")
def register_checkin_url():
    # The resident's QR code encodes this URL with ?code=…: keep name and path.
    return [path("checkin/", CheckInView.as_view(), name="events_checkin")]


@hooks.register("register_admin_urls")
def register_recap_url():
    return [
        path("events/recap/<int:page_id>/", RecapView.as_view(), name=RECAP_URL_NAME)
    ]


class RecapButton(PageMenuItem):
    """活动回顾 in the header of an activity's edit view (and its ⋯ menu): to the
    confirmation page, which drafts the article on POST (events/staff/recap.py)."""

    label = "活动回顾"
    icon_name = "doc-full"
    priority = 62

    @property
    def url(self):
        return recap_url(self.page)

    def is_shown(self, user):
        if self.page.specific_class not in EVENT_MODELS:
            return False
        return recap.can_draft(self.page.specific_deferred, user)


@hooks.register("register_page_header_buttons")
def register_recap_button(page, user, view_name, next_url=None):
    if view_name == "edit":
        yield RecapButton(page=page)


class CheckInMenuItem(MenuItem):
    def is_shown(self, request):
        return access.can_view(request.user)


@hooks.register("register_admin_menu_item")
def register_checkin_menu_item():
    return CheckInMenuItem(
        "现场签到",
        reverse("events_checkin"),
        name="events-checkin",
        icon_name="calendar-check",
        order=251,
    )


@hooks.register("register_log_actions")
def register_registration_log_actions(actions):
    """签到, 取消报名 (工作人员 / 居民本人), 候补转正, 删除报名人信息, 导出,
    查看完整名单, 到期清除: Chinese labels and messages in staff/audit.py."""
    for action, formatter in audit.FORMATTERS.items():
        actions.register_action(action)(formatter)


@hooks.register("register_log_actions", order=1)
def register_scoped_log_entry_model(actions):
    """Non-page entries are logged and read through ``ScopedModelLogEntry`` (same
    table), so that 站点历史 shows a community editor only their community's
    sign-up entries. ``order=1``: after Wagtail's own hook, which registers
    ``ModelLogEntry`` for every model; that model leaves the report's list (the
    report reads each listed model, and both would read the same table)."""
    actions.register_model(models.Model, ScopedModelLogEntry)
    actions.log_entry_models.discard(ModelLogEntry)


@hooks.register("register_admin_urls")
def register_year_report_url():
    # Imported here: the report's openpyxl and pygal cost every process that loads
    # the hooks (each ``manage.py`` call, each server) 0.35 s otherwise.
    from .staff.report import URL_NAME, YearReportView

    return [path("reports/activities/", YearReportView.as_view(), name=URL_NAME)]


class YearReportMenuItem(MenuItem):
    def is_shown(self, request):
        return access.can_view(request.user)


@hooks.register("register_reports_menu_item")
def register_year_report_menu_item():
    return YearReportMenuItem(
        "活动统计",
        reverse("events_year_report"),
        name="events-year-report",
        icon_name="table",
        order=50,
    )
