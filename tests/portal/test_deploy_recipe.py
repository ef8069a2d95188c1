"""The deploy recipe (deploy/) run for real: Debian's nginx with
``deploy/nginx-portal.conf`` in Debian's own ``/etc/nginx/nginx.conf``, in front of
gunicorn started with ``portal-web.service``'s ``ExecStart`` and the environment of
``deploy/portal.env.example``. Only what must differ on a test machine is replaced
(host name, ports on 127.0.0.1, a self-signed certificate, folders, the database);
each replacement must find its text, so the test fails when the recipe changes
under it. nginx runs as this user, with its own prefix, logs and temporary folders.

Checked through nginx: gzip on a page, a feed and CSS; a hashed static file cached
immutable and an unhashed one briefly; media with the app's sandbox policy and
documents never served from /media/; the login lockout keyed on the real client
address (TRUSTED_PROXY_COUNT=1) whatever X-Forwarded-For the client sends; body-size
limits (413 from nginx, in Chinese); plain HTTP redirected; an access log without
query strings or tokens. The systemd units pass ``systemd-analyze verify`` and
``security`` (when systemd-analyze exists).

Without nginx or openssl the test is skipped, and fails under ``CI=true``
(`make test` installs them: `make deploy-deps`).
"""

import gzip
import http.client
import json
import os
import re
import secrets
import shlex
import shutil
import ssl
import subprocess
import sys
import time
import urllib.parse
from http.cookies import SimpleCookie
from pathlib import Path

import pytest
from csp.utils import build_policy
from django.conf import settings

from tests.server import DEFAULT_DEMO_PASSWORD, ROOT, DemoServer, free_port

DEPLOY = ROOT / "deploy"
HOST = "localhost"
FAILURE_LIMIT = 3
UPLOAD = "/admin/documents/multiple/add/"
CSRF_RE = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
# What every service of ours runs with (portal-web.service says why).
HARDENING = {
    "ProtectSystem": "strict",
    "ReadWritePaths": "/var/www/portal/media",
    "StateDirectory": "portal",
    "UMask": "0027",
    "NoNewPrivileges": "true",
    "PrivateTmp": "true",
    "PrivateDevices": "true",
    "ProtectHome": "true",
    "CapabilityBoundingSet": "",
    "RestrictAddressFamilies": "AF_UNIX AF_INET AF_INET6 AF_NETLINK",
    "SystemCallFilter": "@system-service",
}
UNITS = (
    "portal-web.service",
    "portal-tasks.service",
    "portal-purge-personal-data.service",
    "portal-send-reminders.service",
    "portal-purge-personal-data.timer",
    "portal-send-reminders.timer",
)
SERVICES = [name for name in UNITS if name.endswith(".service")]


def tool(name: str) -> str:
    """The path of a Debian tool, or skip (fail under CI) when it is missing."""
    found = shutil.which(name) or shutil.which(name, path="/usr/sbin:/sbin")
    if found:
        return found
    message = f"{name} 未安装（make deploy-deps 会安装 Debian 的 {name}）"
    if os.environ.get("CI") == "true":
        pytest.fail(message)
    pytest.skip(message)


def substitute(text: str, replacements: list[tuple[str, str]], source: str) -> str:
    for old, new in replacements:
        assert old in text, f"{source} no longer contains {old!r}: update this test"
        text = text.replace(old, new)
    return text


def unit_settings(name: str) -> dict[str, str]:
    """``Key=value`` lines of a unit file (the last one wins)."""
    found = {}
    for line in (DEPLOY / name).read_text().splitlines():
        if "=" in line and not line.startswith(("#", ";", "[")):
            key, _, value = line.partition("=")
            found[key.strip()] = value.strip()
    return found


def env_file(path: Path) -> dict[str, str]:
    """A systemd ``EnvironmentFile`` of plain ``NAME=value`` lines."""
    found = {}
    for line in path.read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            name, _, value = line.partition("=")
            found[name] = value
    return found


