"""Make removed rows leave the database files, not only the tables.

An ``UPDATE`` that blanks a name leaves the old row version behind: PostgreSQL
keeps it in the table's pages (and the old phone in the phone index) until
``VACUUM FULL`` rewrites them, and in WAL segments until they are recycled and
overwritten; SQLite keeps it in free space of the database file and in the WAL
file. ``vacuum_tables`` rewrites the tables given and forces a checkpoint:

- PostgreSQL: ``VACUUM (FULL, VERBOSE, ANALYZE)`` on each table: new files holding only
  the live rows — and the dead ones a transaction still open may see, so it
  first waits for transactions older than itself —, indexes rebuilt, an ACCESS
  EXCLUSIVE lock on each table while it runs (sign-ups wait for it); then
  ``CHECKPOINT`` (superuser or the ``pg_checkpoint`` role; a note says so when
  it is refused).
- SQLite: ``VACUUM`` (the whole file is rebuilt), then
  ``PRAGMA wal_checkpoint(TRUNCATE)`` (the WAL file emptied).

It cannot run inside a transaction. What stays outside the database's own files
(archived WAL, backups, replicas' WAL) is described in the README.
"""

import re
import time
from dataclasses import dataclass, field

from django.db import DatabaseError, connections


@dataclass
class VacuumResult:
    vendor: str
    statements: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


OLDER_TRANSACTIONS = """
    SELECT pid, coalesce(backend_type, ''), coalesce(state, ''), left(query, 60)
    FROM pg_stat_activity
    WHERE datname = current_database() AND pid <> pg_backend_pid()
      AND (backend_xmin IS NOT NULL OR backend_xid IS NOT NULL)
      AND xact_start < %s
"""


RUNNING_BEFORE = """
    SELECT pg_snapshot_xmin(pg_current_snapshot()) < %s::xid8
"""


def _wait_for_older_transactions(cursor, wait: float) -> list[str]:
    """``VACUUM FULL`` copies the row versions that a transaction still open may
    see, and wait up to ``wait`` seconds for each kind of such transaction:

    - in this database, every transaction that began before now (an ANALYZE by
      autovacuum, a long report, a session left idle in transaction);
    - in any database, every transaction holding a transaction id older than
      now: a snapshot taken later — ``VACUUM FULL``'s own included — still
      counts it as running, so the dead row versions it could see are kept
      (seen in the test suite: the other worker's long write in its own test
      database kept the purged names in this one).

    Returns a description of those still open."""
    cursor.execute(
        "SELECT clock_timestamp(), pg_snapshot_xmax(pg_current_snapshot())::text"
    )
    started, next_xid = cursor.fetchone()
    deadline = time.monotonic() + wait
    while True:
        cursor.execute(OLDER_TRANSACTIONS, [started])
        older = [
            f"pid {pid} {kind} {state} {query!r}" for pid, kind, state, query in cursor
        ]
        cursor.execute(RUNNING_BEFORE, [next_xid])
        if cursor.fetchone()[0]:
            older.append(f"其他数据库中 xid < {next_xid} 的事务 / older xid elsewhere")
        if not older or time.monotonic() >= deadline:
            return older
        time.sleep(0.2)


DEAD_KEPT = re.compile(r"(\d+) dead row versions cannot be removed yet")


def _vacuum_full(connection, cursor, table: str, result, attempts: int = 5) -> int:
    """``VACUUM FULL`` ``table``; again (up to ``attempts`` times, a second
    apart) while its report says dead row versions had to be kept because some
    transaction — in this database or, as seen under load, not visible to the
    wait above — could still see them. Returns how many were kept the last time."""
    details = []

    def notice(diagnostic) -> None:
        details.append(diagnostic.message_detail or "")

    connection.connection.add_notice_handler(notice)
    try:
        for _attempt in range(attempts):
            details.clear()
            sql = f"VACUUM (FULL, VERBOSE, ANALYZE) {connection.ops.quote_name(table)}"
            cursor.execute(sql)
            result.statements.append(sql)
            kept = sum(int(n) for d in details for n in DEAD_KEPT.findall(d))
            if not kept:
                return 0
            time.sleep(1)
        return kept
    finally:
        connection.connection.remove_notice_handler(notice)


def vacuum_tables(
    tables: list[str], using: str = "default", wait: float = 60
) -> VacuumResult:
    """Rewrite ``tables`` (PostgreSQL) or the whole database (SQLite) and
    checkpoint. On PostgreSQL, first wait up to ``wait`` seconds for transactions
    that began before the call (a note names those still open). Raises
    RuntimeError inside a transaction (neither database vacuums there)."""
    connection = connections[using]
    if connection.in_atomic_block:
        raise RuntimeError("VACUUM cannot run inside a transaction")
    result = VacuumResult(connection.vendor)
    with connection.cursor() as cursor:

        def run(sql: str) -> None:
            cursor.execute(sql)
            result.statements.append(sql)

        if connection.vendor == "postgresql":
            waiting = _wait_for_older_transactions(cursor, wait)
            if waiting:
                result.notes.append(
                    "仍有更早开始的事务未结束，它们可能看到的旧数据这次不会移除，"
                    "请稍后再运行一次 / transactions older than the purge were still "
                    "open; row versions they may see were kept — run again later: "
                    + "; ".join(waiting)
                )
            for table in tables:
                kept = _vacuum_full(connection, cursor, table, result)
                if kept:
                    result.notes.append(
                        f"{table}：{kept} 条已删除的旧数据仍被其他事务需要，未能移除，"
                        f"请稍后再运行一次 / {kept} dead row versions could not be "
                        "removed yet — run again later"
                    )
            try:
                run("CHECKPOINT")
            except DatabaseError as error:  # not a superuser nor pg_checkpoint
                result.notes.append(f"CHECKPOINT failed: {error}".strip())
        elif connection.vendor == "sqlite":
            run("VACUUM")
            run("PRAGMA wal_checkpoint(TRUNCATE)")
        else:
            result.notes.append(f"nothing to do for {connection.vendor}")
    return result
