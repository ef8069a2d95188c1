"""Answering a query: candidates from the search backend, then our ordering.

1. ``text.parse_query`` turns the query into concepts, each a group of tokens
   (the word, the words inside it, its synonyms, the name it is a slip for …)
   with a weight (how specific the word is: ``search.words``).
2. ``candidates`` asks the backend for the best documents holding a token of
   every group; when fewer than ``RELAX_BELOW`` do, the documents holding a
   token of any group follow them (a phrase of common words: 孩子 放学 去哪);
   failing both, a plain substring match (a lone character such as 饺). On SQLite and
   PostgreSQL it reads the tables Wagtail's database backend maintains (FTS5 /
   tsvector) in one query ranked by the database (``bm25`` / ``ts_rank``, the
   title weighted above the body) and returns only the columns the ordering
   needs. Why not ``SearchDocument.objects.search()``: Wagtail's compiler scores
   each row in a correlated subquery that re-runs the full-text match per row —
   fine for the admin, quadratic for a word like 社区 found on every page. Any
   other backend (Elasticsearch) is asked through that API.
3. ``rank`` orders them: pages holding every concept before the others; then
   pages whose title holds more of the query (by weight); among equal matches
   upcoming activities first, soonest first; then the backend's relevance.

``search`` returns the ordered ids and the counts per type; the view then loads
the ten results of the requested page with ``load_hits``: two queries in all
(three with the relaxed one), however many pages match.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from django.db import connection
from django.db.models import Q
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from wagtail.models import Page
from wagtail.search.backends import get_search_backend
from wagtail.search.query import And, Or, PlainText

from . import terms
from .models import Kind, SearchDocument
from .text import ParsedQuery, parse_query

# How many of the backend's best matches are ordered and paged (ten pages of
# results: residents never go further).
CANDIDATE_LIMIT = 100
# How many matches the backend ranks at most. A word found on nearly every page
# (社区) would otherwise cost a relevance computation per page of the site; with
# the bound a common word costs what a rare one does, and is ranked among the
# newest matches (SQLite walks them newest first; PostgreSQL in table order, much
# the same). A specific query matches fewer pages than this and loses nothing.
SCAN_LIMIT = 200
# Fewer pages than this holding every concept of a query of several words: the
# pages holding some of them are added after them (the first screen of results
# on a phone shows about five).
RELAX_BELOW = 5
# Title and body weights in the backend's relevance.
TITLE_WEIGHT = 4.0
BODY_WEIGHT = 1.0


@dataclass
class Candidate:
    id: int
    score: float
    kind: str
    title: str
    url_path: str
    next_start: datetime | None
    ends_at: datetime | None
    # 0: holds every concept of the query; 1: found by the relaxed query only.
    tier: int = 0
    # The page (a route's document: the page that lists the route).
    page_id: int = 0
    route: bool = False


@dataclass
class Outcome:
    """The result of a search: ordered document ids (after the type filter), how
    many matched per type (before it), and whether the candidate limit was hit."""

    query: ParsedQuery
    ids: list[int] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)
    truncated: bool = False
    substring: bool = False  # found by the substring fallback


# Tokens only hold [0-9a-z] or CJK ideographs (text.py), so quoting each one is
# all the escaping FTS5 and to_tsquery need; the replacements keep it so even if
# that guarantee were ever broken.
def _fts5_string(token: str) -> str:
    return '"' + token.replace('"', '""') + '"'


def _tsquery_string(token: str) -> str:
    return "'" + token.replace("\\", "\\\\").replace("'", "''") + "'"


def _sqlite_match(groups: list[list[str]]) -> str:
    """``{title body} : (("a" OR "b") AND ("c"))`` — every group, any token."""
    ands = " AND ".join(
        "(" + " OR ".join(map(_fts5_string, group)) + ")" for group in groups
    )
    return "{title body} : (" + ands + ")"


def _tsquery(groups: list[list[str]]) -> str:
    """``('a' | 'b') & ('c')``, for to_tsquery."""
    return " & ".join(
        "(" + " | ".join(map(_tsquery_string, group)) + ")" for group in groups
    )


# A route's document (``SearchDocument.route``) links below its page's URL.
_COLUMNS = (
    "d.id, d.kind, d.title, p.url_path || d.route, d.next_start, d.ends_at, "
    "d.page_id, d.route"
)


def _aware(value) -> datetime | None:
    """A datetime read with a raw cursor, as the ORM would return it (SQLite
    hands back naive UTC values, or strings)."""
    if value is None:
        return None
    if isinstance(value, str):
        value = parse_datetime(value)
    if value.tzinfo is None:
        value = value.replace(tzinfo=connection.timezone)
    return value


def _is_postgres_backend(backend) -> bool:
    from wagtail.search.backends.database.postgres.postgres import (
        PostgresSearchBackend,
    )

    return isinstance(backend, PostgresSearchBackend)


def _database_candidates(
    groups: list[list[str]], limit: int, scan: int
) -> list[Candidate] | None:
    """The best matches read straight from Wagtail's database index tables, or
    None when the configured backend is not one of them."""
    from django.contrib.contenttypes.models import ContentType
    from wagtail.search.models import IndexEntry

    backend = get_search_backend()
    vendor = connection.vendor
    entries = IndexEntry._meta.db_table
    documents = SearchDocument._meta.db_table
    pages = Page._meta.db_table
    content_type = ContentType.objects.get_for_model(SearchDocument).pk
    if vendor == "sqlite" and type(backend).__name__ == "SQLiteSearchBackend":
        # The FTS5 table's columns are (autocomplete, body, title) (Wagtail's
        # migration); bm25() takes a weight per column and is lower for better.
        # FTS5 walks the matches in rowid order, so the scan limit stops it after
        # the newest ``scan`` of them and bm25 runs for those only. The index
        # also holds the pages' stock entries, which our tokens seldom match;
        # they are dropped after sorting, with room to spare in the limit.
        sql = f"""
            SELECT {_COLUMNS}, m.score FROM (
                SELECT entry_id, score FROM (
                    SELECT rowid AS entry_id,
                           -bm25({entries}_fts, 0.0, %s, %s) AS score
                    FROM {entries}_fts WHERE {entries}_fts MATCH %s
                    ORDER BY rowid DESC LIMIT %s
                ) ORDER BY score DESC LIMIT %s
            ) m
            JOIN {entries} e ON e.id = m.entry_id AND e.content_type_id = %s
            JOIN {documents} d ON d.id = CAST(e.object_id AS INTEGER)
            JOIN {pages} p ON p.id = d.page_id
            ORDER BY m.score DESC, d.id LIMIT %s
        """
        params = [BODY_WEIGHT, TITLE_WEIGHT, _sqlite_match(groups), scan]
        params += [limit + limit // 2, content_type, limit]
    elif vendor == "postgresql" and _is_postgres_backend(backend):
        # The GIN indexes on title and body find the matches. Without an ORDER BY
        # the heap scan stops after ``scan`` rows (in table order, close to the
        # order pages were indexed), and ts_rank — which reads each row's
        # tsvectors — runs for those only.
        config = "%s::regconfig, " if backend.config else ""
        sql = f"""
            WITH q AS (SELECT to_tsquery({config}%s) AS q),
            hits AS (
                SELECT e.object_id, e.title, e.body FROM {entries} e, q
                WHERE e.content_type_id = %s AND (e.title @@ q.q OR e.body @@ q.q)
                LIMIT %s
            )
            SELECT {_COLUMNS}, m.score FROM (
                SELECT hits.object_id,
                       ts_rank(hits.title, q.q) * %s + ts_rank(hits.body, q.q) * %s
                       AS score
                FROM hits, q ORDER BY score DESC LIMIT %s
            ) m
            JOIN {documents} d ON d.id = m.object_id::bigint
            JOIN {pages} p ON p.id = d.page_id
            ORDER BY m.score DESC, d.id
        """
        params = [backend.config] if backend.config else []
        params += [_tsquery(groups), content_type, scan]
        params += [TITLE_WEIGHT, BODY_WEIGHT, limit]
    else:
        return None
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    return [
        Candidate(
            r[0],
            float(r[8]),
            r[1],
            r[2],
            r[3],
            _aware(r[4]),
            _aware(r[5]),
            page_id=r[6],
            route=bool(r[7]),
        )
        for r in rows
    ]


def _api_candidates(groups: list[list[str]], limit: int) -> list[Candidate]:
    """Any other Wagtail backend, through its public API."""
    # One PlainText per token, combined with Or/And: a multi-word PlainText with
    # operator="or" inside an And loses its parentheses on Wagtail's SQLite
    # backend ("a" AND "b" OR "c").
    query = And(
        [
            Or([PlainText(token) for token in group])
            if len(group) > 1
            else PlainText(group[0])
            for group in groups
        ]
    )
    documents = (
        SearchDocument.objects.select_related("page")
        .only("id", "kind", "title", "next_start", "ends_at", "route", "page__url_path")
        .search(query)
        .annotate_score("_score")[:limit]
    )
    return [
        Candidate(
            d.id,
            float(d._score or 0),
            d.kind,
            d.title,
            d.page.url_path + d.route,
            d.next_start,
            d.ends_at,
            page_id=d.page_id,
            route=bool(d.route),
        )
        for d in documents
    ]


def candidates(
    groups: list[list[str]], limit: int = CANDIDATE_LIMIT, scan: int = SCAN_LIMIT
) -> list[Candidate]:
    """The backend's best ``limit`` documents holding a token of every group
    (among the newest ``scan`` such documents), best first, scores
    higher-is-better."""
    groups = [group for group in groups if group]
    if not groups:
        return []
    found = _database_candidates(groups, limit, scan)
    return found if found is not None else _api_candidates(groups, limit)


def substring_candidates(query: ParsedQuery, limit: int) -> list[Candidate]:
    """When the index has nothing (a single character inside a word, 饺), the
    documents whose title or text contain the query as typed."""
    needle = "".join(query.normalised.split())
    if not needle or len(needle) > 10:
        return []
    rows = (
        SearchDocument.objects.filter(
            Q(page__title__icontains=needle, route="")
            | Q(route_title__icontains=needle)
            | Q(text__icontains=needle)
        )
        .order_by("id")
        .values_list(
            "id",
            "kind",
            "title",
            "page__url_path",
            "route",
            "next_start",
            "ends_at",
            "page_id",
        )[:limit]
    )
    return [
        Candidate(
            r[0],
            0.0,
            r[1],
            r[2],
            r[3] + r[4],
            r[5],
            r[6],
            page_id=r[7],
            route=bool(r[4]),
        )
        for r in rows
    ]


def _title_coverage(query: ParsedQuery, title_tokens: str) -> float:
    """How much of the query the title holds, 0..1: the concepts' strengths,
    weighted by how specific each concept is (a title holding 过生日 covers more
    of 老人 一起 过生日 than one holding 一起)."""
    total = sum(c.weight for c in query.concepts)
    held = sum(c.weight * c.strength(title_tokens) for c in query.concepts)
    return held / total if total else 0.0


def rank(query: ParsedQuery, found: list[Candidate], now: datetime) -> list[Candidate]:
    """Order candidates. Pages holding every concept of the query come before
    those the relaxed query added (``tier``). Pages whose title holds more of the
    query come first
    (``Concept.strength``: the word itself, a synonym or a word inside it); pages
    whose titles hold it equally are equal matches, and among them upcoming
    activities come first, soonest first; then the backend's relevance (title
    and body, bm25 / ts_rank) decides."""

    def key(c: Candidate):
        upcoming = (
            c.kind == Kind.ACTIVITY and c.ends_at is not None and c.ends_at >= now
        )
        soon = max(c.next_start or now, now) if upcoming else now
        return (
            c.tier,
            -_title_coverage(query, c.title),
            not upcoming,
            soon,
            -c.score,
            c.id,
        )

    return _routes_spread(sorted(found, key=key))


# How many route documents of one page (志愿服务's two dozen teams) may stand
# among the results before the other pages' results: more of them follow those.
ROUTES_PER_PAGE = 2


def _routes_spread(ordered: list[Candidate]) -> list[Candidate]:
    """``ordered`` with each page's route documents after its first
    ``ROUTES_PER_PAGE`` moved behind every other result (in their order), so
    that twelve communities' 党员志愿服务队 do not fill a screen that a
    resident's 义工 should share with the 花园榜样 who volunteers."""
    seen: dict[int, int] = {}
    first, rest = [], []
    for c in ordered:
        if c.route:
            seen[c.page_id] = seen.get(c.page_id, 0) + 1
            if seen[c.page_id] > ROUTES_PER_PAGE:
                rest.append(c)
                continue
        first.append(c)
    return first + rest


