"""``purge_personal_data --vacuum``: the purged names and phones, and the audit
labels scrubbed with them, leave the database's own files too — PostgreSQL's
table and index files (read back with ``pg_read_binary_file``), SQLite's
database and WAL files.

Deterministic: the check reads the files after the command's own ``VACUUM FULL``
and ``CHECKPOINT`` (or ``VACUUM`` and the WAL truncation) returned, which write
them out completely; nothing waits on autovacuum or a timer. The control (the
same bytes are in the files before the purge) reads them after a ``CHECKPOINT``
of its own, which writes every changed page. Runs in its own database, outside
the test transaction (neither database vacuums inside one)."""

import time

import pytest

from tests.server import DemoServer

RESIDENTS = [("甄士隐", "13798760001"), ("贾雨村", "13798760002")]

SIGN_UP = """
import json
from datetime import timedelta
from django.utils import timezone
from events import registration as service
from events.models import EVENT_MODELS, Occurrence
from events.staff import audit
from django.contrib.auth import get_user_model
staff = get_user_model().objects.get(username="admin")
for model in EVENT_MODELS:
    for page in model.objects.live().filter(registration_required=True, repeat=""):
        open_ = [o for o in Occurrence.objects.filter(page_id=page.pk, cancelled=False)
                 if not service.closed_reason(page, o)]
        if len(open_) == 1 and (open_[0].capacity or 99) - open_[0].taken >= 3:
            break
    else:
        continue
    break
labels = []
for name, phone in RESIDENTS:
    signed = service.sign_up(page, open_[0].pk, name=name, phone=phone)
    entry = audit.log_registration(signed.registration, audit.VIEW_PERSONAL_DATA, staff)
    labels.append(entry.label)
start = timezone.now() - timedelta(days=3)
Occurrence.objects.filter(pk=open_[0].pk).update(
    start=start, end=start + timedelta(hours=2)
)
print(json.dumps(labels))
"""

# {file: [markers found]} for the sign-up and audit tables (with their indexes
# and TOAST) on PostgreSQL, the database and WAL files on SQLite.
FILES = """
import json
from pathlib import Path
from django.db import connection
markers = MARKERS
found, paths = {}, {}
with connection.cursor() as cursor:
    if connection.vendor == "postgresql":
        cursor.execute("CHECKPOINT")
        tables = ["events_registration", "wagtailcore_modellogentry"]
        cursor.execute(
            "SELECT c.relname, pg_relation_filepath(c.oid) FROM pg_class c"
            " WHERE c.oid = ANY(%s::regclass[])"
            " OR c.oid IN (SELECT indexrelid FROM pg_index"
            "  WHERE indrelid = ANY(%s::regclass[]))"
            " OR c.oid IN (SELECT reltoastrelid FROM pg_class"
            "  WHERE oid = ANY(%s::regclass[]))",
            [tables] * 3,
        )
        for relation, path in cursor.fetchall():
            cursor.execute("SELECT pg_read_binary_file(%s)", [path])
            data = bytes(cursor.fetchone()[0] or b"")
            found[relation] = [m for m in markers if m.encode() in data]
            paths[relation] = path
    else:
        database = Path(connection.settings_dict["NAME"])
        for suffix in ("", "-wal"):
            path = database.with_name(database.name + suffix)
            data = path.read_bytes() if path.exists() else b""
            found[path.name] = [m for m in markers if m.encode() in data]
print(json.dumps({"found": found, "paths": paths}))
"""

OLD_FILE = """
import json
from django.db import connection
with connection.cursor() as cursor:
    cursor.execute("SELECT (pg_stat_file(%s, true)).size", [PATH])
    print(json.dumps(cursor.fetchone()[0]))
"""


def can_read_server_files(server) -> bool:
    return server.python(
        "import json\nfrom django.db import connection\n"
        "c = connection.cursor()\n"
        "c.execute(\"SELECT rolsuper OR pg_has_role('pg_read_server_files', 'MEMBER')"
        ' FROM pg_roles WHERE rolname = current_user")\n'
        "print(json.dumps(c.fetchone()[0]))"
    )


def test_vacuum_removes_purged_data_from_the_database_files(tmp_path):
    server = DemoServer(tmp_path, suffix="vacuum")
    server.prepare_database()
    postgres = bool(server.env.get("DATABASE_URL"))
    if postgres and not can_read_server_files(server):
        pytest.skip("reading table files needs a superuser or pg_read_server_files")
    labels = server.python(SIGN_UP.replace("RESIDENTS", repr(RESIDENTS)))
    markers = [text for person in RESIDENTS for text in person] + labels

    def files():
        return server.python(FILES.replace("MARKERS", repr(markers)))

    before = files()
    in_files = {m for found in before["found"].values() for m in found}
    # Control: the names, the phones and the audit labels are in the files.
    assert in_files == set(markers), before

    result = server.manage_output("purge_personal_data", "--days", "1", "--vacuum")
    assert result.returncode == 0, result.stderr
    assert "已重写数据表" in result.stdout
    if postgres:
        assert 'VACUUM (FULL, VERBOSE, ANALYZE) "events_registration"' in result.stdout
        assert "CHECKPOINT" in result.stdout
    else:
        assert "PRAGMA wal_checkpoint(TRUNCATE)" in result.stdout

    after = files()
    assert not {name: found for name, found in after["found"].items() if found}
    assert len(after["found"]) == len(before["found"])  # the same files looked at
    if postgres:
        # VACUUM FULL wrote new files; the old ones are empty (or already gone).
        for relation, path in before["paths"].items():
            assert after["paths"][relation] != path
            size = server.python(OLD_FILE.replace("PATH", repr(path)))
            assert size in (None, 0), (relation, path, size)
    server.log.close()


