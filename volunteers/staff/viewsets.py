"""志愿服务 in the Wagtail admin: one menu group with 志愿服务队, 志愿者, 志愿岗位,
服务记录 and 时间银行流水. Every listing and every object view is scoped to the
user's communities (``access.scoped``); names and phones are masked without
``volunteers.view_volunteer_personal_data``. Volunteers are added, approved and leave
through the roster service; records and ledger lines are read-only here (they
are written by the forms in ``views.py``, through ``bank``)."""

from django import forms
from django.middleware.csrf import get_token
from django.shortcuts import redirect
from django.urls import path, reverse
from django.utils.functional import cached_property
from wagtail.admin import messages
from wagtail.admin.admin_url_finder import NullAdminURLFinder, register_admin_url_finder
from wagtail.admin.forms import WagtailAdminModelForm
from wagtail.admin.ui.tables import Column, StatusTagColumn, TitleColumn
from wagtail.admin.views import generic
from wagtail.admin.viewsets.base import ViewSetGroup
from wagtail.admin.viewsets.model import ModelViewSet
from wagtail.admin.widgets.button import HeaderButton
from wagtail.log_actions import log

from .. import bank, posts, roster
from ..errors import VolunteerError
from ..models import (
    ServiceRecord,
    Team,
    TimeBankEntry,
    Volunteer,
    VolunteerPost,
)
from . import access, views
from .candidates import CandidateViewSet
from .national import NationalExportViewSet


class TemplateColumn(Column):
    """A column whose cell is a template (given ``instance``: the row)."""

    def __init__(self, name, template, **kwargs):
        super().__init__(name, accessor=lambda obj: obj, **kwargs)
        self.cell_template_name = template

    def get_cell_context_data(self, instance, parent_context):
        # Wagtail renders a cell with a plain context: the listing's CSRF token
        # is passed on, else a cell's form (审核通过, 退出) posts without one
        # and a browser gets the CSRF failure page.
        context = super().get_cell_context_data(instance, parent_context)
        if context.get("request") is not None:
            context["csrf_token"] = get_token(context["request"])
        return context


class ScopedMixin:
    """Listings, edit and delete views see only the user's communities' rows."""

    def get_base_queryset(self):
        return access.scoped(super().get_base_queryset(), self.request.user)

    def get_queryset(self):
        return access.scoped(self.model._default_manager.all(), self.request.user)


class ScopedFormMixin(ScopedMixin):
    """The form offers only the user's communities (required when scoped), and
    teams, family and sessions of those communities."""

    def get_form(self, form_class=None):
        form = super().get_form(form_class)
        user = self.request.user
        fields = form.fields
        if "community" in fields:
            fields["community"].queryset = access.communities(user)
            if access.scope(user) is not None:
                fields["community"].required = True
        if "teams" in fields:
            fields["teams"].queryset = access.scoped(Team.objects.all(), user)
        if "family" in fields:
            family = access.scoped(Volunteer.objects.all(), user)
            if getattr(self, "object", None) is not None and self.object.pk:
                family = family.exclude(pk=self.object.pk)
            fields["family"].queryset = family
        if "occurrence" in fields:
            from events.staff.access import scoped_occurrences

            fields["occurrence"].queryset = scoped_occurrences(user).select_related(
                "page"
            )
        return form


# ---------------------------------------------------------------------------
# 志愿服务队
# ---------------------------------------------------------------------------


class TeamIndexView(ScopedMixin, generic.IndexView):
    pass


class TeamCreateView(ScopedFormMixin, generic.CreateView):
    pass


class TeamEditView(ScopedFormMixin, generic.EditView):
    pass


class TeamDeleteView(ScopedMixin, generic.DeleteView):
    pass


