"""志愿者查询 (``my/``): a volunteer finds their record from any phone with
mobile + 志愿者编号, the way 我的报名 finds sign-ups (``events/my_views.py``):

- the same neutral answer (404) for a wrong code, an unknown number, or a
  volunteer not 在册; bad input 400 in Chinese;
- the same limits (``events/limits.py`` ``check_lookup`` /
  ``count_failed_lookup``, counted in their own group ``volunteer-my``): every
  POST against the address, failed ones against the phone; over a limit 429;
- the answer shown at once on the POST (no phone or code in any URL); every
  answer ``private, no-store`` and ``noindex`` (never in the page cache);
- from the answer, 下载服务证明: ``my/certificate/<token>/``, a token signed
  for ``certificate.DOWNLOAD_SECONDS`` naming the volunteer only;
- ``verify/<token>/``: what a certificate's QR code opens — masked data only,
  and whether it is genuine.
"""

from django.http import HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.vary import vary_on_cookie

from events import limits, my_signups
from events.views import personal
from home.models import SiteSettings
from sharing import posters

from . import bank, certificate, roster
from .errors import InvalidInputError
from .forms import NOT_FOUND, parse_code, parse_phone
from .models import (
    ServiceRecord,
    TimeBankEntry,
    Volunteer,
    VolunteerSettings,
    VolunteerStatus,
)

LOOKUP_GROUP = "volunteer-my"
SHOWN_LINES = 50  # records and ledger lines listed; a volunteer has a few dozen
TEMPLATE = "volunteers/lookup_page.html"


def _render(page, request, context, status=200):
    response = page.render(
        request,
        template=TEMPLATE,
        context_overrides={"phone": "", "code": "", **context},
    )
    response.status_code = status
    return personal(response)


def record(volunteer: Volunteer, thresholds) -> dict:
    """What the volunteer sees of their own record: three queries."""
    account = volunteer.account
    records = list(
        ServiceRecord.objects.filter(volunteer=volunteer).select_related("community")[
            :SHOWN_LINES
        ]
    )
    entries = list(TimeBankEntry.objects.filter(account=account)[:SHOWN_LINES])
    stars = bank.stars(account.total_hours, thresholds)
    next_level = next((h for h in thresholds if account.total_hours < h), None)
    return {
        "volunteer": volunteer,
        "account": account,
        "stars": stars,
        "star_text": certificate.star_text(stars),
        "next_level": next_level,
        "to_next": (next_level - account.total_hours) if next_level else None,
        "records": records,
        "entries": entries,
        "certificate_url": (
            f"my/certificate/{certificate.download_token(volunteer.pk)}/"
        ),
    }


@vary_on_cookie
def lookup(page, request):
    if request.method not in ("GET", "HEAD", "POST"):
        return HttpResponse(status=405, headers={"Allow": "GET, HEAD, POST"})
    if request.method != "POST":
        return _render(page, request, {})
    typed = {
        "phone": my_signups.clean_typed(request.POST.get("phone", "")),
        "code": my_signups.clean_typed(request.POST.get("code", ""), 12),
    }
    # Counted before the input is read, so bad and bot posts count too.
    if (limited := limits.check_lookup(request, group=LOOKUP_GROUP)) is not None:
        response = _render(page, request, {**typed, "error": limited.text})
        return limits.too_many(response, limited)
    try:
        phone = parse_phone(request.POST.get("phone", ""))
        code = parse_code(request.POST.get("code", ""))
    except my_signups.LookupInputError as error:
        return _render(
            page, request, {**typed, "errors": {error.field: error.message}}, 400
        )
    try:
        volunteer = roster.find_by_credentials(phone, code)
    except InvalidInputError:
        limits.count_failed_lookup(request, group=LOOKUP_GROUP)
        return _render(page, request, {**typed, "error": NOT_FOUND}, 404)
    volunteer = Volunteer.objects.select_related("account", "community").get(
        pk=volunteer.pk
    )
    thresholds = VolunteerSettings.for_request(request).thresholds
    return _render(page, request, {"found": record(volunteer, thresholds)})


