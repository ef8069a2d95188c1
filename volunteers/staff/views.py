"""Admin forms of the volunteer services: 记录服务时长, 更正时长, 时间银行支取 /
转赠, 审核通过 / 退出, and the door page 志愿者签到 (check-in and check-out at an
activity's posts). Every change goes through a service (``roster``, ``bank``,
``posts``); a refusal is its Chinese message on the form, nothing stored."""

from datetime import timedelta

from django import forms
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.views import View
from django.views.generic import TemplateView
from wagtail.admin import messages
from wagtail.admin.views.generic.base import WagtailAdminTemplateMixin

from .. import bank, posts, roster
from ..errors import VolunteerError
from ..models import (
    WITHDRAWAL_KINDS,
    EntryKind,
    PostSignup,
    PostSignupStatus,
    ServiceRecord,
    Volunteer,
    VolunteerPost,
)
from . import access

DOOR_URL_NAME = "volunteers_door"


def find_volunteer(user, raw_code: str) -> Volunteer | None:
    """The volunteer with this code if the user may see them (else None, the
    same for another community's as for a code that does not exist)."""
    code = roster.normalise_code(raw_code)
    if not code:
        return None
    return access.scoped(Volunteer.objects.all(), user).filter(code=code).first()


class ServiceForm(WagtailAdminTemplateMixin, TemplateView):
    """A form whose valid data goes to one service call (``perform``)."""

    template_name = "volunteers/admin/form.html"
    permission = ""
    submit_label = "保存"
    success_url_name = ""
    header_icon = "group"

    def dispatch(self, request, *args, **kwargs):
        if not request.user.has_perm(self.permission):
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)

    def form_class(self):
        raise NotImplementedError

    def get(self, request, *args, **kwargs):
        return self.render(self.form_class()(initial=self.initial()))

    def initial(self) -> dict:
        return {}

    def post(self, request, *args, **kwargs):
        form = self.form_class()(request.POST)
        if form.is_valid():
            try:
                text = self.perform(form.cleaned_data)
            except VolunteerError as error:
                field = error.field if error.field in form.fields else None
                form.add_error(field, error.message)
            else:
                messages.success(request, text)
                return redirect(self.success_url_name)
        return self.render(form, status=400)

    def render(self, form, status=200):
        context = self.get_context_data(form=form, submit_label=self.submit_label)
        return self.render_to_response(context, status=status)

    def perform(self, data) -> str:
        raise NotImplementedError


class CodeField(forms.CharField):
    def __init__(self, **kwargs):
        super().__init__(label="志愿者编号", max_length=20, **kwargs)


class RecordHoursForm(forms.Form):
    code = CodeField()
    date = forms.DateField(
        label="服务日期", widget=forms.DateInput(attrs={"type": "date"})
    )
    hours = forms.CharField(
        label="时长（小时）", max_length=12, help_text="如 2 或 1.5"
    )
    description = forms.CharField(
        label="服务内容", max_length=120, help_text="如“每天民事调解”"
    )


class RecordHoursView(ServiceForm):
    """记录服务时长: hours outside an activity, entered by staff and deposited."""

    page_title = "记录服务时长"
    permission = "volunteers.add_servicerecord"
    success_url_name = "volunteers_records:index"
    submit_label = "记录并存入时间银行"

    def form_class(self):
        return RecordHoursForm

    def initial(self):
        return {"date": timezone.localdate(), "code": self.request.GET.get("code", "")}

    def perform(self, data) -> str:
        volunteer = find_volunteer(self.request.user, data["code"])
        if volunteer is None:
            raise VolunteerError("volunteer_missing", field="code")
        record = bank.record_service(
            volunteer.pk,
            hours=data["hours"],
            day=data["date"],
            description=data["description"],
            user=self.request.user,
        )
        return f"已记录 {volunteer.code} 服务 {record.hours} 小时，并存入时间银行。"


