"""Chinese text for search: normalise, segment, pinyin, and read a query.

Pure functions with no database or Django model in sight, used the same way when a
page is indexed and when a resident's query is read — matching only works if both
sides go through exactly the same steps:

- ``normalise``: full-width → half-width (NFKC), traditional → simplified (OpenCC
  ``t2s``), lower case. A query typed as 戊院社區 or ２０２６ meets the index as
  戊院社区 / 2026.
- ``segment``: jieba in search mode (a long word also yields the dictionary words
  inside it: 先锋讲堂 → 先锋, 讲堂, 先锋讲堂), with a user dictionary of our own
  terms (``add_terms``), plus the character bigrams of every word of three or more
  characters. The bigrams make matching independent of the dictionary a process
  happens to hold: a word the indexing process knew (a new community's name) and
  the querying process does not yet still meets on its bigrams.
- ``pinyin_tokens``: full pinyin and initials of a title's words and runs
  (甲院 → jiayuan, jy; 先锋讲堂 → xianfengjiangtang, xfjt).
- ``parse_query``: a resident's query as concepts, each a set of alternative
  tokens (the word, the words inside it, its bigrams, its synonyms, the names it
  sounds like — ``search.words``), weighted by how specific the word is.

Tokens only ever contain ``[0-9a-z]`` or CJK ideographs, so no query can carry
full-text syntax (quotes, ``*``, ``NEAR(``, ``AND``/``OR``/``NOT`` are either
stripped or become lower-case words) into FTS5 or ``to_tsquery``.
"""

from __future__ import annotations

import logging
import re
import tempfile
import threading
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from typing import TYPE_CHECKING

import opencc

from . import words as resident_words

if TYPE_CHECKING:
    import jieba

# Longest query we read; the search box says the same (maxlength).
MAX_QUERY_LENGTH = 200
# A 200-character query would otherwise become a hundred OR'ed terms.
MAX_CONCEPTS = 16

# Terms of the programme that are in the dictionary whatever the content says; the
# rest (community names, brands, 板块, lecturers, honourees, tags …) are added from
# the content by ``search.terms``.
BASE_TERMS = (
    "一社一品",
    "先锋讲堂",
    "书记讲坛",
    "道德讲堂",
    "讲师团",
    "花园榜样",
    "花园路",
    "花园路街道",
    "党群服务中心",
    "九在楼组",
    "星级楼院",
    "三领三创三化",
    "三社联动",
    "红色物业",
    "时间银行",
    "五星支部",
    "社代会",
    "新媒体工作站",
    "四点钟课堂",
    "慈孝文化节",
    "老旧小区",
    "垃圾分类",
    "防诈骗",
)

# Function words that would match nearly every page. Dropped from the index and
# from queries (a query of nothing else gets a "be more specific" message).
STOPWORDS = frozenset(
    "的 了 是 在 和 与 及 或 也 都 就 而 之 把 被 让 给 向 对 着 过 吗 呢 吧 啊 呀 哦"
    " 嗯 地 得 其 以 于 为 这 那 个 有".split()
)

_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")
_PIECE = re.compile(r"[0-9a-z]+|[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")

_t2s = opencc.OpenCC("t2s")
# jieba's parsed dictionary in the temp directory (gunicorn.conf.py names it too).
JIEBA_CACHE_FILE = "portal-jieba.cache"
_lock = threading.Lock()
_tokenizer: jieba.Tokenizer | None = None
_terms: set[str] = set()
_plain_words: set[str] = set()


def normalise(text: str) -> str:
    """Full-width → half-width, traditional → simplified, lower case."""
    if not text:
        return ""
    return _t2s.convert(unicodedata.normalize("NFKC", text)).lower()


