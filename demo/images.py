"""Images for the demo site, drawn locally with Pillow (nothing is downloaded).

Each picture is built from a brand colour and the words it stands for, so the demo
looks deliberate: a community's cover shows its name and brand in its own colour.
Needs a CJK font; the Makefile installs Debian's fonts-noto-cjk.
"""

import io
import math
import random
from functools import lru_cache
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

FONT_CANDIDATES = [
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf",
]


class FontMissingError(RuntimeError):
    pass


@lru_cache(maxsize=1)
def font_path() -> str:
    for candidate in FONT_CANDIDATES:
        if Path(candidate).exists():
            return candidate
    raise FontMissingError(
        "没有找到中文字体，请先安装 fonts-noto-cjk（make run 会自动安装）。"
        " No CJK font found: install Debian's fonts-noto-cjk."
    )


@lru_cache(maxsize=32)
def font(size: int) -> ImageFont.FreeTypeFont:
    # Index 2 of the Noto CJK collection is the Simplified Chinese face.
    path = font_path()
    index = 2 if "NotoSansCJK" in path else 0
    return ImageFont.truetype(path, size, index=index)


def hex_to_rgb(colour: str) -> tuple[int, int, int]:
    colour = colour.lstrip("#")
    return tuple(int(colour[i : i + 2], 16) for i in (0, 2, 4))


def mix(a, b, t: float) -> tuple[int, int, int]:
    return tuple(round(x + (y - x) * t) for x, y in zip(a, b, strict=True))


def _gradient(size, top, bottom) -> Image.Image:
    width, height = size
    image = Image.new("RGB", size, top)
    draw = ImageDraw.Draw(image)
    for y in range(height):
        draw.line([(0, y), (width, y)], fill=mix(top, bottom, y / max(height - 1, 1)))
    return image


