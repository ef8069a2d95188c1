"""Queries whose SQL is worked out once per process.

Building and compiling a Django query costs a page far more CPU than running it:
a community page's activity query took about 10 ms to build and 5 ms to compile
against 1–2 ms in SQLite, and even a plain ``select_related`` page query compiles
in 0.5–0.8 ms. Such a query has the same SQL every time except for a few values
— the time it is asked at ("coming" and "ended" depend on now), the ids of the
pages a listing shows. ``prepared`` builds it once, with marker values, keeps the
SQL and on each call puts the real values in the parameters where the markers
were::

    @prepared
    def rows(now, *, community):
        return Occurrence.objects.filter(start__gte=now, community_id=community)

    rows(timezone.now(), community=3)  # a list of the same Occurrences
    rows.sql(timezone.now(), community=3)  # (Occurrence, SQL, parameters)

    @prepared(values=("ids",))
    def pages(now, *, ids):
        return Page.objects.filter(pk__in=ids).select_related("owner")

    pages(None, ids=[3, 5, 8])  # SQL kept per number of ids, not per ids

The rows come as the query would give them: model instances with what
``select_related`` joined and the annotations (Django's own ``ModelIterable``
reads them, from the kept compiler). ``prefetch_related`` is refused: it is more
queries, not more SQL. A query of no time gains the same way (``now`` is then
None). ``.sql`` gives the kept SQL and this call's parameters to a caller that
wraps it (a count, a LIMIT) or runs a query of values.

Other arguments are part of the key: one SQL per community, per set of filters.
``values`` names arguments given as parameters instead — an id or a list of ids
(the SQL is then kept per the list's length). A list given empty answers [] as
Django's ``pk__in=[]`` does, without a query.

The query is built twice, with two sets of marker values, and the two parameter
lists must differ exactly where the markers are: a query that uses the time or a
value in any other way (``now - timedelta(…)``, the date of now, a value it
leaves out) is refused with an error at its first call rather than answered
with wrong rows.

Written by hand: Django has no prepared or cached compiled queries, and the
libraries that cache query *results* (cachalot, cacheops) do not help a query
whose answer changes with the time.
"""

import copy
import functools
import threading
from dataclasses import dataclass
from datetime import UTC, datetime

from django.core.exceptions import EmptyResultSet
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.models.query import ModelIterable

# Two instants no listing is ever asked about.
MARKERS = (
    datetime(1901, 2, 3, 4, 5, 6, 789012, tzinfo=UTC),
    datetime(1902, 3, 4, 5, 6, 7, 890123, tzinfo=UTC),
)

# SQL kept per prepared function: one per community, set of filters or number
# of ids in practice; a bound all the same, since the arguments come from
# requests. An entry with its compiler is 10–35 KB (the four-table activity
# pages' query the largest): at most ~7 MB per function and worker.
MAX_QUERIES = 200


class NotPreparable(ValueError):
    """The query uses the time or a value other than as a parameter of its own."""


def marker_value(build: int, argument: int, index: int) -> int:
    """An id no row has (negative, far from any other marker): the ``index``-th
    of the ``argument``-th value argument in build 0 or 1."""
    return -(build + 1) * 10**15 - argument * 10**9 - index


@dataclass(frozen=True)
class Kept:
    """A query's SQL and parameters with marker values, where they go
    (``slots``: position → ``"now"`` or (argument, index)) and the compiler
    that made it (None for a query with no rows)."""

    model: type
    sql: str
    params: tuple
    slots: dict
    compiler: object = None
    empty: bool = False


class _Compiled:
    """What Django's ``ModelIterable`` reads of a queryset, around a kept
    compiler that answers the kept SQL with this call's parameters."""

    _known_related_objects: dict = {}  # noqa: RUF012 - read only

    def __init__(self, kept: Kept, connection, params: list):
        compiler = copy.copy(kept.compiler)
        compiler.connection = connection  # this thread's
        compiler.as_sql = lambda *args, **kwargs: (kept.sql, params)
        self._compiler, self.model, self.db = compiler, kept.model, connection.alias
        self.query = self

    def get_compiler(self, using=None, connection=None, elide_empty=True):
        return self._compiler


