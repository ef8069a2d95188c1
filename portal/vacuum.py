"""Make removed rows leave the database files, not only the tables.

An ``UPDATE`` that blanks a name leaves the old row version behind: PostgreSQL
keeps it in the table's pages (and the old phone in the phone index) until
``VACUUM FULL`` rewrites them, and in WAL segments until they are recycled and
overwritten; SQLite keeps it in free space of the database file and in the WAL
file. ``vacuum_tables`` rewrites the tables given and forces a checkpoint:

- PostgreSQL: ``VACUUM (FULL, ANALYZE)`` on each table (new files holding only
  the live rows; indexes rebuilt; an ACCESS EXCLUSIVE lock on each table while
  it runs, so sign-ups wait for it), then ``CHECKPOINT`` (superuser or the
  ``pg_checkpoint`` role; a note says so when it is refused).
- SQLite: ``VACUUM`` (the whole file is rebuilt), then
  ``PRAGMA wal_checkpoint(TRUNCATE)`` (the WAL file emptied).

It cannot run inside a transaction. What stays outside the database's own files
(archived WAL, backups, replicas' WAL) is described in the README.
"""

from dataclasses import dataclass, field

from django.db import DatabaseError, connections


@dataclass
class VacuumResult:
    vendor: str
    statements: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def vacuum_tables(tables: list[str], using: str = "default") -> VacuumResult:
    """Rewrite ``tables`` (PostgreSQL) or the whole database (SQLite) and
    checkpoint. Raises RuntimeError inside a transaction (neither database
    vacuums there)."""
    connection = connections[using]
    if connection.in_atomic_block:
        raise RuntimeError("VACUUM cannot run inside a transaction")
    result = VacuumResult(connection.vendor)
    with connection.cursor() as cursor:

        def run(sql: str) -> None:
            cursor.execute(sql)
            result.statements.append(sql)

        if connection.vendor == "postgresql":
            for table in tables:
                run(f"VACUUM (FULL, ANALYZE) {connection.ops.quote_name(table)}")
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