class TeamViewSet(ModelViewSet):
    model = Team
    icon = "group"
    menu_label = "志愿服务队"
    url_namespace = "volunteers_teams"
    form_fields = ["name", "community", "description"]
    list_display = ["name", "community"]
    list_filter = ["community"]
    search_fields = ["name"]
    search_backend_name = None
    inspect_view_enabled = False
    copy_view_enabled = False
    add_to_reference_index = False
    index_view_class = TeamIndexView
    add_view_class = TeamCreateView
    edit_view_class = TeamEditView
    delete_view_class = TeamDeleteView


# ---------------------------------------------------------------------------
# 志愿者
# ---------------------------------------------------------------------------


class VolunteerIndexView(ScopedMixin, generic.IndexView):
    """Volunteers with masked names and phones (full with the permission),
    cumulative hours, balance and star; 审核通过 / 退出 per row."""

    def get_base_queryset(self):
        return super().get_base_queryset().select_related("community", "account")

    @cached_property
    def thresholds(self):
        return bank.volunteer_settings().thresholds

    def stars(self, volunteer) -> str:
        return "★" * bank.stars(volunteer.account.total_hours, self.thresholds) or "—"

    @cached_property
    def columns(self):
        personal = access.can_see_personal_data(self.request.user)
        return [
            TitleColumn(
                "code",
                label="志愿者编号",
                sort_key="code",
                url_name=self.edit_url_name,
                classname="w-font-mono",
            ),
            Column(
                "name",
                label="姓名",
                accessor=lambda v: access.display_name(v, personal),
            ),
            Column(
                "phone",
                label="手机号",
                accessor=lambda v: access.display_phone(v, personal),
            ),
            Column("community", label="所属社区", accessor=community_title),
            StatusTagColumn(
                "status",
                label="状态",
                accessor="get_status_display",
                primary=lambda v: v.is_active,
                sort_key="status",
            ),
            Column("hours", label="累计时长", accessor=lambda v: v.account.total_hours),
            Column("balance", label="余额", accessor=lambda v: v.account.balance),
            Column(
                "stars",
                label="星级",
                accessor=lambda v: (
                    "★" * bank.stars(v.account.total_hours, self.thresholds) or "—"
                ),
            ),
            TemplateColumn(
                "actions",
                "volunteers/admin/volunteer_actions_cell.html",
                label="操作",
            ),
        ]


def community_title(obj) -> str:
    return obj.community.title if obj.community_id else "全街道"


class VolunteerCreateView(ScopedFormMixin, generic.CreateView):
    """登记志愿者 (在册 at once) through ``roster.add``."""

    def form_valid(self, form):
        data = form.cleaned_data
        try:
            self.object = roster.add(
                name=data["name"],
                phone=data["phone"],
                community=data.get("community"),
                skills=data.get("skills", ""),
                teams=list(data.get("teams") or []),
                user=self.request.user,
            )
        except VolunteerError as error:
            field = error.field if error.field in form.fields else None
            form.add_error(field, error.message)
            self.produced_error_message = error.message
            return self.form_invalid(form)
        return self.save_action_succeeded(self.object)

    def save_action_succeeded(self, instance):
        messages.success(self.request, f"已登记志愿者 {instance.code}。")
        return redirect(self.index_url_name)


class VolunteerEditView(ScopedFormMixin, generic.EditView):
    pass


class VolunteerViewSet(ModelViewSet):
    model = Volunteer
    icon = "user"
    menu_label = "志愿者"
    url_namespace = "volunteers_volunteers"
    list_filter = ["status", "community"]
    search_fields = ["code"]
    search_backend_name = None
    inspect_view_enabled = False
    copy_view_enabled = False
    add_to_reference_index = False
    index_view_class = VolunteerIndexView
    add_view_class = VolunteerCreateView
    edit_view_class = VolunteerEditView
    ordering = ["-applied_at"]

    def get_form_class(self, for_update=False):
        # Name and phone are typed once, when the volunteer is registered (and
        # cleaned by the service); the edit form changes the rest.
        if for_update:
            return _form(["community", "teams", "skills", "family"])
        return _form(["name", "phone", "community", "teams", "skills"])

    def get_common_view_kwargs(self, **kwargs):
        return super().get_common_view_kwargs(delete_url_name=None, **kwargs)

    def get_urlpatterns(self):
        return [
            pattern
            for pattern in super().get_urlpatterns()
            if pattern.name not in {"delete"}
        ] + [
            path(
                "approve/<int:pk>/",
                views.VolunteerActionView.as_view(action="approve"),
                name="approve",
            ),
            path(
                "leave/<int:pk>/",
                views.VolunteerActionView.as_view(action="leave"),
                name="leave",
            ),
        ]


