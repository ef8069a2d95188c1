"""Public views of 志愿服务 (routed by ``VolunteerIndexPage``, whose routes only
call these): the index, a team's page, the 时间银行 page, the application form
and its result, and a post's sign-up form (phone + 志愿者编号).

The index, team and time-bank pages hold no form and no personal data: they
are served from the page cache like any content page, and show hours and
counts that change as volunteers serve, so they depend on the ``seats``
generation, which ``volunteers/signals.py`` bumps when volunteer data changes.
Forms and results are per visitor (CSRF, ``private, no-store``).
"""

from decimal import Decimal
from itertools import groupby

from django.core import signing
from django.db import DatabaseError
from django.db.models import Count, Q, Sum
from django.http import Http404, HttpResponseRedirect
from django.utils import timezone

from events import limits
from events.views import personal
from home.models import SiteSettings
from portal import failure, pagecache

from . import certificate, posts, roster
from .errors import BusyError, InvalidInputError, VolunteerError
from .forms import NOT_FOUND, ApplyForm, CredentialsForm
from .models import (
    EntryKind,
    PostSignupStatus,
    ServiceRecord,
    TimeBankAccount,
    TimeBankEntry,
    VolunteerPost,
    VolunteerSettings,
    VolunteerStatus,
)

APPLY_LIMIT_GROUP = "volunteer-apply"
POST_LIMIT_GROUP = "volunteer-post"
APPLIED_SALT = "volunteers.applied"
APPLIED_SECONDS = 24 * 3600
STAR_NAMES = ("一星", "二星", "三星", "四星", "五星")


def star_levels(request) -> list[dict]:
    settings = VolunteerSettings.for_request(request)
    return [
        {"stars": n, "name": STAR_NAMES[n - 1], "hours": hours, "marks": "★" * n}
        for n, hours in enumerate(settings.thresholds, start=1)
    ]


def _active_members():
    return Count(
        "volunteers",
        filter=Q(volunteers__status=VolunteerStatus.ACTIVE),
        distinct=True,
    )


def index(page, request):
    """Teams grouped by community (one query however many), the star levels and
    the ways in."""
    pagecache.depends_on(request, "seats")
    teams = list(
        page.teams()
        .select_related("community")
        .annotate(members=_active_members())
        .order_by("community__path", "name")
    )
    groups = [
        {"community": community, "teams": list(items)}
        for community, items in groupby(teams, key=lambda team: team.community)
    ]
    # Subdistrict-wide teams (no community) sort first by path; show them last.
    groups.sort(key=lambda group: group["community"] is None)
    return page.render(
        request,
        context_overrides={
            "groups": groups,
            "team_count": len(teams),
            "star_levels": star_levels(request),
        },
    )


def team(page, request, pk):
    """A team: name, community, description, members (在册) and the hours its
    members have served — no names. Three queries however big the team."""
    pagecache.depends_on(request, "seats")
    found = (
        page.teams()
        .select_related("community")
        .annotate(members=_active_members())
        .filter(pk=pk)
        .first()
    )
    if found is None:
        raise Http404("没有找到这支志愿服务队")
    hours = ServiceRecord.objects.filter(volunteer__teams=found).aggregate(
        total=Sum("hours")
    )["total"] or Decimal(0)
    where = found.community.title if found.community else "全街道"
    response = page.render(
        request,
        template="volunteers/team_page.html",
        context_overrides={
            "team": found,
            "team_hours": hours,
            "share_meta": {
                "title": found.name,
                "description": found.description or f"{where}的志愿服务队",
            },
        },
    )
    return response


def _site_volunteers(page) -> Q:
    return Q(volunteer__community__isnull=True) | Q(
        volunteer__community__path__startswith=page.home_path
    )


def time_bank_totals(page) -> dict:
    """Hours deposited (with corrections), withdrawn, and volunteers holding a
    balance, of this site's volunteers: two queries."""
    sums = TimeBankEntry.objects.filter(
        Q(account__volunteer__community__isnull=True)
        | Q(account__volunteer__community__path__startswith=page.home_path)
    ).aggregate(
        deposited=Sum(
            "hours", filter=Q(kind__in=[EntryKind.DEPOSIT, EntryKind.CORRECTION])
        ),
        withdrawn=Sum("hours", filter=Q(kind__in=[EntryKind.SERVICE, EntryKind.GIFT])),
    )
    holders = TimeBankAccount.objects.filter(
        _site_volunteers(page), balance__gt=0
    ).count()
    return {
        "deposited": sums["deposited"] or Decimal(0),
        "withdrawn": -(sums["withdrawn"] or Decimal(0)),
        "holders": holders,
    }


def time_bank(page, request):
    pagecache.depends_on(request, "seats")
    settings = VolunteerSettings.for_request(request)
    transfer_names = list(
        settings.transfer_communities.order_by("path").values_list("title", flat=True)
    )
    return page.render(
        request,
        template="volunteers/time_bank_page.html",
        context_overrides={
            "totals": time_bank_totals(page),
            "star_levels": star_levels(request),
            "transfer_names": transfer_names,
            "transfer_subdistrict": settings.transfer_subdistrict,
            "share_meta": {"title": "时间银行", "description": page.time_bank_text},
        },
    )


# ---------------------------------------------------------------------------
# 申请成为志愿者
# ---------------------------------------------------------------------------