def render_site(work: Path, ports: dict[str, int], static: Path, media: Path) -> str:
    text = (DEPLOY / "nginx-portal.conf").read_text()
    # The test listens on 127.0.0.1 only: no IPv6 listeners.
    text, dropped = re.subn(r"^\s*listen \[::\]:.*\n", "", text, flags=re.M)
    assert dropped == 2
    return substitute(
        text,
        [
            ("listen 443 ssl http2;", f"listen 127.0.0.1:{ports['https']} ssl http2;"),
            ("listen 80;", f"listen 127.0.0.1:{ports['http']};"),
            ("server_name huayuanlu.example.cn;", f"server_name {HOST};"),
            ("/etc/nginx/ssl/portal.crt", str(work / "portal.crt")),
            ("/etc/nginx/ssl/portal.key", str(work / "portal.key")),
            ("server 127.0.0.1:8000;", f"server 127.0.0.1:{ports['gunicorn']};"),
            ("/srv/portal/staticfiles/", f"{static}/"),
            ("/var/www/portal/media/", f"{media}/"),
            ("/var/log/nginx/portal.access.log", str(work / "access.log")),
        ],
        "deploy/nginx-portal.conf",
    )


def render_main(work: Path, site: Path) -> str:
    """Debian's nginx.conf with everything that needs root moved into ``work``;
    the http block (mime types, Debian's gzip and TLS defaults) stays as shipped."""
    temp = "".join(
        f"\t{kind}_temp_path {work}/{kind};\n"
        for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    # nginx switches to `user` only when started as root; running as root, the
    # workers stay this user, who owns the test's folders.
    user = "user root;" if os.geteuid() == 0 else ""
    return substitute(
        Path("/etc/nginx/nginx.conf").read_text(),
        [
            ("user www-data;", user),
            ("pid /run/nginx.pid;", f"pid {work}/nginx.pid;"),
            ("error_log /var/log/nginx/error.log;", f"error_log {work}/error.log;"),
            (
                "access_log /var/log/nginx/access.log;",
                f"access_log {work}/other-access.log;\n{temp}",
            ),
            ("include /etc/nginx/conf.d/*.conf;", ""),
            ("include /etc/nginx/sites-enabled/*;", f"include {site};"),
        ],
        "/etc/nginx/nginx.conf",
    )


class Site:
    """nginx and gunicorn as the recipe sets them up, and requests to them."""

    def __init__(self, work: Path, ports: dict[str, int], server: DemoServer, cert):
        self.work, self.ports, self.server = work, ports, server
        self.context = ssl.create_default_context(cafile=cert)
        self.context.check_hostname = False  # 127.0.0.1, the certificate's localhost
        self.origin = f"https://{HOST}:{ports['https']}"

    def request(
        self,
        path,
        *,
        method="GET",
        headers=None,
        body=None,
        source="127.0.0.1",
        https=True,
        send_body=True,
    ):
        """One request from ``source`` (any 127.x address); returns (status,
        headers, body bytes). ``send_body=False`` sends only the headers, with
        the Content-Length of ``body``, as a client would before an upload."""
        port = self.ports["https" if https else "http"]
        args = {"timeout": 30, "source_address": (source, 0)}
        if https:
            connection = http.client.HTTPSConnection(
                "127.0.0.1", port, context=self.context, **args
            )
        else:
            connection = http.client.HTTPConnection("127.0.0.1", port, **args)
        try:
            connection.putrequest(
                method, path, skip_host=True, skip_accept_encoding=True
            )
            for name, value in {"Host": f"{HOST}:{port}", **(headers or {})}.items():
                connection.putheader(name, value)
            if body is not None:
                connection.putheader("Content-Length", str(len(body)))
            connection.endheaders(body if body is not None and send_body else None)
            response = connection.getresponse()
            return response.status, response.headers, response.read()
        finally:
            connection.close()

    def get(self, path, **kwargs):
        return self.request(path, **kwargs)

    def admin_login(self, password, *, source, claimed):
        """A staff login from ``source`` whose client claims to be ``claimed`` in
        X-Forwarded-For (an attacker dodging the lockout would)."""
        status, headers, body = self.get("/admin/login/", source=source)
        assert status == 200
        cookie = SimpleCookie(headers["Set-Cookie"])["csrftoken"].value
        form = urllib.parse.urlencode(
            {
                "csrfmiddlewaretoken": CSRF_RE.search(body.decode()).group(1),
                "username": "admin",
                "password": password,
                "next": "/admin/",
            }
        ).encode()
        return self.request(
            "/admin/login/",
            method="POST",
            body=form,
            source=source,
            headers={
                "Content-Type": "application/x-www-form-urlencoded",
                "Cookie": f"csrftoken={cookie}",
                "Origin": self.origin,
                "X-Forwarded-For": claimed,
            },
        )


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    nginx, openssl = tool("nginx"), tool("openssl")
    work = tmp_path_factory.mktemp("deploy")
    for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"):
        (work / kind).mkdir()
    subprocess.run(
        [openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2"]
        + ["-subj", f"/CN={HOST}", "-keyout", work / "portal.key"]
        + ["-out", work / "portal.crt"],
        check=True,
        capture_output=True,
    )
    ports = {"https": free_port(), "http": free_port()}

    # gunicorn exactly as portal-web.service starts it, in the checkout instead
    # of /srv/portal, with the example environment file.
    unit = unit_settings("portal-web.service")
    assert unit["WorkingDirectory"] == "/srv/portal"
    assert unit["EnvironmentFile"] == "/etc/portal.env"
    command = shlex.split(unit["ExecStart"])
    assert command[0] == "/srv/portal/.venv/bin/gunicorn"
    command = [sys.executable, "-m", "gunicorn", *command[1:]]
    env = env_file(DEPLOY / "portal.env.example")
    assert env["TRUSTED_PROXY_COUNT"] == "1"
    assert env["DJANGO_SETTINGS_MODULE"] == "portal.settings.production"
    for name in ("DATABASE_URL", "SQLITE_PATH", "REDIS_URL", "MEDIA_ROOT"):
        env.pop(name, None)  # the demo server's own database and media
    static = work / "static"
    server = DemoServer(
        work,
        suffix="deploy",
        command=command,
        extra_env={
            **env,
            "SECRET_KEY": secrets.token_urlsafe(50),
            "WAGTAILADMIN_BASE_URL": f"https://{HOST}:{ports['https']}",
            "ALLOWED_HOSTS": HOST,
            # Origin carries the test's port; nginx passes Host without it ($host).
            "CSRF_TRUSTED_ORIGINS": f"https://{HOST}:{ports['https']}",
            "STATIC_ROOT": str(static),
            "SERVE_MEDIA": "false",
            "AXES_FAILURE_LIMIT": str(FAILURE_LIMIT),
        },
    )
    server.env.pop("REDIS_URL", None)  # local-memory cache: this server alone
    ports["gunicorn"] = server.port
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "-v0"],
        cwd=ROOT,
        env=server.env,
        check=True,
    )
    media = Path(server.env["MEDIA_ROOT"])
    site_conf, main_conf = work / "portal.conf", work / "nginx.conf"
    site_conf.write_text(render_site(work, ports, static, media))
    main_conf.write_text(render_main(work, site_conf))
    nginx_args = [nginx, "-p", str(work), "-c", str(main_conf), "-e", "stderr"]
    checked = subprocess.run([*nginx_args, "-t"], capture_output=True, text=True)
    assert checked.returncode == 0, checked.stderr
    assert "[warn]" not in checked.stderr, checked.stderr

    proxy = None
    server.launch()
    try:
        proxy = subprocess.Popen(
            [*nginx_args, "-g", "daemon off;"],
            stdout=subprocess.DEVNULL,
            stderr=open(work / "nginx.log", "w"),  # noqa: SIM115
        )
        running = Site(work, ports, server, str(work / "portal.crt"))
        deadline = time.monotonic() + 60
        while True:
            try:
                if running.get("/robots.txt")[0] == 200:
                    break
            except OSError:
                pass
            assert server.process.poll() is None, server.log_text()
            assert proxy.poll() is None, (work / "nginx.log").read_text()
            assert time.monotonic() < deadline, server.log_text()
            time.sleep(0.3)
        yield running
        assert "Traceback" not in server.log_text()
    finally:
        if proxy is not None:
            proxy.terminate()
            proxy.wait(timeout=20)
        server.stop()


