"""Admin views of the staff side of sign-ups.

Nothing here writes a ``Registration`` field: 签到 and 取消报名 call
``events.registration.check_in`` / ``cancel`` and show their refusals, lock
timeouts included (``SignupError``, ``events/errors.py``), as admin messages.
"""

import re
from urllib.parse import urlencode

from django.db.models import Count, Q, QuerySet
from django.http import Http404, HttpResponseRedirect, StreamingHttpResponse
from django.middleware.csrf import get_token
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.http import content_disposition_header
from django.views import View
from django.views.generic import TemplateView
from wagtail.admin import messages
from wagtail.admin.ui.tables import BaseColumn, Column, StatusTagColumn, TitleColumn
from wagtail.admin.utils import get_valid_next_url_from_request
from wagtail.admin.views.generic import IndexView
from wagtail.admin.views.generic.base import WagtailAdminTemplateMixin
from wagtail.admin.views.generic.history import HistoryView
from wagtail.admin.views.generic.permissions import PermissionCheckedMixin
from wagtail.admin.widgets.button import HeaderButton

from portal.admin_export import SheetTitleExportMixin

from .. import recap
from .. import registration as service
from ..errors import RegistrationNotFoundError, SignupError
from ..forms import OPTIONAL_FIELDS
from ..models import EVENT_MODELS, Registration, RegistrationStatus
from ..privacy import display_name, display_phone
from . import access, audit
from .recap import recap_url
from .roster import SessionColumn, roster_url

CHECKIN_URL_NAME = "events_checkin"
INDEX_URL_NAME = "events_registrations:index"
NOWRAP = "registration-nowrap"


local = audit.local


def checkin_url(code: str = "", session_id: int | None = None) -> str:
    """The door page, for ``code`` (and with ``session_id`` chosen for the next
    lookup by phone)."""
    url = reverse(CHECKIN_URL_NAME)
    params = {"code": code} if code else {}
    if session_id is not None:
        params["occurrence"] = session_id
    return f"{url}?{urlencode(params)}" if params else url


def status_text(registration: Registration) -> str:
    """已报名 / 候补 / 已取消 / 已签到 09:05."""
    if registration.checked_in_at and registration.is_confirmed:
        return f"已签到 {local(registration.checked_in_at, '%H:%M')}"
    return registration.get_status_display()


def search_filter(query: str, personal: bool) -> Q:
    """Registrations matching what staff typed: the code (any part, spaces and
    case ignored) for everyone; with personal data, any part of the name or the
    phone; without, only the exact full name or the full 11-digit phone, so that
    searching cannot uncover what the listing masks."""
    text = " ".join(query.split())
    code = service.normalise_code(text)
    condition = Q(code__icontains=code) if code else Q(pk__in=[])
    if personal:
        condition |= Q(name__icontains=text)
        digits = re.sub(r"\D", "", text)
        if len(digits) >= 3:
            condition |= Q(phone__contains=digits)
    else:
        condition |= Q(name=text)
        try:
            condition |= Q(phone=service.normalise_phone(text))
        except SignupError:
            pass
    return condition


def log_reveal(user, registration: Registration) -> None:
    """One sign-up's full name and phone shown (door page, cancel confirmation)
    goes to the audit log, as the listing's do."""
    if access.can_see_personal_data(user) and not registration.is_erased:
        audit.log_registration(registration, audit.VIEW_PERSONAL_DATA, user)


# ---------------------------------------------------------------------------
# The two operations, shared by the listing's row actions and the door page
# ---------------------------------------------------------------------------


def refused(request, registration: Registration, error: SignupError) -> None:
    """The service's refusal as an admin message (a sign-up gone meanwhile: 404)."""
    if isinstance(error, RegistrationNotFoundError):
        raise Http404(error.message) from error
    messages.error(request, f"报名码 {registration.code}：{error.message}")


def perform_check_in(request, registration: Registration) -> bool:
    """Check in through the service (which writes the audit entry), tell the
    user. True when the registration is (now or already) checked in."""
    personal = access.can_see_personal_data(request.user)
    try:
        checked, newly = service.check_in(registration.pk, user=request.user)
    except SignupError as error:
        refused(request, registration, error)
        return False
    registration.checked_in_at = checked.checked_in_at
    registration.checked_in_by_id = checked.checked_in_by_id
    who = display_name(registration, personal)
    if newly:
        messages.success(
            request,
            f"签到成功：{who}，{registration.party_size} 人（报名码 "
            f"{registration.code}）。",
        )
    else:
        messages.warning(
            request,
            f"{who}（报名码 {registration.code}）已于 "
            f"{local(checked.checked_in_at, '%H:%M')} 签到过，无需重复签到。",
        )
    return True


