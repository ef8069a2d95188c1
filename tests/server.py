"""Serve the demo site from a separate database in a subprocess, the way `make run`
does, for tests that need a real server (browser tests, several processes).

SQLite: a fresh file in a temporary folder. PostgreSQL (DATABASE_URL set): a fresh
database named after the test database with a suffix, dropped and recreated.
Several servers can share one database (``DemoServer(..., share=first)``), the way
app machines behind a load balancer do.

The demo is built once per test session (``migrate`` + ``load_demo`` in a
subprocess, about 45 s) into a template: a SQLite file and its media folder, or a
PostgreSQL database nobody connects to. Each server then starts from a copy of it
(SQLite's backup API, ``CREATE DATABASE … TEMPLATE``, a copy of the media folder)
in a second or two instead of building the demo again.
"""

import fcntl
import http.client
import json
import os
import random
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from http.cookies import SimpleCookie
from pathlib import Path

import dj_database_url

ROOT = Path(__file__).resolve().parent.parent


def real_clock_env(env: dict[str, str] | None = None) -> dict[str, str]:
    """``env`` (default: this process's) without libfaketime, which `make
    test-dates` preloads into every process: for redis-server, whose allocator does
    not survive it, and for what must share Redis's clock (RQ's scheduler keeps its
    locks and heartbeats there)."""
    env = dict(os.environ if env is None else env)
    for name in ("LD_PRELOAD", "FAKETIME", "FAKETIME_NO_CACHE", "DONT_FAKE_MONOTONIC"):
        env.pop(name, None)
    return env


# Its own source: hypothesis seeds the ``random`` module, and two test workers in
# the same state would pick the same ports.
_ports = random.SystemRandom()


def free_port() -> int:
    """A port to listen on, below the kernel's ephemeral range: a port the kernel
    hands out (``bind(0)``) is also what it gives outgoing connections, so one
    of the suite's many client sockets could take it before the server binds it
    (seen: nginx "Address already in use" in the deploy recipe's test)."""
    try:
        low = int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        low = 32768
    low = max(low, 11000)
    while True:
        port = _ports.randrange(10000, low)
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port


def postgres_admin(url: str, timeout: int | None = None):
    """An autocommit connection to the ``postgres`` database of the server ``url``
    names, for creating and dropping databases."""
    import psycopg

    config = dj_database_url.parse(url)
    return psycopg.connect(
        host=config["HOST"] or "127.0.0.1",
        port=config["PORT"] or 5432,
        user=config["USER"] or "postgres",
        password=config["PASSWORD"] or None,
        dbname="postgres",
        autocommit=True,
        connect_timeout=timeout,
    )


def is_postgres_url(url: str | None) -> bool:
    return bool(url) and url.startswith(("postgres://", "postgresql://"))


def fresh_database_env(
    workdir: Path, suffix: str, url: str | None = None, template: str | None = None
) -> dict[str, str]:
    """Settings for a fresh database: a PostgreSQL one next to ``url`` (default:
    ``DATABASE_URL``) when that names PostgreSQL, else a SQLite file in ``workdir``.
    ``template`` names a PostgreSQL database to copy (empty when not given)."""
    url = url or os.environ.get("DATABASE_URL")
    if not is_postgres_url(url):
        return {"SQLITE_PATH": str(workdir / "db.sqlite3"), "DATABASE_URL": ""}
    name = f"{dj_database_url.parse(url)['NAME']}_{suffix}{worker_suffix()}"
    with postgres_admin(url) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        copy = f' TEMPLATE "{template}"' if template else ""
        admin.execute(f'CREATE DATABASE "{name}"{copy}')
    base = url.rsplit("/", 1)[0]
    return {"DATABASE_URL": f"{base}/{name}"}


# Settings every served demo runs with (the environment adds to them).
SERVER_SETTINGS = {
    "DJANGO_SETTINGS_MODULE": "portal.settings.dev",
    "DEBUG": "false",
    "SERVE_MEDIA": "true",
    # No persistent connections: PostgreSQL's 100 connections are shared by both
    # test workers, each with servers of 2 processes × 8 threads (two at once in
    # some tests), and a CI run hit "too many clients already" when idle
    # servers kept theirs for 60 s.
    "CONN_MAX_AGE": "0",
}
DEFAULT_DEMO_PASSWORD = "huayuanlu2026"  # load_demo's, when DEMO_PASSWORD is unset
# gunicorn as `make serve` starts it, with the project's settings file, for
# ``DemoServer(command=…)`` (the file reads the address from BIND).
GUNICORN_CONF_COMMAND = [
    sys.executable,
    "-m",
    "gunicorn",
    "portal.wsgi:application",
    "-c",
    "portal/gunicorn.conf.py",
]