def search(
    raw_query: str,
    *,
    kind: str = "",
    within: str = "",
    now: datetime | None = None,
    limit: int = CANDIDATE_LIMIT,
) -> Outcome:
    """Documents matching ``raw_query``, best first, restricted to pages under the
    url_path ``within`` (a site's home page) and to ``kind`` when given."""
    # The dictionary first, so the query is cut the way the documents were.
    terms.ensure_loaded()
    query = parse_query(raw_query)
    outcome = Outcome(query)
    if not query:
        return outcome
    # Every concept of the query first. When fewer than a screenful of pages
    # hold them all, the pages holding any of them follow (one more query, only
    # then): residents type phrases of common words (孩子 放学 去哪) that no page
    # holds all of, and the page they want holds the specific ones.
    found = candidates(query.groups, limit)
    if len(found) < RELAX_BELOW and len(query.groups) > 1:
        seen = {c.id for c in found}
        for c in candidates([query.terms], limit):
            if c.id not in seen and len(found) < limit:
                c.tier = 1
                found.append(c)
    if not found:
        found = substring_candidates(query, limit)
        outcome.substring = bool(found)
    outcome.truncated = len(found) >= limit
    if within:
        found = [c for c in found if c.url_path.startswith(within)]
    ordered = rank(query, found, now or timezone.now())
    for c in ordered:
        outcome.counts[c.kind] = outcome.counts.get(c.kind, 0) + 1
    outcome.ids = [c.id for c in ordered if not kind or c.kind == kind]
    return outcome


