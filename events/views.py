"""Public views of the activity pages (routed by ``EventPage`` and
``EventIndexPage`` in ``events/models.py``, whose routes only call these): the
activity page, its sign-up form and POST, the resident's result and cancel pages,
the check-in QR, the index, the month view and the calendar feeds.

Each view builds its own context and renders through the page's
``render(request, template=…, context_overrides=…)``; the pages' ``get_context``
is Wagtail's (page, request), so nothing calls back into this module."""

from datetime import date, timedelta

from django.db import DatabaseError
from django.http import Http404, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils import timezone
from django.utils.functional import SimpleLazyObject
from wagtail import hooks
from wagtail.views import serve as wagtail_serve

from core.models import filter_query, int_or_none, paginate
from home.models import CommunityPage, SiteSettings
from portal import failure, pagecache

from . import ical, limits, signup_cookie
from .errors import AlreadySignedUpError, BusyError, SignupError, message
from .forms import SignUpForm
from .models import EVENT_KINDS, Occurrence, Registration
from .occurrences import (
    ListedOccurrences,
    attach_events,
    group_by_day,
    listed_occurrences,
    month_bounds,
    month_grid,
)
from .recap import live_recap_link
from .registration import cancel, closed_reason, sign_up, waitlist_position

SHOWN_OCCURRENCES = 12  # coming dates listed on a recurring activity's page


def serve_page_file(request, path):
    """Serve ``…/calendar.ics`` through the page's ``calendar.ics/`` route, since
    Wagtail's page URLs are made of “name/” segments only."""
    return wagtail_serve(
        request, path + "/"
    )  # upcoming dates listed on a recurring activity's page


# Wagtail's page view underneath: it gets the remembered site (core/sites.py).
serve_page_file.serves_pages = True


# One test for "inside WeChat", shared with the page cache key that keeps the two
# variants of a page apart.
in_wechat = pagecache.in_wechat


def calendar_links(request, feed_path: str) -> dict:
    """Download and subscribe (webcal://) addresses of a feed."""
    url = request.build_absolute_uri(feed_path)
    return {
        "ics_url": feed_path,
        "webcal_url": "webcal://" + url.split("://", 1)[1],
        "in_wechat": in_wechat(request),
    }


# ---------------------------------------------------------------------------
# Activity page and sign-up
# ---------------------------------------------------------------------------


def page_occurrences(page, now=None) -> list[Occurrence]:
    """The page's coming occurrences (not cancelled), soonest first."""
    now = now or timezone.now()
    return list(
        Occurrence.objects.filter(
            page_id=page.pk, cancelled=False, start__gte=now
        ).order_by("start")[:SHOWN_OCCURRENCES]
    )


def event_page_context(page, request, form=None, with_form=False) -> dict:
    """Context of the activity page, and with ``with_form`` of its sign-up page.
    The activity page itself carries no form (and so no CSRF token): it is the
    page a WeChat group opens all at once, and must be servable from the shared
    page cache. The form lives at ``signup/``, which is never cached."""
    pagecache.depends_on(request, "seats")
    now = timezone.now()
    upcoming = page_occurrences(page, now)
    open_occurrences = [o for o in upcoming if not closed_reason(page, o, now)]
    if open_occurrences:
        reason = ""
    elif upcoming:
        reason = closed_reason(page, upcoming[0], now)
    elif page.registration_required:
        reason = message("closed")
    else:
        reason = ""
    if with_form and form is None and open_occurrences:
        form = SignUpForm(
            page=page,
            occurrences=open_occurrences,
            chosen=int_or_none(request.GET.get("occurrence")),  # a tapped session
        )
    settings = SiteSettings.for_request(request)
    return {
        "has_ended": not upcoming and page.has_ended(now),
        "occurrences": upcoming,
        "open_occurrences": open_occurrences,
        "signup_open": bool(open_occurrences),
        "signup_form": form if open_occurrences else None,
        "signup_closed_reason": reason,
        "privacy_page": settings.privacy_page,
        "recap_link": live_recap_link(page),
        **calendar_links(request, page.url + "calendar.ics"),
    }


# Apps above events add sections to the activity page without events knowing
# them: each function registered under this hook name is called with (page,
# request, coming occurrences) and returns HTML or "" (volunteers: 志愿岗位).
PAGE_SECTIONS_HOOK = "event_page_sections"


def page_sections(page, request, occurrences) -> list[str]:
    sections = (
        fn(page, request, occurrences) for fn in hooks.get_hooks(PAGE_SECTIONS_HOOK)
    )
    return [html for html in sections if html]


def event_detail(page, request):
    """The activity page (its template by type): dates, seats, how to sign up,
    and the sections other apps add (``PAGE_SECTIONS_HOOK``)."""
    context = event_page_context(page, request)
    context["page_sections"] = page_sections(page, request, context["occurrences"])
    return page.render(request, context_overrides=context)


SIGNUP_TEMPLATE = "events/event_signup_page.html"