def test_pages_feeds_and_css_are_compressed(site):
    status, headers, body = site.get("/", headers={"Accept-Encoding": "gzip"})
    assert status == 200
    assert headers["Content-Encoding"] == "gzip"
    assert "Accept-Encoding" in headers["Vary"]
    html = gzip.decompress(body).decode()
    assert "花园路" in html
    # The request reached Django as HTTPS (X-Forwarded-Proto, believed from
    # FORWARDED_ALLOW_IPS): no redirect, and HSTS, which Django sends only then.
    assert headers["Strict-Transport-Security"].startswith("max-age=31536000")
    plain = site.get("/")
    assert plain[0] == 200 and "Content-Encoding" not in plain[1]
    assert plain[2].decode() == html

    css = re.search(r'href="(/static/css/portal\.[0-9a-f]{12}\.css)"', html).group(1)
    for path in (css, "/activities/calendar.ics"):
        status, headers, body = site.get(path, headers={"Accept-Encoding": "gzip"})
        assert status == 200, path
        assert headers["Content-Encoding"] == "gzip", path
        assert gzip.decompress(body) == site.get(path)[2]


def test_recipe_compresses_every_text_type_the_site_serves():
    """Read from the recipe: gzip on for HTML (nginx's always), CSS, JavaScript,
    JSON, the calendar feeds and SVG (QR codes), also behind carriers' proxies;
    what the app already compressed passes through as it is."""
    text = (DEPLOY / "nginx-portal.conf").read_text()
    directives = dict(
        re.findall(r"^\s*(gzip\w*)\s+([^;]+);", text, flags=re.MULTILINE)
    )
    assert directives["gzip"] == "on"
    assert directives["gzip_vary"] == "on"
    assert directives["gzip_proxied"] == "any"
    types = set(directives["gzip_types"].split())
    assert {
        "text/css",
        "application/javascript",
        "application/json",
        "text/calendar",
        "image/svg+xml",
    } <= types


