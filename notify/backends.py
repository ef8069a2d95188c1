"""Where a message goes, chosen by ``settings.SMS_BACKEND`` (a dotted path, like
Django's EMAIL_BACKEND):

- ``notify.backends.LogBackend`` (the default): writes the text to the log, the
  phone masked, and sends nothing — for development and for a site without an
  SMS contract;
- ``notify.backends.AliyunBackend``: 阿里云短信服务 through its SDK
  (``alibabacloud-dysmsapi20170525``, API SendSms). Messages are the provider's
  pre-approved templates (``SMS_TEMPLATES``, one code per kind) filled with the
  parameters ``title``, ``time``, ``place`` and ``code``, signed with
  ``SMS_SIGN_NAME``. ``SMS_ENDPOINT`` may carry ``http://`` (the tests' fake on
  127.0.0.1); by default HTTPS to dysmsapi.aliyuncs.com.

``send`` returns the provider's receipt id, or raises ``SendError``:
``permanent`` when sending again cannot help (a number or template refused)."""

import json
import logging
from functools import cache

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils.module_loading import import_string

from portal.redact import mask_phones

logger = logging.getLogger(__name__)


class SendError(Exception):
    def __init__(self, reason: str, *, permanent: bool = False):
        super().__init__(mask_phones(reason)[:200])
        self.reason = mask_phones(reason)[:200]
        self.permanent = permanent


def masked(phone: str) -> str:
    return mask_phones(phone) if phone else "（无手机号）"


class LogBackend:
    """Logs each message (phone masked) instead of sending it."""

    def send(self, phone: str, kind: str, params: dict, text: str) -> str:
        logger.info("短信（日志后端，未真正发送）至 %s：%s", masked(phone), text)
        return ""


class AliyunBackend:
    """阿里云短信 SendSms. Errors that a later try cannot fix are permanent."""

    PERMANENT = {
        "isv.MOBILE_NUMBER_ILLEGAL",
        "isv.SMS_TEMPLATE_ILLEGAL",
        "isv.SMS_SIGNATURE_ILLEGAL",
        "isv.TEMPLATE_MISSING_PARAMETERS",
        "isv.INVALID_PARAMETERS",
        "isv.BLACK_KEY_CONTROL_LIMIT",
        "isv.DENY_IP_RANGE",
    }

    def __init__(self):
        from alibabacloud_dysmsapi20170525.client import Client
        from alibabacloud_tea_openapi import utils_models

        endpoint = settings.SMS_ENDPOINT or "dysmsapi.aliyuncs.com"
        protocol = "HTTPS"
        if "://" in endpoint:
            scheme, endpoint = endpoint.split("://", 1)
            protocol = scheme.upper()
        if not (settings.SMS_ACCESS_KEY_ID and settings.SMS_ACCESS_KEY_SECRET):
            raise ImproperlyConfigured(
                "SMS_BACKEND=阿里云短信 需要 SMS_ACCESS_KEY_ID 和 SMS_ACCESS_KEY_SECRET"
            )
        self.client = Client(
            utils_models.Config(
                access_key_id=settings.SMS_ACCESS_KEY_ID,
                access_key_secret=settings.SMS_ACCESS_KEY_SECRET,
                endpoint=endpoint.rstrip("/"),
                protocol=protocol,
            )
        )

    def send(self, phone: str, kind: str, params: dict, text: str) -> str:
        from alibabacloud_dysmsapi20170525 import models as sms_models
        from darabonba.runtime import RuntimeOptions

        template = settings.SMS_TEMPLATES.get(kind, "")
        if not template:
            raise SendError(f"未配置 {kind} 的短信模板", permanent=True)
        request = sms_models.SendSmsRequest(
            phone_numbers=phone,
            sign_name=settings.SMS_SIGN_NAME,
            template_code=template,
            template_param=json.dumps(params, ensure_ascii=False),
        )
        timeout_ms = int(settings.SMS_TIMEOUT * 1000)
        runtime = RuntimeOptions(
            connect_timeout=timeout_ms, read_timeout=timeout_ms, autoretry=False
        )
        try:
            response = self.client.send_sms_with_options(request, runtime)
        except Exception as error:  # the SDK's errors: HTTP status, connection
            code = getattr(error, "code", None) or type(error).__name__
            raise SendError(f"{code}: {error}") from error
        body = response.body
        if body is None or body.code != "OK":
            code = getattr(body, "code", None) or f"HTTP {response.status_code}"
            message = getattr(body, "message", "") or ""
            raise SendError(f"{code}: {message}", permanent=code in self.PERMANENT)
        return body.biz_id or ""


@cache
def _backend(path: str, endpoint: str, key_id: str):
    return import_string(path)()


def get_backend():
    """The configured backend (one instance per process and settings)."""
    return _backend(
        settings.SMS_BACKEND, settings.SMS_ENDPOINT, settings.SMS_ACCESS_KEY_ID
    )
