"""Marking what a resident searched for in a title or snippet (pure, no database).

Matching happens on the normalised text (so 戊院社區 in a query marks 戊院社区 on the
page, ＡＢＣ marks abc) while the output keeps the page's own characters. Every
piece of page text is escaped; only our own ``<mark>`` tags are markup.
"""

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from .text import normalise

SNIPPET_LENGTH = 90
# Characters shown before the first match, so the snippet starts with context.
LEAD = 24


def _normalised_with_map(text: str) -> tuple[str, list[int]]:
    """``text`` normalised, with the index in ``text`` of each normalised char.
    Normalising usually keeps the length (one char for one); when it does not
    (NFKC expands ㎡ → m2), each character is normalised on its own."""
    norm = normalise(text)
    if len(norm) == len(text):
        return norm, list(range(len(text)))
    chars, positions = [], []
    for i, char in enumerate(text):
        converted = normalise(char)
        chars.append(converted)
        positions.extend([i] * len(converted))
    return "".join(chars), positions


def find_matches(text: str, terms: list[str]) -> list[tuple[int, int]]:
    """Non-overlapping (start, end) spans of ``text`` matching ``terms``, longest
    term first, in text order."""
    if not text or not terms:
        return []
    norm, positions = _normalised_with_map(text)
    taken = [False] * len(norm)
    spans = []
    for term in sorted({t for t in terms if t}, key=len, reverse=True):
        start = norm.find(term)
        while start != -1:
            end = start + len(term)
            if not any(taken[start:end]):
                taken[start:end] = [True] * len(term)
                spans.append((positions[start], positions[end - 1] + 1))
            start = norm.find(term, end)
    return sorted(spans)


def _render(text: str, spans: list[tuple[int, int]], start: int, end: int) -> str:
    out, cursor = [], start
    for span_start, span_end in spans:
        if span_end <= start or span_start >= end:
            continue
        span_start, span_end = max(span_start, start), min(span_end, end)
        out.append(escape(text[cursor:span_start]))
        out.append(f"<mark>{escape(text[span_start:span_end])}</mark>")
        cursor = span_end
    out.append(escape(text[cursor:end]))
    return "".join(out)


def highlight(text: str, terms: list[str]) -> SafeString:
    """``text`` escaped, with every match of ``terms`` in ``<mark>``."""
    text = text or ""
    return mark_safe(_render(text, find_matches(text, terms), 0, len(text)))


def snippet(text: str, terms: list[str], length: int = SNIPPET_LENGTH) -> SafeString:
    """About ``length`` characters of ``text`` around the first match, escaped and
    marked; the beginning of the text when nothing matches."""
    text = " ".join((text or "").split())
    spans = find_matches(text, terms)
    start = 0
    if spans and spans[0][0] > LEAD:
        first = spans[0][0]
        start = first - LEAD
        # Rather start a sentence when one begins shortly before the match.
        cut = max(text.rfind(stop, start, first) for stop in "。！？；")
        if cut != -1:
            start = cut + 1
        # Near the end of the text, show a full window rather than a short tail.
        start = max(0, min(start, len(text) - length))
        while start < spans[0][0] and text[start].isspace():
            start += 1
    end = min(len(text), start + length)
    body = _render(text, spans, start, end)
    prefix = "…" if start > 0 else ""
    suffix = "…" if end < len(text) else ""
    return mark_safe(prefix + body + suffix)
