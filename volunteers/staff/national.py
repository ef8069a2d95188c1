"""全国系统导出 (志愿服务 › 全国系统导出): service records as CSV for entering into
the national volunteer system (全国志愿服务信息系统 / 中国志愿服务网, and the
provincial platforms that feed it, e.g. 志愿汇).

No official import template could be found (README.md, 全国系统导出, says what was
searched); the columns follow what 民政部《志愿服务记录与证明出具办法（试行）》
(2020) says a service record holds — the volunteer's identity, the activity's
name, date, place, hours and content, the recording organisation — so that an
administrator can map them onto the template of the platform they use.
证件类型 and 证件号码 are in the file and always empty: the portal never holds
ID numbers (it does not need them, and PIPL says collect the minimum); they are
filled in the national system, where volunteers are registered by real name.

Full names and phones: only users with
``volunteers.view_volunteer_personal_data`` (街道宣传办) open this page at all;
anyone else gets a 403 and no menu item. Scoped like every 志愿服务 listing.
Each export writes an audit entry (rows and dates, no names). UTF-8 with a BOM.
One query for the rows whatever their number (the activity's venue comes from a
subquery per activity type).
"""

import django_filters
from django.db.models import CharField, OuterRef, Subquery, Value
from django.db.models.functions import Coalesce
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.functional import cached_property
from wagtail.admin import messages
from wagtail.admin.filters import DateRangePickerWidget, WagtailFilterSet
from wagtail.admin.ui.tables import Column
from wagtail.admin.views import generic
from wagtail.admin.viewsets.model import ModelViewSet
from wagtail.admin.widgets.button import Button
from wagtail.log_actions import log
from wagtail.models import Site

from events.models import EVENT_MODELS
from home.models import CommunityPage

from .. import audit
from ..models import ServiceRecord, ServiceSource
from . import access
from .export import BomCsvMixin, hours_text

# (key, heading, where it comes from) — the page shows the same list.
COLUMNS = [
    ("name", "志愿者姓名", "志愿者的姓名（登记或申请时填写）"),
    ("id_type", "证件类型", "留空：本站不收集证件信息，请在全国系统中补全"),
    ("id_number", "证件号码", "留空：同上"),
    ("phone", "手机号", "志愿者的手机号"),
    ("code", "志愿者编号", "本站的志愿者编号，便于核对"),
    ("date", "服务日期", "服务记录的日期（年-月-日）"),
    ("hours", "服务时长（小时）", "服务记录的时长，两位小数，更正后的为准"),
    ("project", "服务项目/活动名称", "活动岗位：活动标题；日常服务：服务内容"),
    ("content", "服务内容", "活动岗位：岗位名称；日常服务：服务内容"),
    ("place", "服务地点", "活动岗位：活动地点；日常服务：所属社区"),
    ("start", "服务开始时间", "活动岗位：签到时间；日常服务：留空"),
    ("end", "服务结束时间", "活动岗位：签退时间；日常服务：留空"),
    ("organisation", "记录单位", "活动岗位：活动的主办单位；日常服务：所属社区"),
    ("community", "所属社区", "服务记录所属的社区，全街道的记为“全街道”"),
    ("source", "记录方式", "活动岗位（现场签到签退）或 日常服务（工作人员录入）"),
]
HELP = (
    "导出的 CSV 用于向全国志愿服务信息系统（中国志愿服务网）或省级平台补录服务时长，"
    "UTF-8 编码（带 BOM，Excel、WPS 可直接打开）。证件类型和证件号码两列为空，"
    "请在全国系统中按实名信息补全或按手机号匹配。"
)


def _venue():
    venues = [
        Subquery(
            model.objects.filter(
                pk=OuterRef("post_signup__occurrence__page_id")
            ).values("venue")[:1]
        )
        for model in EVENT_MODELS
    ]
    return Coalesce(*venues, Value(""), output_field=CharField())


def _organiser():
    organisers = [
        Subquery(
            model.objects.filter(
                pk=OuterRef("post_signup__occurrence__page_id")
            ).values("organiser")[:1]
        )
        for model in EVENT_MODELS
    ]
    return Coalesce(*organisers, Value(""), output_field=CharField())


class NationalFilterSet(WagtailFilterSet):
    date = django_filters.DateFromToRangeFilter(
        label="服务日期", widget=DateRangePickerWidget
    )
    community = django_filters.ModelChoiceFilter(
        label="所属社区", queryset=CommunityPage.objects.none(), empty_label="全部"
    )
    source = django_filters.ChoiceFilter(
        label="记录方式", choices=ServiceSource.choices, empty_label="全部"
    )

    class Meta:
        model = ServiceRecord
        fields = ["date", "community", "source"]

    def __init__(self, *args, request=None, **kwargs):
        super().__init__(*args, request=request, **kwargs)
        self.filters["community"].queryset = access.communities(request.user)