def render_signup(
    page,
    request,
    form=None,
    status: int = 200,
    retry: bool = False,
    already_signed_up: bool = False,
):
    response = page.render(
        request,
        template=SIGNUP_TEMPLATE,
        context_overrides={
            **event_page_context(page, request, form, with_form=True),
            "signup_retry": retry,
            # The phone holds a sign-up here: the way to it is 我的报名.
            "already_signed_up": already_signed_up,
        },
    )
    response.status_code = status
    if retry:
        response["Retry-After"] = "3"
    return response


def signup(page, request):
    """GET shows the sign-up form; POST signs up through the service and sends the
    resident to their result page, or shows the form again with the input kept.
    The same phone again for the same date leads back to the existing sign-up
    only in the browser that made it (``events/signup_cookie.py``)."""
    if not page.registration_required:
        return HttpResponseRedirect(page.url)
    if request.method != "POST":
        return render_signup(page, request)
    now = timezone.now()
    open_occurrences = [
        o for o in page_occurrences(page, now) if not closed_reason(page, o, now)
    ]
    form = SignUpForm(request.POST, page=page, occurrences=open_occurrences)
    # Counted against the address before validation, so bad and bot posts count
    # too; the phone's count holds only sign-ups made (count_signup below).
    if (limited := limits.check_signup(request)) is not None:
        form.add_error(None, limited.text)
        return limits.too_many(render_signup(page, request, form), limited)
    if not open_occurrences:
        # Show why; nothing to sign up for.
        return render_signup(page, request, status=409)
    if not form.is_valid():
        return render_signup(page, request, form, 400)
    data = form.cleaned_data
    try:
        result = sign_up(
            page,
            data["occurrence"],
            name=data["name"],
            phone=data["phone"],
            party_size=data["party_size"],
            household=data["household"],
            note=data["note"],
            sms_consent=data["sms_consent"],
            mine=signup_cookie.held(request),
        )
    except SignupError as error:
        if isinstance(error, BusyError):  # nothing stored: the same form again
            return render_signup(page, request, form, 503, retry=True)
        field = error.field if error.field in form.fields else None
        form.add_error(field, error.message)
        return render_signup(
            page,
            request,
            form,
            409,
            already_signed_up=isinstance(error, AlreadySignedUpError),
        )
    except DatabaseError as error:
        # Nothing was stored: the transaction rolled back, or its commit failed.
        # If the form cannot be drawn either (database gone), portal/failure.py
        # answers instead, with the typed fields kept as well.
        failure.log_outage(request, error)
        form.add_error(None, failure.SIGNUP_NOT_SAVED)
        response = render_signup(page, request, form, 503)
        response["Retry-After"] = str(failure.RETRY_AFTER)
        response._has_been_logged = True  # above, with the exception
        return response
    if result.created:  # committed: now it counts against the phone number
        limits.count_signup(request)
    response = HttpResponseRedirect(result_url(page, result.registration), status=303)
    return signup_cookie.remember(request, response, result.registration.pk)


def result_url(page, registration) -> str:
    return f"{page.url}r/{registration.token}/"


def personal(response):
    """A page only its holder should see: not cached, not indexed."""
    response["Cache-Control"] = "private, no-store"
    response["X-Robots-Tag"] = "noindex, nofollow"
    return response


def get_registration(page, token) -> Registration:
    registration = (
        Registration.objects.select_related("occurrence")
        .filter(page_id=page.pk, token=token)
        .first()
    )
    if registration is None or len(token) < 20:
        raise Http404("没有找到这份报名")
    return registration


def checkin_url(request, registration) -> str:
    return request.build_absolute_uri(
        reverse("events_checkin") + f"?code={registration.code}"
    )


def qr_svg(request, registration, scale=5) -> str:
    import segno  # only for these pictures: not at start-up

    qr = segno.make(checkin_url(request, registration), error="m")
    return qr.svg_inline(scale=scale, dark="#1f2933", title="签到二维码")


def registration_result(page, request, token):
    registration = get_registration(page, token)
    response = page.render(
        request,
        template="events/registration_result.html",
        context_overrides={
            "registration": registration,
            "occurrence": registration.occurrence,
            "position": waitlist_position(registration),
            "qr": qr_svg(request, registration) if registration.is_active else "",
            "result_url": result_url(page, registration),
            **calendar_links(
                request,
                result_url(page, registration) + "calendar.ics",
            ),
        },
    )
    return personal(response)


def registration_cancel(page, request, token):
    registration = get_registration(page, token)
    if request.method == "POST":
        erase = request.POST.get("erase") == "1"
        try:
            cancel(registration.pk, erase=erase)
        except SignupError as error:
            if not isinstance(error, BusyError):
                raise Http404(error.message) from error
            response = page.render(
                request,
                template="events/registration_cancel.html",
                context_overrides={"registration": registration, "retry": True},
            )
            response.status_code = 503
            return personal(response)
        return personal(
            HttpResponseRedirect(result_url(page, registration), status=303)
        )
    response = page.render(
        request,
        template="events/registration_cancel.html",
        context_overrides={
            "registration": registration,
            "occurrence": registration.occurrence,
            "result_url": result_url(page, registration),
        },
    )
    return personal(response)


