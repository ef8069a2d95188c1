"""Text as people type or paste it, made safe to store, show and export.

Pure functions, no Django. ``clean_text`` is for what residents type into a form
(names, addresses, notes): control characters (an ANSI escape pasted from a
terminal), bidi overrides (``U+202E`` turns the rest of a line around) and
zero-width characters (``U+200B``, ``U+FEFF``) are removed, so what staff read
is what was typed. ``has_visible`` tells whether anything readable is left.

``spreadsheet_text`` and ``csv_cell`` make any stored string fit an export,
whatever wrote it (data from before the cleaning, an editor's page title, an
import): a worksheet is XML and cannot hold most control characters at all
(openpyxl raises ``IllegalCharacterError``); a CSV cell must not start a formula.
"""

import re
import unicodedata

# Zero-width joiner: kept inside an emoji sequence (👨‍👩‍👧), removed elsewhere.
ZWJ = "\u200d"
# Letters and symbols that draw nothing (Hangul fillers, braille blank): a "name"
# made of them looks empty.
INVISIBLE = frozenset("\u115f\u1160\u3164\uffa0\u2800")
VISIBLE_CATEGORIES = ("L", "N", "P", "S")

# What an XML 1.0 document (a worksheet) cannot contain: C0 controls but tab,
# newline and carriage return, lone surrogates, U+FFFE and U+FFFF.
XML_ILLEGAL_RE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
# A CSV cell starting with one of these is read as a formula by Excel, WPS and
# LibreOffice (OWASP "CSV injection").
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _is_emoji(char: str) -> bool:
    return unicodedata.category(char) == "So" or char == "\ufe0f"


def _dropped(text: str, index: int, keep_newlines: bool) -> bool:
    char = text[index]
    if keep_newlines and char == "\n":
        return False
    category = unicodedata.category(char)
    if category == "Cf":
        if char == ZWJ and 0 < index < len(text) - 1:
            return not (_is_emoji(text[index - 1]) and _is_emoji(text[index + 1]))
        return True
    # Control characters (tab and newline too: they are whitespace below) and
    # lone surrogates, which UTF-8 cannot store.
    return category in ("Cc", "Cs") and not char.isspace()


def clean_text(value: str | None, *, multiline: bool = False) -> str:
    """``value`` without control, bidi and zero-width characters, and with its
    whitespace tidied: one line with single spaces (``multiline``: lines kept,
    each stripped, at most one empty line in a row). Never raises."""
    text = "" if value is None else str(value)
    if multiline:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
        text = text.replace("\u2028", "\n").replace("\u2029", "\n")
    text = "".join(
        char for i, char in enumerate(text) if not _dropped(text, i, multiline)
    )
    if not multiline:
        return " ".join(text.split())
    lines = [" ".join(line.split()) for line in text.split("\n")]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def has_visible(text: str) -> bool:
    """Whether ``text`` holds anything a reader sees: a letter, digit,
    punctuation mark or symbol (not only spaces, marks or invisible fillers)."""
    return any(
        unicodedata.category(char)[0] in VISIBLE_CATEGORIES and char not in INVISIBLE
        for char in text
    )


def spreadsheet_text(value: str) -> str:
    """``value`` without the characters a worksheet (XML) cannot hold."""
    return XML_ILLEGAL_RE.sub("", value)


def csv_cell(value: str) -> str:
    """``value`` for a CSV cell: no NUL or lone surrogate (the file is UTF-8), and a
    leading apostrophe where a spreadsheet would read a formula. Applying it twice
    changes nothing more."""
    value = re.sub("[\x00\ud800-\udfff]", "", value)
    if value.startswith(FORMULA_START):
        return "'" + value
    return value