def _jieba() -> jieba.Tokenizer:
    """This process's tokenizer: jieba's default one, its dictionary loaded on
    first use. The dictionary ships in the package; its parsed cache goes to the
    temp directory (never the checkout, never the network) and its start-up
    messages are silenced. Under gunicorn the master has loaded it before forking
    the workers (portal/gunicorn.conf.py, ``on_starting``), so they share its
    ~65 MB instead of each parsing its own copy."""
    global _tokenizer
    if _tokenizer is None:
        with _lock:
            if _tokenizer is None:
                import jieba  # imported on first use: every process pays it otherwise

                jieba.setLogLevel(logging.WARNING)
                tokenizer = jieba.dt
                if not tokenizer.initialized:
                    tokenizer.tmp_dir = tempfile.gettempdir()
                    tokenizer.cache_file = JIEBA_CACHE_FILE
                    tokenizer.initialize()
                _add_words(tokenizer, BASE_TERMS)
                _add_plain_words(tokenizer, resident_words.synonym_words())
                _tokenizer = tokenizer
    return _tokenizer


def term_pieces(term: str) -> list[str]:
    """A term as dictionary words: 甲院·党建 → 甲院, 党建 (jieba never keeps
    punctuation inside a word). Only runs of two or more CJK characters: digits
    or letters in the dictionary (a community called 甲院23) would make jieba cut
    2023 into 20 / 23 everywhere."""
    return [piece for piece in _CJK.findall(normalise(term)) if len(piece) >= 2]


def _add_words(tokenizer: jieba.Tokenizer, terms: Iterable[str]) -> int:
    added = 0
    for term in terms:
        for piece in term_pieces(term or ""):
            if piece not in _terms:
                # Without a frequency jieba computes one high enough for the word
                # to be cut out whole.
                tokenizer.add_word(piece)
                _terms.add(piece)
                added += 1
    resident_words.add_sound_terms(_terms)
    return added


def _add_plain_words(tokenizer: jieba.Tokenizer, found: Iterable[str]) -> None:
    """Words to be cut whole (synonyms: 骗子电话), but not names: they are not
    ``known_terms`` and nobody's slip is corrected to them."""
    for word in found:
        for piece in term_pieces(word or ""):
            if piece not in _plain_words and piece not in _terms:
                tokenizer.add_word(piece)
                _plain_words.add(piece)


def set_synonym_groups(groups: Iterable[Iterable[str]]) -> None:
    """The editors' synonym groups (words as typed), replacing the previous ones;
    their words go into this process's dictionary."""
    groups = [[normalise(w).strip() for w in group] for group in groups]
    groups = [[w for w in group if w] for group in groups]
    tokenizer = _jieba()
    with _lock:
        _add_plain_words(tokenizer, [w for group in groups for w in group])
    resident_words.set_editor_groups(groups)


def add_terms(terms: Iterable[str]) -> int:
    """Add our own terms (names, brands …) to this process's dictionary; returns how
    many were new."""
    tokenizer = _jieba()
    with _lock:
        return _add_words(tokenizer, terms)


def known_terms() -> frozenset[str]:
    return frozenset(_terms)


def _pieces(token: str) -> list[str]:
    return _PIECE.findall(token)


def _bigrams(word: str) -> list[str]:
    return [word[i : i + 2] for i in range(len(word) - 1)]


def _expand(piece: str) -> list[str]:
    """A segment plus its bigrams when it is a CJK word of three or more chars."""
    if len(piece) >= 3 and _CJK.fullmatch(piece):
        return [piece, *_bigrams(piece)]
    return [piece]


def segment(text: str) -> list[str]:
    """Index tokens of ``text`` (normalised here): jieba search-mode words and their
    bigrams, in text order, stopwords dropped, repeats kept (they count)."""
    text = normalise(text)
    if not text.strip():
        return []
    tokens = []
    for token in _jieba().cut_for_search(text):
        for piece in _pieces(token):
            if piece not in STOPWORDS:
                tokens.extend(_expand(piece))
    return tokens