class CorrectHoursForm(forms.Form):
    hours = forms.CharField(label="更正后的时长（小时）", max_length=12)
    reason = forms.CharField(label="更正原因", max_length=120)


class CorrectHoursView(ServiceForm):
    page_title = "更正服务时长"
    permission = "volunteers.change_servicerecord"
    success_url_name = "volunteers_records:index"
    submit_label = "更正"

    def dispatch(self, request, *args, pk, **kwargs):
        self.record = (
            access.scoped(
                ServiceRecord.objects.select_related("volunteer"), request.user
            )
            .filter(pk=pk)
            .first()
        )
        if self.record is None:
            raise Http404("没有找到这条服务记录。")
        return super().dispatch(request, *args, **kwargs)

    def form_class(self):
        return CorrectHoursForm

    def initial(self):
        return {"hours": self.record.hours}

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        record = self.record
        context["intro"] = (
            f"{record.volunteer.code} {record.volunteer.masked_name}："
            f"{record.date} {record.description}，原记录 {record.hours} 小时。"
        )
        return context

    def perform(self, data) -> str:
        record = bank.correct_hours(
            self.record.pk,
            hours=data["hours"],
            reason=data["reason"],
            user=self.request.user,
        )
        return f"已更正为 {record.hours} 小时，原因已记入站点历史。"


class WithdrawForm(forms.Form):
    code = CodeField()
    kind = forms.ChoiceField(
        label="支取类型",
        choices=[(k.value, k.label) for k in WITHDRAWAL_KINDS],
    )
    hours = forms.CharField(label="时长（小时）", max_length=12)
    note = forms.CharField(
        label="用途", max_length=120, help_text="如“上门理发”“兑换大米一袋”"
    )


class WithdrawView(ServiceForm):
    page_title = "时间银行支取"
    permission = "volunteers.add_timebankentry"
    success_url_name = "volunteers_bank:index"
    submit_label = "支取"

    def form_class(self):
        return WithdrawForm

    def perform(self, data) -> str:
        volunteer = find_volunteer(self.request.user, data["code"])
        if volunteer is None:
            raise VolunteerError("volunteer_missing", field="code")
        entry = bank.withdraw(
            volunteer.pk,
            hours=data["hours"],
            kind=data["kind"],
            note=data["note"],
            user=self.request.user,
        )
        return (
            f"{volunteer.code} 已支取 {-entry.hours} 小时"
            f"（{EntryKind(entry.kind).label}），余额 {entry.balance_after} 小时。"
        )


class TransferForm(forms.Form):
    code = CodeField()
    to_code = forms.CharField(label="转给（家人的志愿者编号）", max_length=20)
    hours = forms.CharField(label="时长（小时）", max_length=12)
    note = forms.CharField(label="说明", max_length=120, required=False)


class TransferView(ServiceForm):
    page_title = "时间银行转赠家人"
    permission = "volunteers.add_timebankentry"
    success_url_name = "volunteers_bank:index"
    submit_label = "转赠"

    def form_class(self):
        return TransferForm

    def perform(self, data) -> str:
        giver = find_volunteer(self.request.user, data["code"])
        taker = find_volunteer(self.request.user, data["to_code"])
        if giver is None:
            raise VolunteerError("volunteer_missing", field="code")
        if taker is None:
            raise VolunteerError("volunteer_missing", field="to_code")
        out, _into = bank.transfer(
            giver.pk,
            taker.pk,
            hours=data["hours"],
            note=data["note"],
            user=self.request.user,
        )
        return f"已从 {giver.code} 转给 {taker.code} {-out.hours} 小时。"