def registration_qr(page, request, token):
    registration = get_registration(page, token)
    if not registration.is_active:
        raise Http404("报名已取消")
    import segno  # only for these pictures: not at start-up

    qr = segno.make(checkin_url(request, registration), error="m")
    response = HttpResponse(
        qr.svg_inline(scale=8, title="签到二维码"), content_type="image/svg+xml"
    )
    return personal(response)


def event_feed(page, request):
    """The activity's ``.ics`` (``?occurrence=`` one of its dates), or 304 when the
    calendar app's copy is current."""
    occurrence_id = int_or_none(request.GET.get("occurrence"))
    occurrence = None
    if occurrence_id is not None:
        occurrence = ical.find_occurrence(page, occurrence_id)
    return ical.conditional_response(
        request,
        ical.event_feed_version(page, request, occurrence),
        lambda: ical.event_feed_response(page, request, occurrence),
    )


# ---------------------------------------------------------------------------
# Index: upcoming list, past list, month view, feed
# ---------------------------------------------------------------------------


def index_filters(request) -> dict:
    community = int_or_none(request.GET.get("community"))
    kind = request.GET.get("type") or ""
    if kind not in dict(EVENT_KINDS):
        kind = ""
    return {"community": community, "kinds": [kind] if kind else None, "kind": kind}


def filter_choices(request, filters) -> dict:
    return {
        # The choices change only with the tree: kept per content generation.
        "communities": pagecache.remember(
            "filter-communities",
            lambda: list(
                CommunityPage.objects.live().order_by("path").values("id", "title")
            ),
        ),
        "kinds": EVENT_KINDS,
        "selected_community": filters["community"],
        "selected_type": filters["kind"],
        "filter_query": filter_query(
            community=filters["community"], type=filters["kind"]
        ),
    }


def event_index(index, request):
    """活动日历: upcoming (or ``?when=past``) activities by day, filtered."""
    return index.render(request, context_overrides=event_index_context(index, request))


def event_index_context(index, request, month=None) -> dict:
    """Filters and feed links of the index; with no ``month``, the list too."""
    pagecache.depends_on(request, "seats")
    filters = index_filters(request)
    context = filter_choices(request, filters)
    feed = index.url + "calendar.ics"
    if context["filter_query"]:
        feed += "?" + context["filter_query"].rstrip("&")
    context.update(calendar_links(request, feed))
    if month is not None:
        return context
    past = request.GET.get("when") == "past"
    now = timezone.now()
    occurrences = ListedOccurrences(
        index.home_path,
        now=now,
        past=past,
        community=filters["community"],
        kinds=filters["kinds"],
    )

    # Lazy: the list is a cached fragment (event_index_page.html), and on a hit
    # nothing here queries.
    events = SimpleLazyObject(lambda: paginate(request, occurrences, index.per_page))
    context.update(
        events=events,
        days=SimpleLazyObject(
            lambda: group_by_day(
                attach_events(events.object_list, sessions_from=None if past else now)
            )
        ),
        past=past,
        page_number=int_or_none(request.GET.get("page")),
    )
    return context


def parse_month(value: str | None) -> date:
    """ "2026-12" → 2026-12-01; anything else → this month."""
    today = timezone.localdate()
    try:
        year, month = (int(part) for part in (value or "").split("-"))
        if 2000 <= year <= 2100 and 1 <= month <= 12:
            return date(year, month, 1)
    except ValueError:
        pass
    return today.replace(day=1)


def month_view(index, request):
    month = parse_month(request.GET.get("m"))
    filters = index_filters(request)
    start, end = month_bounds(month)
    items = attach_events(
        listed_occurrences(
            index.home_path,
            community=filters["community"],
            kinds=filters["kinds"],
            start=start,
            end=end,
        )
    )
    previous = (month.replace(day=1) - timedelta(days=1)).replace(day=1)
    following = (month.replace(day=28) + timedelta(days=4)).replace(day=1)
    return index.render(
        request,
        template="events/event_month_page.html",
        context_overrides={
            **event_index_context(index, request, month=month),
            "month": month,
            "weeks": month_grid(month, items),
            "days": group_by_day(items),
            "previous_month": previous,
            "next_month": following,
            "today": timezone.localdate(),
        },
    )


def index_feed(index, request):
    """The 活动日历 feed (``?community=&type=``), or 304 when the calendar app's
    copy is current."""
    filters = index_filters(request)
    return ical.conditional_response(
        request,
        ical.index_feed_version(index, request),
        lambda: ical.index_feed_response(
            index, request, community=filters["community"], kinds=filters["kinds"]
        ),
    )