def perform_cancel(request, registration: Registration) -> bool:
    """Cancel through the service (which promotes the waitlist and writes the
    audit entries of both), tell the user."""
    personal = access.can_see_personal_data(request.user)
    if not registration.is_active:
        messages.warning(request, f"报名码 {registration.code} 已经取消，无需再取消。")
        return False
    try:
        promoted = service.cancel(registration.pk, user=request.user)
    except SignupError as error:
        refused(request, registration, error)
        return False
    registration.refresh_from_db(fields=["status", "cancelled_at", "cancelled_by"])
    if registration.status != RegistrationStatus.CANCELLED:
        messages.error(request, f"报名码 {registration.code} 没有取消，请刷新后重试。")
        return False
    if registration.cancelled_by_id != request.user.pk:
        # Cancelled by someone else a moment ago; the service changed nothing.
        messages.warning(request, f"报名码 {registration.code} 已经取消，无需再取消。")
        return False
    codes = [other.code for other in promoted]
    message = (
        f"已取消报名：{display_name(registration, personal)}，"
        f"{registration.party_size} 人（报名码 {registration.code}）。"
    )
    if codes:
        message += f"候补的 {'、'.join(codes)} 已自动递补为已报名。"
    messages.success(request, message)
    return True


# ---------------------------------------------------------------------------
# Listing
# ---------------------------------------------------------------------------


class ActionsColumn(BaseColumn):
    """签到 (a POST button) and 取消报名… (to the confirmation page) per row."""

    cell_template_name = "events/admin/registration_actions_cell.html"

    def __init__(self, name, *, view, **kwargs):
        super().__init__(name, **kwargs)
        self.view = view

    def get_cell_context_data(self, instance, parent_context):
        context = super().get_cell_context_data(instance, parent_context)
        view = self.view
        can_change = view.can_change
        context.update(
            can_check_in=can_change
            and instance.is_confirmed
            and not instance.checked_in_at,
            can_cancel=can_change and instance.is_active,
            check_in_url=reverse(view.check_in_url_name, args=[instance.pk]),
            cancel_url=reverse(view.cancel_url_name, args=[instance.pk]),
            history_url=reverse(view.history_url_name, args=[instance.pk]),
            next_url=view.return_url,
            csrf_token=get_token(view.request),
        )
        return context


