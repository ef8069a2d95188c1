"""签到表: an A4 roster of one session, printed from the browser's print dialog,
for a door without a phone (or for residents without one).

``events_registrations:roster`` (``/admin/registrations/roster/<occurrence>/``),
linked from 报名管理 (the 场次 column and, when filtered by a session, a header
button) and from the door page. Needs ``events.view_registration``; another
community's session is a 404, as on the door page. The confirmed sign-ups with
their code, name (masked unless the user may see personal data; a printed sheet
lies about at the door), masked phone, party size and a box to tick; then the
waitlist. Printing with full names is logged like the other views of personal
data. Two queries for the sheet whatever its length (the session with its page,
the sign-ups), plus the page's venue.
"""

from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils import timezone
from django.views.generic import TemplateView
from wagtail.admin.ui.tables import Column

from ..models import ACTIVE_STATUSES, Registration
from ..privacy import display_name
from . import access, audit

ROSTER_URL_NAME = "events_registrations:roster"


def roster_url(occurrence_id: int) -> str:
    return reverse(ROSTER_URL_NAME, args=[occurrence_id])


class RosterView(TemplateView):
    """One session's roster, a page of its own (no admin menu) that prints on A4."""

    template_name = "events/admin/roster.html"
    http_method_names = ["get"]

    def dispatch(self, request, *args, **kwargs):
        if not access.can_view(request.user):
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        user = self.request.user
        session = get_object_or_404(
            access.scoped_occurrences(user).select_related("page", "community"),
            pk=self.kwargs["pk"],
        )
        page = session.page.specific_deferred
        personal = access.can_see_personal_data(user)
        signups = list(
            Registration.objects.filter(
                occurrence=session,
                status__in=ACTIVE_STATUSES,
            ).order_by("created_at", "pk")
        )
        confirmed = [r for r in signups if r.is_confirmed]
        from pypinyin import lazy_pinyin  # 0.4 s to import: not in every process

        # In pinyin order of the name as printed (王** under W), then by code:
        # staff find a row by the family name the resident says.
        confirmed.sort(
            key=lambda r: ("".join(lazy_pinyin(display_name(r, personal))), r.code)
        )
        waitlisted = [r for r in signups if r.is_waitlisted]  # in their order
        rows = [self.row(r, personal) for r in confirmed]
        waiting = [
            {**self.row(r, personal), "position": position}
            for position, r in enumerate(waitlisted, start=1)
        ]
        if personal and signups:
            audit.log_list(
                audit.VIEW_PERSONAL_DATA,
                user,
                title=f"签到表：{session.page.title} {audit.local(session.start)}",
                data={
                    "roster": True,
                    "rows": len(signups),
                    "page_id": session.page_id,
                    "page_title": session.page.title,
                    "occurrence_id": session.pk,
                    "occurrence_start": audit.local(session.start),
                },
            )
        context.update(
            session=session,
            page=page,
            title=session.page.title,
            start=session.local_start,
            end=session.local_end,
            venue=getattr(page, "venue", ""),
            community=session.community.title if session.community else "",
            personal=personal,
            rows=rows,
            waiting=waiting,
            people=sum(r.party_size for r in confirmed),
            waiting_people=sum(r.party_size for r in waitlisted),
            printed_at=timezone.localtime(),
            back_url=f"{reverse('events_registrations:index')}?occurrence={session.pk}",
            door_url=f"{reverse('events_checkin')}?occurrence={session.pk}",
        )
        return context

    @staticmethod
    def row(registration: Registration, personal: bool) -> dict:
        return {
            "code": registration.code,
            "name": display_name(registration, personal),
            "phone": registration.masked_phone,
            "party_size": registration.party_size,
            "checked_in_at": registration.checked_in_at
            and timezone.localtime(registration.checked_in_at),
        }


class SessionColumn(Column):
    """报名管理's 场次 column: the session's time and a link to its 签到表."""

    cell_template_name = "events/admin/session_cell.html"

    def get_cell_context_data(self, instance, parent_context):
        context = super().get_cell_context_data(instance, parent_context)
        context["roster_url"] = roster_url(instance.occurrence_id)
        return context