def prepared(build=None, *, values=()):
    """``build(now, **arguments) -> QuerySet`` as a function of the same
    arguments returning a list of the same rows, its SQL kept per database and
    ``arguments`` (which must be hashable; ``values`` are kept per shape)."""
    if build is None:
        return functools.partial(prepared, values=tuple(values))
    cache = {}
    lock = threading.Lock()

    def kept(connection, arguments) -> Kept:
        shaped = tuple(
            sorted(
                (name, ("values", _shape(value)) if name in values else value)
                for name, value in arguments.items()
            )
        )
        key = (connection.alias, connection.vendor, shaped)
        entry = cache.get(key)
        if entry is None:
            entry = _compile(build, connection, arguments, values)
            with lock:  # gunicorn's threads share the cache
                while len(cache) >= MAX_QUERIES:
                    cache.pop(next(iter(cache)))  # the oldest
                cache[key] = entry
        return entry

    def parameters(entry, connection, now, arguments) -> list:
        if not entry.slots:
            return list(entry.params)
        real = {"now": connection.ops.adapt_datetimefield_value(now)}
        for name in values:
            value = arguments[name]
            if isinstance(value, list | tuple):
                real.update(((name, i), v) for i, v in enumerate(value))
            else:
                real[(name, 0)] = value
        return [
            real[entry.slots[i]] if i in entry.slots else p
            for i, p in enumerate(entry.params)
        ]

    def sql(now, **arguments):
        """(model, SQL, parameters) of the query at ``now``, for a caller that
        wraps it (a count, a LIMIT, a subquery). Django's ``EmptyResultSet``
        for a query of no rows."""
        connection = connections[DEFAULT_DB_ALIAS]
        entry = kept(connection, arguments)
        if entry.empty:
            raise EmptyResultSet
        return entry.model, entry.sql, parameters(entry, connection, now, arguments)

    @functools.wraps(build)
    def run(now, **arguments) -> list:
        connection = connections[DEFAULT_DB_ALIAS]
        entry = kept(connection, arguments)
        if entry.empty:
            return []
        if entry.compiler is None:
            raise TypeError(f"{build.__qualname__} gives values, not rows: use .sql")
        params = parameters(entry, connection, now, arguments)
        return list(ModelIterable(_Compiled(entry, connection, params)))

    run.sql, run.cache = sql, cache
    return run


def _shape(value):
    return len(value) if isinstance(value, list | tuple) else None


def _markers(build_number: int, arguments: dict, values) -> dict:
    marked = dict(arguments)
    for position, name in enumerate(values):
        value = arguments[name]
        if isinstance(value, list | tuple):
            marked[name] = [
                marker_value(build_number, position, i) for i in range(len(value))
            ]
        else:
            marked[name] = marker_value(build_number, position, 0)
    return marked


def _compile(build, connection, arguments, values) -> Kept:
    first, second = (
        build(MARKERS[n], **_markers(n, arguments, values)) for n in range(2)
    )
    if first._prefetch_related_lookups:
        raise NotPreparable(f"{build.__qualname__}: prefetch_related is more queries")
    try:
        compiler = first.query.get_compiler(connection=connection)
        sql, params = compiler.as_sql()
        other_sql, other_params = second.query.get_compiler(
            connection=connection
        ).as_sql()
    except EmptyResultSet:
        return Kept(first.model, "", (), {}, empty=True)
    if sql != other_sql or len(params) != len(other_params):
        raise NotPreparable(f"{build.__qualname__}: its SQL changes with the time")
    expected = {
        tuple(connection.ops.adapt_datetimefield_value(m) for m in MARKERS): "now"
    }
    for position, name in enumerate(values):
        value = arguments[name]
        count = len(value) if isinstance(value, list | tuple) else 1
        for i in range(count):
            pair = (marker_value(0, position, i), marker_value(1, position, i))
            expected[pair] = (name, i)
    slots = {}
    for i, pair in enumerate(zip(params, other_params, strict=True)):
        if pair[0] != pair[1]:
            if pair not in expected:
                raise NotPreparable(
                    f"{build.__qualname__}: the time and the values must be "
                    "parameters of the query as they are given, not worked out from"
                )
            slots[i] = expected[pair]
    missing = set(expected.values()) - set(slots.values()) - {"now"}
    if missing:
        raise NotPreparable(
            f"{build.__qualname__}: {sorted(missing)} are not parameters of its SQL"
        )
    if first._iterable_class is not ModelIterable:
        compiler = None  # .sql only (values(), values_list())
    return Kept(first.model, sql, tuple(params), slots, compiler)