class VolunteerActionView(View):
    """审核通过 / 退出 (POST), back to the listing with the outcome."""

    http_method_names = ["post"]
    action = ""

    def post(self, request, pk):
        if not request.user.has_perm("volunteers.change_volunteer"):
            raise PermissionDenied
        volunteer = (
            access.scoped(Volunteer.objects.all(), request.user).filter(pk=pk).first()
        )
        if volunteer is None:
            raise Http404("没有找到这位志愿者。")
        try:
            if self.action == "approve":
                roster.approve(volunteer.pk, user=request.user)
                messages.success(request, f"已审核通过：{volunteer}。")
            else:
                roster.leave(volunteer.pk, user=request.user)
                messages.success(request, f"已退出：{volunteer}。")
        except VolunteerError as error:
            messages.error(request, f"{volunteer.code}：{error.message}")
        return redirect("volunteers_volunteers:index")


# ---------------------------------------------------------------------------
# The door: 志愿者签到 / 签退 at an activity's posts
# ---------------------------------------------------------------------------


class DoorView(WagtailAdminTemplateMixin, TemplateView):
    """志愿者签到: the posts of a session the user may see, each volunteer with
    签到 / 签退 buttons; 签退 records the hours and deposits them.

    GET needs ``volunteers.view_postsignup``; POST ``change_postsignup``."""

    template_name = "volunteers/admin/door.html"
    page_title = "志愿者签到"
    header_icon = "calendar-check"

    def dispatch(self, request, *args, **kwargs):
        if not request.user.has_perm("volunteers.view_postsignup"):
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)

    def sessions(self):
        now = timezone.now()
        posts_ = access.scoped(VolunteerPost.objects.all(), self.request.user).filter(
            occurrence__start__gte=now - timedelta(days=1)
        )
        seen, sessions = set(), []
        for post in posts_.select_related("occurrence__page").order_by(
            "occurrence__start", "pk"
        )[:200]:
            if post.occurrence_id not in seen:
                seen.add(post.occurrence_id)
                sessions.append(post.occurrence)
        return sessions

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        raw = self.request.GET.get("occurrence", "")
        chosen = int(raw) if raw.isascii() and raw.isdigit() and len(raw) < 12 else None
        sessions = self.sessions()
        if chosen is None and sessions:
            chosen = sessions[0].pk
        personal = access.can_see_personal_data(self.request.user)
        signups = list(
            access.scoped(PostSignup.objects.all(), self.request.user)
            .filter(occurrence_id=chosen, status=PostSignupStatus.CONFIRMED)
            .select_related("post", "volunteer", "record")
            .order_by("post__pk", "created_at")
        )
        for signup in signups:
            signup.shown_name = access.display_name(signup.volunteer, personal)
            signup.shown_phone = access.display_phone(signup.volunteer, personal)
        context.update(
            sessions=sessions,
            chosen=chosen,
            signups=signups,
            can_change=self.request.user.has_perm("volunteers.change_postsignup"),
        )
        return context

    def post(self, request):
        if not request.user.has_perm("volunteers.change_postsignup"):
            raise PermissionDenied
        raw = request.POST.get("signup", "")
        signup = None
        if raw.isascii() and raw.isdigit() and len(raw) < 12:
            signup = (
                access.scoped(PostSignup.objects.all(), request.user)
                .filter(pk=int(raw))
                .select_related("volunteer")
                .first()
            )
        if signup is None:
            messages.error(request, "没有找到这份岗位报名。")
            return redirect(DOOR_URL_NAME)
        try:
            if request.POST.get("action") == "check_out":
                done = posts.check_out(signup.pk, user=request.user)
                messages.success(
                    request,
                    f"{signup.volunteer.code} 已签退，服务 {done.record.hours} 小时，"
                    "已存入时间银行。",
                )
            else:
                posts.check_in(signup.pk, user=request.user)
                messages.success(request, f"{signup.volunteer.code} 已签到。")
        except VolunteerError as error:
            messages.error(request, f"{signup.volunteer.code}：{error.message}")
        return redirect(f"{reverse(DOOR_URL_NAME)}?occurrence={signup.occurrence_id}")
