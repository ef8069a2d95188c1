"""我的报名 by a one-time code sent by SMS: proof of holding the phone, for a
resident who has lost every 报名码 (``events/my_signups.py`` lists the sign-ups
once the phone is proven; the views are ``notify/views.py``).

- ``send_code(phone)``: when the number has sign-ups 我的报名 would list and no
  code went to it in the last ``MY_SIGNUPS_CODE_RESEND_SECONDS``, makes a
  6-digit code, keeps its HMAC (never the code) in Django's default cache for
  ``MY_SIGNUPS_CODE_SECONDS`` and sends it through the SMS backend (kind
  ``login_code``: the provider's 验证码 template, parameter ``code``).
  A number without sign-ups gets no message — no cost, and nobody can make the
  site text a stranger — but the caller answers every number alike.
  Raises ``SendError`` when the provider refuses or cannot be reached (the code
  is dropped; the resident may ask again).
- ``check_code(phone, code)``: true once for the right code within its time;
  ``MY_SIGNUPS_CODE_ATTEMPTS`` wrong tries use the code up.

Cache keys are HMACs of the number, so neither phones nor codes can be read
from the cache. With ``REDIS_URL`` every process shares the codes; while Redis
is down each process keeps its own (portal/cache.py), so a code asked for on
one process may be unknown to another until Redis is back ("验证码不对或已过期";
the 报名码 way still works). Sending takes the provider's time while not
sending does not: the per-phone and per-address limits (``events/limits.py``,
3 and 10 requests an hour) keep that from being a way to test many numbers.
"""

import hashlib
import hmac
import logging
import secrets

from django.conf import settings
from django.core.cache import cache

from events import my_signups

from .backends import get_backend, masked

logger = logging.getLogger(__name__)

KIND = "login_code"
DIGITS = 6
TEXT = "您查找报名的验证码是 {code}，{minutes} 分钟内有效。如非本人操作请忽略。"


def _digest(*parts: str) -> str:
    message = "\x1f".join(parts).encode()
    return hmac.new(settings.SECRET_KEY.encode(), message, hashlib.sha256).hexdigest()


def _keys(phone: str) -> tuple[str, str, str]:
    base = _digest("my-sms-code", phone)
    return f"my-code:{base}", f"my-code-tries:{base}", f"my-code-sent:{base}"


def minutes() -> int:
    return max(1, settings.MY_SIGNUPS_CODE_SECONDS // 60)


def send_code(phone: str) -> bool:
    """Send a code to ``phone`` (as ``my_signups.parse_phone`` returns it) if it
    has sign-ups to list and none was sent lately; whether one was sent."""
    code_key, tries_key, sent_key = _keys(phone)
    # Asked for lately (known number or not): nothing new, the same answer.
    if not cache.add(sent_key, 1, settings.MY_SIGNUPS_CODE_RESEND_SECONDS):
        return False
    if not my_signups.listable(phone):
        return False
    code = f"{secrets.randbelow(10**DIGITS):0{DIGITS}d}"
    text = TEXT.format(code=code, minutes=minutes())
    try:
        get_backend().send(phone, KIND, {"code": code}, text)
    except Exception:
        cache.delete(sent_key)  # nothing arrived: may ask again at once
        logger.warning("我的报名验证码未能发到 %s", masked(phone))
        raise
    cache.set_many(
        {code_key: _digest("code", phone, code), tries_key: 0},
        settings.MY_SIGNUPS_CODE_SECONDS,
    )
    logger.info("我的报名验证码已发到 %s", masked(phone))
    return True


def check_code(phone: str, code: str) -> bool:
    """Whether ``code`` is the code last sent to ``phone``, still good; a right
    code is used up, and so is one after too many wrong tries."""
    code_key, tries_key, _ = _keys(phone)
    expected = cache.get(code_key)
    if expected is None:
        return False
    if hmac.compare_digest(expected, _digest("code", phone, code)):
        cache.delete_many([code_key, tries_key])
        return True
    try:
        tries = cache.incr(tries_key)
    except ValueError:  # the counter went first: the code is at its end
        tries = settings.MY_SIGNUPS_CODE_ATTEMPTS
    if tries >= settings.MY_SIGNUPS_CODE_ATTEMPTS:
        cache.delete_many([code_key, tries_key])
    return False
