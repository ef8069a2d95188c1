"""QR codes (二维码) for a page's canonical URL, drawn by segno.

Every page shows one in its share panel, so the output is kept in the Django cache
keyed by the URL: a page render costs a cache lookup, not segno's encoding. The key
is the URL alone (plus a format version), so a page moved to a new URL simply gets a
new entry and the old one expires.
"""

import hashlib
import io

import segno
from django.core.cache import cache
from django.utils.html import escape

# Bump when the output below changes, so cached copies are not reused.
VERSION = 1
CACHE_SECONDS = 30 * 24 * 3600
LABEL = "本页二维码"
DARK = "#1a1a1a"
# Quiet zone of 4 modules is what the QR standard asks for; scanners in WeChat cope
# with less, but a printed or cropped code needs it.
BORDER = 4
PNG_SCALE = 10  # 10 px per module: ~410 px for a typical page URL, sharp in print


def make(url: str) -> segno.QRCode:
    # Level M recovers from 15% damage; segno raises it when the symbol has room.
    return segno.make(url, error="m", micro=False, boost_error=True)


def _key(kind: str, url: str) -> str:
    digest = hashlib.sha256(url.encode()).hexdigest()[:40]
    return f"sharing:qr:{VERSION}:{kind}:{digest}"


def _cached(kind: str, url: str, build):
    key = _key(kind, url)
    value = cache.get(key)
    if value is None:
        value = build(url)
        cache.set(key, value, CACHE_SECONDS)
    return value


def _inline_svg(url: str) -> str:
    svg = make(url).svg_inline(
        scale=1, border=BORDER, dark=DARK, omitsize=True, title=LABEL
    )
    # segno has no option for ARIA attributes; screen readers need role="img" to
    # read the <svg> as one picture with a name instead of an empty group.
    return svg.replace(
        "<svg ", f'<svg role="img" aria-label="{escape(LABEL)}" focusable="false" ', 1
    )


def _svg_file(url: str) -> bytes:
    buffer = io.BytesIO()
    make(url).save(buffer, kind="svg", scale=10, border=BORDER, dark=DARK, title=LABEL)
    return buffer.getvalue()


def _png_file(url: str) -> bytes:
    buffer = io.BytesIO()
    make(url).save(buffer, kind="png", scale=PNG_SCALE, border=BORDER, dark=DARK)
    return buffer.getvalue()


def inline_svg(url: str) -> str:
    """An accessible <svg> element for ``url`` (sized by CSS through its viewBox)."""
    return _cached("inline", url, _inline_svg)


def svg_file(url: str) -> bytes:
    """A standalone SVG document for ``url``."""
    return _cached("svg", url, _svg_file)


def png_file(url: str) -> bytes:
    """A PNG for ``url``, ``PNG_SCALE`` pixels per module with a quiet zone."""
    return _cached("png", url, _png_file)


def pil_image(url: str, box: int):
    """The code as a Pillow image of at most ``box`` pixels square, whole pixels per
    module (a blurred module edge is what makes phone scanners fail), with a
    2-module quiet zone: posters put it on a white card that adds the rest."""
    from PIL import Image

    qr = make(url)
    border = 2
    modules = qr.symbol_size(scale=1, border=border)[0]
    scale = max(box // modules, 1)
    buffer = io.BytesIO()
    qr.save(buffer, kind="png", scale=scale, border=border, dark=DARK)
    buffer.seek(0)
    return Image.open(buffer).convert("RGB")