RUN_ENV = "PORTAL_TEST_RUN"


def test_run() -> str:
    """This test run's id, shared by pytest-xdist's workers (the controller sets
    it in ``tests/conftest.py`` before they start)."""
    return os.environ.setdefault(RUN_ENV, f"p{os.getpid()}")


def worker_suffix() -> str:
    """``_gw0`` … in a pytest-xdist worker, so workers' databases never meet."""
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    return f"_{worker}" if worker else ""


class DemoTemplate:
    """The demo built once per test run, for every server and test database of
    the run to copy (all pytest-xdist workers share it: the first to arrive builds
    it under a file lock, the others wait and reuse it).

    ``for_url`` gives the template for a database server (``None``: SQLite).
    ``remove_run`` (the controller, at the end) deletes it."""

    _found: dict[str, "DemoTemplate"] = {}

    def __init__(self, url: str | None):
        self.url = url if is_postgres_url(url) else None
        run = test_run()
        kept = os.environ.get("TEST_DEMO_TEMPLATE")
        if kept and not self.url and (Path(kept) / "db.sqlite3").exists():
            # While working on tests: reuse a demo built earlier (SQLite only).
            self.folder = Path(kept)
        else:
            self.folder = self.folder_for(run, self.url)
        self.media = self.folder / "media"
        self.sqlite = self.folder / "db.sqlite3"
        self.database = None
        if self.url:
            self.database = f"{dj_database_url.parse(self.url)['NAME']}_template_{run}"
        if self.folder == Path(kept or "/nonexistent"):
            return
        self.folder.mkdir(parents=True, exist_ok=True)
        with open(self.folder / ".lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes
            if not (self.folder / ".ready").exists():
                self.build()
                (self.folder / ".ready").touch()

    @staticmethod
    def folder_for(run: str, url: str | None) -> Path:
        import tempfile

        kind = dj_database_url.parse(url)["NAME"] if url else "sqlite"
        return Path(tempfile.gettempdir()) / f"portal-demo-{run}-{kind}"

    def build(self) -> None:
        env = {
            **os.environ,
            **SERVER_SETTINGS,
            "MEDIA_ROOT": str(self.media),
            "DEMO_PASSWORD": DEFAULT_DEMO_PASSWORD,
        }
        env.pop("DATABASE_URL", None)
        if self.url:
            with postgres_admin(self.url) as admin:
                admin.execute(f'DROP DATABASE IF EXISTS "{self.database}" WITH (FORCE)')
                admin.execute(f'CREATE DATABASE "{self.database}"')
            env["DATABASE_URL"] = f"{self.url.rsplit('/', 1)[0]}/{self.database}"
            # For remove_run: which server, which database.
            (self.folder / "database.json").write_text(
                json.dumps({"url": self.url, "name": self.database})
            )
        else:
            env["SQLITE_PATH"] = str(self.sqlite)
        for args in (("migrate", "--noinput"), ("load_demo",)):
            result = subprocess.run(
                [sys.executable, "manage.py", *args],
                cwd=ROOT,
                env=env,
                capture_output=True,
                text=True,
            )
            if result.returncode:
                raise RuntimeError(
                    f"building the demo template failed: manage.py {' '.join(args)}"
                    f"\n{result.stdout}\n{result.stderr}"
                )

    @classmethod
    def for_url(cls, url: str | None) -> "DemoTemplate":
        key = url if is_postgres_url(url) else ""
        if key not in cls._found:
            cls._found[key] = cls(url)
        return cls._found[key]

    @classmethod
    def remove_run(cls, run: str) -> None:
        """Delete this run's templates: folders, and PostgreSQL databases."""
        for folder in cls.folder_for(run, None).parent.glob(f"portal-demo-{run}-*"):
            database = folder / "database.json"
            if database.exists():
                found = json.loads(database.read_text())
                try:
                    with postgres_admin(found["url"], timeout=5) as admin:
                        admin.execute(
                            f'DROP DATABASE IF EXISTS "{found["name"]}" WITH (FORCE)'
                        )
                except Exception:  # noqa: BLE001 - the server may be gone by now
                    pass
            shutil.rmtree(folder, ignore_errors=True)

    def copy_into(self, env: dict[str, str]) -> None:
        """Give the server with settings ``env`` (a fresh database: see
        ``fresh_database_env(template=self.database)``) the demo's media and, on
        SQLite, its database file."""
        shutil.copytree(self.media, env["MEDIA_ROOT"], dirs_exist_ok=True)
        if not self.url:
            self.copy_sqlite(Path(env["SQLITE_PATH"]))

    def copy_sqlite(self, path: Path) -> None:
        # The backup API copies a consistent database, WAL included.
        source, target = sqlite3.connect(self.sqlite), sqlite3.connect(path)
        try:
            source.backup(target)
        finally:
            source.close()
            target.close()

    def copy_postgres(self, name: str) -> None:
        """A database ``name`` on the template's server, made from the template."""
        with postgres_admin(self.url) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            admin.execute(f'CREATE DATABASE "{name}" TEMPLATE "{self.database}"')


class Reply:
    """A server's answer, read whole: status, headers, text, the cookies it set."""

    def __init__(self, response: http.client.HTTPResponse):
        self.status = response.status
        self.headers = response.headers
        self.text = response.read().decode()
        self.cookies = SimpleCookie()
        for value in response.headers.get_all("Set-Cookie") or ():
            self.cookies.load(value)

    @property
    def cache(self) -> str | None:
        """The page cache's verdict (``X-Page-Cache``)."""
        return self.headers.get("X-Page-Cache")

    def cookie(self, name: str) -> str:
        return self.cookies[name].value


def http_request(server, path, *, headers=None, form=None, cookies=None) -> Reply:
    """One request to one server, the way a proxy passes it on: GET, or a POST of
    ``form``; no redirects followed, cookies only as given."""
    headers = dict(headers or {})
    if cookies:
        headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in cookies.items())
    body = None
    if form is not None:
        body = urllib.parse.urlencode(form)
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=60)
    try:
        connection.request("POST" if form else "GET", path, body, headers)
        return Reply(connection.getresponse())
    finally:
        connection.close()