@dataclass
class Hit:
    """What a result line shows of a document."""

    id: int
    kind: str
    text: str
    next_start: datetime | None
    ends_at: datetime | None
    page_id: int
    title: str
    url_path: str

    def get_kind_display(self) -> str:
        return Kind(self.kind).label


def load_hits(ids: list[int]) -> list[Hit]:
    """The documents ``ids``, in that order, with their page's title and url_path:
    one plain query for only the columns a result line needs. Neither model
    instances nor the ORM's query building: for ten rows they cost more than the
    search itself."""
    if not ids:
        return []
    placeholders = ", ".join(["%s"] * len(ids))
    sql = f"""
        SELECT d.id, d.kind, d.text, d.next_start, d.ends_at, d.page_id,
               CASE WHEN d.route_title = '' THEN p.title ELSE d.route_title END,
               p.url_path || d.route
        FROM {SearchDocument._meta.db_table} d
        JOIN {Page._meta.db_table} p ON p.id = d.page_id
        WHERE d.id IN ({placeholders})
    """
    with connection.cursor() as cursor:
        cursor.execute(sql, ids)
        rows = cursor.fetchall()
    by_id = {
        row[0]: Hit(*row[:3], _aware(row[3]), _aware(row[4]), *row[5:]) for row in rows
    }
    return [by_id[pk] for pk in ids if pk in by_id]