class RegistrationIndexView(SheetTitleExportMixin, IndexView):
    """报名管理: every sign-up the user may see, with filters, search and export.
    Names and phones are masked unless the user may see personal data. Exported
    text is made safe for spreadsheets (no formula in a CSV cell) by
    ``portal.apps.safe_spreadsheet_exports``, as in every admin export."""

    export_sheet_title = "报名名单"

    any_permission_required = ["view"]
    page_title = "报名管理"
    check_in_url_name = None
    cancel_url_name = None
    history_url_name = None
    personal_only_export = ("household", "note")
    masked_export = {"name": "masked_name", "phone": "masked_phone"}
    datetime_exports = ("occurrence.start", "checked_in_at", "created_at")

    def setup(self, request, *args, **kwargs):
        super().setup(request, *args, **kwargs)
        self.personal = access.can_see_personal_data(request.user)
        self.can_change = access.can_change(request.user)
        if not self.personal:
            self.list_export = [
                field
                for field in self.list_export
                if field not in self.personal_only_export
            ]
        csv_date = {self.FORMAT_CSV: lambda value: local_naive_str(value)}
        self.custom_field_preprocess = {
            field: csv_date for field in self.datetime_exports
        }

    def get_base_queryset(self):
        return access.visible_registrations(self.request.user)

    # Optional fields -----------------------------------------------------

    def optional_fields_given(self, registrations) -> list[str]:
        """所在社区/楼院 and 备注 are asked only by the activities that need them
        (and erased on expiry); a column none of ``registrations`` has a value
        for is left out of the table and the export. One query for a queryset
        (the export), none for a list (the rows of the page shown)."""
        if not self.personal:
            return []
        if isinstance(registrations, QuerySet):
            counts = registrations.aggregate(
                **{f: Count("pk", filter=~Q(**{f: ""})) for f in OPTIONAL_FIELDS}
            )
            return [f for f in OPTIONAL_FIELDS if counts[f]]
        return [f for f in OPTIONAL_FIELDS if any(getattr(r, f) for r in registrations)]

    def get_table(self, object_list):
        # list(): the page's rows, loaded once (the table reads the same cache).
        extra = [
            Column(f, label=Registration._meta.get_field(f).verbose_name)
            for f in self.optional_fields_given(list(object_list))
        ]
        columns = self.columns[:-1] + extra + self.columns[-1:]  # actions last
        return self.table_class(columns, object_list, **self.get_table_kwargs())

    def search_queryset(self, queryset):
        if not self.is_searching:
            return queryset
        return queryset.filter(search_filter(self.search_query, self.personal))

    @cached_property
    def columns(self):
        name = "name" if self.personal else "masked_name"
        phone = "phone" if self.personal else "masked_phone"
        return [
            TitleColumn(
                "code",
                label="报名码",
                sort_key="code",
                get_url=lambda r: checkin_url(r.code),
                classname="w-font-mono",
            ),
            Column("page", label="活动", accessor="page.title", sort_key="page__title"),
            SessionColumn(
                "occurrence",
                label="场次",
                accessor=lambda r: local(r.occurrence.start),
                sort_key="occurrence__start",
                classname=NOWRAP,
            ),
            Column("name", label="姓名", accessor=name, classname=NOWRAP),
            Column("phone", label="手机号", accessor=phone, classname=NOWRAP),
            Column("party_size", label="人数", sort_key="party_size"),
            StatusTagColumn(
                "status",
                label="状态",
                accessor="get_status_display",
                primary=lambda r: r.is_confirmed,
                sort_key="status",
                classname=NOWRAP,
            ),
            Column(
                "checked_in_at",
                label="签到时间",
                accessor=lambda r: local(r.checked_in_at),
                sort_key="checked_in_at",
                classname=NOWRAP,
            ),
            Column(
                "created_at",
                label="报名时间",
                accessor=lambda r: local(r.created_at),
                sort_key="created_at",
                classname=NOWRAP,
            ),
            ActionsColumn("actions", label="操作", view=self),
        ]

    @cached_property
    def header_buttons(self):
        session = self.filtered_session
        buttons = [
            HeaderButton(
                "现场签到",
                url=checkin_url(session_id=session and session.pk),
                icon_name="calendar-check",
            )
        ]
        if session is not None:
            buttons.append(
                HeaderButton(
                    "打印签到表", url=roster_url(session.pk), icon_name="table"
                )
            )
        # Filtered to one activity (or one of its sessions): its 活动回顾
        # (events/staff/recap.py), for those who may draft it.
        event = self.filtered_event
        if event is not None and recap.can_draft(event, self.request.user):
            buttons.append(
                HeaderButton("活动回顾", url=recap_url(event), icon_name="doc-full")
            )
        return buttons

    @cached_property
    def filtered_session(self):
        """The session the listing is filtered by (the 场次 filter), if any."""
        if self.filters and self.filters.is_valid():
            return self.filters.form.cleaned_data.get("occurrence")
        return None

    @cached_property
    def filtered_event(self):
        """The activity the listing is filtered by (活动, or the 场次's), if any."""
        page = None
        if self.filters and self.filters.is_valid():
            page = self.filters.form.cleaned_data.get("page")
            session = self.filtered_session
            if page is None and session is not None:
                page = session.page
        if page is None or page.specific_class not in EVENT_MODELS:
            return None
        return page.specific_deferred

    @cached_property
    def return_url(self) -> str:
        """The listing as the user sees it, for the row actions to come back to."""
        params = self.request.GET.copy()
        for key in ("export", "_w_filter_fragment"):
            params.pop(key, None)
        query = params.urlencode()
        return f"{self.index_url}?{query}" if query else self.index_url

    # Audit --------------------------------------------------------------

    def list_summary(self) -> tuple[str, dict]:
        """A title and data describing the list shown, for the audit log (the
        search term masked)."""
        data = audit.safe_filters(
            {
                key: value
                for key, value in self.request.GET.items()
                if key not in ("export", "_w_filter_fragment") and value
            }
        )
        title = "报名名单"
        if self.filters and self.filters.is_valid():
            page = self.filters.form.cleaned_data.get("page")
            if page is not None:
                title = f"报名名单：{page.title}"
                data["page_title"] = page.title
        return title, data

    def get_context_data(self, *args, **kwargs):
        context = super().get_context_data(*args, **kwargs)
        context["personal_data"] = self.personal
        if self.personal and not self.is_export and context["object_list"]:
            title, data = self.list_summary()
            audit.log_list(
                audit.VIEW_PERSONAL_DATA,
                self.request.user,
                title=title,
                data={"rows": len(context["object_list"]), "filters": data},
            )
        return context

    def render_to_response(self, context, **response_kwargs):
        if self.is_export:
            given = self.optional_fields_given(context["object_list"])
            self.list_export = [
                field
                for field in self.list_export
                if field not in OPTIONAL_FIELDS or field in given
            ]
            title, data = self.list_summary()
            audit.log_list(
                audit.EXPORT,
                self.request.user,
                title=title,
                data={
                    "format": self.request.GET["export"],
                    "rows": len(context["object_list"]),
                    "personal_data": self.personal,
                    "filters": data,
                },
            )
        return super().render_to_response(context, **response_kwargs)

    # Export -------------------------------------------------------------

    def get_filename(self):
        return f"{self.export_filename}-{timezone.localdate():%Y%m%d}"

    def to_row_dict(self, item):
        row = {}
        for field in self.list_export:
            if not self.personal and field in self.masked_export:
                value = getattr(item, self.masked_export[field])
            elif field == "status":
                value = item.get_status_display()
            else:
                value = getattr_path(item, field)
            if field in self.datetime_exports and value is not None:
                # Local wall-clock time: Excel has no time zones.
                value = timezone.localtime(value).replace(tzinfo=None)
            row[field] = value
        return row

    def stream_csv(self, queryset):
        yield "\ufeff".encode()  # BOM: Excel and WPS then read the file as UTF-8
        yield from super().stream_csv(queryset)

    def write_csv_response(self, queryset):
        response = StreamingHttpResponse(
            self.stream_csv(queryset), content_type="text/csv; charset=utf-8"
        )
        response["Content-Disposition"] = content_disposition_header(
            True, f"{self.get_filename()}.csv"
        )
        return response


