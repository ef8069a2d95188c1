"""活动回顾 in the admin: the confirmation page behind the 活动回顾 buttons (the
activity's edit view header, 报名管理 filtered to one activity) and the POST that
drafts the article through ``events.recap.draft_recap``.

GET shows what the draft will say (or that one exists, or why there can be
none); only POST, with Django's CSRF token, changes anything. Then the editor
lands in the article's edit view to add photos and submit it for approval.
"""

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect
from django.urls import reverse
from django.views.generic import TemplateView
from wagtail.admin.views.generic.base import WagtailAdminTemplateMixin
from wagtail.models import Page

from .. import recap
from ..models import EventPage

URL_NAME = "events_recap"


def recap_url(page) -> str:
    return reverse(URL_NAME, args=[page.pk])


def event_or_404(page_id: int) -> EventPage:
    page = Page.objects.filter(pk=page_id).first()
    specific = page.specific if page is not None else None
    if not isinstance(specific, EventPage):
        raise Http404
    return specific


class RecapView(WagtailAdminTemplateMixin, TemplateView):
    template_name = "events/admin/recap_confirm.html"
    page_title = "活动回顾"
    header_icon = "doc-full"
    http_method_names = ["get", "post"]

    def dispatch(self, request, page_id):
        self.event = event_or_404(page_id)
        self.parent = recap.recap_parent(self.event)
        if not recap.can_draft(self.event, request.user):
            # Say why, rather than Wagtail's bare "no permission" page.
            if self.parent is None:
                problem = recap.MESSAGES["no_parent"]
            else:
                problem = recap.MESSAGES["forbidden"].format(parent=self.parent.title)
            response = self.render_to_response(
                self.get_context_data(problem=problem, forbidden=True)
            )
            response.status_code = 403
            return response
        return super().dispatch(request)

    def get_page_subtitle(self):
        return self.event.title

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        problem = kwargs.get("problem", "")
        if kwargs.get("forbidden"):
            context.update(event=self.event, problem=problem, existing=None)
            return context
        existing = recap.existing_recap(self.event)
        numbers = recap.figures(self.event)
        if not existing and not problem:
            if self.event.is_cancelled:
                problem = recap.MESSAGES["cancelled"]
            elif not numbers.sessions:
                problem = recap.MESSAGES["not_ended"]
        context.update(
            event=self.event,
            parent=self.parent,
            existing=existing,
            existing_url=(
                reverse("wagtailadmin_pages:edit", args=[existing.pk])
                if existing
                else ""
            ),
            figures=numbers,
            problem=problem,
            title=recap.TITLE_PREFIX + self.event.title,
        )
        return context

    def post(self, request):
        try:
            article, created = recap.draft_recap(self.event, user=request.user)
        except recap.RecapError as error:
            response = self.render_to_response(
                self.get_context_data(problem=error.message)
            )
            response.status_code = 409
            return response
        if created:
            messages.success(
                request,
                f"已起草“{article.title}”。请补充活动经过、上传照片，再提交审核。",
            )
        else:
            messages.info(request, f"这个活动已有回顾“{article.title}”，已为您打开。")
        return redirect("wagtailadmin_pages:edit", article.pk)
