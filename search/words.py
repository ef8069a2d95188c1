"""Residents' own words: synonyms, homophone slips, and how specific a word is.

Pure functions over normalised text (``text.normalise``), no database; what the
content and the editors add reaches them through ``search.terms``.

- Synonyms: groups of words residents use for the same thing (看病 ↔ 义诊, 练字 ↔
  书法). ``SYNONYM_GROUPS`` below are the programme's own, written by hand: which
  colloquial word means which programme word is knowledge, not something a library
  holds. Editors add groups in the admin (``search.models.SynonymGroup``, 搜索同义词)
  without a deploy; ``set_editor_groups`` swaps them in.
- Homophones: a resident typing a name by its sound picks a character of the same
  pinyin (农业园 for 农业院, 五院 for 戊院, 张贵兰 for 张桂兰). The names come from
  the index's own vocabulary — the terms ``search.terms`` loads from the content
  (community names, brands, 板块, lecturers, honourees …) — indexed here by their
  toneless pinyin (pypinyin); ``homophone_spans`` finds the stretches of a query
  that sound like one of them. Every reading of a polyphonic character counts (行
  is xing or hang: 省民行 → 省民航). A slip changes a character or two, not the
  whole word: at most half the characters may differ (家园 is a word of its own,
  not a slip for 甲院).
- ``weight``: how specific a word is, from jieba's own word frequencies (the
  information behind ``jieba.analyse``'s IDF): 去、找、一起 weigh little, 过生日、
  放学 much, a name we added most. The ranking counts a title holding 过生日 for
  more than one holding 一起.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Iterable
from functools import lru_cache

# Words residents use for the same thing. A query word in a group (or a word
# inside it: 猜谜语 → 谜语) also looks for the other words of its group; the page
# must still be relevant by its own words. Each group pairs what residents say
# with what the programme's pages say.
SYNONYM_GROUPS = (
    ("老人", "老年", "老年人", "长者", "敬老", "高龄"),
    ("孩子", "儿童", "少儿", "小朋友", "小孩"),
    ("讲座", "讲堂", "讲坛"),
    ("志愿者", "义工", "志愿"),
    ("防诈骗", "反诈", "防骗", "诈骗", "骗子", "受骗", "被骗", "上当", "骗局"),
    ("电信诈骗", "电话诈骗", "诈骗电话", "骗子电话", "电诈"),
    ("义诊", "看病", "体检", "就医", "看大夫", "看医生"),
    ("大夫", "医生"),
    ("邻居", "邻里"),
    ("春节", "过年"),
    ("元旦", "新年"),
    ("环保", "垃圾分类", "绿色"),
    ("党课", "党史"),
    ("榜样", "好人", "先进", "好人好事", "做好事"),
    ("书法", "练字", "写字", "毛笔字"),
    ("国画", "画画", "绘画", "美术"),
    ("春联", "对联", "写对联"),
    ("窗花", "剪纸"),
    ("灯谜", "谜语", "猜谜", "猜灯谜"),
    ("升国旗", "升旗", "看升旗"),
    ("入党誓词", "入党宣誓"),
    ("作业", "功课"),
    ("维修", "修理", "修家电", "修电器"),
    ("菜园", "种菜", "种地"),
    ("纠纷", "矛盾", "吵架", "闹矛盾"),
    ("助餐", "食堂", "老年餐"),
    ("大扫除", "打扫", "扫除"),
    ("夫妻", "老两口", "老伴", "两口子"),
    # Festivals by the names residents give them besides the calendar's (the
    # lunar dates are added from events.lunar: ``festival_groups``).
    ("春节", "大年初一"),
    ("中秋", "赏月"),
    ("清明", "扫墓"),
    ("国庆", "十一"),
    ("劳动节", "五一"),
    ("建党节", "七一"),
)

_DIGITS = "〇一二三四五六七八九十"
_MONTHS = {1: "正月", 11: "冬月", 12: "腊月"}


def _lunar_day(day: int) -> str:
    """初一 … 初十, 十一 … 二十, 廿一 … 三十."""
    if day <= 10:
        return "初" + _DIGITS[day]
    if day < 20:
        return "十" + _DIGITS[day - 10]
    if day == 20:
        return "二十"
    if day < 30:
        return "廿" + _DIGITS[day - 20]
    return "三十"


def festival_groups() -> list[tuple[str, ...]]:
    """Each lunar festival with its short name and its date as residents say it:
    中秋节, 中秋, 八月十五 (events.lunar holds the dates)."""
    from events.lunar import LUNAR_DATES

    groups = []
    for festival, (month, day) in LUNAR_DATES.items():
        month_name = _MONTHS.get(month) or (
            ("十" + _DIGITS[month - 10] if month > 10 else _DIGITS[month]) + "月"
        )
        short = str(festival).removesuffix("节")
        names = [str(festival), short] if len(short) >= 2 else [str(festival)]
        groups.append(tuple(dict.fromkeys([*names, month_name + _lunar_day(day)])))
    return groups


_lock = threading.Lock()


def _group_map(groups: Iterable[Iterable[str]]) -> dict[str, frozenset[str]]:
    found: dict[str, set[str]] = {}
    for group in groups:
        words = {w for w in group if w}
        for word in words:
            found.setdefault(word, set()).update(words)
    return {word: frozenset(group) for word, group in found.items()}


_synonyms = _group_map((*SYNONYM_GROUPS, *festival_groups()))


def set_editor_groups(groups: Iterable[Iterable[str]]) -> None:
    """The editors' groups (normalised words), replacing the previous ones."""
    global _synonyms
    editor = tuple(tuple(group) for group in groups)
    with _lock:
        _synonyms = _group_map((*SYNONYM_GROUPS, *festival_groups(), *editor))