def test_hashed_static_files_are_immutable_others_cached_briefly(site):
    manifest = json.loads((site.work / "static" / "staticfiles.json").read_text())
    hashed = manifest["paths"]["css/portal.css"]
    assert re.fullmatch(r"css/portal\.[0-9a-f]{12}\.css", hashed)
    status, headers, body = site.get(f"/static/{hashed}")
    assert status == 200 and b"{" in body
    assert headers.get_all("Cache-Control") == ["public, max-age=31536000, immutable"]
    assert headers["Content-Type"] == "text/css"
    assert headers["X-Content-Type-Options"] == "nosniff"
    status, headers, _ = site.get("/static/css/portal.css")
    assert status == 200
    assert headers.get_all("Cache-Control") == ["public, max-age=3600"]
    # A name that merely looks hashed but does not exist is no file at all.
    assert site.get("/static/css/portal.000000000000.css")[0] == 404


def test_media_files_carry_the_apps_sandbox_policy(site):
    media = Path(site.server.env["MEDIA_ROOT"])
    picture = next((media / "original_images").iterdir())
    status, headers, body = site.get(f"/media/original_images/{picture.name}")
    assert status == 200
    assert body == picture.read_bytes()
    # The app's media policy, directive by directive (django-csp's order varies).
    policy = build_policy(config=settings.CONTENT_SECURITY_POLICY_MEDIA["DIRECTIVES"])
    [sent] = headers.get_all("Content-Security-Policy")
    assert directives(sent) == directives(policy)
    assert {"sandbox", "default-src 'none'"} <= directives(sent)
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Content-Type"].startswith("image/")
    # Served by nginx, not by Django (which would also have sent its headers).
    assert "X-Frame-Options" not in headers


def directives(policy: str) -> set[str]:
    return {part.strip() for part in policy.split(";") if part.strip()}


def test_documents_are_never_served_from_media(site):
    media = Path(site.server.env["MEDIA_ROOT"])
    (media / "documents").mkdir(exist_ok=True)
    (media / "documents" / "名单.html").write_text("<script>alert(1)</script>")
    path = "/media/documents/" + urllib.parse.quote("名单.html")
    status, _, body = site.get(path)
    assert status == 404
    assert b"alert" not in body