def _render_apply(page, request, form, status=200, retry=False):
    response = page.render(
        request,
        template="volunteers/apply_page.html",
        context_overrides={
            "form": form,
            "retry": retry,
            "privacy_page": SiteSettings.for_request(request).privacy_page,
        },
    )
    response.status_code = status
    if retry:
        response["Retry-After"] = "3"
    return response


def apply(page, request):
    """GET the form (``?team=`` preselects a team); POST applies through
    ``roster.apply`` and sends the applicant to the result page. Over the
    sign-up rate limits (counted apart): 429."""
    if request.method != "POST":
        initial = {}
        team_id = request.GET.get("team", "")
        if team_id.isdigit():
            initial["team"] = int(team_id)
        form = ApplyForm(index=page, initial=initial)
        chosen = form.teams.get(initial.get("team"))
        if chosen is not None and chosen.community_id:
            form.initial["community"] = chosen.community_id
        return _render_apply(page, request, form)
    form = ApplyForm(request.POST, index=page)
    if (limited := limits.check_signup(request, group=APPLY_LIMIT_GROUP)) is not None:
        form.add_error(None, limited.text)
        return limits.too_many(_render_apply(page, request, form), limited)
    if not form.is_valid():
        return _render_apply(page, request, form, 400)
    data = form.cleaned_data
    try:
        volunteer = roster.apply(
            name=data["name"],
            phone=data["phone"],
            community=data["community"],
            skills=data["skills"],
            teams=[data["team"]] if data["team"] else (),
        )
    except BusyError:
        return _render_apply(page, request, form, 503, retry=True)
    except VolunteerError as error:
        field = error.field if error.field in form.fields else None
        form.add_error(field, error.message)
        return _render_apply(page, request, form, 409)
    except DatabaseError as error:
        failure.log_outage(request, error)
        form.add_error(None, failure.SIGNUP_NOT_SAVED)
        response = _render_apply(page, request, form, 503)
        response._has_been_logged = True
        return response
    limits.count_signup(request, group=APPLY_LIMIT_GROUP)
    token = certificate.sign(str(volunteer.pk), APPLIED_SALT, timestamp=True)
    return personal(HttpResponseRedirect(f"{page.url}apply/done/{token}/", status=303))


def applied(page, request, token):
    """The application's result: the code to keep, and that staff review it."""
    from .models import Volunteer

    try:
        pk = certificate.unsign(token, APPLIED_SALT, max_age=APPLIED_SECONDS)
    except (signing.BadSignature, ValueError, UnicodeError):
        raise Http404("这个链接已失效") from None
    volunteer = (
        Volunteer.objects.select_related("community").filter(pk=int(pk)).first()
        if pk.isdigit()
        else None
    )
    if volunteer is None:
        raise Http404("这个链接已失效")
    return personal(
        page.render(
            request,
            template="volunteers/applied_page.html",
            context_overrides={"volunteer": volunteer},
        )
    )


# ---------------------------------------------------------------------------
# A post's sign-up (phone + 志愿者编号)
# ---------------------------------------------------------------------------


def site_post(page, pk) -> VolunteerPost:
    post = (
        VolunteerPost.objects.select_related("occurrence__page")
        .filter(pk=pk, occurrence__page__path__startswith=page.home_path)
        .first()
    )
    if post is None:
        raise Http404("没有找到这个岗位")
    return post


def _render_post(page, request, post, form, status=200, **extra):
    now = timezone.now()
    occurrence = post.occurrence
    is_open = (
        not occurrence.cancelled and occurrence.start > now and occurrence.page.live
    )
    response = page.render(
        request,
        template="volunteers/post_signup_page.html",
        context_overrides={
            "post": post,
            "occurrence": occurrence,
            "activity": occurrence.page.specific,
            "form": form,
            "is_open": is_open,
            **extra,
        },
    )
    response.status_code = status
    return personal(response)


def post_signup(page, request, pk):
    """GET the post and the form; POST signs up through ``posts.sign_up``. A
    wrong phone + code is one neutral answer, counted like a failed 我的报名
    lookup (``events/limits.py``, its own counters)."""
    post = site_post(page, pk)
    if request.method != "POST":
        return _render_post(page, request, post, CredentialsForm())
    form = CredentialsForm(request.POST)
    if (limited := limits.check_lookup(request, group=POST_LIMIT_GROUP)) is not None:
        form.add_error(None, limited.text.replace("查找", "提交"))
        return limits.too_many(_render_post(page, request, post, form), limited)
    if not form.is_valid():
        return _render_post(page, request, post, form, 400)
    try:
        signup = posts.sign_up(
            post.pk, phone=form.cleaned_data["phone"], code=form.cleaned_data["code"]
        )
    except InvalidInputError as error:
        if error.code != "credentials_wrong":
            raise
        limits.count_failed_lookup(request, group=POST_LIMIT_GROUP)
        form.add_error(None, NOT_FOUND)
        return _render_post(page, request, post, form, 404)
    except BusyError:
        form.add_error(None, "现在报名的人比较多，这次没能提交成功，请稍等几秒再试。")
        response = _render_post(page, request, post, form, 503)
        response["Retry-After"] = "3"
        return response
    except VolunteerError as error:
        form.add_error(None, error.message)
        post = site_post(page, pk)
        return _render_post(page, request, post, form, 409)
    post = site_post(page, pk)
    return _render_post(
        page,
        request,
        post,
        None,
        signed_up=signup,
        confirmed=signup.status == PostSignupStatus.CONFIRMED,
    )
