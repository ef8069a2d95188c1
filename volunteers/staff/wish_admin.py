"""志愿服务 › 微心愿 in the admin: publish and correct wishes, and per row
标记已完成 (photo + line), 取消认领 and 撤下 — every change through
``volunteers/wishes.py``. Scoped like the other volunteer viewsets: a 「X社区」
宣传员 sees and manages only their communities' wishes (subdistrict-wide ones
only the unscoped); the resident's name and a claimant's contact are masked
without ``volunteers.view_volunteer_personal_data``."""

from django import forms
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect
from django.urls import path
from django.utils import timezone
from django.utils.functional import cached_property
from wagtail.admin import messages
from wagtail.admin.forms import WagtailAdminModelForm
from wagtail.admin.ui.tables import Column, StatusTagColumn, TitleColumn
from wagtail.admin.views import generic
from wagtail.admin.viewsets.model import ModelViewSet
from wagtail.images import get_image_model
from wagtail.images.widgets import AdminImageChooser

from events.privacy import ERASED_NAME

from .. import wishes
from ..errors import VolunteerError
from ..models import ClaimKind, Wish, WishState
from . import access, views
from .viewsets import ScopedFormMixin, ScopedMixin, TemplateColumn, community_title

FIELDS = [
    "title",
    "description",
    "recipient_name",
    "recipient_label",
    "community",
    "due_date",
]


def recipient(wish, personal: bool) -> str:
    if personal and wish.recipient_name and wish.recipient_name != ERASED_NAME:
        name = wish.recipient_name
    else:
        name = wish.masked_recipient_name
    return " · ".join(p for p in (name, wish.recipient_label) if p) or "—"


def claimant(wish, personal: bool) -> str:
    claim = wish.live_claim
    if claim is None:
        return "—"
    if claim.kind == ClaimKind.VOLUNTEER:
        volunteer = claim.volunteer
        return (
            f"志愿者 {volunteer.code} {access.display_name(volunteer, personal)} "
            f"{access.display_phone(volunteer, personal)}"
        ).strip()
    if personal:
        contact = f"{claim.contact_name} {claim.contact_phone}".strip()
    else:
        contact = claim.masked_contact
    return f"{claim.unit_name}（{contact}）" if contact else claim.unit_name


class WishIndexView(ScopedMixin, generic.IndexView):
    def get_base_queryset(self):
        return (
            super()
            .get_base_queryset()
            .select_related("community", "live_claim__volunteer")
        )

    @cached_property
    def columns(self):
        personal = access.can_see_personal_data(self.request.user)
        return [
            TitleColumn(
                "title", label="心愿", sort_key="title", url_name=self.edit_url_name
            ),
            Column("community", label="社区", accessor=community_title),
            Column(
                "recipient", label="心愿人", accessor=lambda w: recipient(w, personal)
            ),
            Column("due_date", label="希望完成", sort_key="due_date"),
            StatusTagColumn(
                "state",
                label="状态",
                accessor="get_state_display",
                primary=lambda w: w.state == WishState.OPEN,
                sort_key="state",
            ),
            Column("claimant", label="认领", accessor=lambda w: claimant(w, personal)),
            TemplateColumn(
                "actions", "volunteers/admin/wish_actions_cell.html", label="操作"
            ),
        ]


class WishFormMixin(ScopedFormMixin):
    """Saved through the service; its refusal is the form's error, in Chinese."""

    def form_valid(self, form):
        data = {name: form.cleaned_data.get(name) for name in FIELDS}
        data["description"] = data["description"] or ""
        data["recipient_name"] = data["recipient_name"] or ""
        data["recipient_label"] = data["recipient_label"] or ""
        try:
            self.object = self.save_through_service(data)
        except VolunteerError as error:
            field = error.field if error.field in form.fields else None
            form.add_error(field, error.message)
            self.produced_error_message = error.message
            return self.form_invalid(form)
        messages.success(self.request, self.done_text(self.object))
        return redirect(self.index_url_name)


class WishCreateView(WishFormMixin, generic.CreateView):
    def save_through_service(self, data):
        return wishes.publish(user=self.request.user, **data)

    def done_text(self, wish):
        return f"已发布微心愿“{wish.title}”。"


class WishEditView(WishFormMixin, generic.EditView):
    def save_through_service(self, data):
        community = data.pop("community")
        return wishes.update(
            self.object.pk, user=self.request.user, community=community, **data
        )

    def done_text(self, wish):
        return f"已保存微心愿“{wish.title}”。"

    def get_form(self, form_class=None):
        form = super().get_form(form_class)
        if not access.can_see_personal_data(self.request.user):
            # The full name is personal data: not shown, kept as it is.
            form.fields.pop("recipient_name", None)
        return form

    def form_valid(self, form):
        if "recipient_name" not in form.fields:
            form.cleaned_data["recipient_name"] = self.object.recipient_name
        return super().form_valid(form)