def test_lockout_is_keyed_on_the_real_client_address(site):
    """Through nginx the app sees 127.0.0.2 and 127.0.0.1 as two clients, and an
    X-Forwarded-For the client writes changes nothing: with TRUSTED_PROXY_COUNT=0
    or a proxy that passed the client's header on, every failure below would be
    counted for another address (or all for nginx's own)."""
    for n in range(FAILURE_LIMIT - 1):
        status, _, body = site.admin_login(
            "错误的密码", source="127.0.0.1", claimed=f"198.51.100.{n}"
        )
        assert status == 200 and "登录失败次数过多" not in body.decode()
    status, headers, body = site.admin_login(
        "错误的密码", source="127.0.0.1", claimed="203.0.113.9"
    )
    assert status == 429
    assert "登录失败次数过多" in body.decode()
    # The right password from the locked address, claiming to be the next one
    # down the street: still locked.
    status, _, _ = site.admin_login(
        DEFAULT_DEMO_PASSWORD, source="127.0.0.1", claimed="127.0.0.2"
    )
    assert status == 429
    # Another client (127.0.0.2), even claiming the locked address: signed in.
    status, headers, _ = site.admin_login(
        DEFAULT_DEMO_PASSWORD, source="127.0.0.2", claimed="127.0.0.1"
    )
    assert status == 302
    cookies = SimpleCookie()
    for value in headers.get_all("Set-Cookie"):
        cookies.load(value)
    assert "sessionid" in cookies
    assert cookies["sessionid"]["secure"]


def test_body_size_limits_match_the_apps(site):
    # Public: over PUBLIC_POST_MAX_BYTES (32 KB) refused by nginx, unread, with
    # a page in Chinese; under it, the app answers (here: no CSRF token).
    too_big = b"x" * (settings.PUBLIC_POST_MAX_BYTES + 1)
    status, headers, body = site.request(
        "/activities/", method="POST", body=too_big, send_body=False
    )
    assert status == 413
    assert headers["Content-Type"] == "text/html; charset=utf-8"
    assert "提交的内容太大" in body.decode()
    small = b"x" * (settings.PUBLIC_POST_MAX_BYTES - 1024)
    assert site.request("/activities/", method="POST", body=small)[0] == 403
    # The admin: an upload of 20 MB (WAGTAILDOCS_MAX_UPLOAD_SIZE) reaches the
    # app (which refuses it for want of a CSRF token); more than 25 MB does not.
    # Sent as an editor's browser sends it, a multipart form with the csrftoken
    # cookie, so that Django reads the upload before it refuses the missing
    # token. Without the cookie Django refuses before reading the body, gunicorn
    # closes the connection with the body unread, and nginx, if still sending
    # it, answers 502 → its 503 page: seen in two full runs (session 30 and an
    # earlier one), never when the test ran alone.
    boundary = "portal-upload-boundary"
    upload = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="files[]"; '
        f'filename="big.pdf"\r\nContent-Type: application/pdf\r\n\r\n'.encode()
        + b"x" * (settings.WAGTAILDOCS_MAX_UPLOAD_SIZE + 64 * 1024)
        + f"\r\n--{boundary}--\r\n".encode()
    )
    status, headers, body = site.request(
        UPLOAD,
        method="POST",
        body=upload,
        headers={
            "Content-Type": f"multipart/form-data; boundary={boundary}",
            "Cookie": "csrftoken=" + "a" * 32,
        },
    )
    # templates/403_csrf.html; on anything else, say who answered.
    answer = (status, headers.get("Server"), body.decode()[:200])
    assert status == 403 and "页面已过期" in body.decode(), answer
    huge = b"x" * (25 * 1024 * 1024 + 1)
    status, _, body = site.request(UPLOAD, method="POST", body=huge, send_body=False)
    assert status == 413 and "提交的内容太大" in body.decode()


def test_plain_http_is_redirected_to_https(site):
    status, headers, _ = site.get("/activities/?page=2", https=False)
    assert status == 301
    assert headers["Location"] == f"https://{HOST}/activities/?page=2"


