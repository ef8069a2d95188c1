"""The door page 现场签到 (``events_checkin``): a sign-up found by its code (typed,
or the resident's QR code, which opens ``?code=…``) or by the session and the
last four digits of the phone (``door.py``), then 确认签到 through the service."""

from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.views.generic import TemplateView
from wagtail.admin.views.generic.base import WagtailAdminTemplateMixin

from .. import registration as service
from ..models import Registration
from ..privacy import display_name, display_phone
from . import access, door
from .roster import roster_url
from .views import (
    INDEX_URL_NAME,
    checkin_url,
    log_reveal,
    perform_check_in,
    status_text,
)


class CheckInView(WagtailAdminTemplateMixin, TemplateView):
    """现场签到 at the door, on a staff phone: type the code or scan the resident's
    QR code (which opens ``events_checkin?code=…``), see the sign-up, press 确认签到.

    GET needs ``events.view_registration``; POST ``events.change_registration``.
    """

    template_name = "events/admin/checkin.html"
    page_title = "现场签到"
    header_icon = "calendar-check"
    http_method_names = ["get", "post"]

    def dispatch(self, request, *args, **kwargs):
        if not access.can_view(request.user):
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)

    def get_breadcrumbs_items(self):
        return self.breadcrumbs_items + [
            {"url": reverse(INDEX_URL_NAME), "label": "报名管理"},
            {"url": "", "label": self.page_title},
        ]

    def find(self, code: str) -> tuple[Registration | None, str]:
        """(registration, "") or (None, the reason to show)."""
        registration = (
            Registration.objects.select_related("page", "occurrence")
            .filter(code=code)
            .first()
            if code
            else None
        )
        # Another community's code is answered as an unknown one: saying it
        # exists would tell an editor what they may not see.
        if registration is None or not access.in_scope(registration, self.request.user):
            return None, f"没有找到报名码 {code[:20]}，请核对。"
        return registration, ""

    def get(self, request):
        raw = request.GET.get("code", "")
        code = service.normalise_code(raw)
        if not code and "last4" in request.GET:
            return self.phone_lookup(request.GET)
        if not code:
            return self.render(code="")
        registration, problem = self.find(code)
        if registration is None:
            return self.render(code=code, problem=problem, status=404)
        return self.render(code=code, registration=registration)

    def post(self, request):
        if not access.can_change(request.user):
            raise PermissionDenied
        code = service.normalise_code(request.POST.get("code", ""))
        registration, problem = self.find(code)
        if registration is None:
            return self.render(code=code, problem=problem, status=404)
        perform_check_in(request, registration)
        return redirect(checkin_url(code, self.chosen_session_id(request.POST)))

    # By the phone's last four digits (events/staff/door.py) ----------------

    def chosen_session_id(self, params) -> int | None:
        try:
            return door.parse_session_id(params.get("occurrence", ""))
        except door.DoorLookupError:
            return None

    def phone_lookup(self, params):
        """``?occurrence=&last4=&initial=``: one match shows its card, several a
        list to choose from, none (or another community's session) a 404."""
        try:
            session_id = door.parse_session_id(params.get("occurrence", ""))
            if session_id is None:
                raise door.DoorLookupError(door.NO_SESSION)
            last4 = door.parse_last4(params.get("last4", ""))
            initial = door.parse_initial(params.get("initial", ""))
        except door.DoorLookupError as error:
            return self.render(code="", lookup_problem=error.message)
        if door.over_limit(self.request):
            return self.render(code="", lookup_problem=door.TOO_MANY, status=429)
        try:
            session = door.find_session(self.request.user, session_id)
        except door.DoorLookupError as error:
            return self.render(code="", lookup_problem=error.message, status=404)
        result = door.lookup(self.request.user, session, last4, initial)
        if not result.matches:
            problem = door.not_found_message(last4)
            return self.render(
                code="", lookup=result, lookup_problem=problem, status=404
            )
        if result.found is not None:
            return self.render(
                code=result.found.code, registration=result.found, lookup=result
            )
        return self.render(code="", lookup=result)

    def lookup_context(self, lookup, registration) -> dict:
        """The session list of the lookup form and, for several matches, the
        list to choose from (full names shown are logged, as on the card)."""
        user = self.request.user
        chosen = lookup.session if lookup else None
        if chosen is None and registration is not None:
            chosen = registration.occurrence
        sessions, chosen = door.sessions_offered(
            user, chosen, self.chosen_session_id(self.request.GET)
        )
        context = {
            # Staff looking people up by phone: that form first, focused.
            "phone_mode": bool(lookup or self.request.GET.get("occurrence")),
            "sessions": sessions,
            "chosen_session": chosen,
            "lookup": lookup,
            "last4": lookup.last4 if lookup else "",
            "initial": lookup.initial if lookup else "",
        }
        if chosen is not None:
            context["roster_url"] = roster_url(chosen.pk)
        if lookup and len(lookup.matches) > 1:
            personal = access.can_see_personal_data(user)
            context["choices"] = [
                {
                    "registration": match,
                    "name": display_name(match, personal),
                    "phone": display_phone(match, personal),
                    "status_text": status_text(match),
                    "url": checkin_url(match.code, lookup.session.pk),
                }
                for match in lookup.matches
            ]
            for match in lookup.matches:
                log_reveal(user, match)
        return context

    def render(
        self,
        *,
        code,
        registration=None,
        problem="",
        status=200,
        lookup=None,
        lookup_problem="",
    ):
        user = self.request.user
        context = self.get_context_data(
            code=code, problem=problem, lookup_problem=lookup_problem
        )
        context.update(self.lookup_context(lookup, registration))
        context["phone_mode"] = context["phone_mode"] or bool(lookup_problem)
        if registration is not None:
            personal = access.can_see_personal_data(user)
            log_reveal(user, registration)
            start = registration.occurrence.local_start
            today = timezone.localdate()
            context.update(
                registration=registration,
                name=display_name(registration, personal),
                phone=display_phone(registration, personal),
                status_text=status_text(registration),
                occurrence_start=start,
                occurrence_end=registration.occurrence.local_end,
                not_today=start.date() != today,
                occurrence_cancelled=registration.occurrence.cancelled,
                can_check_in=access.can_change(user)
                and registration.is_confirmed
                and not registration.checked_in_at,
                history_url=reverse(
                    "events_registrations:history", args=[registration.pk]
                ),
            )
        return TemplateResponse(
            self.request, self.get_template_names(), context, status=status
        )