class DemoServer:
    def __init__(
        self,
        workdir: Path,
        suffix: str = "e2e",
        gunicorn: int = 0,
        extra_env: dict[str, str] | None = None,
        database_url: str | None = None,
        share: "DemoServer | None" = None,
        signup_limits: bool = False,
        demo: bool = True,
        command: list[str] | None = None,
        server_log: Path | None = None,
    ):
        """``gunicorn=N`` serves with N gunicorn worker processes (8 threads each,
        a production-sized listen backlog) instead of ``runserver``.
        ``extra_env`` adds settings read from the environment (e.g.
        ``WECHAT_APP_ID`` and ``WECHAT_API_BASE`` of a fake WeChat API).
        ``database_url`` makes the fresh database next to that PostgreSQL URL
        instead of ``DATABASE_URL``. ``share=other`` serves ``other``'s database,
        media and environment (plus ``extra_env``) from a process of its own; its
        ``start()`` neither migrates nor loads the demo, so start ``other`` first.
        ``signup_limits=True`` keeps the sign-up rate limits on (events/limits.py);
        by default they are off, since load tests sign up many residents from
        127.0.0.1. A shared server follows ``other``. ``demo=False`` starts from
        an empty database and media folder (not even migrated) instead of a copy
        of the demo; ``start()`` then migrates and loads the demo itself.
        ``command`` replaces the server's command line, e.g. a systemd unit's
        ``ExecStart`` or gunicorn with ``portal/gunicorn.conf.py``: it must listen
        on ``self.port``, which ``BIND`` in its environment names.
        ``server_log`` is the file for the server process's own output (an error
        log to read alone); by default it goes to ``server.log`` with the output
        of the ``manage`` commands."""
        self.workdir = workdir
        self.gunicorn = gunicorn
        self.command = command
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.prepare = share is None
        self.template = None
        if share is not None:
            self.env = {**share.env, **(extra_env or {})}
        else:
            if demo:
                self.template = DemoTemplate.for_url(
                    database_url or os.environ.get("DATABASE_URL")
                )
            self.env = {
                **os.environ,
                **SERVER_SETTINGS,
                "MEDIA_ROOT": str(workdir / "media"),
                "SIGNUP_LIMITS_ENABLED": "true" if signup_limits else "false",
                **fresh_database_env(
                    workdir,
                    suffix,
                    database_url,
                    template=self.template and self.template.database,
                ),
                **(extra_env or {}),
            }
        if not self.env.get("DATABASE_URL"):
            self.env.pop("DATABASE_URL", None)
        if command:
            self.env["BIND"] = f"127.0.0.1:{self.port}"
        self.process = None
        self.log = open(workdir / "server.log", "w")  # noqa: SIM115
        self.server_log = self.log
        if server_log:
            self.server_log = open(server_log, "w")  # noqa: SIM115

    def prepare_database(self) -> None:
        """The demo in this server's database and media folder: a copy of the
        session's template, or built here when the server started empty."""
        if self.template is None:
            self.manage("migrate", "--noinput")
            self.manage("load_demo")
            return
        self.template.copy_into(self.env)
        password = self.env.get("DEMO_PASSWORD", DEFAULT_DEMO_PASSWORD)
        if password != DEFAULT_DEMO_PASSWORD:
            # The template's accounts have load_demo's default password.
            self.python(
                "from django.contrib.auth import get_user_model\n"
                "from django.contrib.auth.hashers import make_password\n"
                f"get_user_model().objects.update(password=make_password({password!r}))\n"
                "print(1)"
            )

    def manage(self, *args: str) -> None:
        subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=ROOT,
            env=self.env,
            check=True,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )

    def manage_output(self, *args: str) -> subprocess.CompletedProcess:
        """``manage.py args`` with the server's settings, run to its end: its exit
        status and its output (text), whatever the status."""
        return subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=ROOT,
            env=self.env,
            capture_output=True,
            text=True,
        )

    def manage_popen(self, *args: str) -> subprocess.Popen:
        """``manage.py args`` with the server's settings, started and not waited
        for; its output (text) comes through the ``stdout`` and ``stderr`` pipes."""
        return subprocess.Popen(
            [sys.executable, "manage.py", *args],
            cwd=ROOT,
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    def python(self, code: str):
        """Run ``code`` with the server's settings and database (``manage.py
        shell``); its last output line is parsed as JSON and returned."""
        result = self.manage_output("shell", "--no-imports", "-c", code)
        result.check_returncode()
        return json.loads(result.stdout.strip().splitlines()[-1])

    def log_text(self) -> str:
        self.log.flush()
        return (self.workdir / "server.log").read_text()

    def start(self, timeout: float = 30) -> "DemoServer":
        self.launch()
        return self.wait_until_ready(timeout)

    def launch(self) -> None:
        """Prepare the database (unless shared) and start serving; returns without
        waiting, so several servers can boot at once."""
        if self.prepare:
            self.prepare_database()
        if self.command:
            command = self.command
        elif self.gunicorn:
            command = [
                sys.executable,
                "-m",
                "gunicorn",
                "portal.wsgi:application",
                f"--bind=127.0.0.1:{self.port}",
                f"--workers={self.gunicorn}",
                "--threads=8",
                "--backlog=2048",
                "--timeout=60",
            ]
        else:
            command = [
                sys.executable,
                "manage.py",
                "runserver",
                "--noreload",
                f"127.0.0.1:{self.port}",
            ]
        self.process = subprocess.Popen(
            command,
            cwd=ROOT,
            env=self.env,
            stdout=self.server_log,
            stderr=subprocess.STDOUT,
        )

    def wait_until_ready(self, timeout: float = 30) -> "DemoServer":
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and self.process.poll() is None:
            try:
                with urllib.request.urlopen(self.url + "/robots.txt", timeout=2):
                    return self
            except OSError:
                time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"demo server did not start; see {self.workdir}/server.log")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                # gunicorn's workers take seconds to exit on a busy machine
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        self.log.close()
        self.server_log.close()

    def kill(self) -> list[int]:
        """SIGKILL the server and every process it started (gunicorn's master
        first, so it cannot start new workers, then the workers), as a power cut
        or the OOM killer would: requests in flight die where they are, nothing
        cleans up. Returns the pids killed."""
        pids = [self.process.pid, *descendants(self.process.pid)]
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        self.process.wait(timeout=10)
        return pids


def descendants(pid: int) -> list[int]:
    """The processes below ``pid`` (Linux /proc), children before grandchildren."""
    parents = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:  # exited while we looked
            continue
        # "pid (comm) state ppid …"; comm may hold spaces and parentheses
        parents[int(stat.parent.name)] = int(text.rsplit(")", 1)[1].split()[1])
    found, frontier = [], [pid]
    while frontier:
        children = [child for child, parent in parents.items() if parent in frontier]
        found += children
        frontier = children
    return found
