"""Admin hooks of the volunteers app: the 志愿服务 menu group (teams,
volunteers, posts, service records, the time bank), the forms that write
through the services, the door page 志愿者签到, and the audit-log actions."""

from django.urls import path, reverse
from wagtail import hooks
from wagtail.admin.menu import MenuItem

from . import audit
from .staff import views
from .staff.viewsets import VolunteerViewSetGroup
from .staff.wish_admin import WishViewSet


class VolunteerMenu(VolunteerViewSetGroup):
    """The 志愿服务 group with 微心愿 (volunteers/staff/wish_admin.py) last."""

    items = (*VolunteerViewSetGroup.items, WishViewSet)


@hooks.register("register_admin_viewset")
def register_volunteer_viewsets():
    return VolunteerMenu()


@hooks.register("register_admin_urls")
def register_volunteer_urls():
    return [
        path("volunteers/door/", views.DoorView.as_view(), name=views.DOOR_URL_NAME),
        path(
            "volunteers/hours/",
            views.RecordHoursView.as_view(),
            name="volunteers_record_hours",
        ),
        path(
            "volunteers/hours/<int:pk>/correct/",
            views.CorrectHoursView.as_view(),
            name="volunteers_correct_hours",
        ),
        path(
            "volunteers/bank/withdraw/",
            views.WithdrawView.as_view(),
            name="volunteers_withdraw",
        ),
        path(
            "volunteers/bank/transfer/",
            views.TransferView.as_view(),
            name="volunteers_transfer",
        ),
    ]


class DoorMenuItem(MenuItem):
    def is_shown(self, request):
        return request.user.has_perm("volunteers.view_postsignup")


@hooks.register("register_admin_menu_item")
def register_door_menu_item():
    return DoorMenuItem(
        "志愿者签到",
        reverse(views.DOOR_URL_NAME),
        name="volunteers-door",
        icon_name="calendar-check",
        order=252,
    )


@hooks.register("register_log_actions")
def register_volunteer_log_actions(actions):
    for action, formatter in audit.FORMATTERS.items():
        actions.register_action(action)(formatter)