def getattr_path(item, path: str):
    for part in path.split("."):
        item = getattr(item, part)
        if item is None:
            return None
    return item


def local_naive_str(value) -> str:
    return value.strftime("%Y-%m-%d %H:%M") if value else ""


class RegistrationHistoryView(HistoryView):
    """操作记录 of one sign-up (签到, 取消, 候补转正) from the audit log."""

    any_permission_required = ["view"]
    header_buttons = []

    def get_base_object_queryset(self):
        return access.visible_registrations(self.request.user)

    def get_page_title(self):
        return "操作记录"


# ---------------------------------------------------------------------------
# Row actions (POST only; GET shows or leads to a confirmation)
# ---------------------------------------------------------------------------


class RegistrationActionMixin(PermissionCheckedMixin):
    model = Registration
    permission_required = "change"
    index_url_name = None

    def get_object(self) -> Registration:
        return get_object_or_404(
            access.visible_registrations(self.request.user), pk=self.kwargs["pk"]
        )

    def get_success_url(self) -> str:
        return get_valid_next_url_from_request(self.request) or reverse(
            self.index_url_name
        )


class CheckInActionView(RegistrationActionMixin, View):
    """POST: check the registration in. GET: the door page for its code."""

    http_method_names = ["get", "post"]

    def get(self, request, pk):
        return redirect(checkin_url(self.get_object().code))

    def post(self, request, pk):
        perform_check_in(request, self.get_object())
        return HttpResponseRedirect(self.get_success_url())


class CancelView(RegistrationActionMixin, WagtailAdminTemplateMixin, TemplateView):
    """GET: confirmation page. POST: cancel (the service promotes the waitlist)."""

    template_name = "events/admin/cancel_confirm.html"
    page_title = "取消报名"
    header_icon = "cross"
    http_method_names = ["get", "post"]

    def get_breadcrumbs_items(self):
        return self.breadcrumbs_items + [
            {"url": reverse(self.index_url_name), "label": "报名管理"},
            {"url": "", "label": self.page_title},
        ]

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        registration = self.registration
        personal = access.can_see_personal_data(self.request.user)
        waiting = Registration.objects.filter(
            occurrence_id=registration.occurrence_id,
            status=RegistrationStatus.WAITLISTED,
        ).count()
        context.update(
            registration=registration,
            name=display_name(registration, personal),
            phone=display_phone(registration, personal),
            status_text=status_text(registration),
            occurrence_start=local(registration.occurrence.start),
            waiting=waiting,
            next_url=get_valid_next_url_from_request(self.request),
            back_url=self.get_success_url(),
        )
        return context

    def get(self, request, pk):
        self.registration = self.get_object()
        log_reveal(request.user, self.registration)
        return self.render_to_response(self.get_context_data())

    def post(self, request, pk):
        perform_cancel(request, self.get_object())
        return HttpResponseRedirect(self.get_success_url())
