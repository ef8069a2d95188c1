"""Posters (海报): a 750×1334 PNG that the new-media station sends into WeChat groups
and Moments, or prints — cover picture, title, time and place, who and where, the
site's name and a QR code to the page.

Drawing only: ``render_poster(PosterData) -> RenderedPoster``. No models, no
request; which text goes on which page type is decided in ``sharing/content.py``
and caching in ``sharing/store.py``.

Text is drawn with the CJK font of the ``POSTER_FONT`` setting. A character the font
has no glyph for (emoji, rare symbols) would come out as an empty box (“tofu”), so
every string is filtered against the font's character map (read with fontTools)
before it is measured or drawn.
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import math
import os
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field, fields, replace
from functools import lru_cache

from django.conf import settings
from PIL import Image, ImageDraw, ImageFont, ImageOps

from . import qr

logger = logging.getLogger(__name__)

WIDTH, HEIGHT = 750, 1334  # the usual phone-screen poster size in WeChat
MARGIN = 48
# Bump when the drawing changes: it is part of every poster's cache key.
LAYOUT_VERSION = 1

INK = (26, 26, 26)
MUTED = (89, 89, 89)
PAPER = (255, 250, 245)
WHITE = (255, 255, 255)
GOLD = (255, 214, 102)
DEFAULT_COLOUR = "#A8071A"
STATUS_COLOURS = {"cancelled": (89, 89, 89), "postponed": (173, 104, 0)}

FOOTER_HEIGHT = 290
QR_CARD = 238
ELLIPSIS = "…"
# Chinese line-breaking rules (禁则): these may not start a line …
NO_LINE_START = set("，。、；：？！）》」』】〕〉”’…·—％%,.;:?!)]}")
# … and these may not end one.
NO_LINE_END = set("（《「『【〔〈“‘([{")


class PosterFontError(RuntimeError):
    """The poster font is missing or unreadable; the message is for the logs."""


# ---------------------------------------------------------------------------
# What goes on a poster
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class PosterData:
    """The texts, colour, picture and link of one poster, as given: characters
    the font lacks are dropped when it is drawn. ``layout`` is "cover" (a wide
    picture on top: activities, communities) or "portrait" (a round photo and the
    person's name: honours)."""

    title: str
    url: str
    site_name: str
    subdistrict_name: str = ""
    kicker: str = ""  # 先锋讲堂 / 节日活动 · 中秋节 / 一社一品 · 甲院社区 / 花园榜样
    subtitle: str = ""  # slogan, lecture topic, “2025年度 · 好邻居 · 戊院社区”
    facts: tuple[tuple[str, str], ...] = ()  # ("时间", "…"), ("地点", "…")
    quote: str = ""  # summary or citation, shown if there is room
    status: str = ""  # "cancelled" or "postponed"
    status_text: str = ""  # 活动已取消：…
    colour: str = DEFAULT_COLOUR
    caption: str = "长按识别二维码"
    caption_detail: str = "查看详情"
    layout: str = "cover"
    person: str = ""
    # Identifies the picture (id, file, focal point) for the cache key; the picture
    # itself is only opened when the poster is drawn.
    image_key: str = ""
    focus: tuple[float, float] | None = None  # focal point, as fractions
    image: Callable[[], Image.Image | None] | None = field(
        default=None, compare=False, repr=False
    )

    def fingerprint(self) -> str:
        """A digest of everything drawn, the font and the layout version: two
        posters with the same fingerprint are the same picture."""
        data = {f.name: getattr(self, f.name) for f in fields(self) if f.compare}
        data["_font"] = font_config()
        data["_layout"] = LAYOUT_VERSION
        raw = json.dumps(data, ensure_ascii=False, sort_keys=True)
        return hashlib.sha256(raw.encode()).hexdigest()


@dataclass(frozen=True)
class RenderedPoster:
    png: bytes
    texts: tuple[str, ...]  # every string drawn, for tests of glyph coverage


# ---------------------------------------------------------------------------
# Font
# ---------------------------------------------------------------------------


def font_config() -> dict:
    config = dict(getattr(settings, "POSTER_FONT", {}) or {})
    regular = config.get("regular") or ""
    return {
        "regular": regular,
        "bold": config.get("bold") or regular,
        "index": int(config.get("index", 0)),
    }


def check_font() -> None:
    """Raise PosterFontError (in Chinese, for the logs) if a font file is missing."""
    config = font_config()
    for weight in ("regular", "bold"):
        path = config[weight]
        if not path or not os.path.isfile(path):
            raise PosterFontError(
                f"海报字体文件不存在：{path or '（未设置）'}。"
                "请安装 Debian 软件包 fonts-noto-cjk（make system-deps），"
                "或在设置 POSTER_FONT 中指定一个中文字体。"
            )


def font_available() -> bool:
    try:
        check_font()
    except PosterFontError:
        return False
    return True


@lru_cache(maxsize=64)
def _font(path: str, index: int, size: int) -> ImageFont.FreeTypeFont:
    try:
        return ImageFont.truetype(path, size, index=index)
    except OSError as error:
        raise PosterFontError(
            f"海报字体无法读取：{path}（集合中第 {index} 个字体）：{error}"
        ) from error


def font(size: int, bold: bool = False) -> ImageFont.FreeTypeFont:
    config = font_config()
    return _font(config["bold" if bold else "regular"], config["index"], size)


@lru_cache(maxsize=8)
def _cmap(path: str, index: int, mtime: float) -> frozenset[int]:
    from fontTools.ttLib import TTFont

    try:
        with TTFont(path, fontNumber=index, lazy=True) as face:
            return frozenset(face.getBestCmap())
    except Exception as error:  # fontTools raises many kinds for a bad file
        raise PosterFontError(
            f"海报字体无法读取字符表：{path}（集合中第 {index} 个字体）：{error}"
        ) from error


def covered_codepoints() -> frozenset[int]:
    """Code points both poster faces have a glyph for."""
    check_font()
    config = font_config()
    faces = {config["regular"], config["bold"]}
    maps = [_cmap(p, config["index"], os.path.getmtime(p)) for p in sorted(faces)]
    return frozenset.intersection(*maps)


def printable(text: str, codepoints: frozenset[int] | None = None) -> str:
    """``text`` with every character the font cannot draw removed (emoji, variation
    selectors, zero-width joiners …), whitespace made plain and squeezed."""
    codepoints = covered_codepoints() if codepoints is None else codepoints
    kept = []
    for char in unicodedata.normalize("NFC", text or ""):
        if char == "\n":
            kept.append("\n")
        elif char.isspace():
            kept.append(" ")
        elif ord(char) in codepoints and unicodedata.category(char) not in ("Cc", "Cf"):
            kept.append(char)
    lines = (re.sub(" {2,}", " ", line).strip() for line in "".join(kept).split("\n"))
    return "\n".join(line for line in lines if line)


# ---------------------------------------------------------------------------
# Text layout
# ---------------------------------------------------------------------------


def _tokens(text: str) -> list[str]:
    """Units that are never split across lines: a Latin word, a number or a time
    range such as 09:30–11:00 (with its trailing space), or one CJK character."""
    return re.findall(r"[A-Za-z0-9@#&+\-–_./:%]+ ?|.", text)


def wrap(text: str, fnt: ImageFont.FreeTypeFont, width: int) -> list[str]:
    """Lines of ``text`` no wider than ``width``, following the line-start and
    line-end rules above; a word wider than a whole line is split by character."""
    lines: list[str] = []
    for paragraph in text.split("\n"):
        line = ""
        for token in _tokens(paragraph):
            while True:
                candidate = line + token
                if fnt.getlength(candidate.rstrip()) <= width:
                    line = candidate
                    break
                if not line:
                    # A word wider than the line: split it by character.
                    for char in token:
                        if line and fnt.getlength(line + char) > width:
                            lines.append(line)
                            line = ""
                        line += char
                    break
                carry = ""
                if token[0] in NO_LINE_START and len(line) > 1:
                    # Take the last character down with the punctuation.
                    line, carry = line[:-1], line[-1]
                while len(line) > 1 and line[-1] in NO_LINE_END:
                    line, carry = line[:-1], line[-1] + carry
                lines.append(line.rstrip())
                line = carry  # and place the token again after it
        if line.strip():
            lines.append(line.rstrip())
    return lines


def clamp(
    lines: list[str], max_lines: int, fnt: ImageFont.FreeTypeFont, width: int
) -> list[str]:
    """At most ``max_lines``; the last one shown ends with “…” if text was cut."""
    if len(lines) <= max_lines:
        return lines
    kept = lines[:max_lines]
    last = kept[-1]
    while last and fnt.getlength(last + ELLIPSIS) > width:
        last = last[:-1]
    kept[-1] = last.rstrip("，、；：,;: ") + ELLIPSIS
    return kept


class Canvas:
    """A Pillow image that remembers every string drawn on it."""

    def __init__(self, size, background):
        self.image = Image.new("RGB", size, background)
        self.draw = ImageDraw.Draw(self.image)
        self.texts: list[str] = []

    def text(self, xy, text, fnt, fill, anchor="la"):
        if text:
            self.texts.append(text)
            self.draw.text(xy, text, font=fnt, fill=fill, anchor=anchor)

    def lines(self, x, y, lines, fnt, fill, leading=1.4, anchor="la") -> int:
        """Draw ``lines`` from ``y`` down; return the y below the last one."""
        step = round(fnt.size * leading)
        for line in lines:
            self.text((x, y), line, fnt, fill, anchor=anchor)
            y += step
        return y


def hex_rgb(colour: str) -> tuple[int, int, int]:
    colour = (colour or DEFAULT_COLOUR).lstrip("#")
    try:
        return tuple(int(colour[i : i + 2], 16) for i in (0, 2, 4))
    except ValueError:
        return hex_rgb(DEFAULT_COLOUR)


def mix(a, b, t: float) -> tuple[int, int, int]:
    return tuple(round(x + (y - x) * t) for x, y in zip(a, b, strict=True))


def darker_if_light(rgb) -> tuple[int, int, int]:
    """Editors are asked for dark brand colours; if one is light anyway, darken it
    until white text on it has enough contrast."""
    r, g, b = rgb
    while (0.299 * r + 0.587 * g + 0.114 * b) > 110:
        r, g, b = mix((r, g, b), (0, 0, 0), 0.15)
    return (r, g, b)


# ---------------------------------------------------------------------------
# Drawing
# ---------------------------------------------------------------------------


def _gradient(size, top, bottom) -> Image.Image:
    # linear_gradient("L") runs from black at the top to white at the bottom.
    mask = Image.linear_gradient("L").resize(size)
    return Image.composite(
        Image.new("RGB", size, bottom), Image.new("RGB", size, top), mask
    )


def _decorate(image: Image.Image, colour) -> None:
    """Soft circles and a five-petal flower (花园路) in lighter shades."""
    overlay = Image.new("RGBA", image.size, (0, 0, 0, 0))
    draw = ImageDraw.Draw(overlay)
    width, height = image.size
    light = mix(colour, WHITE, 0.6)
    for cx, cy, r, alpha in (
        (0.05, 0.95, 0.42, 34),
        (0.92, 0.1, 0.3, 40),
        (0.75, 0.85, 0.22, 28),
    ):
        x, y, radius = cx * width, cy * height, r * width
        draw.ellipse([x - radius, y - radius, x + radius, y + radius], (*light, alpha))
    fx, fy, pr = width - 120, 110, 34
    for k in range(5):
        angle = 2 * math.pi * k / 5 - math.pi / 2
        px, py = fx + pr * math.cos(angle), fy + pr * math.sin(angle)
        draw.ellipse([px - pr, py - pr, px + pr, py + pr], (255, 255, 255, 60))
    draw.ellipse([fx - 24, fy - 24, fx + 24, fy + 24], (*GOLD, 190))
    image.paste(overlay, (0, 0), overlay)


def _open_picture(data: PosterData) -> Image.Image | None:
    if data.image is None:
        return None
    try:
        picture = data.image()
        if picture is not None:
            picture = ImageOps.exif_transpose(picture).convert("RGB")
        return picture
    except (OSError, ValueError) as error:
        # A missing or broken file must not cost the poster: draw the colour block.
        logger.warning("海报封面图无法读取（%s）：%s", data.image_key, error)
        return None


def _pill(canvas: Canvas, x, y, text, fnt, background, foreground, pad=18) -> int:
    """A rounded label; returns its right edge."""
    width = fnt.getlength(text)
    height = round(fnt.size * 1.6)
    canvas.draw.rounded_rectangle(
        [x, y, x + width + 2 * pad, y + height], radius=height // 2, fill=background
    )
    canvas.text((x + pad, y + height / 2), text, fnt, foreground, anchor="lm")
    return x + width + 2 * pad


def title_lines(text: str, fnt, width: int) -> list[str]:
    """Wrapped title; “先锋讲堂：从老照片看……” breaks after the colon when that
    takes no more lines (the two halves read as kicker and headline)."""
    plain = wrap(text, fnt, width)
    head, colon, tail = text.partition("：")
    if colon and head and tail and "\n" not in text:
        split = wrap(f"{head}{colon}\n{tail}", fnt, width)
        if len(split) <= len(plain):
            return split
    return plain


@dataclass
class _Block:
    """Content below the picture, measured before it is drawn."""

    scale: float
    kicker: str = ""
    title_font: ImageFont.FreeTypeFont | None = None
    title: list[str] = field(default_factory=list)
    subtitle: list[str] = field(default_factory=list)
    facts: list[tuple[str, list[str]]] = field(default_factory=list)
    quote: list[str] = field(default_factory=list)
    height: int = 0

    def size(self, base: int) -> int:
        return round(base * self.scale)


FACT_LABEL_WIDTH = 92
TEXT_WIDTH = WIDTH - 2 * MARGIN
KICKER, SUBTITLE, LABEL, VALUE, QUOTE = 27, 32, 27, 31, 29  # font sizes at scale 1
TITLE_LEADING, TEXT_LEADING, QUOTE_LEADING = 1.3, 1.4, 1.55
RULE = 24 + 6 + 24  # the short accent rule under the title, with space around it


def _title(text: str, sizes) -> tuple[ImageFont.FreeTypeFont, list[str]]:
    """The title at the largest size, unless that leaves one or two characters
    alone on the last line and a smaller size takes a line less."""
    options = []
    for size in sizes:
        fnt = font(size, bold=True)
        lines = clamp(title_lines(text, fnt, TEXT_WIDTH), 3, fnt, TEXT_WIDTH)
        options.append((fnt, lines))
    fnt, lines = options[0]
    if len(lines) > 1 and len(lines[-1].strip("”’）》。")) <= 2:
        for smaller, smaller_lines in options[1:]:
            if len(smaller_lines) < len(lines):
                return smaller, smaller_lines
    return fnt, lines


def _layout_block(data, scale, title_sizes, fact_lines, quote_lines) -> _Block:
    block = _Block(scale)
    size = block.size
    height = 0
    if data.kicker and data.layout != "portrait":
        block.kicker = data.kicker
        height += round(size(KICKER) * 1.6) + 20
    block.title_font, block.title = _title(
        data.title, [size(title) for title in title_sizes]
    )
    height += len(block.title) * round(block.title_font.size * TITLE_LEADING)
    if data.subtitle and data.layout != "portrait":
        fnt = font(size(SUBTITLE))
        block.subtitle = clamp(wrap(data.subtitle, fnt, TEXT_WIDTH), 2, fnt, TEXT_WIDTH)
        height += 8 + len(block.subtitle) * round(fnt.size * TEXT_LEADING)
    height += RULE
    value_font = font(size(VALUE))
    value_width = TEXT_WIDTH - size(FACT_LABEL_WIDTH)
    for label, value in data.facts:
        if value:
            lines = wrap(value, value_font, value_width)
            lines = clamp(lines, fact_lines, value_font, value_width)
            block.facts.append((label, lines))
            height += len(lines) * round(value_font.size * TEXT_LEADING) + 10
    if data.quote and quote_lines:
        fnt, width = font(size(QUOTE)), TEXT_WIDTH - 28
        block.quote = clamp(wrap(data.quote, fnt, width), quote_lines, fnt, width)
        height += 18 + len(block.quote) * round(fnt.size * QUOTE_LEADING)
    block.height = height
    return block


def _fit_block(data: PosterData, available: int) -> _Block:
    """The richest arrangement that fits in ``available`` pixels. With room to
    spare, everything is set larger (elderly readers); short of room, drop the
    quote line by line, then shorten the facts, then set the title smaller."""
    if data.layout == "portrait":
        # The name is already large in the header; the citation is the content.
        title_sizes = [(46, 42), (42, 38), (38,)]
        quote_options = (6, 5, 4, 3, 2, 0)
    else:
        title_sizes = [(56, 50, 46), (50, 46), (46, 42)]
        quote_options = (4, 3, 2, 0)
    for scale in (1.2, 1.15, 1.1, 1.05):
        block = _layout_block(data, scale, title_sizes[0], 4, quote_options[0])
        if block.height <= available:
            return block
    block = None
    for sizes in title_sizes:
        for fact_lines in (4, 3, 2, 1):
            for quote_lines in quote_options:
                block = _layout_block(data, 1.0, sizes, fact_lines, quote_lines)
                if block.height <= available:
                    return block
    return block


def _draw_block(canvas: Canvas, block: _Block, y: int, accent) -> int:
    x, size = MARGIN, block.size
    if block.kicker:
        fnt = font(size(KICKER), bold=True)
        _pill(canvas, x, y, block.kicker, fnt, accent, WHITE, pad=16)
        y += round(fnt.size * 1.6) + 20
    y = canvas.lines(x, y, block.title, block.title_font, INK, TITLE_LEADING)
    if block.subtitle:
        y = canvas.lines(x, y + 8, block.subtitle, font(size(SUBTITLE)), accent)
    y += 24
    canvas.draw.rectangle([x, y, x + 72, y + 6], fill=accent)
    y += 6 + 24
    label_font, value_font = font(size(LABEL), bold=True), font(size(VALUE))
    for label, lines in block.facts:
        # The label sits on the middle of the value's first line.
        middle = y + round(value_font.size * TEXT_LEADING) // 2
        canvas.text((x, middle), label, label_font, accent, anchor="lm")
        y = canvas.lines(x + size(FACT_LABEL_WIDTH), y, lines, value_font, INK) + 10
    if block.quote:
        y += 18
        top = y
        fnt = font(size(QUOTE))
        y = canvas.lines(x + 28, y, block.quote, fnt, MUTED, QUOTE_LEADING)
        canvas.draw.rectangle(
            [x, top + 6, x + 6, y - 16], fill=mix(accent, WHITE, 0.35)
        )
    return y


def _placeholder(canvas: Canvas, data: PosterData, colour, height: int) -> None:
    """No picture: a block in the brand colour that carries the poster's kind in
    large type (社区活动, 先锋讲堂, 一社一品 …)."""
    block = _gradient((WIDTH, height), mix(colour, WHITE, 0.1), mix(colour, INK, 0.3))
    _decorate(block, colour)
    canvas.image.paste(block, (0, 0))
    word = data.kicker.split(" · ")[0] if data.kicker else data.site_name
    if not word:
        return
    big = font(88 if len(word) <= 5 else 64, bold=True)
    lines = clamp(wrap(word, big, TEXT_WIDTH), 2, big, TEXT_WIDTH)
    step = round(big.size * 1.25)
    y = (height - len(lines) * step) // 2
    for line in lines:
        canvas.text((WIDTH // 2, y), line, big, WHITE, anchor="mt")
        y += step
    canvas.draw.rectangle([WIDTH // 2 - 40, y + 10, WIDTH // 2 + 40, y + 16], GOLD)


def _draw_cover(canvas: Canvas, data: PosterData, colour, height: int) -> None:
    picture = _open_picture(data)
    if picture is not None:
        cover = ImageOps.fit(
            picture,
            (WIDTH, height),
            Image.Resampling.LANCZOS,
            centering=data.focus or (0.5, 0.5),
        )
        canvas.image.paste(cover, (0, 0))
    else:
        _placeholder(canvas, data, colour, height)
    if data.status_text:
        # Cancelled or postponed: a band across the foot of the picture, in the
        # colours the site uses for the same notice.
        fnt = font(32, bold=True)
        lines = clamp(wrap(data.status_text, fnt, TEXT_WIDTH), 2, fnt, TEXT_WIDTH)
        step = round(32 * 1.35)
        band = 28 + len(lines) * step
        canvas.draw.rectangle(
            [0, height - band, WIDTH, height],
            fill=STATUS_COLOURS.get(data.status, MUTED),
        )
        canvas.lines(MARGIN, height - band + 14, lines, fnt, WHITE, 1.35)


PORTRAIT_HEADER = 620


def _draw_portrait_header(canvas: Canvas, data: PosterData, colour) -> None:
    height = PORTRAIT_HEADER
    header = _gradient(
        (WIDTH, height), mix(colour, WHITE, 0.05), mix(colour, INK, 0.35)
    )
    _decorate(header, colour)
    canvas.image.paste(header, (0, 0))
    if data.kicker:
        canvas.text((WIDTH // 2, 50), data.kicker, font(40, bold=True), GOLD, "mt")
    diameter, top, ring = 300, 128, 10
    left = (WIDTH - diameter) // 2
    canvas.draw.ellipse(
        [left - ring, top - ring, left + diameter + ring, top + diameter + ring],
        fill=WHITE,
    )
    picture = _open_picture(data)
    if picture is not None:
        face = ImageOps.fit(
            picture,
            (diameter, diameter),
            Image.Resampling.LANCZOS,
            # Without a focal point, a portrait's face is usually above the middle.
            centering=data.focus or (0.5, 0.35),
        )
        # Drawn 4× and scaled down: a smooth edge instead of a jagged circle.
        mask = Image.new("L", (diameter * 4, diameter * 4), 0)
        ImageDraw.Draw(mask).ellipse([0, 0, diameter * 4, diameter * 4], fill=255)
        mask = mask.resize((diameter, diameter), Image.Resampling.LANCZOS)
        canvas.image.paste(face, (left, top), mask)
    else:
        canvas.draw.ellipse(
            [left, top, left + diameter, top + diameter], fill=mix(colour, WHITE, 0.7)
        )
        if data.person:
            canvas.text(
                (WIDTH // 2, top + diameter // 2),
                data.person[:1],
                font(140, bold=True),
                colour,
                "mm",
            )
    y = top + diameter + ring + 24
    if data.person:
        fnt = font(60, bold=True)
        name = clamp(wrap(data.person, fnt, TEXT_WIDTH), 1, fnt, TEXT_WIDTH)[0]
        canvas.text((WIDTH // 2, y), name, fnt, WHITE, "mt")
        y += 86
    if data.subtitle:
        fnt = font(30)
        line = clamp(wrap(data.subtitle, fnt, TEXT_WIDTH), 1, fnt, TEXT_WIDTH)[0]
        canvas.text((WIDTH // 2, y), line, fnt, (255, 236, 200), "mt")


def _draw_footer(canvas: Canvas, data: PosterData, colour) -> None:
    top = HEIGHT - FOOTER_HEIGHT
    canvas.draw.rectangle([0, top, WIDTH, HEIGHT], fill=mix(colour, INK, 0.25))
    canvas.draw.rectangle([0, top, WIDTH, top + 8], fill=GOLD)
    # The QR code on a white card: scanners need the light quiet zone around it.
    card_x = WIDTH - MARGIN - QR_CARD
    card_y = top + (FOOTER_HEIGHT - QR_CARD) // 2 + 4
    canvas.draw.rounded_rectangle(
        [card_x, card_y, card_x + QR_CARD, card_y + QR_CARD], radius=16, fill=WHITE
    )
    code = qr.pil_image(data.url, QR_CARD - 24)
    canvas.image.paste(
        code,
        (card_x + (QR_CARD - code.width) // 2, card_y + (QR_CARD - code.height) // 2),
    )
    width = card_x - MARGIN - 24
    x, y = MARGIN, top + 44
    fnt = font(38, bold=True)
    for line in clamp(wrap(data.caption, fnt, width), 2, fnt, width):
        canvas.text((x, y), line, fnt, WHITE)
        y += 54
    if data.caption_detail:
        fnt = font(30)
        line = clamp(wrap(data.caption_detail, fnt, width), 1, fnt, width)[0]
        canvas.text((x, y + 2), line, fnt, GOLD)
    # Who publishes it, at the bottom: the site, and the subdistrict unless the
    # site's name already says it.
    names = [data.site_name]
    if data.subdistrict_name and data.subdistrict_name not in data.site_name:
        names.append(data.subdistrict_name)
    names = [name for name in names if name]
    y = HEIGHT - 40 - (len(names) - 1) * 36
    for i, name in enumerate(names):
        fnt = font(28, bold=True) if i == 0 else font(23)
        line = clamp(wrap(name, fnt, width), 1, fnt, width)[0]
        canvas.text((x, y), line, fnt, (255, 240, 220), "ls")
        y += 36


COVER_HEIGHT = round(WIDTH * 9 / 16)  # the site's covers are 16:9: nothing cut off
GAP = 40  # between picture and text, and at least above the footer


def render_poster(data: PosterData) -> RenderedPoster:
    """Draw the poster. Raises PosterFontError if the font is missing."""
    codepoints = covered_codepoints()
    data = replace(
        data,
        facts=tuple(
            (printable(label, codepoints), printable(value, codepoints))
            for label, value in data.facts
        ),
        **{name: printable(getattr(data, name), codepoints) for name in TEXT_FIELDS},
    )
    colour = darker_if_light(hex_rgb(data.colour))
    canvas = Canvas((WIDTH, HEIGHT), PAPER)
    if data.layout == "portrait":
        _draw_portrait_header(canvas, data, colour)
        header = PORTRAIT_HEADER
    else:
        _draw_cover(canvas, data, colour, COVER_HEIGHT)
        header = COVER_HEIGHT
    available = HEIGHT - FOOTER_HEIGHT - header - 2 * GAP
    block = _fit_block(data, available)
    # Spare room goes a third above the text, two thirds below it.
    top = header + GAP + max(available - block.height, 0) // 3
    _draw_block(canvas, block, top, colour)
    _draw_footer(canvas, data, colour)
    buffer = io.BytesIO()
    canvas.image.save(buffer, "PNG", compress_level=6)
    return RenderedPoster(buffer.getvalue(), tuple(canvas.texts))


TEXT_FIELDS = (
    "title",
    "site_name",
    "subdistrict_name",
    "kicker",
    "subtitle",
    "quote",
    "status_text",
    "caption",
    "caption_detail",
    "person",
)
