"""Page slugs in pinyin: 甲院书画课 → jia-yuan-shu-hua-ke.

A slug of Chinese characters is percent-encoded in every shared link
(``/%E7%94%B2%E9%99%A2…``), which WeChat and residents' SMS apps cut or garble;
the title's pinyin (pypinyin) reads and survives everywhere.
"""

import re

from django.utils.text import slugify
from wagtail.models import Page

MAX_LENGTH = 80
CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")


def pinyin_slug(text: str, max_length: int = MAX_LENGTH) -> str:
    """ASCII slug of ``text``: one word per Chinese syllable, other letters and
    digits kept, cut at a hyphen to at most ``max_length`` characters; ``page``
    when nothing is left (a title of punctuation only)."""
    from pypinyin import lazy_pinyin  # 0.4 s to import: only when a slug is made

    slug = slugify(" ".join(lazy_pinyin(text or "")))
    if len(slug) > max_length:
        cut = slug[: max_length + 1]
        slug = cut.rsplit("-", 1)[0] if "-" in cut else slug[:max_length]
    return slug.strip("-") or "page"


def has_cjk(text: str) -> bool:
    return bool(CJK.search(text or ""))


def follows_title(slug: str, title: str) -> bool:
    """Whether ``slug`` is the automatic pinyin slug of ``title`` (possibly with
    the ``-2`` suffix added to make it unique)."""
    return bool(re.fullmatch(re.escape(pinyin_slug(title)) + r"(-[0-9]+)?", slug))


def unique_slug(base: str, parent, page=None) -> str:
    """``base``, or ``base-2``, ``base-3`` … : the first slug no other child of
    ``parent`` has (``page`` itself aside)."""
    candidate, suffix = base, 1
    while not Page._slug_is_available(candidate, parent, page):
        suffix += 1
        candidate = f"{base}-{suffix}"
    return candidate