def certificate_of(
    volunteer: Volunteer, thresholds, today=None
) -> certificate.Certified:
    account = volunteer.account
    return certificate.Certified(
        code=volunteer.code,
        hours=account.total_hours,
        stars=bank.stars(account.total_hours, thresholds),
        issued=today or timezone.localdate(),
    )


def certificate_download(page, request, token):
    """The volunteer's own certificate (full name), from a lookup's answer."""
    pk = certificate.read_download_token(token)
    volunteer = (
        Volunteer.objects.select_related("account", "community")
        .filter(pk=pk, status=VolunteerStatus.ACTIVE)
        .first()
        if pk is not None
        else None
    )
    if volunteer is None:
        response = render(
            request,
            "volunteers/certificate_invalid.html",
            {
                "page": page,
                "title": "下载链接已过期",
                "message": (
                    "证明的下载链接只在查询后 30 分钟内有效。"
                    "请回到“志愿者查询”重新查询后再下载。"
                ),
            },
            status=404,
        )
        return personal(response)
    thresholds = VolunteerSettings.for_request(request).thresholds
    certified = certificate_of(volunteer, thresholds)
    settings = SiteSettings.for_request(request)
    verify_url = request.build_absolute_uri(f"{page.url}verify/{certified.token()}/")
    try:
        png = certificate.render(
            name=volunteer.name,
            certified=certified,
            community=volunteer.community.title if volunteer.community else "",
            verify_url=verify_url,
            site_name=settings.site_name,
            subdistrict_name=settings.subdistrict_name,
        )
    except posters.PosterFontError:
        response = render(
            request,
            "volunteers/certificate_invalid.html",
            {
                "page": page,
                "title": "暂时无法生成证明",
                "message": (
                    "服务器上缺少中文字体，证明图片暂时生成不了，"
                    "请联系社区工作人员。"
                ),
            },
            status=503,
        )
        return personal(response)
    response = HttpResponse(png, content_type="image/png")
    response["Content-Disposition"] = (
        f'attachment; filename="certificate-{volunteer.code}.png"; '
        f"filename*=UTF-8''%E5%BF%97%E6%84%BF%E6%9C%8D%E5%8A%A1%E8%AF%81%E6%98%8E-"
        f"{volunteer.code}.png"
    )
    return personal(response)


def verify(page, request, token):
    """What a certificate's QR code opens: masked name, code, hours, stars and
    issue date as certified, and whether it is genuine. A changed or cut token:
    400; an expired one: 400 with its own words. Never the full name."""
    try:
        certified = certificate.read_token(token)
    except certificate.CertificateExpired:
        return _invalid(
            page,
            request,
            "证明已过期",
            f"这份证明开具已超过 {certificate.VALID_DAYS // 365} 年，"
            "二维码不再用于核验。"
            "请志愿者在“志愿者查询”重新下载一份最新的证明。",
        )
    except certificate.CertificateInvalid:
        return _invalid(
            page,
            request,
            "证明无法核验",
            "这个二维码不是本站开具的志愿服务证明，或者内容被改动过。"
            "请以社区工作人员查询的记录为准。",
        )
    volunteer = (
        Volunteer.objects.select_related("community")
        .filter(code=certified.code)
        .first()
    )
    response = page.render(
        request,
        template="volunteers/verify_page.html",
        context_overrides={
            "certified": certified,
            "star_text": certificate.star_text(certified.stars),
            "masked_name": volunteer.masked_name if volunteer else "",
            "community": volunteer.community if volunteer else None,
        },
    )
    response["X-Robots-Tag"] = "noindex, nofollow"
    return response


def _invalid(page, request, title, message):
    response = render(
        request,
        "volunteers/certificate_invalid.html",
        {"page": page, "title": title, "message": message},
        status=400,
    )
    return personal(response)