class NationalExportView(BomCsvMixin, generic.IndexView):
    FORMATS = ("csv",)
    page_title = "全国系统导出"
    any_permission_required = ["view"]
    default_ordering = None

    def dispatch(self, request, *args, **kwargs):
        if not access.can_see_personal_data(request.user):
            # A 403 that says why (Wagtail would redirect to the dashboard).
            return TemplateResponse(
                request,
                "volunteers/admin/forbidden.html",
                {
                    "page_title": self.page_title,
                    "reason": "导出服务记录需要“查看志愿者姓名和手机号”权限，"
                    "请联系街道宣传办。",
                },
                status=403,
            )
        return super().dispatch(request, *args, **kwargs)

    def get(self, request, *args, **kwargs):
        if self.is_export and self.filters and not self.filters.is_valid():
            # Never export more than asked for because a date was mistyped.
            messages.error(request, "筛选条件有误，请检查服务日期后再导出。")
            params = request.GET.copy()
            params.pop("export", None)
            return redirect(f"{request.path}?{params.urlencode()}")
        return super().get(request, *args, **kwargs)

    def get_base_queryset(self):
        return (
            access.scoped(ServiceRecord.objects.all(), self.request.user)
            .select_related(
                "volunteer",
                "community",
                "post_signup__post",
                "post_signup__occurrence__page",
            )
            .annotate(venue=_venue(), organiser=_organiser())
        )

    def order_queryset(self, queryset):
        return queryset.order_by("date", "pk")

    @cached_property
    def subdistrict(self) -> str:
        site = Site.find_for_request(self.request)
        return site.root_page.title if site else "街道"

    def row(self, record) -> dict:
        volunteer, signup = record.volunteer, getattr(record, "post_signup", None)
        community = record.community.title if record.community_id else ""
        local = timezone.localtime
        if signup is not None:
            project = signup.occurrence.page.title
            content = signup.post.title
            place = record.venue or community
            start = local(signup.checked_in_at).strftime("%Y-%m-%d %H:%M")
            end = local(signup.checked_out_at).strftime("%Y-%m-%d %H:%M")
            organisation = record.organiser or community or self.subdistrict
        else:
            project = content = record.description
            place = community or self.subdistrict
            start = end = ""
            organisation = community or self.subdistrict
        return {
            "name": volunteer.name,
            "id_type": "",
            "id_number": "",
            "phone": volunteer.phone,
            "code": volunteer.code,
            "date": record.date.isoformat(),
            "hours": hours_text(record.hours),
            "project": project,
            "content": content,
            "place": place,
            "start": start,
            "end": end,
            "organisation": organisation,
            "community": community or "全街道",
            "source": record.get_source_display(),
        }

    @cached_property
    def columns(self):
        shown = ["name", "phone", "date", "hours", "project", "content", "place"]
        labels = {key: label for key, label, _ in COLUMNS}
        return [
            Column(key, label=labels[key], accessor=lambda r, k=key: self.row(r)[k])
            for key in shown
        ]

    def to_row_dict(self, item):
        return self.row(item)

    def get_heading(self, queryset, field):
        return {key: label for key, label, _ in COLUMNS}[field]

    def get_filename(self):
        dates = self.request.GET
        span = "-".join(
            v for v in (dates.get("date_from"), dates.get("date_to")) if v
        )
        return f"志愿服务记录-全国系统导入{'-' + span if span else ''}"

    @cached_property
    def header_more_buttons(self):
        return [
            Button(
                "导出 CSV（全国系统）",
                url=self.csv_export_url,
                icon_name="download",
                priority=90,
            )
        ]

    def render_to_response(self, context, **response_kwargs):
        if self.is_export:
            params = self.request.GET
            log(
                instance=ServiceRecord(pk=0),
                action=audit.EXPORTED,
                user=self.request.user,
                title="导出服务记录（全国系统）",
                data={
                    "rows": len(context["object_list"]),
                    "date_from": params.get("date_from", ""),
                    "date_to": params.get("date_to", ""),
                },
            )
        return super().render_to_response(context, **response_kwargs)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["export_help"] = HELP
        context["export_columns"] = COLUMNS
        return context


class NationalExportViewSet(ModelViewSet):
    """Read-only; registers no URL finder or permissions of its own (those are
    服务记录's)."""

    model = ServiceRecord
    icon = "download"
    menu_label = "全国系统导出"
    url_namespace = "volunteers_national"
    name = "national_export"
    index_view_class = NationalExportView
    index_template_name = "volunteers/admin/national_export.html"
    filterset_class = NationalFilterSet
    list_per_page = 50
    search_fields = None
    inspect_view_enabled = False
    copy_view_enabled = False
    add_to_reference_index = False
    list_export = [key for key, _, _ in COLUMNS]

    def register_admin_url_finder(self):
        pass

    def register_permissions(self):
        pass

    def get_menu_item(self, order=None):
        item = super().get_menu_item(order)
        item.is_shown = lambda request: access.can_see_personal_data(request.user)
        return item

    def get_common_view_kwargs(self, **kwargs):
        return super().get_common_view_kwargs(
            add_url_name=None,
            edit_url_name=None,
            delete_url_name=None,
            usage_url_name=None,
            **kwargs,
        )

    def get_urlpatterns(self):
        from django.urls import path

        return [
            path("", self.index_view, name="index"),
            path("results/", self.index_results_view, name="index_results"),
        ]