def _motif(image: Image.Image, colour, seed: str, count: int = 7) -> None:
    """Soft circles and petals in lighter shades of the brand colour."""
    rnd = random.Random(seed)
    overlay = Image.new("RGBA", image.size, (0, 0, 0, 0))
    draw = ImageDraw.Draw(overlay)
    width, height = image.size
    light = mix(colour, (255, 255, 255), 0.55)
    for _ in range(count):
        r = rnd.randint(height // 8, height // 2)
        x = rnd.randint(-r // 2, width)
        y = rnd.randint(-r // 2, height)
        draw.ellipse([x - r, y - r, x + r, y + r], fill=(*light, rnd.randint(28, 60)))
    # A five-petal flower (花园路) in the upper right corner.
    cx, cy, pr = width - height // 5, height // 5, height // 12
    for k in range(5):
        angle = 2 * math.pi * k / 5 - math.pi / 2
        px, py = cx + pr * math.cos(angle), cy + pr * math.sin(angle)
        draw.ellipse([px - pr, py - pr, px + pr, py + pr], fill=(255, 255, 255, 70))
    draw.ellipse(
        [cx - pr * 0.7, cy - pr * 0.7, cx + pr * 0.7, cy + pr * 0.7],
        fill=(255, 214, 102, 200),
    )
    image.paste(overlay, (0, 0), overlay)


def _wrap(draw, text: str, fnt, max_width: int) -> list[str]:
    lines, line = [], ""
    for char in text:
        if draw.textlength(line + char, font=fnt) > max_width and line:
            lines.append(line)
            line = char
        else:
            line += char
    if line:
        lines.append(line)
    return lines


def _text_block(draw, xy, lines, fnt, fill, spacing=1.3) -> int:
    x, y = xy
    for line in lines:
        draw.text((x, y), line, font=fnt, fill=fill)
        y += int(fnt.size * spacing)
    return y


def _to_bytes(image: Image.Image, fmt: str = "JPEG") -> bytes:
    buffer = io.BytesIO()
    if fmt == "JPEG":
        image.convert("RGB").save(buffer, "JPEG", quality=85, optimize=True)
    else:
        image.save(buffer, fmt, optimize=True)
    return buffer.getvalue()


def brand_cover(
    community: str, brand: str, slogan: str, colour: str, size=(1200, 675)
) -> bytes:
    """A community's cover: its name, brand and slogan on its brand colour."""
    base = hex_to_rgb(colour)
    image = _gradient(
        size, mix(base, (255, 255, 255), 0.08), mix(base, (0, 0, 0), 0.35)
    )
    _motif(image, base, community)
    draw = ImageDraw.Draw(image)
    width, height = size
    margin = width // 14
    draw.text(
        (margin, height * 0.18),
        community,
        font=font(height // 12),
        fill=(255, 240, 200),
    )
    brand_font = font(height // 7)
    lines = _wrap(draw, brand, brand_font, width - 2 * margin)
    y = _text_block(draw, (margin, height * 0.32), lines, brand_font, (255, 255, 255))
    if slogan:
        slogan_font = font(height // 18)
        _text_block(
            draw,
            (margin, y + height * 0.04),
            _wrap(draw, slogan, slogan_font, width - 2 * margin),
            slogan_font,
            (255, 255, 255),
        )
    draw.rectangle(
        [margin, height - height // 9, margin + width // 8, height - height // 9 + 6],
        fill=(255, 214, 102),
    )
    return _to_bytes(image)


def scene(caption: str, colour: str, seed: str, size=(960, 720)) -> bytes:
    """A gallery picture: a stylised street of buildings and trees with a caption."""
    base = hex_to_rgb(colour)
    sky = mix(base, (255, 255, 255), 0.75)
    image = _gradient(size, sky, mix(base, (255, 255, 255), 0.45))
    draw = ImageDraw.Draw(image)
    width, height = size
    rnd = random.Random(seed)
    ground = int(height * 0.72)
    x = 0
    while x < width:
        w = rnd.randint(width // 9, width // 5)
        h = rnd.randint(height // 4, height // 2)
        shade = mix(base, (255, 255, 255), rnd.uniform(0.1, 0.45))
        draw.rectangle([x, ground - h, x + w - 8, ground], fill=shade)
        for wy in range(ground - h + 16, ground - 20, 34):
            for wx in range(x + 12, x + w - 24, 28):
                draw.rectangle([wx, wy, wx + 12, wy + 16], fill=(255, 244, 214))
        x += w
    draw.rectangle([0, ground, width, height], fill=mix(base, (0, 0, 0), 0.25))
    for tx in range(40, width, width // 6):
        r = rnd.randint(30, 48)
        draw.rectangle([tx - 5, ground - 40, tx + 5, ground], fill=(110, 72, 40))
        draw.ellipse(
            [tx - r, ground - 40 - 2 * r, tx + r, ground - 40], fill=(56, 142, 60)
        )
    caption_font = font(height // 13)
    draw.text(
        (width // 20, ground + (height - ground) // 4),
        caption,
        font=caption_font,
        fill=(255, 255, 255),
    )
    return _to_bytes(image)


def portrait(name: str, colour: str, size=(640, 640)) -> bytes:
    """A role model's portrait: a friendly silhouette and the person's name."""
    base = hex_to_rgb(colour)
    image = _gradient(
        size, mix(base, (255, 255, 255), 0.7), mix(base, (255, 255, 255), 0.35)
    )
    draw = ImageDraw.Draw(image)
    width, height = size
    body = mix(base, (0, 0, 0), 0.15)
    cx = width // 2
    draw.ellipse(
        [cx - width * 0.34, height * 0.55, cx + width * 0.34, height * 1.15], fill=body
    )
    draw.ellipse(
        [cx - width * 0.16, height * 0.2, cx + width * 0.16, height * 0.52],
        fill=(250, 224, 196),
    )
    draw.chord(
        [cx - width * 0.17, height * 0.17, cx + width * 0.17, height * 0.42],
        180,
        360,
        fill=(60, 45, 40),
    )
    name_font = font(height // 9)
    text_width = draw.textlength(name, font=name_font)
    draw.rounded_rectangle(
        [
            cx - text_width / 2 - 24,
            height * 0.8,
            cx + text_width / 2 + 24,
            height * 0.8 + name_font.size * 1.5,
        ],
        radius=16,
        fill=(255, 255, 255),
    )
    draw.text(
        (cx - text_width / 2, height * 0.8 + name_font.size * 0.2),
        name,
        font=name_font,
        fill=mix(base, (0, 0, 0), 0.3),
    )
    return _to_bytes(image)


def article_cover(topic: str, kicker: str, colour: str, size=(1200, 675)) -> bytes:
    """A news cover: the article's topic set large in the centre (so that a square
    thumbnail crop still reads), the community or 街道动态 under it."""
    base = hex_to_rgb(colour)
    image = _gradient(size, mix(base, (0, 0, 0), 0.05), mix(base, (0, 0, 0), 0.45))
    _motif(image, base, topic + kicker, count=5)
    draw = ImageDraw.Draw(image)
    width, height = size
    topic_font = font(height // 6 if len(topic) <= 4 else height // 8)
    topic_width = draw.textlength(topic, font=topic_font)
    cx, cy = width / 2, height * 0.44
    draw.text(
        (cx - topic_width / 2, cy - topic_font.size * 0.6),
        topic,
        font=topic_font,
        fill=(255, 255, 255),
    )
    draw.rectangle(
        [
            cx - 40,
            cy + topic_font.size * 0.75,
            cx + 40,
            cy + topic_font.size * 0.75 + 6,
        ],
        fill=(255, 214, 102),
    )
    kicker_font = font(height // 16)
    kicker_width = draw.textlength(kicker, font=kicker_font)
    draw.text(
        (cx - kicker_width / 2, cy + topic_font.size * 1.05),
        kicker,
        font=kicker_font,
        fill=(255, 240, 200),
    )
    return _to_bytes(image)


def qr_card(url: str, label: str, size=(600, 700)) -> bytes:
    """A QR code for ``url`` with a label under it (segno draws the code)."""
    import segno

    qr = segno.make(url, error="m")
    buffer = io.BytesIO()
    qr.save(buffer, kind="png", scale=12, border=2)
    code = Image.open(io.BytesIO(buffer.getvalue())).convert("RGB")
    width, height = size
    image = Image.new("RGB", size, (255, 255, 255))
    code = code.resize((width - 100, width - 100), Image.NEAREST)
    image.paste(code, (50, 40))
    draw = ImageDraw.Draw(image)
    label_font = font(34)
    text_width = draw.textlength(label, font=label_font)
    draw.text(
        ((width - text_width) / 2, width - 30),
        label,
        font=label_font,
        fill=(40, 40, 40),
    )
    return _to_bytes(image, "PNG")
