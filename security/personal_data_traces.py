"""Where residents' personal data is left after ``purge_personal_data``: a
production-mode copy of the demo (gunicorn with ``portal/gunicorn.conf.py``, an
access log, production settings) on SQLite or PostgreSQL (``DATABASE_URL``).

Residents sign up, open their result, QR and cancel pages, one erases her own
data; a staff member searches 报名管理 for a phone and a name, exports, opens a
door page, a cancel confirmation and the admin's page search, checks someone in.
The activity's session is then moved two days into the past and
``manage.py purge_personal_data --days 1 [--vacuum]`` runs. Counted afterwards:

- audit log (``wagtailcore_modellogentry``): rows whose label or data holds a
  residents' full phone or full name, and labels holding a masked phone;
- gunicorn's access log and error log: lines with a result/cancel token, a full
  phone, a name (percent-decoded), and an ``/admin/`` request with a query string.

Run: ``.venv/bin/python security/personal_data_traces.py`` (a JSON summary on
stdout; ``--keep`` leaves the folder with the logs). About a minute: the demo is
built from scratch.
"""

import argparse
import json
import re
import secrets
import shutil
import sys
import tempfile
from pathlib import Path
from urllib.parse import unquote, urlencode

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.server import (  # noqa: E402
    GUNICORN_CONF_COMMAND,
    DemoServer,
    postgres_admin,
)

PASSWORD = "traces-Demo-2026"
RESIDENTS = [
    ("郭振华", "13712340001"),
    ("李秀英", "13712340002"),
    ("王建国", "13712340003"),
]
FULL_PHONE = re.compile(r"(?<![0-9A-Za-z])1[3-9]\d{9}(?![0-9A-Za-z])")
MASKED_PHONE = re.compile(r"\d{3}\*{4}\d{4}")
TOKEN = re.compile(r"/r/[A-Za-z0-9_\-]{20,}")
ADMIN_QUERY = re.compile(r"/admin/[^\s?\"]*\?")
CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


# Which of the database's own files still hold a resident's phone (bytes, UTF-8)
# after the purge: PostgreSQL (after a CHECKPOINT, so that the files hold
# what the buffers did) the sign-up and audit tables with their indexes and
# TOAST, and the WAL segments; SQLite the database and WAL files.
FILES_CODE = """
import json
from django.db import connection
secrets = [s.encode() for s in SECRETS]
found = {}
with connection.cursor() as c:
    if connection.vendor == "postgresql":
        c.execute("CHECKPOINT")
        tables = ("events_registration", "wagtailcore_modellogentry")
        c.execute(
            "SELECT c.relname, pg_relation_filepath(c.oid) FROM pg_class c"
            " WHERE c.oid IN (SELECT t::regclass FROM unnest(%s::text[]) t)"
            " OR c.oid IN (SELECT indexrelid FROM pg_index WHERE indrelid IN"
            "  (SELECT t::regclass FROM unnest(%s::text[]) t))"
            " OR c.oid IN (SELECT reltoastrelid FROM pg_class WHERE oid IN"
            "  (SELECT t::regclass FROM unnest(%s::text[]) t))",
            [list(tables)] * 3,
        )
        for name, path in c.fetchall():
            c.execute("SELECT pg_read_binary_file(%s)", [path])
            data = bytes(c.fetchone()[0])
            hits = sum(1 for s in secrets if s in data)
            if hits:
                found[name] = hits
        c.execute("SELECT name FROM pg_ls_waldir() ORDER BY name")
        for (name,) in c.fetchall():
            c.execute("SELECT pg_read_binary_file(%s)", ["pg_wal/" + name])
            data = bytes(c.fetchone()[0])
            hits = sum(1 for s in secrets if s in data)
            if hits:
                found["wal " + name] = hits
    else:
        path = connection.settings_dict["NAME"]
        for suffix in ("", "-wal"):
            try:
                data = open(str(path) + suffix, "rb").read()
            except FileNotFoundError:
                continue
            hits = sum(1 for s in secrets if s in data)
            if hits:
                found["db.sqlite3" + suffix] = hits
print(json.dumps(found))
"""


def csrf(session, url):
    response = session.get(url)
    response.raise_for_status()
    return CSRF.search(response.text).group(1), response