def _clean_phone(form):
    try:
        return roster.clean_person("-", form.cleaned_data["phone"])[1]
    except VolunteerError as error:
        raise forms.ValidationError(error.message) from None


def _form(fields):
    meta = type(
        "Meta",
        (),
        {
            "model": Volunteer,
            "fields": fields,
            "widgets": {"teams": forms.CheckboxSelectMultiple},
        },
    )
    attrs = {"Meta": meta}
    if "phone" in fields:
        # As typed ("139 1111 0009", "+86 …"), cleaned the service's way.
        attrs["phone"] = forms.CharField(label="手机号", max_length=30)
        attrs["clean_phone"] = _clean_phone
    return type("VolunteerForm", (WagtailAdminModelForm,), attrs)


# ---------------------------------------------------------------------------
# 志愿岗位
# ---------------------------------------------------------------------------


class PostFormMixin(ScopedFormMixin):
    def get_form(self, form_class=None):
        form = super().get_form(form_class)
        taken = self.object.taken if getattr(self, "object", None) else 0
        if taken:
            # Its sign-ups belong to this session: the post stays with it.
            form.fields["occurrence"].disabled = True
            form.fields["capacity"].min_value = taken
            form.fields["capacity"].validators.append(_at_least(taken))
        return form


def _at_least(taken):
    from django.core.exceptions import ValidationError

    def check(value):
        if value is not None and value < taken:
            raise ValidationError(f"已有 {taken} 人报名，人数不能少于 {taken}。")

    return check


class PostIndexView(ScopedMixin, generic.IndexView):
    @cached_property
    def header_buttons(self):
        return [
            *super().header_buttons,
            HeaderButton(
                "志愿者签到",
                url=reverse(views.DOOR_URL_NAME),
                icon_name="calendar-check",
            ),
        ]


class PostCreateView(PostFormMixin, generic.CreateView):
    pass


class PostEditView(PostFormMixin, generic.EditView):
    """Saved through ``posts.update_post`` (the post's lock; ``taken`` never
    written from the form): a sign-up at the same moment cannot be lost or
    overfill the post."""

    def save_instance(self):
        data = self.form.cleaned_data
        post = posts.update_post(
            self.object.pk,
            title=data["title"],
            capacity=data["capacity"],
            description=data.get("description", ""),
            occurrence_id=data["occurrence"].pk if data.get("occurrence") else None,
        )
        log(instance=post, action="wagtail.edit", user=self.request.user)
        return post

    def form_valid(self, form):
        try:
            return super().form_valid(form)
        except VolunteerError as error:
            field = error.field if error.field in form.fields else None
            form.add_error(field, error.message)
            self.produced_error_message = self.get_error_message()
            return self.form_invalid(form)


class PostDeleteView(ScopedMixin, generic.DeleteView):
    pass


class VolunteerPostViewSet(ModelViewSet):
    model = VolunteerPost
    icon = "clipboard-list"
    menu_label = "志愿岗位"
    url_namespace = "volunteers_posts"
    form_fields = ["occurrence", "title", "capacity", "description"]
    list_display = ["title", "occurrence", "capacity", "taken"]
    search_fields = ["title"]
    search_backend_name = None
    inspect_view_enabled = False
    copy_view_enabled = False
    add_to_reference_index = False
    index_view_class = PostIndexView
    add_view_class = PostCreateView
    edit_view_class = PostEditView
    delete_view_class = PostDeleteView


