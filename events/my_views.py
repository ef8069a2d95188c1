"""我的报名 (``/my/``): a resident finds their sign-ups again from any phone
(``events/my_signups.py`` says who may see what), and views, cancels or adds
each to their calendar.

- ``GET /my/``: the sign-ups this browser holds (signed cookie), and the form.
- ``POST /my/``: mobile number + one 报名码 → that number's sign-ups, which the
  cookie then remembers. Over a limit (``events/limits.py``): 429 in Chinese.
- ``/my/cancel/<token>/``: confirmation (GET) and cancellation (POST, CSRF)
  through ``registration.cancel``; the token is the result page's.
- ``POST /my/forget/``: this phone stops remembering (a shared phone).
- ``/my/sms/`` (notify/views.py, where an SMS provider is set up): a one-time
  code by SMS instead of the 报名码, answered by ``show_found``.

Every answer is personal: ``private, no-store`` (so neither the page cache,
``portal/pagecache.py``, nor a browser or proxy keeps it) and not indexed.
"""

from django.conf import settings
from django.http import Http404, HttpResponseNotAllowed, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods
from django.views.decorators.vary import vary_on_cookie

from . import limits, signup_cookie
from . import my_signups as service
from .errors import BusyError, SignupError
from .models import Registration
from .registration import cancel
from .views import in_wechat, personal

TEMPLATE = "events/my_signups.html"
CANCEL_TEMPLATE = "events/my_signup_cancel.html"
# ?done= after a cancellation: what to tell the resident on the list.
DONE = {
    "cancelled": "已取消报名。",
    "erased": "已取消报名，您的姓名和手机号也已删除，这份报名不再显示。",
    "forgotten": (
        "这部手机已不再记得您的报名。报名本身没有变化，需要时可以再用手机号和"
        "报名码查找。"
    ),
}


def _render(request, context, status=200):
    now = timezone.now()
    listing = context.pop("listing", None)
    if listing is None:
        listing = service.held(signup_cookie.held(request), now)
    response = render(
        request,
        TEMPLATE,
        {
            "listing": listing,
            "recent_days": service.RECENT_DAYS,
            "in_wechat": in_wechat(request),
            "sms_login": settings.MY_SIGNUPS_SMS_CODE,
            "done": DONE.get(request.GET.get("done", "")),
            "phone": "",
            "code": "",
            **context,
        },
        status=status,
    )
    return personal(response)


@vary_on_cookie
@require_http_methods(["GET", "HEAD", "POST"])
def my_signups(request):
    if request.method != "POST":
        return _render(request, {})
    typed = {
        "phone": service.clean_typed(request.POST.get("phone", "")),
        "code": service.clean_typed(request.POST.get("code", ""), 12),
    }
    # Counted before the input is read, so bad and bot posts count too.
    if (limited := limits.check_lookup(request)) is not None:
        response = _render(
            request, {**typed, "error": limited.text, "limited": True}, 429
        )
        return limits.too_many(response, limited)
    try:
        phone = service.parse_phone(request.POST.get("phone", ""))
        code = service.parse_code(request.POST.get("code", ""))
    except service.LookupInputError as error:
        return _render(request, {**typed, "errors": {error.field: error.message}}, 400)
    now = timezone.now()
    found = service.find(phone, code, now)
    if found is None:
        limits.count_failed_lookup(request)
        # The same answer for a wrong code and an unknown number.
        return _render(request, {**typed, "error": service.NOT_FOUND}, 404)
    return show_found(request, found, now)


def show_found(request, found: service.Listing, now=None):
    """The answer to a lookup that proved a phone: its sign-ups with those this
    browser holds, which the cookie then remembers too. Shown at once, not after
    a redirect: a browser that keeps no cookie (some in-app browsers) still sees
    them. Also the answer of an SMS code (notify/views.py)."""
    now = now or timezone.now()
    listing = service.merged(found, service.held(signup_cookie.held(request), now))
    response = _render(request, {"listing": listing, "found": True})
    return signup_cookie.remember_all(request, response, found.ids)


def _registration(token: str) -> Registration:
    registration = (
        Registration.objects.select_related("occurrence").filter(token=token).first()
        if len(token) >= 20
        else None
    )
    if registration is None:
        raise Http404("没有找到这份报名")
    return registration


@vary_on_cookie
@require_http_methods(["GET", "HEAD", "POST"])
def my_cancel(request, token):
    """Cancel one sign-up from 我的报名: the result page's token is the key."""
    registration = _registration(token)
    page = registration.page.specific
    context = {
        "registration": registration,
        "occurrence": registration.occurrence,
        "activity": page,
        "result_url": f"{page.url}r/{registration.token}/",
    }
    if request.method == "POST":
        erase = request.POST.get("erase") == "1"
        try:
            cancel(registration.pk, erase=erase)
        except BusyError:
            response = render(request, CANCEL_TEMPLATE, {**context, "retry": True})
            response.status_code = 503
            response["Retry-After"] = "3"
            return personal(response)
        except SignupError as error:  # gone meanwhile
            raise Http404(error.message) from error
        done = "erased" if erase else "cancelled"
        response = HttpResponseRedirect(
            reverse("my_signups") + f"?done={done}", status=303
        )
        return personal(signup_cookie.remember(request, response, registration.pk))
    return personal(render(request, CANCEL_TEMPLATE, context))


def my_forget(request):
    """This phone forgets the sign-ups it held (a phone lent or shared)."""
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    response = HttpResponseRedirect(
        reverse("my_signups") + "?done=forgotten", status=303
    )
    return personal(signup_cookie.forget(response))