def logged_lines(path: Path, start: int, count: int) -> str:
    """The access log from byte ``start`` once it holds ``count`` lines. nginx
    writes a request's line after the response has gone out, and each worker
    process writes its own: the last answer can arrive before an earlier
    request's line is written (seen once in CI on a loaded machine)."""
    deadline = time.monotonic() + 15
    while True:
        with path.open("rb") as log:
            log.seek(start)
            text = log.read().decode()
        if text.count("\n") >= count or time.monotonic() > deadline:
            return text
        time.sleep(0.05)


def test_access_log_holds_no_query_strings_or_tokens(site):
    phone, token = "13712340001", "Zq3xTOKENw9s8d7f6g5h4j3k2l1"
    path = site.work / "access.log"
    start = path.stat().st_size
    assert site.get(f"/search/?q={phone}")[0] == 200
    site.get(f"/activities/x/r/{token}/cancel/")
    site.get(f"/admin/password_reset/confirm/MQ/{token}/")
    site.get("/media/original_images/missing.jpg?" + urllib.parse.quote("q=张三"))
    log = logged_lines(path, start, 4)
    assert "/search/ HTTP/1.1" in log
    assert "/activities/x/r/*/cancel/" in log
    assert "/admin/password_reset/confirm/*/" in log
    assert phone not in log and token not in log and "?" not in log


def test_app_not_answering_gets_a_chinese_503(site):
    """nginx with the recipe in front of a port where nothing listens: the
    resident gets a Chinese page that says to try again, never nginx's English
    502."""
    work = site.work / "app-down"
    for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"):
        (work / kind).mkdir(parents=True)
    ports = {"https": free_port(), "http": free_port(), "gunicorn": free_port()}
    for name in ("portal.crt", "portal.key"):
        shutil.copy(site.work / name, work / name)
    site_conf, main_conf = work / "portal.conf", work / "nginx.conf"
    site_conf.write_text(render_site(work, ports, site.work / "static", work))
    main_conf.write_text(render_main(work, site_conf))
    nginx_args = [tool("nginx"), "-p", str(work), "-c", str(main_conf), "-e", "stderr"]
    proxy = subprocess.Popen(
        [*nginx_args, "-g", "daemon off;"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    down = Site(work, ports, site.server, str(work / "portal.crt"))
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                status, headers, body = down.get("/activities/")
                break
            except OSError:
                assert time.monotonic() < deadline and proxy.poll() is None
                time.sleep(0.2)
    finally:
        proxy.terminate()
        proxy.wait(timeout=20)
    assert status == 503
    assert headers["Retry-After"] == "30"
    assert "请过半分钟再试" in body.decode()
    assert "Bad Gateway" not in body.decode()


def test_systemd_units_verify_and_are_hardened(tmp_path):
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.skip("systemd-analyze 未安装")
    # verify checks that the commands exist: stand-ins for the virtualenv's.
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for name in ("python", "gunicorn"):
        (bin_dir / name).write_text("#!/bin/sh\n")
        (bin_dir / name).chmod(0o755)
    for name in UNITS:
        text = (DEPLOY / name).read_text()
        (tmp_path / name).write_text(
            text.replace("/srv/portal/.venv/bin", str(bin_dir))
        )
    paths = [str(tmp_path / name) for name in UNITS]
    verified = subprocess.run(
        [analyze, "verify", "--man=no", *paths], capture_output=True, text=True
    )
    # verify exits 0 on unknown keys and bad values; it only warns.
    assert verified.returncode == 0 and verified.stderr == "", verified.stderr
    exposure = {}
    for path in [str(tmp_path / name) for name in SERVICES]:
        report = subprocess.run(
            [analyze, "security", "--offline=true", "--man=no", path],
            capture_output=True,
            text=True,
        )
        found = re.search(r"Overall exposure level for \S+: ([\d.]+)", report.stdout)
        assert found, report.stdout + report.stderr
        exposure[Path(path).name] = float(found.group(1))
    # systemd 252 rates each 1.7 ("OK"; 10 is unprotected); 8.8 before hardening.
    assert max(exposure.values()) <= 2.0, exposure
    for name in SERVICES:
        found = unit_settings(name)
        assert {key: found.get(key) for key in HARDENING} == HARDENING, name
