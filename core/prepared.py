"""Listing queries whose SQL is worked out once per process.

Building and compiling a nested Django query (subqueries, a window function,
``NOT EXISTS``) costs a page far more CPU than running it: a community page's
activity query took about 10 ms to build and 5 ms to compile against 1–2 ms in
SQLite. Such a query has the same SQL for the same arguments except the time it
is asked at ("coming" and "ended" depend on now). ``prepared`` builds it once per
set of arguments, with a marker time, keeps the SQL, and on each call puts the
real time in the parameters where the marker was::

    @prepared
    def rows(now, *, community):
        return Occurrence.objects.filter(start__gte=now, community_id=community)

    rows(timezone.now(), community=3)  # a RawQuerySet of the same rows
    rows.sql(timezone.now(), community=3)  # (Occurrence, SQL, parameters)

A query that does not depend on the time gains the same way (``now`` is then
None): its SQL, e.g. as the ``RawSQL`` subquery of a query that needs
``select_related``.

The query is built twice, with two marker times, and the two parameter lists
must differ exactly where the markers are: a query that uses the time in any
other way (``now - timedelta(…)``, the date of now) is refused with an error at
its first call rather than answered with a wrong time. The rows come as the
query's model with every selected column; ``select_related`` and ``prefetch``
are not carried over (RawQuerySet), so keep prepared queries to plain rows.

Written by hand: Django has no prepared or cached compiled queries, and the
libraries that cache query *results* (cachalot, cacheops) do not help a query
whose answer changes with the time.
"""

import functools
import threading
from datetime import UTC, datetime

from django.db import DEFAULT_DB_ALIAS, connections

# Two instants no listing is ever asked about.
MARKERS = (
    datetime(1901, 2, 3, 4, 5, 6, 789012, tzinfo=UTC),
    datetime(1902, 3, 4, 5, 6, 7, 890123, tzinfo=UTC),
)


# SQL kept per prepared function: one per community or per set of filters in
# practice; a bound all the same, since the arguments come from requests.
MAX_QUERIES = 500


class NotPreparable(ValueError):
    """The query uses the time other than as a parameter of its own."""


def prepared(build):
    """``build(now, **arguments) -> QuerySet`` as a function of the same
    arguments returning a RawQuerySet of the same rows, its SQL cached per
    database and ``arguments`` (which must be hashable)."""
    cache = {}
    lock = threading.Lock()

    def sql(now, **arguments):
        """(model, SQL, parameters) of the query at ``now``, for a caller that
        wraps it (a count, a LIMIT)."""
        connection = connections[DEFAULT_DB_ALIAS]
        key = (connection.alias, connection.vendor, tuple(sorted(arguments.items())))
        entry = cache.get(key)
        if entry is None:
            entry = _compile(build, connection, arguments)
            with lock:  # gunicorn's threads share the cache
                while len(cache) >= MAX_QUERIES:
                    cache.pop(next(iter(cache)))  # the oldest
                cache[key] = entry
        model, text, params, slots = entry
        if not slots:  # a query of no time (``now`` may be None)
            return model, text, list(params)
        value = connection.ops.adapt_datetimefield_value(now)
        return model, text, [value if i in slots else p for i, p in enumerate(params)]

    @functools.wraps(build)
    def run(now, **arguments):
        model, text, params = sql(now, **arguments)
        return model._default_manager.raw(text, params)

    run.sql, run.cache = sql, cache
    return run


def _compile(build, connection, arguments):
    adapted = [connection.ops.adapt_datetimefield_value(m) for m in MARKERS]
    first, second = (build(marker, **arguments) for marker in MARKERS)
    sql, params = first.query.sql_with_params()
    other_sql, other_params = second.query.sql_with_params()
    if sql != other_sql or len(params) != len(other_params):
        raise NotPreparable(f"{build.__qualname__}: its SQL changes with the time")
    pairs = enumerate(zip(params, other_params, strict=True))
    slots = frozenset(i for i, (a, b) in pairs if a != b)
    if any(
        (params[i], other_params[i]) != (adapted[0], adapted[1]) for i in slots
    ):
        raise NotPreparable(
            f"{build.__qualname__}: the time must be a parameter of the query "
            "as it is given, not worked out from"
        )
    return first.model, sql, tuple(params), slots