@lru_cache(maxsize=4096)
def _pinyin(word: str) -> tuple[str, str]:
    # Imported on first use: its phrase dictionary costs every process (each
    # server worker, each manage.py run) 0.3 s of start-up otherwise.
    from pypinyin import Style, lazy_pinyin

    return (
        "".join(lazy_pinyin(word)),
        "".join(lazy_pinyin(word, style=Style.FIRST_LETTER)),
    )


def pinyin(word: str) -> str:
    """Full pinyin of a CJK word without tones or spaces: 甲院 → jiayuan."""
    return _pinyin(normalise(word))[0]


def initials(word: str) -> str:
    """First letters of a CJK word's syllables: 先锋讲堂 → xfjt."""
    return _pinyin(normalise(word))[1]


def pinyin_tokens(title: str) -> list[str]:
    """Pinyin and initials for a title: of each run of characters between
    punctuation (先锋讲堂：从老照片… → xianfengjiangtang …) and of each word and
    bigram in it (甲院社区 → jiayuan, jy, shequ, sq …). Single characters are left
    out: one syllable matches too much to be useful."""
    text = normalise(title)
    # Whole runs only while short enough that someone might type them.
    words = [run for run in _CJK.findall(text) if 2 <= len(run) <= 12]
    words += [t for t in segment(text) if len(t) >= 2 and _CJK.fullmatch(t)]
    tokens: dict[str, None] = {}
    for word in words:
        full, first = _pinyin(word)
        tokens[full] = None
        tokens[first] = None
    return list(tokens)


def pinyin_matches(title: str, words: Iterable[str]) -> list[str]:
    """The words of ``title`` (normalised) whose pinyin or initials are among
    ``words``: what to mark in 甲院社区 when the query was jiayuan."""
    wanted = set(words)
    if not wanted:
        return []
    text = normalise(title)
    candidates = [run for run in _CJK.findall(text) if 2 <= len(run) <= 12]
    candidates += [t for t in segment(text) if len(t) >= 2 and _CJK.fullmatch(t)]
    return [w for w in dict.fromkeys(candidates) if wanted & set(_pinyin(w))]


@dataclass(frozen=True)
class Concept:
    """One thing the resident asked for: the word as typed (normalised), the
    dictionary words inside it (先锋讲堂 → 先锋, 讲堂), its bigrams, its synonyms
    and the names of ours it sounds like (农业园 → 农业院). Any of them finds a
    page; how well it matched is for ranking, and ``weight`` says how much the
    concept counts against the query's others (一起 little, 过生日 much)."""

    word: str
    inside: frozenset[str] = frozenset()
    bigrams: frozenset[str] = frozenset()
    synonyms: frozenset[str] = frozenset()
    homophones: frozenset[str] = frozenset()
    weight: float = 1.0

    @property
    def alternatives(self) -> frozenset[str]:
        """Every token that counts as finding this concept."""
        found = {self.word, *self.inside, *self.bigrams, *self.synonyms}
        return frozenset((found | self.homophones) - STOPWORDS)

    @property
    def marks(self) -> frozenset[str]:
        """What to mark in a title or snippet — not the bigrams: marking 院社 in
        戊院社区 would look like a bug."""
        return frozenset({self.word, *self.inside, *self.synonyms, *self.homophones})

    def strength(self, tokens: str) -> float:
        """How well a token string (a document's title: tokens between spaces)
        holds this concept: 1 for the word itself (or every bigram of it, or the
        name it is a slip for), .5 for a synonym or a word inside it, 0
        otherwise. A synonym counts less than the word typed: 讲堂 puts 先锋讲堂
        before 书记讲坛."""
        padded = f" {tokens} "

        def has(token: str) -> bool:
            return f" {token} " in padded

        if has(self.word) or (self.bigrams and all(map(has, self.bigrams))):
            return 1.0
        if any(map(has, self.homophones)):
            return 1.0
        if any(map(has, self.synonyms)) or any(map(has, self.inside)):
            return 0.5
        return 0.0


