"""search/text.py and search/highlight.py: pure functions, no database."""

import pytest

from search import text
from search.highlight import highlight, snippet


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("戊院社區", "戊院社区"),
        ("先鋒講堂", "先锋讲堂"),
        ("２０２６年", "2026年"),
        ("ＪｉａＹｕａｎ", "jiayuan"),
        ("XFJT", "xfjt"),
        ("花園路　街道", "花园路 街道"),  # ideographic space
        ("", ""),
    ],
)
def test_normalise(raw, expected):
    assert text.normalise(raw) == expected


def test_segment_uses_our_terms_search_mode_and_bigrams():
    text.add_terms(["花园榜样", "先锋讲堂", "戊院"])
    tokens = text.segment("先锋讲堂：从老照片看花园路的变化")
    # search mode: the long word and the words inside it
    assert {"先锋讲堂", "先锋", "讲堂"} <= set(tokens)
    # bigrams of a word of three or more characters
    assert {"老照片", "老照", "照片"} <= set(tokens)
    # stopwords and punctuation are gone
    assert "的" not in tokens and "：" not in tokens
    assert "花园榜样" in text.segment("2026年度“花园榜样”揭晓")
    assert "2026" in text.segment("2026年度“花园榜样”揭晓")


def test_segment_normalises_first():
    assert text.segment("戊院社區") == text.segment("戊院社区")
    assert "2025" in text.segment("２０２５")


def test_terms_never_carry_digits_into_the_dictionary():
    # A community called 甲院23 must not teach jieba to cut 2023 into 20 / 23.
    text.add_terms(["甲院23", "戊院2020"])
    assert text.segment("2023") == ["2023"]
    assert text.term_pieces("甲院·党建") == ["甲院", "党建"]


def test_pinyin_and_initials():
    assert text.pinyin("甲院") == "jiayuan"
    assert text.initials("先锋讲堂") == "xfjt"
    assert text.pinyin("重阳") == "chongyang"  # the phrase reading, not zhong
    tokens = text.pinyin_tokens("先锋讲堂：从老照片看花园路的变化")
    assert {"xianfengjiangtang", "xfjt", "zhaopian", "huayuan"} <= set(tokens)
    assert {"jiayuanshequ", "jysq", "jiayuan"} <= set(text.pinyin_tokens("甲院社区"))


def test_pinyin_matches_mark_the_words_a_pinyin_query_meant():
    assert "甲院" in text.pinyin_matches("甲院社区", ["jiayuan"])
    assert text.pinyin_matches("甲院社区", []) == []


def test_parse_query_synonyms_and_inside_words():
    query = text.parse_query("老人")
    (concept,) = query.concepts
    assert {"老年", "长者", "敬老"} <= concept.alternatives
    query = text.parse_query("重阳节")
    assert "重阳" in query.concepts[0].alternatives
    assert query.groups == [sorted(query.concepts[0].alternatives)]


def test_parse_query_mixed_and_spaced_pinyin():
    query = text.parse_query("2025 花园榜样")
    assert [c.word for c in query.concepts] == ["2025", "花园榜样"]
    query = text.parse_query("jia yuan")
    assert [c.word for c in query.concepts] == ["jiayuan"]


@pytest.mark.parametrize(
    "raw",
    [
        "' OR 1=1 --",
        '"',
        "*",
        "NEAR(",
        "AND OR NOT",
        'title:"x" OR body:y*',
        "{title body} : (x)",
        "a -b ^c",
        "🏮🎉",
        "x" * 500,
        "\x00\n\t",
    ],
)
def test_query_tokens_carry_no_syntax(raw):
    query = text.parse_query(raw)
    for token in query.terms:
        assert token.isalnum(), token
    assert len(query.text) <= text.MAX_QUERY_LENGTH


def test_queries_with_nothing_to_search():
    for raw in ["", "   ", "🏮", "的", "*", '"']:
        assert not text.parse_query(raw), raw


def test_concept_strength_in_a_title():
    (concept,) = text.parse_query("讲堂").concepts
    assert concept.strength("先锋 讲堂 先锋讲堂") == 1.0
    assert concept.strength("书记 讲坛") == 0.5  # a synonym counts less
    assert concept.strength("重阳 敬老 宴") == 0.0


def test_highlight_escapes_and_marks():
    html = highlight('<b>戊院社区</b> & "家"', ["戊院"])
    assert html == "&lt;b&gt;<mark>戊院</mark>社区&lt;/b&gt; &amp; &quot;家&quot;"
    # matching is on normalised text, output keeps the page's characters
    assert highlight("戊院社區", ["戊院社区"]) == "<mark>戊院社區</mark>"
    assert highlight("<script>", ["script"]) == "&lt;<mark>script</mark>&gt;"


def test_snippet_window_around_the_first_match():
    body = "甲" * 200 + "月饼" + "乙" * 200
    html = snippet(body, ["月饼"])
    assert "<mark>月饼</mark>" in html
    assert html.startswith("…") and html.endswith("…")
    assert len(html) < 130
    assert snippet("短文本", ["无"]) == "短文本"
    assert snippet("", ["x"]) == ""