class WishForm(WagtailAdminModelForm):
    class Meta:
        model = Wish
        fields = FIELDS
        widgets = {"due_date": forms.DateInput(attrs={"type": "date"})}


# ---------------------------------------------------------------------------
# Row actions: 标记已完成, 取消认领, 撤下
# ---------------------------------------------------------------------------


class FulfilForm(forms.Form):
    photo = forms.ModelChoiceField(
        label="完成照片",
        queryset=get_image_model().objects.all(),
        widget=AdminImageChooser(),
        error_messages={
            "required": "请选择一张完成照片。",
            "invalid_choice": "没有找到这张照片，请重新选择。",
        },
    )
    line = forms.CharField(
        label="完成说明",
        max_length=120,
        help_text="公开显示在心愿板上，如“收音机已送到李奶奶家中”",
        error_messages={"required": "请写一句完成说明。"},
    )


    def __init__(self, data=None, *args, **kwargs):
        if data is not None:
            # The chooser widget draws the chosen id back as a number: anything
            # else typed into the POST is “no such photo”, not a 500.
            raw = data.get("photo", "")
            if raw and not (raw.isascii() and raw.isdigit() and len(raw) < 12):
                data = data.copy()
                data["photo"] = "0"
        super().__init__(data, *args, **kwargs)


class ReasonForm(forms.Form):
    reason = forms.CharField(
        label="原因", max_length=120, error_messages={"required": "请填写原因。"}
    )


class WishActionView(views.ServiceForm):
    """One wish's action form; another community's wish is a 404."""

    permission = "volunteers.change_wish"
    success_url_name = "volunteers_wishes:index"
    header_icon = "heart"
    action = ""

    ACTIONS = {
        "fulfil": ("标记心愿已完成", "标记已完成", FulfilForm),
        "release": ("取消心愿认领", "取消认领", ReasonForm),
        "withdraw": ("撤下心愿", "撤下", ReasonForm),
    }

    def dispatch(self, request, *args, pk, **kwargs):
        if not request.user.has_perm(self.permission):
            raise PermissionDenied
        self.wish = (
            access.scoped(
                Wish.objects.select_related("live_claim__volunteer"), request.user
            )
            .filter(pk=pk)
            .first()
        )
        if self.wish is None:
            raise Http404("没有找到这个心愿。")
        self.page_title, self.submit_label, _form = self.ACTIONS[self.action]
        if self.action == "fulfil":
            self.template_name = "volunteers/admin/wish_fulfil.html"
        return super().dispatch(request, *args, **kwargs)

    def form_class(self):
        return self.ACTIONS[self.action][2]

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        personal = access.can_see_personal_data(self.request.user)
        context["intro"] = (
            f"“{self.wish.title}”（{self.wish.get_state_display()}；"
            f"认领：{claimant(self.wish, personal)}）"
        )
        return context

    def perform(self, data) -> str:
        user = self.request.user
        if self.action == "fulfil":
            wishes.fulfil(
                self.wish.pk,
                user=user,
                photo=data["photo"],
                line=data["line"],
                now=timezone.now(),
            )
            return f"“{self.wish.title}”已标记为已完成，照片和说明已显示在心愿板上。"
        if self.action == "release":
            wishes.release(self.wish.pk, user=user, reason=data["reason"])
            return f"已取消“{self.wish.title}”的认领，心愿重新等待认领。"
        wishes.withdraw(self.wish.pk, user=user, reason=data["reason"])
        return f"已撤下“{self.wish.title}”。"


class WishViewSet(ModelViewSet):
    model = Wish
    icon = "heart"
    menu_label = "微心愿"
    url_namespace = "volunteers_wishes"
    form_fields = FIELDS
    list_filter = ["state", "community"]
    search_fields = ["title"]
    search_backend_name = None
    inspect_view_enabled = False
    copy_view_enabled = False
    add_to_reference_index = False
    index_view_class = WishIndexView
    add_view_class = WishCreateView
    edit_view_class = WishEditView
    ordering = ["-published_at", "-pk"]

    def get_form_class(self, for_update=False):
        return WishForm

    def get_common_view_kwargs(self, **kwargs):
        return super().get_common_view_kwargs(delete_url_name=None, **kwargs)

    def get_urlpatterns(self):
        return [
            pattern
            for pattern in super().get_urlpatterns()
            if pattern.name not in {"delete"}
        ] + [
            path(
                f"{action}/<int:pk>/",
                WishActionView.as_view(action=action),
                name=action,
            )
            for action in WishActionView.ACTIONS
        ]
