"""志愿者查询 (volunteers/lookup_views.py): mobile + 志愿者编号 → hours, balance,
star and history, with 我的报名's neutral answer and rate limits; the service
certificate (PNG) and its verification page (masked, signed, tamper-proof)."""

import io
import re
from datetime import date, timedelta
from decimal import Decimal

import pytest
import zxingcpp
from django.contrib.auth import get_user_model
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from PIL import Image

from home.models import CommunityPage
from volunteers import bank, certificate, roster
from volunteers.models import EntryKind, VolunteerSettings
from volunteers.pages import VolunteerIndexPage

pytestmark = pytest.mark.django_db

PHONE = "13900006666"


def text(response) -> str:
    return response.content.decode()


@pytest.fixture
def index():
    return VolunteerIndexPage.objects.get(slug="volunteers")


@pytest.fixture
def staff():
    return get_user_model().objects.get(username="admin")


@pytest.fixture
def volunteer(staff):
    community = CommunityPage.objects.live().order_by("path").first()
    person = roster.add(name="王建国", phone=PHONE, user=staff, community=community)
    for n in range(5):  # at most 24 hours a day
        bank.record_service(
            person.pk,
            hours="24",
            day=date.today() - timedelta(days=10 + n),
            description="每天民事调解",
            user=staff,
        )
    bank.withdraw(
        person.pk, hours="2.5", kind=EntryKind.SERVICE, note="上门理发", user=staff
    )
    return person


def look_up(client, index, phone, code, ip="203.0.113.5"):
    return client.post(
        f"{index.url}my/", {"phone": phone, "code": code}, REMOTE_ADDR=ip
    )


def without_csrf(html: str) -> str:
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", html)


def test_the_form_is_personal_and_not_indexed(client, index):
    response = client.get(f"{index.url}my/")
    assert response.status_code == 200 and "志愿者编号" in text(response)
    assert response["Cache-Control"] == "private, no-store"
    assert "noindex" in response["X-Robots-Tag"]


def test_the_right_pair_shows_hours_balance_stars_and_history(client, index, volunteer):
    response = look_up(client, index, "+86 139-0000-6666", volunteer.code.lower())
    html = text(response)
    assert response.status_code == 200
    assert response["Cache-Control"] == "private, no-store"
    assert '<strong id="total-hours">120</strong>' in html
    assert '<strong id="balance">117.5</strong>' in html
    assert "★☆☆☆☆" in html  # 100 h: one star of the default thresholds
    assert "再服务 180 小时升到下一星" in html
    assert "每天民事调解" in html and "上门理发" in html and "支取：享受服务" in html
    assert "王**" in html and "王建国" not in html and PHONE not in html
    assert "下载服务证明" in html


def test_wrong_pairs_get_one_neutral_answer(client, index, volunteer, staff):
    applied = roster.apply(name="申请中", phone="13900007777")
    left = roster.add(name="已退出", phone="13900008888", user=staff)
    roster.leave(left.pk, user=staff)
    answers = set()
    for phone, code in (
        (PHONE, "ZZZZ22"),  # wrong code
        ("13700001234", volunteer.code),  # unknown number
        ("13900007777", applied.code),  # not yet approved
        ("13900008888", left.code),  # left
    ):
        response = look_up(client, index, phone, code)
        assert response.status_code == 404
        html = text(response)
        assert "没有找到志愿者记录" in html
        answers.add(
            without_csrf(html).replace(phone, "").replace(code, "").replace(code, "")
        )
    assert len(answers) == 1


@pytest.mark.parametrize(
    ("phone", "code", "message"),
    [
        ("123", "K7M2QX", "请填写正确的 11 位手机号码"),
        (PHONE, "!", "请填写志愿者编号"),
        ("", "", "请填写正确的 11 位手机号码"),
        ("1" * 5000, "\x00", "请填写正确的 11 位手机号码"),
    ],
)
def test_bad_input_is_a_400_in_chinese(client, index, phone, code, message):
    response = look_up(client, index, phone, code)
    assert response.status_code == 400 and message in text(response)


def test_garbage_and_other_methods_never_fail(client, index):
    assert client.post(f"{index.url}my/", {}).status_code == 400
    assert client.put(f"{index.url}my/").status_code == 405


@pytest.fixture
def lookup_limits(signup_limits):
    on = signup_limits(per_address="30/10m", per_phone="5/10m")
    on.MY_SIGNUPS_LIMIT_PER_ADDRESS = "4/10m"
    on.MY_SIGNUPS_LIMIT_PER_PHONE = "2/1h"
    return on


def assert_limited(response):
    assert response.status_code == 429
    assert 1 <= int(response["Retry-After"]) <= 3600
    assert "查找太频繁，请稍后再试。" in text(response)
    assert "no-store" in response["Cache-Control"]


def test_per_address_limit(client, index, volunteer, lookup_limits):
    for n in range(4):
        look_up(client, index, f"1370000{n:04d}", "ZZZZ22")
    over = look_up(client, index, PHONE, volunteer.code)
    assert_limited(over)
    assert "117.5" not in text(over)
    other = look_up(client, index, PHONE, volunteer.code, ip="198.51.100.9")
    assert other.status_code == 200