# ---------------------------------------------------------------------------
# 服务记录 and 时间银行流水: read-only listings, written by the forms
# ---------------------------------------------------------------------------


class RecordIndexView(ScopedMixin, generic.IndexView):
    def get_base_queryset(self):
        return super().get_base_queryset().select_related("volunteer", "community")

    @cached_property
    def columns(self):
        return [
            Column("date", label="服务日期", sort_key="date"),
            Column("volunteer", label="志愿者", accessor="volunteer"),
            Column("community", label="社区", accessor=community_title),
            Column("description", label="服务内容"),
            Column("hours", label="时长（小时）", sort_key="hours"),
            Column("source", label="来源", accessor="get_source_display"),
            TemplateColumn(
                "correct", "volunteers/admin/record_actions_cell.html", label="操作"
            ),
        ]

    @cached_property
    def header_buttons(self):
        buttons = []
        if self.request.user.has_perm("volunteers.add_servicerecord"):
            buttons.append(
                HeaderButton(
                    "记录服务时长",
                    url=reverse("volunteers_record_hours"),
                    icon_name="plus",
                )
            )
        return buttons


class ReadOnlyViewSet(ModelViewSet):
    inspect_view_enabled = False
    copy_view_enabled = False
    add_to_reference_index = False
    search_backend_name = None

    def get_common_view_kwargs(self, **kwargs):
        return super().get_common_view_kwargs(
            add_url_name=None,
            edit_url_name=None,
            delete_url_name=None,
            usage_url_name=None,
            **kwargs,
        )

    def get_urlpatterns(self):
        return [
            path("", self.index_view, name="index"),
            path("results/", self.index_results_view, name="index_results"),
        ]

    def register_admin_url_finder(self):
        # No edit view: 站点历史 must not link its entries to one (Wagtail's
        # finder would reverse "<namespace>:edit" and answer a 500).
        register_admin_url_finder(self.model, NullAdminURLFinder)


class ServiceRecordViewSet(ReadOnlyViewSet):
    model = ServiceRecord
    icon = "time"
    menu_label = "服务记录"
    url_namespace = "volunteers_records"
    index_view_class = RecordIndexView
    list_filter = ["source", "community"]
    search_fields = ["description"]
    ordering = ["-date", "-pk"]


class EntryIndexView(ScopedMixin, generic.IndexView):
    def get_base_queryset(self):
        return super().get_base_queryset().select_related("account__volunteer")

    @cached_property
    def columns(self):
        return [
            Column("created_at", label="时间", sort_key="created_at"),
            Column("volunteer", label="志愿者", accessor="account.volunteer"),
            Column("kind", label="类型", accessor="get_kind_display"),
            Column("hours", label="时长（小时）"),
            Column("balance_after", label="余额"),
            Column("note", label="说明"),
        ]

    @cached_property
    def header_buttons(self):
        if not self.request.user.has_perm("volunteers.add_timebankentry"):
            return []
        return [
            HeaderButton("支取", url=reverse("volunteers_withdraw"), icon_name="minus"),
            HeaderButton(
                "转赠家人", url=reverse("volunteers_transfer"), icon_name="resubmit"
            ),
        ]


class TimeBankEntryViewSet(ReadOnlyViewSet):
    model = TimeBankEntry
    icon = "clipboard-list"
    menu_label = "时间银行"
    url_namespace = "volunteers_bank"
    index_view_class = EntryIndexView
    list_filter = ["kind"]
    ordering = ["-created_at", "-pk"]


class VolunteerViewSetGroup(ViewSetGroup):
    menu_label = "志愿服务"
    menu_icon = "group"
    menu_order = 260
    items = (
        TeamViewSet,
        VolunteerViewSet,
        VolunteerPostViewSet,
        ServiceRecordViewSet,
        TimeBankEntryViewSet,
        CandidateViewSet,
        NationalExportViewSet,
    )