@dataclass(frozen=True)
class ParsedQuery:
    text: str  # the query as shown back (spaces tidied, cut to MAX_QUERY_LENGTH)
    normalised: str
    concepts: tuple[Concept, ...] = field(default=())

    @property
    def terms(self) -> list[str]:
        """Every token to look for, longest first (a stable order)."""
        found = {t for concept in self.concepts for t in concept.alternatives}
        return sorted(found, key=lambda t: (-len(t), t))

    @property
    def groups(self) -> list[list[str]]:
        """Per concept, its alternatives (sorted): a page matching the whole
        query has one token of every group."""
        return [sorted(c.alternatives) for c in self.concepts]

    @property
    def highlight_terms(self) -> list[str]:
        found = {t for concept in self.concepts for t in concept.marks}
        return sorted(found, key=lambda t: (-len(t), t))

    def __bool__(self) -> bool:
        return bool(self.concepts)


def _words(norm: str) -> list[tuple[str, str]]:
    """The query's words in order, each with the name it is a slip for ("" when
    none): a stretch that sounds like one of our names is one word (农业园 would
    be cut into 农业 / 园); the rest is cut by jieba."""
    found: list[tuple[str, str]] = []
    position = 0

    def cut(part: str) -> None:
        for token in _jieba().cut(part):
            for piece in _pieces(token):
                found.append((piece, ""))

    for run in _CJK.finditer(norm):
        for start, end, term in resident_words.homophone_spans(run.group()):
            cut(norm[position : run.start() + start])
            found.append((run.group()[start:end], term))
            position = run.start() + end
    cut(norm[position:])
    return found


def _weight(word: str) -> float:
    tokenizer = _jieba()
    if word in _terms:  # one of our names: as specific as a word can be
        return resident_words.weight("", {}, tokenizer.total)
    return resident_words.weight(word, tokenizer.FREQ, tokenizer.total)


def parse_query(raw: str) -> ParsedQuery:
    """A resident's query as concepts. Never raises; a query with nothing
    searchable in it (emoji, punctuation, only stopwords) has no concepts."""
    text = " ".join((raw or "").split())[:MAX_QUERY_LENGTH]
    norm = normalise(text)
    words: dict[str, str] = {}
    for piece, slip_for in _words(norm):
        if piece not in STOPWORDS and piece not in words:
            words[piece] = slip_for
    letters = [w for w in words if w.isascii() and w.isalpha()]
    if len(letters) > 1 and len(letters) == len(words):
        # "jia yuan" typed with a space is the pinyin "jiayuan".
        joined = "".join(letters)
        concept = Concept(joined, inside=frozenset(letters))
        return ParsedQuery(text, norm, (concept,))
    concepts = []
    for word, slip_for in list(words.items())[:MAX_CONCEPTS]:
        inside = frozenset()
        if len(word) >= 3:
            cut = {p for t in _jieba().cut_for_search(word) for p in _pieces(t)}
            inside = frozenset(p for p in cut if len(p) >= 2 and p != word)
        # Bigrams only for a word the dictionary does not know (a name): a known
        # word is cut the same way in every text, and its bigrams (园榜) match
        # pages that have nothing to do with it.
        known = _jieba().FREQ.get(word, 0) > 0
        bigrams = frozenset() if known or slip_for else frozenset(_expand(word)[1:])
        # Synonyms of the word and of the words inside it (猜谜语 → 谜语 → 灯谜).
        synonyms = set()
        for part in (word, *inside):
            synonyms |= resident_words.synonyms(part)
        homophones = frozenset({slip_for}) if slip_for else frozenset()
        concepts.append(
            Concept(
                word,
                inside,
                bigrams,
                frozenset(synonyms - {word}),
                homophones,
                _weight(slip_for or word),
            )
        )
    return ParsedQuery(text, norm, tuple(concepts))
