"""A fake WeChat API on 127.0.0.1 for the JS-SDK tests: the two calls the site
makes (access token, jsapi ticket), counted, with settable answers.

    with FakeWeChat() as fake:         # a free port, a thread per request
        settings.WECHAT_API_BASE = fake.url
        ...
        assert fake.count("token") == 1
"""

import secrets
import time
from urllib.parse import parse_qs, urlsplit

from tests.fake_service import FakeService, QuietHandler, reply_json

APP_ID = "wx0123456789abcdef"
APP_SECRET = "test-secret-0123456789abcdef0123"


class FakeWeChat(FakeService):
    def __init__(self, app_id: str = APP_ID, secret: str = APP_SECRET):
        self.app_id = app_id
        self.secret = secret
        self.expires_in = 7200
        # Seconds each answer takes, so concurrent requests overlap a fetch.
        self.delay = 0.0
        # When set, every answer is this JSON (e.g. {"errcode": 40013, …}).
        self.error: dict | None = None
        self.calls: list[tuple[str, dict]] = []
        self.tokens: list[str] = []
        self.tickets: list[str] = []
        super().__init__()

    # -- what the tests read -----------------------------------------------------

    def count(self, kind: str) -> int:
        with self.lock:
            return sum(1 for name, _ in self.calls if name == kind)

    @property
    def ticket(self) -> str:
        """The ticket handed out last (what a signature must be made with)."""
        with self.lock:
            return self.tickets[-1]

    def reset(self) -> None:
        with self.lock:
            self.calls.clear()
            self.error = None
            self.delay = 0.0
            self.expires_in = 7200

    # -- the API -----------------------------------------------------------------

    def answer(self, path: str, query: dict) -> dict:
        kind = {"/cgi-bin/token": "token", "/cgi-bin/ticket/getticket": "ticket"}.get(
            path, "other"
        )
        with self.lock:
            self.calls.append((kind, query))
        if self.delay:
            time.sleep(self.delay)
        if self.error is not None:
            return self.error
        if kind == "token":
            if query.get("grant_type") != "client_credential":
                return {"errcode": 40002, "errmsg": "invalid grant_type"}
            if query.get("appid") != self.app_id:
                return {"errcode": 40013, "errmsg": "invalid appid"}
            if query.get("secret") != self.secret:
                return {"errcode": 40125, "errmsg": "invalid appsecret"}
            token = "TOKEN-" + secrets.token_hex(16)
            with self.lock:
                self.tokens.append(token)
            return {"access_token": token, "expires_in": self.expires_in}
        if kind == "ticket":
            with self.lock:
                known = self.tokens[-1:]
            if query.get("type") != "jsapi":
                return {"errcode": 40097, "errmsg": "invalid args"}
            if query.get("access_token") not in known:
                return {"errcode": 40001, "errmsg": "invalid credential"}
            ticket = "TICKET-" + secrets.token_urlsafe(24)
            with self.lock:
                self.tickets.append(ticket)
            return {
                "errcode": 0,
                "errmsg": "ok",
                "ticket": ticket,
                "expires_in": self.expires_in,
            }
        return {"errcode": 40066, "errmsg": "invalid url"}

    def handler(self):
        fake = self

        class Handler(QuietHandler):
            def do_GET(self):  # noqa: N802 (http.server's name)
                parts = urlsplit(self.path)
                query = {k: v[0] for k, v in parse_qs(parts.query).items()}
                # WeChat reports errors in the body, with HTTP 200.
                reply_json(self, 200, fake.answer(parts.path, query))

        return Handler
