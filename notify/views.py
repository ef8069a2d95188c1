"""``/my/sms/``: 我的报名 by a one-time code sent by SMS (notify/login_code.py),
offered on /my/ where an SMS provider is set up (``MY_SIGNUPS_SMS_CODE``;
otherwise 404).

- ``GET``: the form for the phone number.
- ``POST`` with ``step=send``: counts against ``events.limits.check_code_request``
  (over: 429), then sends a code if the number has sign-ups; every number gets
  the same answer, the form for the code. The provider failing: 503, in Chinese.
- ``POST`` with ``step=check``: counts like a 我的报名 lookup
  (``events.limits.check_lookup``); the right code shows the number's sign-ups
  as a lookup by 报名码 does (``events.my_views.show_found``), a wrong or
  expired one a Chinese message.

Every answer is personal (``private, no-store``) and not indexed.
"""

import re
import unicodedata

from django.conf import settings
from django.http import Http404
from django.shortcuts import render
from django.views.decorators.http import require_http_methods
from django.views.decorators.vary import vary_on_cookie

from events import limits, my_signups, my_views
from events.views import personal

from . import login_code
from .backends import SendError

TEMPLATE = "notify/my_sms_code.html"
CODE_RE = re.compile(rf"[0-9]{{{login_code.DIGITS}}}", re.ASCII)
BAD_CODE = "请填写短信里的 6 位数字验证码。"
WRONG_CODE = "验证码不对或已过期。请核对短信里的数字，或重新获取验证码。"
NOT_SENT = "短信暂时发不出去，请过几分钟再试，或用报名码查找。"


def _render(request, context, status=200):
    errors = context.get("errors", {})
    # The error summary at the top of the form links to each field.
    fields = {"phone": "my-sms-phone", "code": "my-sms-code"}
    context["error_links"] = [(fields[name], text) for name, text in errors.items()]
    response = render(
        request,
        TEMPLATE,
        {
            "step": "send",
            "phone": "",
            "errors": {},
            "minutes": login_code.minutes(),
            "resend_seconds": settings.MY_SIGNUPS_CODE_RESEND_SECONDS,
            **context,
        },
        status=status,
    )
    return personal(response)


@vary_on_cookie
@require_http_methods(["GET", "HEAD", "POST"])
def my_sms_code(request):
    if not settings.MY_SIGNUPS_SMS_CODE:
        raise Http404("没有开通短信验证码查找")
    if request.method != "POST":
        return _render(request, {})
    typed = my_signups.clean_typed(request.POST.get("phone", ""))
    if request.POST.get("step") == "check":
        return _check(request, typed)
    return _send(request, typed)


def _send(request, typed: str):
    if (limited := limits.check_code_request(request)) is not None:
        response = _render(request, {"phone": typed, "error": limited.text}, 429)
        return limits.too_many(response, limited)
    try:
        phone = my_signups.parse_phone(request.POST.get("phone", ""))
    except my_signups.LookupInputError as error:
        return _render(
            request, {"phone": typed, "errors": {"phone": error.message}}, 400
        )
    try:
        login_code.send_code(phone)
    except SendError:
        response = _render(request, {"phone": typed, "error": NOT_SENT}, 503)
        response["Retry-After"] = "60"
        return response
    return _render(request, {"phone": phone, "step": "check", "sent": True})


def _check(request, typed: str):
    if (limited := limits.check_lookup(request)) is not None:
        response = _render(
            request, {"phone": typed, "step": "check", "error": limited.text}, 429
        )
        return limits.too_many(response, limited)
    try:
        phone = my_signups.parse_phone(request.POST.get("phone", ""))
    except my_signups.LookupInputError as error:
        return _render(
            request, {"phone": typed, "errors": {"phone": error.message}}, 400
        )
    code = unicodedata.normalize("NFKC", request.POST.get("code", "")).strip()
    if not CODE_RE.fullmatch(code):
        context = {"phone": phone, "step": "check", "errors": {"code": BAD_CODE}}
        return _render(request, context, 400)
    if not login_code.check_code(phone, code):
        limits.count_failed_lookup(request)
        context = {"phone": phone, "step": "check", "errors": {"code": WRONG_CODE}}
        return _render(request, context, 400)
    return my_views.show_found(request, my_signups.for_phone(phone))
