"""A fake 阿里云短信 API (dysmsapi SendSms) on 127.0.0.1 for notify's tests: the
real SDK is pointed at it (``SMS_ENDPOINT=http://127.0.0.1:<port>``); every
request is recorded, the answers can be set.

    with FakeAliyunSms() as fake:
        settings.SMS_ENDPOINT = fake.url
        ...
        assert len(fake.delivered) == 1       # messages accepted ("Code": "OK")
        fake.fail_next(2)                      # the next two get HTTP 500
"""

import json
import secrets
from urllib.parse import parse_qs, urlsplit

from tests.fake_service import FakeService, QuietHandler, reply_json

ACCESS_KEY_ID = "LTAI-test-key-id"


class FakeAliyunSms(FakeService):
    def __init__(self):
        # Every request: its query (PhoneNumbers, SignName, TemplateCode,
        # TemplateParam parsed), the action header and the HTTP status answered.
        self.requests: list[dict] = []
        self.failures_left = 0
        self.failure_status = 500
        super().__init__()

    # -- what the tests read and set -----------------------------------------------

    @property
    def delivered(self) -> list[dict]:
        """The messages the provider accepted."""
        with self.lock:
            return [r for r in self.requests if r["status"] == 200]

    def fail_next(self, n: int, status: int = 500) -> None:
        with self.lock:
            self.failures_left = n
            self.failure_status = status

    # -- the API ---------------------------------------------------------------------

    def answer(self, query: dict, headers) -> tuple[int, dict]:
        with self.lock:
            failing = self.failures_left > 0
            if failing:
                self.failures_left -= 1
            status = self.failure_status if failing else 200
            record = {
                **query,
                "action": headers.get("x-acs-action"),
                "key_id": _key_id(headers.get("Authorization", "")),
                "status": status,
            }
            if "TemplateParam" in record:
                record["TemplateParam"] = json.loads(record["TemplateParam"])
            self.requests.append(record)
        request_id = secrets.token_hex(8)
        if failing:
            return status, {
                "Code": "ServiceUnavailable",
                "Message": "The request has failed due to a temporary failure.",
                "RequestId": request_id,
            }
        if record["action"] != "SendSms" or record["key_id"] != ACCESS_KEY_ID:
            return 200, {"Code": "InvalidAccessKeyId.NotFound", "RequestId": request_id}
        return 200, {
            "Code": "OK",
            "Message": "OK",
            "BizId": f"{len(self.requests)}^{request_id}",
            "RequestId": request_id,
        }

    def handler(self):
        fake = self

        class Handler(QuietHandler):
            def do_POST(self):  # noqa: N802 (http.server's name)
                length = int(self.headers.get("Content-Length") or 0)
                self.rfile.read(length)
                query = {
                    k: v[0] for k, v in parse_qs(urlsplit(self.path).query).items()
                }
                reply_json(self, *fake.answer(query, self.headers))

        return Handler


def _key_id(authorization: str) -> str:
    """The AccessKey id of an ACS3-HMAC-SHA256 Authorization header."""
    for part in authorization.replace(",", " ").split():
        if part.startswith("Credential="):
            return part.removeprefix("Credential=")
    return ""