def sign_up(base, page_url, name, phone):
    session = requests.Session()
    token, form = csrf(session, base + page_url + "signup/")
    occurrence = re.search(r'name="occurrence"[^>]*value="(\d+)"', form.text)
    if occurrence is None:
        occurrence = re.search(r'value="(\d+)"[^>]*name="occurrence"', form.text)
    response = session.post(
        base + page_url + "signup/",
        data={
            "csrfmiddlewaretoken": token,
            "occurrence": occurrence.group(1),
            "name": name,
            "phone": phone,
            "party_size": "1",
            "consent": "on",
        },
        headers={"Referer": base + page_url + "signup/"},
        allow_redirects=False,
    )
    assert response.status_code in (302, 303), (response.status_code, response.text)
    result = response.headers["Location"]
    result_url = result if result.startswith("http") else base + result
    session.get(result_url, headers={"Referer": base + page_url + "signup/"})
    session.get(result_url + "qr.svg", headers={"Referer": result_url})
    session.get(result_url + "cancel/", headers={"Referer": result_url})
    session.get(result_url + "calendar/")  # a mistyped link: 404, logged
    return session, result_url


def count(lines, pattern=None, words=()):
    found = 0
    for line in lines:
        text = unquote(line)
        if (pattern is not None and pattern.search(text)) or any(
            w in text for w in words
        ):
            found += 1
    return found


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--vacuum", action="store_true")
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="portal-traces-"))
    # The demo built from scratch with production settings (demo=False), served
    # by gunicorn with the project's conf; its own output is the error log.
    server = DemoServer(
        work,
        suffix="traces",
        demo=False,
        command=GUNICORN_CONF_COMMAND,
        server_log=work / "error.log",
        extra_env={
            "DJANGO_SETTINGS_MODULE": "portal.settings.production",
            "SERVE_MEDIA": "false",
            "SECRET_KEY": secrets.token_urlsafe(50),
            "ALLOWED_HOSTS": "127.0.0.1",
            "SECURE_COOKIES": "false",
            "DEMO_PASSWORD": PASSWORD,
            "GUNICORN_ACCESS_LOG": str(work / "access.log"),
            "WEB_CONCURRENCY": "1",
        },
    )
    base = server.url
    server.env["WAGTAILADMIN_BASE_URL"] = base
    server.env.pop("REDIS_URL", None)
    server.manage("collectstatic", "--noinput", "-v0")
    try:
        server.start(timeout=60)
        page_url = server.python(
            "from events.models import EVENT_MODELS, Occurrence\n"
            "from events.registration import closed_reason\n"
            "import json\n"
            "for m in EVENT_MODELS:\n"
            "  for p in m.objects.live().filter(registration_required=True,"
            " repeat='').order_by('pk'):\n"
            "    o = [o for o in Occurrence.objects.filter(page_id=p.pk,"
            " cancelled=False) if not closed_reason(p, o)]\n"
            "    if len(o) == 1 and (o[0].capacity or 99) - o[0].taken >= 5:\n"
            "      print(json.dumps(p.url)); raise SystemExit\n",
        )
        sessions = [sign_up(base, page_url, n, p) for n, p in RESIDENTS]
        # 李秀英 cancels and erases her own data.
        session, result_url = sessions[1]
        token, _ = csrf(session, result_url + "cancel/")
        session.post(
            result_url + "cancel/",
            data={"csrfmiddlewaretoken": token, "erase": "1"},
            headers={"Referer": result_url + "cancel/"},
        )
        # Staff.
        staff = requests.Session()
        token, _ = csrf(staff, base + "/admin/login/")
        staff.post(
            base + "/admin/login/",
            data={
                "csrfmiddlewaretoken": token,
                "username": "admin",
                "password": PASSWORD,
            },
            headers={"Referer": base + "/admin/login/"},
        ).raise_for_status()
        regs = server.python(
            "import json\nfrom events.models import Registration\n"
            f"print(json.dumps(list(Registration.objects.filter(phone__in="
            f"{[p for _, p in RESIDENTS]!r}).values('pk', 'code', 'phone'))))",
        )
        index = base + "/admin/registrations/"
        for q in (RESIDENTS[0][1], RESIDENTS[0][0]):
            staff.get(index + "?" + urlencode({"q": q})).raise_for_status()
        staff.get(
            index + "?" + urlencode({"q": RESIDENTS[2][1], "export": "csv"})
        ).raise_for_status()
        staff.get(base + "/admin/pages/search/?" + urlencode({"q": RESIDENTS[0][0]}))
        for reg in regs:
            staff.get(base + "/admin/checkin/?" + urlencode({"code": reg["code"]}))
            staff.get(f"{index}cancel/{reg['pk']}/")
        guo = next(r for r in regs if r["phone"] == RESIDENTS[0][1])
        token, _ = csrf(staff, base + "/admin/checkin/?code=" + guo["code"])
        staff.post(
            f"{index}check-in/{guo['pk']}/",
            data={"csrfmiddlewaretoken": token},
            headers={"Referer": base + "/admin/checkin/?code=" + guo["code"]},
        )
        # The session ends: two days ago.
        server.python(
            "from datetime import timedelta\nfrom django.utils import timezone\n"
            "from events.models import Occurrence, Registration\n"
            f"ids = Registration.objects.filter(phone='{RESIDENTS[0][1]}')"
            ".values('occurrence_id')\n"
            "start = timezone.now() - timedelta(days=2)\n"
            "Occurrence.objects.filter(pk__in=ids).update(start=start,"
            " end=start + timedelta(hours=2))\nprint(1)",
        )
        sessions = (
            server.python(
                "import json\nfrom django.db import connection\n"
                "c = connection.cursor()\n"
                'c.execute("SELECT state, backend_xmin::text, left(query, 120)'
                " FROM pg_stat_activity WHERE datname = current_database()"
                ' AND pid <> pg_backend_pid()")\n'
                "print(json.dumps(c.fetchall()))",
            )
            if server.env.get("DATABASE_URL")
            else None
        )
        purge = ["purge_personal_data", "--days", "1"]
        if args.vacuum:
            purge.append("--vacuum")
        purged = server.manage_output(*purge)
        purged.check_returncode()
        purge_out = purged.stdout + purged.stderr
        names = [n for n, _ in RESIDENTS]
        phones = [p for _, p in RESIDENTS]
        audit = server.python(
            "import json, re\nfrom wagtail.models import ModelLogEntry\n"
            "from events.models import Registration\n"
            "rows = [(e.label, json.dumps(e.data, ensure_ascii=False)) for e in"
            " ModelLogEntry.objects.all()]\n"
            f"names = {names!r}\n"
            f"phone = re.compile({FULL_PHONE.pattern!r})\n"
            f"masked = re.compile({MASKED_PHONE.pattern!r})\n"
            "print(json.dumps({'entries': len(rows),"
            " 'with_full_phone': sum(1 for l, d in rows if phone.search(l + d)),"
            " 'with_name': sum(1 for l, d in rows if any(n in l + d for n in names)),"
            " 'labels_with_masked_phone': sum(1 for l, d in rows if masked.search(l)),"
            " 'data_with_masked_phone': sum(1 for l, d in rows if masked.search(d)),"
            " 'registrations_left_with_phone': Registration.objects.filter("
            f"phone__in={[p for _, p in RESIDENTS]!r}).count()}}))",
        )
        # Phones only: the names are common ones the demo's residents have too.
        files = server.python(FILES_CODE.replace("SECRETS", repr(phones)))
    finally:
        server.stop()
    access = (work / "access.log").read_text().splitlines()
    error = (work / "error.log").read_text().splitlines()
    summary = {
        "database": "postgresql" if server.env.get("DATABASE_URL") else "sqlite",
        "purge": purge_out.strip().splitlines(),
        "sessions_during_purge": sessions,
        "audit_log": audit,
        "database_files_holding_their_phones": files,
        "access_log": {
            "lines": len(access),
            "with_token": count(access, TOKEN),
            "with_full_phone": count(access, FULL_PHONE, phones),
            "with_name": count(access, words=names),
            "admin_with_query_string": count(access, ADMIN_QUERY),
        },
        "error_log": {
            "lines": len(error),
            "with_token": count(error, TOKEN),
            "with_full_phone": count(error, FULL_PHONE, phones),
            "with_name": count(error, words=names),
        },
        "folder": str(work) if args.keep else None,
    }
    print(json.dumps(summary, ensure_ascii=False, indent=2))
    if not args.keep:
        shutil.rmtree(work, ignore_errors=True)
        if server.env.get("DATABASE_URL"):
            name = server.env["DATABASE_URL"].rsplit("/", 1)[1]
            with postgres_admin(server.env["DATABASE_URL"]) as admin:
                admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


if __name__ == "__main__":
    main()