def synonyms(word: str) -> frozenset[str]:
    """The other words of every group ``word`` is in."""
    return _synonyms.get(word, frozenset()) - {word}


def synonym_words() -> list[str]:
    """Every word of every group: they go into the dictionary, so that a query
    such as 骗子电话 is read as the one word of its group."""
    return list(_synonyms)


# --- homophones ------------------------------------------------------------------


@lru_cache(maxsize=8192)
def readings(char: str) -> frozenset[str]:
    """Every toneless reading of one character (行 → xing, hang)."""
    from pypinyin import Style, pinyin

    return frozenset(pinyin(char, style=Style.NORMAL, heteronym=True)[0])


@lru_cache(maxsize=8192)
def _sound(term: str) -> tuple[str, ...]:
    """A term's syllables as it is read (in context: 重阳 is chong yang)."""
    from pypinyin import lazy_pinyin

    return tuple(lazy_pinyin(term))


# (length, first syllable) → the terms with that length and first syllable.
_by_sound: dict[tuple[int, str], dict[str, tuple[str, ...]]] = {}
_sound_terms: set[str] = set()
_MAX_TERM = 12


def add_sound_terms(terms: Iterable[str]) -> None:
    """Make ``terms`` (normalised CJK words) findable by their sound."""
    with _lock:
        for term in terms:
            if term in _sound_terms or not 2 <= len(term) <= _MAX_TERM:
                continue
            sound = _sound(term)
            if len(sound) != len(term):  # not all ideographs
                continue
            _sound_terms.add(term)
            _by_sound.setdefault((len(term), sound[0]), {})[term] = sound


def _sounds_like(window: str, sound: tuple[str, ...]) -> bool:
    return all(s in readings(c) for c, s in zip(window, sound, strict=True))


def _slip(window: str, term: str) -> bool:
    """A slip for ``term``: a character or two differ, at most half of them."""
    differ = sum(a != b for a, b in zip(window, term, strict=True))
    return 0 < differ <= len(term) // 2


def homophone_spans(run: str) -> list[tuple[int, int, str]]:
    """Stretches (start, end, term) of a run of CJK characters that sound like one
    of our terms without being it, longest first from the left, not overlapping,
    and not inside a stretch that is one of our terms as written."""
    exact = [False] * len(run)
    for start in range(len(run)):
        for end in range(start + 2, min(len(run), start + _MAX_TERM) + 1):
            if run[start:end] in _sound_terms:
                exact[start:end] = [True] * (end - start)
    spans = []
    start = 0
    while start < len(run) - 1:
        found = None
        for length in range(min(_MAX_TERM, len(run) - start), 1, -1):
            window = run[start : start + length]
            if any(exact[start : start + length]):
                continue
            for first in readings(window[0]):
                for term, sound in _by_sound.get((length, first), {}).items():
                    if _slip(window, term) and _sounds_like(window, sound):
                        found = (start, start + length, term)
                        break
                if found:
                    break
            if found:
                break
        if found:
            spans.append(found)
            start = found[1]
        else:
            start += 1
    return spans


# --- how specific a word is --------------------------------------------------------


def weight(word: str, freq: dict[str, int], total: int) -> float:
    """-log of the word's share of jieba's corpus (an IDF): the rarer, the more a
    match of it says. A word jieba does not know (a name, a number) weighs as the
    rarest word it does."""
    count = freq.get(word, 0)
    return math.log(total / count) if count > 0 else math.log(total)
