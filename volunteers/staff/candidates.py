"""花园榜样候选 (志愿服务 › 花园榜样候选): 在册 volunteers ranked by service hours,
for 街道宣传办 choosing the year's 花园榜样 (志愿之星).

- ``?year=N`` ranks by the hours served in year N (service date, local), the
  default being this year; ``?year=all`` by 累计时长 (all years). Volunteers
  without hours in the year are not listed. Ties share a rank (1, 2, 2, 4).
- Scope as every 志愿服务 listing (``access.scoped``): 街道宣传办 and superusers
  rank everyone, subdistrict-wide volunteers included; a 「X社区」宣传员 ranks
  their own communities' volunteers — the communities propose candidates from
  their own people, and see nobody else's volunteers anywhere in the admin.
- Names are masked (王**) without ``volunteers.view_volunteer_personal_data``;
  with it, the export also carries the mobile number.
- Export (XLSX / CSV) is Wagtail's own (``SpreadsheetExportMixin`` of the index
  view), with the same rows and rank as the table.

The rank, the year's hours and the order are one query (an aggregate and a
window function), the teams one more per page: constant as volunteers and
records grow.
"""

from datetime import date
from decimal import Decimal

import django_filters
from django.db.models import DecimalField, F, Max, Min, Q, Sum, Value, Window
from django.db.models.functions import Coalesce, Rank
from django.utils import timezone
from django.utils.functional import cached_property
from wagtail.admin import messages
from wagtail.admin.filters import WagtailFilterSet
from wagtail.admin.ui.tables import Column
from wagtail.admin.views import generic
from wagtail.admin.viewsets.model import ModelViewSet

from events.stats import parse_year
from home.models import CommunityPage
from portal.admin_export import SheetTitleExportMixin

from .. import bank
from ..models import HOURS, ServiceRecord, Team, Volunteer, VolunteerStatus
from . import access
from .export import BomCsvMixin, hours_text

ALL_YEARS = "all"
ZERO = Value(Decimal(0), output_field=DecimalField(**HOURS))


def year_choices(user) -> list[tuple[str, str]]:
    """This year, every year with service records (in the user's scope), and
    累计 — one aggregate query."""
    records = access.scoped(ServiceRecord.objects.all(), user)
    span = records.aggregate(first=Min("date"), last=Max("date"))
    this_year = timezone.localdate().year
    years = {this_year}
    if span["first"]:
        years.update(range(span["first"].year, span["last"].year + 1))
    return [(str(y), f"{y} 年") for y in sorted(years, reverse=True)] + [
        (ALL_YEARS, "累计（全部年份）")
    ]


class CandidateFilterSet(WagtailFilterSet):
    year = django_filters.ChoiceFilter(
        label="年份", method="keep", empty_label=None, choices=()
    )
    community = django_filters.ModelChoiceFilter(
        label="所属社区", queryset=CommunityPage.objects.none(), empty_label="全部"
    )
    team = django_filters.ModelChoiceFilter(
        label="志愿服务队",
        queryset=Team.objects.none(),
        method="filter_team",
        empty_label="全部",
    )

    class Meta:
        model = Volunteer
        fields = ["year", "community", "team"]

    def __init__(self, *args, request=None, **kwargs):
        super().__init__(*args, request=request, **kwargs)
        user = request.user
        self.filters["year"].extra["choices"] = year_choices(user)
        self.filters["community"].queryset = access.communities(user)
        self.filters["team"].queryset = access.scoped(Team.objects.all(), user)

    def keep(self, queryset, name, value):
        return queryset  # the year is read by the view: it decides the hours

    def filter_team(self, queryset, name, value):
        # A subquery, not a join: a join on teams would multiply the hours.
        members = Team.volunteers.through.objects.filter(team=value)
        return queryset.filter(pk__in=members.values("volunteer_id"))


