"""报名管理 in the Wagtail admin: a read-only ``ModelViewSet`` for ``Registration``.

URLs (namespace ``events_registrations``, under ``/admin/registrations/``):
``index`` and ``index_results`` (the listing; ``?export=xlsx|csv``),
``history`` / ``history_results`` (操作记录 of one sign-up), ``check_in`` (POST)
and ``cancel`` (GET confirmation, POST), ``roster`` (the A4 签到表 of one session,
``roster.py``). No add / edit / delete / copy: residents
sign up on the site and staff change state only through those two actions.
"""

from django.contrib.auth.models import Permission
from django.contrib.contenttypes.models import ContentType
from django.urls import path
from wagtail.admin.admin_url_finder import ModelAdminURLFinder
from wagtail.admin.viewsets.model import ModelViewSet
from wagtail.permissions import policy_registry

from ..models import Registration
from . import views
from .filters import RegistrationFilterSet
from .roster import RosterView


class RegistrationURLFinder(ModelAdminURLFinder):
    """Links from the audit log (站点历史) to a sign-up's door page, which shows its
    details, for users who may see sign-ups."""

    def get_edit_url(self, instance):
        policy = policy_registry.get(instance)
        if self.user and not policy.user_has_permission(self.user, "view"):
            return None
        return self.construct_edit_url(instance)

    def construct_edit_url(self, instance):
        return views.checkin_url(instance.code)


class RegistrationViewSet(ModelViewSet):
    model = Registration
    name = "registrations"
    url_namespace = "events_registrations"
    icon = "clipboard-list"
    menu_label = "报名管理"
    menu_name = "registrations"
    menu_order = 250
    add_to_admin_menu = True
    add_to_reference_index = False
    copy_view_enabled = False
    inspect_view_enabled = False

    index_view_class = views.RegistrationIndexView
    index_template_name = "events/admin/registration_index.html"
    history_view_class = views.RegistrationHistoryView
    filterset_class = RegistrationFilterSet
    list_per_page = 50
    ordering = "-created_at"
    # Registration is not indexed by Wagtail search: the listing searches with
    # the ORM (``RegistrationIndexView.search_queryset``; masked for users
    # without personal data).
    search_fields = ["code", "name", "phone"]
    search_backend_name = None

    list_export = [
        "code",
        "page.title",
        "occurrence.start",
        "name",
        "phone",
        "party_size",
        "status",
        "checked_in_at",
        "created_at",
        "household",
        "note",
    ]
    export_headings = {
        "code": "报名码",
        "page.title": "活动",
        "occurrence.start": "场次",
        "name": "姓名",
        "phone": "手机号",
        "party_size": "人数",
        "status": "状态",
        "checked_in_at": "签到时间",
        "created_at": "报名时间",
        "household": "所在社区/楼院",
        "note": "备注",
    }
    export_filename = "报名名单"

    def get_common_view_kwargs(self, **kwargs):
        # Read-only: no add / edit / delete / usage views to link to.
        return super().get_common_view_kwargs(
            add_url_name=None,
            edit_url_name=None,
            delete_url_name=None,
            usage_url_name=None,
            **kwargs,
        )

    def get_index_view_kwargs(self, **kwargs):
        return super().get_index_view_kwargs(
            check_in_url_name=self.get_url_name("check_in"),
            cancel_url_name=self.get_url_name("cancel"),
            history_url_name=self.get_url_name("history"),
            **kwargs,
        )

    def get_action_view_kwargs(self):
        return {"index_url_name": self.get_url_name("index")}

    @property
    def check_in_view(self):
        return views.CheckInActionView.as_view(**self.get_action_view_kwargs())

    @property
    def cancel_view(self):
        return views.CancelView.as_view(**self.get_action_view_kwargs())

    def get_urlpatterns(self):
        return [
            path("", self.index_view, name="index"),
            path("results/", self.index_results_view, name="index_results"),
            path("history/<int:pk>/", self.history_view, name="history"),
            path(
                "history-results/<int:pk>/",
                self.history_results_view,
                name="history_results",
            ),
            path("check-in/<int:pk>/", self.check_in_view, name="check_in"),
            path("cancel/<int:pk>/", self.cancel_view, name="cancel"),
            path("roster/<int:pk>/", RosterView.as_view(), name="roster"),
        ]

    @property
    def url_finder_class(self):
        return RegistrationURLFinder

    def get_permissions_to_register(self):
        """In 设置 › 用户组: 查看, 修改 (签到/取消) and 查看报名人姓名和手机号. Adding
        and deleting sign-ups is not something staff do."""
        content_type = ContentType.objects.get_for_model(Registration)
        return Permission.objects.filter(
            content_type=content_type,
            codename__in=[
                "view_registration",
                "change_registration",
                "view_personal_data",
            ],
        )