def test_vacuum_waits_for_a_transaction_that_could_still_see_the_old_rows(tmp_path):
    """``VACUUM FULL`` copies dead rows that an open transaction may still see: a
    report started before the purge (here a snapshot on another table, so that
    no lock makes VACUUM wait anyway) would keep the names in the new files. The
    command waits for it to end; without that wait this test finds the phones."""
    server = DemoServer(tmp_path, suffix="vacuumwait")
    if not server.env.get("DATABASE_URL"):
        pytest.skip("PostgreSQL only (SQLite has one writer and rewrites it all)")
    server.prepare_database()
    if not can_read_server_files(server):
        pytest.skip("reading table files needs a superuser or pg_read_server_files")
    import psycopg

    labels = server.python(SIGN_UP.replace("RESIDENTS", repr(RESIDENTS)))
    markers = [phone for _, phone in RESIDENTS] + labels
    with psycopg.connect(server.env["DATABASE_URL"], autocommit=True) as watch:
        report = psycopg.connect(server.env["DATABASE_URL"])
        report.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        report.execute("SELECT count(*) FROM wagtailcore_page").fetchone()
        purge = server.manage_popen("purge_personal_data", "--days", "1", "--vacuum")
        try:
            # The purge has committed and the command waits: it polls for us.
            for _ in range(600):
                waiting = watch.execute(
                    "SELECT count(*) FROM pg_stat_activity"
                    " WHERE datname = current_database() AND query LIKE %s"
                    " AND pid <> pg_backend_pid()",
                    ["%xact_start <%"],
                ).fetchone()[0]
                if waiting or purge.poll() is not None:
                    break
                time.sleep(0.1)
            assert waiting, "the command did not wait for the older transaction"
            assert not watch.execute(
                "SELECT count(*) FROM events_registration WHERE phone = ANY(%s)",
                [[phone for _, phone in RESIDENTS]],
            ).fetchone()[0]
        finally:
            report.rollback()
            report.close()
        out, err = purge.communicate(timeout=300)
    assert purge.returncode == 0, err
    assert "仍有更早开始的事务" not in err
    after = server.python(FILES.replace("MARKERS", repr(markers)))
    assert not {name: found for name, found in after["found"].items() if found}
    server.log.close()


def test_vacuum_waits_for_an_older_transaction_in_another_database(tmp_path):
    """A write begun before the purge in *another* database (the other test
    worker's, another site's) holds a transaction id that every later snapshot
    — ``VACUUM FULL``'s own included — counts as running, so the purged rows
    would be copied into the new files. The command waits for it; without that
    wait it rewrites the table five times, keeps the rows and this test finds
    the phones."""
    server = DemoServer(tmp_path, suffix="vacuumxid")
    if not server.env.get("DATABASE_URL"):
        pytest.skip("PostgreSQL only (SQLite has one writer and rewrites it all)")
    server.prepare_database()
    if not can_read_server_files(server):
        pytest.skip("reading table files needs a superuser or pg_read_server_files")
    import psycopg

    server.python(SIGN_UP.replace("RESIDENTS", repr(RESIDENTS)))
    markers = [phone for _, phone in RESIDENTS]
    url = server.env["DATABASE_URL"]
    with psycopg.connect(url, autocommit=True) as watch:
        elsewhere = psycopg.connect(url, dbname="postgres")
        elsewhere.execute("SELECT pg_current_xact_id()")  # an xid, held open
        purge = server.manage_popen("purge_personal_data", "--days", "1", "--vacuum")
        try:
            for _ in range(300):
                waiting = watch.execute(
                    "SELECT count(*) FROM pg_stat_activity"
                    " WHERE datname = current_database() AND query LIKE %s"
                    " AND pid <> pg_backend_pid()",
                    ["%pg_snapshot_xmin%"],
                ).fetchone()[0]
                if waiting or purge.poll() is not None:
                    break
                time.sleep(0.1)
        finally:
            elsewhere.rollback()
            elsewhere.close()
        out, err = purge.communicate(timeout=300)
    assert purge.returncode == 0, err
    after = server.python(FILES.replace("MARKERS", repr(markers)))
    assert not {name: found for name, found in after["found"].items() if found}, err
    server.log.close()
