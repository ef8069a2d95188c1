"""志愿服务证明: the PNG a volunteer downloads from 志愿者查询, and the signed
token of its QR code, which opens the verification page.

The token (``django.core.signing``, salt ``CERTIFICATE_SALT``) carries what
the certificate states — code, cumulative hours, stars, issue date — so the
verification page shows exactly what was printed and says whether it is
genuine: a changed character fails the signature, a certificate issued more
than ``VALID_DAYS`` ago has expired. No name or phone is in it; the page
shows the masked name.

Drawing uses the posters' CJK font and helpers (``sharing/posters.py``) and the
QR code of ``sharing/qr.py`` (segno).
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation

from django.core import signing
from django.utils import timezone

from sharing import posters, qr

CERTIFICATE_SALT = "volunteers.certificate"
# The download link in a lookup's answer: the volunteer's pk, for a short while.
DOWNLOAD_SALT = "volunteers.certificate-download"
DOWNLOAD_SECONDS = 30 * 60
VALID_DAYS = 3 * 365  # a certificate is checked for years (jobs, schools)

WIDTH, HEIGHT = 1080, 1440
RED = (168, 7, 26)
INK, MUTED, PAPER, GOLD = posters.INK, posters.MUTED, posters.PAPER, posters.GOLD


# Tokens travel in page URLs, whose segments Wagtail allows to hold only
# letters, digits, "_" and "-": Django's signer joins value, timestamp and
# signature with ":", so a token here is the signed string with "-" instead —
# the values (digits, codes, "_") and the timestamp (base 62) hold no "-",
# the signature (URL-safe base64) may, and comes last.


def sign(value: str, salt: str, timestamp: bool = False) -> str:
    if "-" in value or ":" in value:
        raise ValueError("a signed value may not hold '-' or ':'")
    signer = (
        signing.TimestampSigner(salt=salt) if timestamp else signing.Signer(salt=salt)
    )
    return signer.sign(value).replace(":", "-")


def unsign(token: str, salt: str, max_age: int | None = None) -> str:
    """The value of a token made by ``sign``. Raises signing.BadSignature
    (SignatureExpired past ``max_age`` seconds)."""
    parts = (token or "")[:300].split("-", 2 if max_age is not None else 1)
    if len(parts) != (3 if max_age is not None else 2):
        raise signing.BadSignature("malformed")
    signed = ":".join(parts)
    if max_age is not None:
        return signing.TimestampSigner(salt=salt).unsign(signed, max_age=max_age)
    return signing.Signer(salt=salt).unsign(signed)


@dataclass(frozen=True)
class Certified:
    """What a certificate states (and its token carries)."""

    code: str
    hours: Decimal
    stars: int
    issued: date

    def token(self) -> str:
        cents = int((self.hours * 100).to_integral_value())
        value = f"{self.code}_{cents}_{self.stars}_{self.issued:%Y%m%d}"
        return sign(value, CERTIFICATE_SALT)


class CertificateInvalid(ValueError):
    """The token is not one the site issued (changed, cut short, garbage)."""


class CertificateExpired(ValueError):
    """A genuine token issued more than ``VALID_DAYS`` ago."""


def read_token(token: str, today: date | None = None) -> Certified:
    """The certificate a token states. Raises CertificateInvalid,
    CertificateExpired."""
    try:
        code, cents, stars, issued = unsign(token, CERTIFICATE_SALT).split("_")
        certified = Certified(
            code=code,
            hours=Decimal(int(cents)) / 100,
            stars=int(stars),
            issued=datetime.strptime(issued, "%Y%m%d").date(),
        )
    except (signing.BadSignature, ValueError, UnicodeError, InvalidOperation):
        raise CertificateInvalid(token) from None
    today = today or timezone.localdate()
    if (today - certified.issued).days > VALID_DAYS:
        raise CertificateExpired(token)
    return certified


def download_token(volunteer_pk: int) -> str:
    return sign(str(volunteer_pk), DOWNLOAD_SALT, timestamp=True)


def read_download_token(token: str) -> int | None:
    """The volunteer pk of a download link still valid, else None."""
    try:
        value = unsign(token, DOWNLOAD_SALT, max_age=DOWNLOAD_SECONDS)
    except (signing.BadSignature, ValueError, UnicodeError):
        return None
    return int(value) if value.isdigit() else None


def star_text(stars: int) -> str:
    return f"{'★' * stars}{'☆' * (5 - stars)}" if stars else "未评星"


def render(
    *,
    name: str,
    certified: Certified,
    community: str,
    verify_url: str,
    site_name: str,
    subdistrict_name: str = "",
) -> bytes:
    """The certificate as PNG bytes. Raises posters.PosterFontError when the
    font is missing."""
    posters.check_font()
    codepoints = posters.covered_codepoints()

    def p(text: str) -> str:
        return posters.printable(text, codepoints)

    canvas = posters.Canvas((WIDTH, HEIGHT), PAPER)
    draw = canvas.draw
    draw.rectangle([0, 0, WIDTH, 230], fill=RED)
    draw.rectangle([0, 230, WIDTH, 240], fill=GOLD)
    draw.rectangle([30, 270, WIDTH - 30, HEIGHT - 30], outline=RED, width=4)
    canvas.text((WIDTH // 2, 120), "志愿服务证明", posters.font(84, True), PAPER, "mm")
    canvas.text(
        (WIDTH // 2, 196),
        p(subdistrict_name or site_name),
        posters.font(34),
        GOLD,
        "mm",
    )
    y = 340
    body = posters.font(40)
    canvas.text((90, y), "兹证明", body, INK)
    y += 90
    canvas.text((90, y), p(name), posters.font(72, True), INK)
    y += 120
    hours = f"{certified.hours.normalize():f}"
    lines = [
        f"志愿者编号：{certified.code}",
        f"所属社区：{p(community) or '全街道'}",
        f"累计志愿服务时长：{hours} 小时",
        f"星级：{star_text(certified.stars)}",
    ]
    for line in lines:
        canvas.text((90, y), line, body, INK)
        y += 76
    y += 10
    width = WIDTH - 180
    note = "以上时长由社区志愿服务签到签退和工作人员登记记录，存入社区时间银行。"
    y = canvas.lines(
        90, y, posters.wrap(note, posters.font(32), width), posters.font(32), MUTED
    )
    # The QR code and how to check it, bottom left; issuer and date bottom right.
    box = 300
    code = qr.pil_image(verify_url, box)
    top = HEIGHT - 80 - box
    draw.rounded_rectangle(
        [80, top - 10, 100 + box, top + box + 10], 12, fill=(255, 255, 255)
    )
    canvas.image.paste(
        code, (90 + (box - code.width) // 2, top + (box - code.height) // 2)
    )
    small = posters.font(30)
    canvas.text((90, top - 60), "扫码核验真伪", small, MUTED)
    right = WIDTH - 90
    canvas.text((right, HEIGHT - 200), p(site_name), posters.font(38, True), INK, "rs")
    canvas.text(
        (right, HEIGHT - 140),
        f"{certified.issued.year}年{certified.issued.month}月{certified.issued.day}日",
        body,
        INK,
        "rs",
    )
    buffer = io.BytesIO()
    canvas.image.save(buffer, "PNG", compress_level=6)
    return buffer.getvalue()
