"""What residents type, as the sign-up service stores it (``normalise_name``,
``portal.text.clean_text``), and what any stored string becomes in an export
(``spreadsheet_text``, ``csv_cell``). Pure functions: no database."""

import pytest
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

from events.errors import InvalidSignupError
from events.registration import normalise_code, normalise_name
from portal.input import clean_query
from portal.text import clean_text, csv_cell, has_visible, spreadsheet_text


@pytest.mark.parametrize(
    "typed,stored",
    [
        ("王秀兰", "王秀兰"),
        (" 李  建华 ", "李 建华"),
        ("张\x1b[31m三", "张[31m三"),  # an ANSI colour code pasted from a terminal
        ("\u202eRTL\u202c", "RTL"),
        ("\u2067王\u2069五", "王五"),
        ("王\u200b秀\u200c兰\ufeff", "王秀兰"),
        ("赵\u00ad六\u2060", "赵六"),
        ("Ａｌｉｃｅ　Ｗａｎｇ", "Alice Wang"),
        ("阿依古丽·买买提", "阿依古丽·买买提"),
        ("欧阳\t娜\n", "欧阳 娜"),
        ("José", "José"),  # a combining accent is kept (NFKC composes it)
    ],
)
def test_names_are_stored_clean(typed, stored):
    assert normalise_name(typed) == stored


@pytest.mark.parametrize(
    "typed",
    ["\u200b\u200d\ufeff", "\u202e\u202c", "\x1b\x07", "\u3164\u3164", "\u0301"],
)
def test_a_name_with_nothing_visible_is_refused(typed):
    with pytest.raises(InvalidSignupError) as raised:
        normalise_name(typed)
    assert raised.value.code == "name_invisible"
    assert raised.value.field == "name"
    assert raised.value.message == (
        "姓名里没有能看清的文字（可能是复制来的特殊符号），请直接输入姓名。"
    )


@pytest.mark.parametrize("typed", ["", "   ", "\u3000", None])
def test_an_empty_name_is_missing(typed):
    with pytest.raises(InvalidSignupError) as raised:
        normalise_name(typed)
    assert raised.value.code == "name_missing"


def test_a_name_too_long_after_cleaning_is_refused():
    assert normalise_name("王" * 30 + "\u200b" * 10) == "王" * 30
    with pytest.raises(InvalidSignupError) as raised:
        normalise_name("王" * 31)
    assert raised.value.code == "name_too_long"


def test_notes_keep_their_lines_and_emoji():
    family = "👨\u200d👩\u200d👧"
    note = f"  轮椅\u202e 一位\r\n\r\n\r\n\x07两位老人 \u2028{family} \u200d"
    assert clean_text(note, multiline=True) == f"轮椅 一位\n\n两位老人\n{family}"
    assert clean_text(note) == f"轮椅 一位 两位老人 {family}"


def test_clean_text_never_raises():
    assert clean_text(None) == ""
    assert clean_text("\ud800a\udfff") == "a"
    assert clean_text(12) == "12"


def test_has_visible():
    assert has_visible("王") and has_visible("7") and has_visible("·")
    assert not has_visible("") and not has_visible(" \u3000\u2800")


def test_door_codes_lose_invisible_characters():
    assert normalise_code(" ab\x00c-2\u200b3 4 ") == "ABC234"


# ---------------------------------------------------------------------------
# Exports and query strings
# ---------------------------------------------------------------------------


def test_spreadsheet_text_holds_only_what_a_worksheet_can():
    every = "".join(chr(c) for c in range(0x20)) + "\ufffe\uffff\ud800王\u202e"
    cleaned = spreadsheet_text(every)
    assert not ILLEGAL_CHARACTERS_RE.search(cleaned)
    assert cleaned == "\t\n\r王\u202e"


@pytest.mark.parametrize(
    "value,cell",
    [
        ("=1+1", "'=1+1"),
        ("+86", "'+86"),
        ("-2", "'-2"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=1", "'\t=1"),
        ("\r=1", "'\r=1"),
        ("'=1", "'=1"),  # already safe: not quoted twice
        ("a\x00b", "ab"),
        ("王秀兰", "王秀兰"),
    ],
)
def test_csv_cells_never_start_a_formula(value, cell):
    assert csv_cell(value) == cell
    assert csv_cell(csv_cell(value)) == cell


def test_query_strings_lose_nul_and_lone_surrogates():
    from django.http import QueryDict

    query = QueryDict("q=a%00b&tag=%00&page=2&x%00=1&x=2")
    cleaned = clean_query(query)
    assert cleaned["q"] == "ab" and cleaned["tag"] == "" and cleaned["page"] == "2"
    assert cleaned.getlist("x") == ["1", "2"]
    assert clean_query(QueryDict("q=讲堂&page=2")) is None
