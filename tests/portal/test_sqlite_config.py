"""SQLite is configured so concurrent writers queue instead of failing.

Two processes each run, inside one transaction, the read-then-write pattern every
sign-up has (count, then insert). With the project's settings (WAL, IMMEDIATE, busy
timeout) both commit. The control runs the same with DEFERRED transactions and
shows the failure the setting prevents.
"""

import os
import subprocess
import sys
import textwrap
import time

import pytest

from tests.server import ROOT

WRITER = textwrap.dedent(
    """
    import os, time
    from django.db import connection, transaction
    # Start together, whatever each process's start-up time was.
    time.sleep(max(0, float(os.environ["START_AT"]) - time.time()))
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM seats")
            time.sleep(0.6)
            cursor.execute("INSERT INTO seats (taken) VALUES (1)")
    print("committed")
    """
)


def run_writers(db_path, mode: str, count: int = 2):
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "portal.settings.dev",
        "SQLITE_PATH": str(db_path),
        "SQLITE_TRANSACTION_MODE": mode,
    }
    env.pop("DATABASE_URL", None)
    setup = (
        "from django.db import connection; c = connection.cursor(); "
        "c.execute('CREATE TABLE IF NOT EXISTS seats (taken int)'); "
        "c.execute('PRAGMA journal_mode'); print(c.fetchone()[0])"
    )
    first = subprocess.run(
        [sys.executable, "manage.py", "shell", "--no-imports", "-c", setup],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    env["START_AT"] = str(time.time() + 4)
    procs = [
        subprocess.Popen(
            [sys.executable, "manage.py", "shell", "--no-imports", "-c", WRITER],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(count)
    ]
    results = [proc.communicate(timeout=60) + (proc.returncode,) for proc in procs]
    return first.stdout.strip(), results


def test_sqlite_uses_wal_and_concurrent_writers_queue(tmp_path):
    journal_mode, results = run_writers(tmp_path / "db.sqlite3", "IMMEDIATE", 3)
    assert journal_mode == "wal"
    for stdout, stderr, code in results:
        assert code == 0, stderr
        assert "committed" in stdout


def test_control_deferred_transactions_fail_under_the_same_load(tmp_path):
    _, results = run_writers(tmp_path / "db.sqlite3", "DEFERRED", 3)
    failures = [stderr for _, stderr, code in results if code != 0]
    if not failures:
        pytest.fail("expected 'database is locked' without IMMEDIATE transactions")
    assert all("database is locked" in stderr for stderr in failures)