class CandidateIndexView(BomCsvMixin, SheetTitleExportMixin, generic.IndexView):
    """The ranking; ``hours`` is the year's (or 累计) hours, ``rank`` its rank."""

    export_sheet_title = "花园榜样候选"
    default_ordering = None

    def setup(self, request, *args, **kwargs):
        super().setup(request, *args, **kwargs)
        raw = request.GET.get("year", "")
        this_year = timezone.localdate().year
        if raw == ALL_YEARS:
            self.year, self.problem = None, ""
        else:
            self.year, self.problem = parse_year(raw, this_year)
        self.personal = access.can_see_personal_data(request.user)
        if not self.personal:
            self.list_export = [f for f in self.list_export if f != "phone"]

    @property
    def hours_label(self) -> str:
        return (
            "累计时长（小时）" if self.year is None else f"{self.year} 年时长（小时）"
        )

    def get_base_queryset(self):
        volunteers = access.scoped(
            Volunteer.objects.filter(status=VolunteerStatus.ACTIVE), self.request.user
        ).select_related("community", "account")
        if self.year is None:
            hours = F("account__total_hours")
            volunteers = volunteers.annotate(hours=hours).filter(hours__gt=0)
        else:
            served = Q(
                service_records__date__gte=date(self.year, 1, 1),
                service_records__date__lt=date(self.year + 1, 1, 1),
            )
            hours = Coalesce(Sum("service_records__hours", filter=served), ZERO)
            volunteers = volunteers.annotate(hours=hours).filter(hours__gt=0)
        return volunteers.annotate(
            rank=Window(Rank(), order_by=F("hours").desc())
        ).prefetch_related("teams")

    def order_queryset(self, queryset):
        return queryset.order_by("-hours", "-account__total_hours", "code")

    @cached_property
    def thresholds(self):
        return bank.volunteer_settings().thresholds

    def stars(self, volunteer) -> str:
        return "★" * bank.stars(volunteer.account.total_hours, self.thresholds) or "—"

    def name(self, volunteer) -> str:
        return access.display_name(volunteer, self.personal)

    @staticmethod
    def teams(volunteer) -> str:
        return "、".join(team.name for team in volunteer.teams.all())

    @staticmethod
    def community(volunteer) -> str:
        return volunteer.community.title if volunteer.community_id else "全街道"

    @cached_property
    def columns(self):
        return [
            Column("rank", label="名次"),
            Column("code", label="志愿者编号", classname="w-font-mono"),
            Column("name", label="姓名", accessor=self.name),
            Column("community", label="所属社区", accessor=self.community),
            Column("teams", label="志愿服务队", accessor=self.teams),
            Column(
                "hours", label=self.hours_label, accessor=lambda v: hours_text(v.hours)
            ),
            Column("total_hours", label="累计时长", accessor="account.total_hours"),
            Column("stars", label="星级", accessor=self.stars),
        ]

    def get_heading(self, queryset, field):
        if field == "hours":
            return self.hours_label
        return self.export_headings.get(field, field)

    def to_row_dict(self, item):
        values = {
            "rank": item.rank,
            "code": item.code,
            "name": self.name(item),
            "phone": item.phone,
            "community": self.community(item),
            "teams": self.teams(item),
            "hours": hours_text(item.hours),
            "total_hours": item.account.total_hours,
            "stars": bank.stars(item.account.total_hours, self.thresholds),
        }
        return {field: values[field] for field in self.list_export}

    def get_filename(self):
        return f"花园榜样候选-{self.year or '累计'}"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        if self.problem and not self.is_export:
            messages.warning(self.request, self.problem)
        return context


class CandidateViewSet(ModelViewSet):
    """A second, read-only listing of volunteers: it registers no URL finder
    and no permissions of its own (those are 志愿者's)."""

    model = Volunteer
    icon = "pick"
    menu_label = "花园榜样候选"
    url_namespace = "volunteers_candidates"
    name = "volunteer_candidates"
    index_view_class = CandidateIndexView
    filterset_class = CandidateFilterSet
    list_per_page = 50
    search_fields = None
    inspect_view_enabled = False
    copy_view_enabled = False
    add_to_reference_index = False
    list_export = [
        "rank",
        "code",
        "name",
        "phone",
        "community",
        "teams",
        "hours",
        "total_hours",
        "stars",
    ]
    export_headings = {
        "rank": "名次",
        "code": "志愿者编号",
        "name": "姓名",
        "phone": "手机号",
        "community": "所属社区",
        "teams": "志愿服务队",
        "hours": "时长（小时）",
        "total_hours": "累计时长（小时）",
        "stars": "星级",
    }

    def register_admin_url_finder(self):
        pass  # 志愿者 (VolunteerViewSet) is where a volunteer is edited

    def register_permissions(self):
        pass

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