def test_per_phone_limit_counts_failures_only(client, index, volunteer, lookup_limits):
    for n in range(3):  # the volunteer's own lookups never use it up
        ok = look_up(Client(), index, PHONE, volunteer.code, ip=f"198.51.100.{n}")
        assert ok.status_code == 200
    look_up(Client(), index, PHONE, "ZZZZ22", ip="198.51.100.20")
    look_up(Client(), index, PHONE, "ZZZZ33", ip="198.51.100.21")
    assert_limited(look_up(Client(), index, PHONE, volunteer.code, ip="198.51.100.22"))


def test_the_phone_is_never_logged(client, index, volunteer, caplog, lookup_limits):
    caplog.set_level("DEBUG")
    look_up(client, index, PHONE, volunteer.code)
    look_up(client, index, PHONE, "ZZZZ22")
    assert PHONE not in caplog.text and volunteer.code not in caplog.text


def test_a_lookup_costs_the_same_queries_however_long_the_history(
    client, index, volunteer, staff
):
    def count():
        look_up(client, index, PHONE, volunteer.code)
        with CaptureQueriesContext(connection) as captured:
            assert look_up(client, index, PHONE, volunteer.code).status_code == 200
        return len(captured)

    small = count()
    today = date.today()
    for n in range(1, 8):
        bank.record_service(
            volunteer.pk,
            hours="1",
            day=today - timedelta(days=n),
            description=f"第{n}次服务",
            user=staff,
        )
    assert count() == small


# ---------------------------------------------------------------------------
# The certificate and its verification
# ---------------------------------------------------------------------------


def certificate_url(client, index, volunteer) -> str:
    html = text(look_up(client, index, PHONE, volunteer.code))
    found = re.search(r'href="([^"]+/my/certificate/[^"]+/)"', html)
    assert found, "no certificate link"
    return found.group(1)


def test_the_certificate_is_a_png_with_a_verifiable_qr_link(client, index, volunteer):
    url = certificate_url(client, index, volunteer)
    assert PHONE not in url and volunteer.code not in url
    response = client.get(url)
    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    assert response["Cache-Control"] == "private, no-store"
    assert "attachment" in response["Content-Disposition"]
    image = Image.open(io.BytesIO(response.content))
    assert image.size == (certificate.WIDTH, certificate.HEIGHT)
    # The QR code encodes the verification page of what it states (segno can
    # not decode; the token is checked instead).
    certified = certificate.Certified(
        code=volunteer.code,
        hours=Decimal("120"),
        stars=1,
        issued=date.today(),
    )
    verify = client.get(f"{index.url}verify/{certified.token()}/")
    html = text(verify)
    assert verify.status_code == 200
    assert "真实证明" in html and "王**" in html and "王建国" not in html
    assert volunteer.code in html and "120 小时" in html and "★☆☆☆☆" in html
    assert PHONE not in html and "noindex" in verify["X-Robots-Tag"]


def test_the_certificates_qr_code_opens_its_verification(client, index, volunteer):
    png = client.get(certificate_url(client, index, volunteer)).content
    image = Image.open(io.BytesIO(png)).convert("RGB")
    found = [
        result.text
        for result in zxingcpp.read_barcodes(image)
        if result.format == zxingcpp.BarcodeFormat.QRCode
    ]
    assert len(found) == 1
    url = found[0]
    assert url.startswith("http://") and f"{index.url}verify/" in url
    token = url.rsplit("/verify/", 1)[1].rstrip("/")
    stated = certificate.read_token(token)
    assert stated.code == volunteer.code and stated.hours == Decimal("120.00")
    assert stated.stars == 1
    page = client.get(f"{index.url}verify/{token}/")
    assert page.status_code == 200 and "真实证明" in text(page)


def test_a_tampered_or_garbage_token_is_refused_in_chinese(client, index, volunteer):
    good = certificate.Certified(volunteer.code, Decimal("120"), 1, date.today())
    token = good.token()
    forged = token.replace("_12000_", "_99900_")
    assert forged != token
    for bad in (forged, token[:-2] + "xx", "garbage", "a-b-c", "-" * 40):
        response = client.get(f"{index.url}verify/{bad}/")
        assert response.status_code == 400, bad
        assert "证明无法核验" in text(response)


def test_an_expired_certificate_says_so(client, index, volunteer):
    old = date.today() - timedelta(days=certificate.VALID_DAYS + 1)
    token = certificate.Certified(volunteer.code, Decimal("5"), 0, old).token()
    response = client.get(f"{index.url}verify/{token}/")
    assert response.status_code == 400 and "证明已过期" in text(response)


def test_an_expired_or_forged_download_link_is_a_404(client, index, volunteer):
    response = client.get(f"{index.url}my/certificate/1-abc-def/")
    assert response.status_code == 404 and "下载链接已过期" in text(response)


def test_star_thresholds_come_from_the_settings(client, index, volunteer, site):
    settings = VolunteerSettings.for_site(site)
    settings.star_1, settings.star_2 = 50, 110
    settings.save()
    html = text(look_up(client, index, PHONE, volunteer.code))
    assert "★★☆☆☆" in html
