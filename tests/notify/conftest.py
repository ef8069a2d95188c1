"""notify's tests: the real 阿里云短信 SDK against the fake provider on 127.0.0.1
(tests/fake_sms.py), with short retry waits; and the tally of messages sent,
retried and deduplicated over these tests, printed at the end of the run."""

from collections import Counter

import pytest

from tests.fake_sms import ACCESS_KEY_ID, FakeAliyunSms

TEMPLATES = {
    "promoted": "SMS_100000001",
    "changed": "SMS_100000002",
    "cancelled": "SMS_100000003",
    "reminder": "SMS_100000004",
}
KIND_OF_TEMPLATE = {code: kind for kind, code in TEMPLATES.items()}
# Over the whole run: what the fake accepted and refused, and what the service
# recorded once only (tests add to it).
FIGURES: Counter = Counter()


@pytest.fixture
def sms(settings):
    """The fake provider, with the SDK backend pointed at it."""
    with FakeAliyunSms() as fake:
        settings.SMS_BACKEND = "notify.backends.AliyunBackend"
        settings.SMS_ENDPOINT = fake.url
        settings.SMS_ACCESS_KEY_ID = ACCESS_KEY_ID
        settings.SMS_ACCESS_KEY_SECRET = "test-secret"
        settings.SMS_SIGN_NAME = "花园路街道"
        settings.SMS_TEMPLATES = dict(TEMPLATES)
        settings.SMS_TIMEOUT = 2
        settings.SMS_RETRY_SECONDS = 60
        settings.SMS_RETRY_MAX_SECONDS = 3600
        settings.SMS_MAX_ATTEMPTS = 5
        settings.SMS_REMINDER_HOUR = 10
        yield fake
        FIGURES["sent"] += len(fake.delivered)
        FIGURES["provider errors"] += sum(
            1 for r in fake.requests if r["status"] != 200
        )


def pytest_terminal_summary(terminalreporter):
    if FIGURES:
        terminalreporter.write_line(
            "notify figures: "
            + ", ".join(f"{name} {count}" for name, count in sorted(FIGURES.items()))
        )
