"""Security headers on every kind of response, uploads that must be refused, files
that must never open inline, and production's `check --deploy`.

Public pages (portal/security.py, settings CONTENT_SECURITY_POLICY): scripts from
our own origin only, no inline script, eval or nonce, framed by nobody — on a cache
miss and on a cache hit. The admin has its own policy. The pages' HTML is checked
too: no inline <script>, no on* attribute, no javascript: URL, no <style>, and
only the brand-colour style attribute.
"""

import contextlib
import json
import os
import re
import secrets
import subprocess
import sys
from html.parser import HTMLParser
from io import BytesIO
from pathlib import Path

import pytest
from django.core.cache import cache
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import OperationalError, connection
from django.test import RequestFactory, override_settings
from django.views.defaults import server_error
from PIL import Image as PILImage
from wagtail.documents import get_document_model
from wagtail.images import get_image_model
from wagtail.models import Collection
from wagtail.models.sites import (
    SITE_ROOT_PATHS_CACHE_KEY,
    SITE_ROOT_PATHS_CACHE_VERSION,
)

from events.models import ActivityPage, EventIndexPage
from home.models import (
    ArticlePage,
    CommunityIndexPage,
    CommunityPage,
    HomePage,
    HonourIndexPage,
    HonourPage,
    NewsIndexPage,
)
from portal import pagecache, security
from tests.events.test_signup_pages import form_data
from tests.factories import ActivityPageFactory
from tests.server import ROOT

pytestmark = pytest.mark.django_db

CSP = "Content-Security-Policy"
SDK_URL = "https://res.wx.qq.com/open/js/jweixin-1.6.0.js"
BRAND_STYLE = re.compile(r"--brand: #[0-9A-Fa-f]{6}")


def policy(response) -> dict[str, list[str]]:
    """The Content-Security-Policy header as {directive: [sources]}."""
    header = response.get(CSP)
    assert header, f"no {CSP} header"
    directives = {}
    for part in header.split(";"):
        name, *sources = part.split()
        assert name not in directives, f"{name} twice"
        directives[name] = sources
    return directives


class MarkupAudit(HTMLParser):
    """Everything in a page's HTML that a strict script policy would block, or
    that needs an inline-style allowance."""

    URL_ATTRS = {"href", "src", "action", "formaction", "xlink:href", "data"}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.problems: list[str] = []
        self.scripts: list[str] = []
        self.styles: list[str] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "script":
            kind = (attrs.get("type") or "text/javascript").lower()
            if "src" in attrs:
                self.scripts.append(attrs["src"])
            elif kind not in ("application/json", "application/ld+json"):
                self.problems.append("inline <script>")
        if tag == "style":
            self.problems.append("<style> element")
        for name, value in attrs.items():
            if name.startswith("on"):
                self.problems.append(f"<{tag} {name}=…>")
            if name in self.URL_ATTRS and (value or "").strip().lower().startswith(
                "javascript:"
            ):
                self.problems.append(f"<{tag} {name}=javascript:…>")
            if name == "style":
                self.styles.append(value)


def audit_markup(html: str) -> MarkupAudit:
    audit = MarkupAudit()
    audit.feed(html)
    audit.close()
    return audit


# --- the public pages ------------------------------------------------------------


@pytest.fixture
def public_urls(client) -> dict[str, str]:
    """One URL of every public page type and endpoint of the demo site, including
    a resident's sign-up result (made through the form, as a resident would)."""
    index = EventIndexPage.objects.get(slug="activities")
    activity = ActivityPageFactory(
        parent=index,
        title="安全头测试活动",
        registration_required=True,
        capacity=5,
        max_party_size=2,
    )
    signed_up = client.post(activity.url + "signup/", form_data(activity))
    assert signed_up.status_code in (302, 303), signed_up.content.decode()[:500]
    result = signed_up["Location"]
    client.cookies.clear()  # the resident's CSRF cookie would bypass the page cache
    community = CommunityPage.objects.live().order_by("path").first()
    demo_activity = ActivityPage.objects.live().exclude(cover=None).first()
    return {
        "home": HomePage.objects.get(slug="home").url,
        "community index": CommunityIndexPage.objects.live().first().url,
        "community": community.url,
        "honours index": HonourIndexPage.objects.live().first().url,
        "honour": HonourPage.objects.live().first().url,
        "news index": NewsIndexPage.objects.live().first().url,
        "article": ArticlePage.objects.live().first().url,
        "activity index": index.url,
        "month view": index.url + "month/",
        "activity": activity.url,
        "sign-up page": activity.url + "signup/",
        "registration result": result,
        "registration QR": result + "qr.svg",
        "search": "/search/?q=甲院",
        "index feed": index.url + "calendar.ics",
        "activity feed": activity.url + "calendar.ics",
        "page QR svg": f"/share/{demo_activity.pk}/qr.svg",
        "page QR png": f"/share/{demo_activity.pk}/qr.png",
        "poster png": f"/share/{demo_activity.pk}/poster.png",
        "poster page": f"/share/{community.pk}/poster/",
        "sitemap": "/sitemap.xml",
        "404": "/no-such-page/",
    }


def assert_public_headers(response, name):
    directives = policy(response)
    assert directives["script-src"] == ["'self'"], name
    assert directives["default-src"] == ["'self'"], name
    assert directives["object-src"] == ["'none'"], name
    assert directives["base-uri"] == ["'self'"], name
    assert directives["form-action"] == ["'self'"], name
    assert directives["frame-ancestors"] == ["'none'"], name
    assert directives["frame-src"] == ["'none'"], name
    assert directives["style-src-elem"] == ["'self'"], name
    assert directives["img-src"] == ["'self'"], name
    assert "nonce-" not in response[CSP], name
    assert "unsafe-eval" not in response[CSP], name
    assert response["X-Frame-Options"] == "DENY", name
    assert response["X-Content-Type-Options"] == "nosniff", name
    assert response["Referrer-Policy"] == "same-origin", name
    assert response["Cross-Origin-Opener-Policy"] == "same-origin", name


# Served from the page cache on the second request (the rest are personal, a form,
# a streamed file or not a 200, and pass).
CACHED = {
    "home",
    "community index",
    "community",
    "honours index",
    "honour",
    "news index",
    "article",
    "activity index",
    "month view",
    "activity",
    "search",
    "index feed",
    "activity feed",
    "page QR svg",
    "page QR png",
    "poster page",
    "sitemap",
}


@pytest.fixture
def page_cache():
    cache.clear()
    with override_settings(PAGE_CACHE_SECONDS=300):
        yield
    cache.clear()


def test_every_public_page_has_the_headers_on_a_miss_and_a_hit(
    client, public_urls, page_cache
):
    states = {}
    for name, url in public_urls.items():
        first = client.get(url)
        second = client.get(url)
        expected = 404 if name == "404" else 200
        assert first.status_code == second.status_code == expected, name
        assert_public_headers(first, name)
        assert_public_headers(second, name)
        assert first[CSP] == second[CSP], name
        states[name] = (first[pagecache.HEADER], second[pagecache.HEADER])
    hits = {name for name, (_, second) in states.items() if second == "HIT"}
    assert hits == CACHED, states
    assert all(states[name][0] == "MISS" for name in CACHED), states


def test_the_policy_is_added_on_the_way_out_never_stored_with_a_page(
    client, public_urls, page_cache, settings
):
    """A cached page gets the policy in force when it is served: WeChat sharing
    switched on after the page was cached is allowed on the next hit."""
    url = public_urls["article"]
    assert client.get(url)[pagecache.HEADER] == "MISS"
    entry = cache.get(pagecache.cache_key(RequestFactory().get(url)))
    assert CSP.lower() not in {name.lower() for name, _ in entry["headers"]}

    settings.WECHAT_APP_ID = "wx0123456789abcdef"
    settings.WECHAT_APP_SECRET = "secret"
    settings.WECHAT_JSSDK_URL = SDK_URL
    hit = client.get(url)
    assert hit[pagecache.HEADER] == "HIT"
    assert policy(hit)["script-src"] == ["'self'", SDK_URL]


@pytest.mark.parametrize(
    "name",
    [
        "home",
        "community index",
        "community",
        "honours index",
        "honour",
        "news index",
        "article",
        "activity index",
        "month view",
        "activity",
        "sign-up page",
        "registration result",
        "search",
        "poster page",
        "404",
    ],
)
def test_public_html_has_no_inline_script_or_style_element(client, public_urls, name):
    response = client.get(public_urls[name])
    html = response.content.decode()
    assert "<html" in html, name
    audit = audit_markup(html)
    assert audit.problems == [], (name, audit.problems)
    # Style attributes: only the community brand colour (why the policy allows
    # style attributes at all, see CONTENT_SECURITY_POLICY in settings).
    assert all(BRAND_STYLE.fullmatch(style.strip()) for style in audit.styles), (
        name,
        audit.styles,
    )
    # Every script is one of our own static files.
    assert all(src.startswith("/static/") for src in audit.scripts), audit.scripts


def test_brand_colours_are_the_only_style_attributes_and_are_present(
    client, public_urls
):
    """The inline-style allowance exists for these; if they ever go, so can it."""
    audit = audit_markup(client.get(public_urls["community index"]).content.decode())
    assert len(audit.styles) >= 10  # the demo's ten communities
    assert all(BRAND_STYLE.fullmatch(style.strip()) for style in audit.styles)


# --- WeChat sharing ----------------------------------------------------------------


WECHAT_ON = {"WECHAT_APP_ID": "wx0123456789abcdef", "WECHAT_APP_SECRET": "secret"}


def test_wechat_sdk_host_is_allowed_only_while_sharing_is_configured(
    client, public_urls
):
    url = public_urls["activity"]
    with override_settings(WECHAT_JSSDK_URL=SDK_URL):
        off = client.get(url)
        assert policy(off)["script-src"] == ["'self'"]
        assert SDK_URL not in off.content.decode()
        with override_settings(WECHAT_APP_ID="wx0123456789abcdef"):
            # An AppID without its secret configures nothing.
            assert policy(client.get(url))["script-src"] == ["'self'"]
        with override_settings(**WECHAT_ON):
            on = client.get(url)
    sources = policy(on)["script-src"]
    assert sources == ["'self'", SDK_URL]
    audit = audit_markup(on.content.decode())
    assert audit.problems == []
    assert SDK_URL in audit.scripts  # the page really loads what the policy allows
    # Nothing else of WeChat's: not its usage beacon, not other hosts.
    assert "open.weixin.qq.com" not in on[CSP]
    assert "'unsafe-inline'" not in sources


def test_a_local_copy_of_the_sdk_needs_nothing_more_than_self(client, public_urls):
    local = "/static/js/vendor/jweixin.js"
    with override_settings(WECHAT_JSSDK_URL=local, **WECHAT_ON):
        response = client.get(public_urls["activity"])
    assert policy(response)["script-src"] == ["'self'"]
    assert local in audit_markup(response.content.decode()).scripts


@pytest.mark.parametrize(
    ("url", "source"),
    [
        (SDK_URL, SDK_URL),
        (
            "//res.wx.qq.com/open/js/jweixin-1.6.0.js",
            "res.wx.qq.com/open/js/jweixin-1.6.0.js",
        ),
        # ";" or "," would end the directive and smuggle in another.
        (
            "https://cdn.example/a;script-src *,b.js",
            "https://cdn.example/a%3Bscript-src%20*%2Cb.js",
        ),
        ("/static/js/vendor/jweixin.js", None),
    ],
)
def test_script_source_is_the_exact_file_and_cannot_break_the_header(url, source):
    assert security.script_source(url) == source


# --- the admin ---------------------------------------------------------------------


@pytest.fixture
def admin_client(client, db):
    from django.contrib.auth import get_user_model

    client.force_login(get_user_model().objects.get(username="admin"))
    return client


def assert_admin_policy(response):
    directives = policy(response)
    assert directives["default-src"] == ["'self'"]
    assert directives["script-src"] == ["'self'", "'unsafe-inline'"]
    assert directives["object-src"] == ["'none'"]
    assert directives["base-uri"] == ["'self'"]
    assert directives["form-action"] == ["'self'"]
    assert directives["frame-ancestors"] == ["'self'"]
    assert "unsafe-eval" not in response[CSP]
    assert "nonce-" not in response[CSP]
    assert response["X-Content-Type-Options"] == "nosniff"


def test_admin_login_page_has_the_admin_policy(client):
    response = client.get("/admin/login/")
    assert response.status_code == 200
    assert_admin_policy(response)
    assert response["X-Frame-Options"] == "DENY"


def test_admin_editor_and_preview_have_the_admin_policy(admin_client):
    activity = ActivityPage.objects.live().first()
    edit = admin_client.get(f"/admin/pages/{activity.pk}/edit/")
    assert edit.status_code == 200
    assert "<form" in edit.content.decode()
    assert_admin_policy(edit)
    assert edit["X-Frame-Options"] == "DENY"

    dashboard = admin_client.get("/admin/")
    assert dashboard.status_code == 200
    assert_admin_policy(dashboard)

    # The editor's preview iframe: same-origin framing only.
    preview = admin_client.get(f"/admin/pages/{activity.pk}/edit/preview/")
    assert preview.status_code == 200
    assert_admin_policy(preview)
    assert preview["X-Frame-Options"] == "SAMEORIGIN"


def test_public_page_seen_by_an_editor_keeps_the_public_policy(
    public_urls, admin_client
):
    # (public_urls first: it clears the client's cookies after signing up.)
    response = admin_client.get(public_urls["activity"])
    assert response.status_code == 200
    assert "wagtail-userbar" in response.content.decode()  # the editor's bar
    assert_public_headers(response, "activity as editor")
    assert audit_markup(response.content.decode()).problems == []


# --- an outage ----------------------------------------------------------------------


@contextlib.contextmanager
def database_fails():
    """Every query raises, as with a locked or unreachable database."""

    def fail(execute, sql, params, many, context):
        raise OperationalError("server closed the connection unexpectedly")

    with connection.execute_wrapper(fail):
        yield


def test_an_outage_still_answers_with_the_policies(client, page_cache, caplog):
    """portal/failure.py answers a lost database with the page cache's last good
    copy or its 503 page; the policy middleware sits outside it and needs no
    database itself (the admin's site origins come from a cache that is empty
    here)."""
    url = HonourIndexPage.objects.get(slug="honours").url
    assert client.get(url)[pagecache.HEADER] == "MISS"
    pagecache.bump("content")
    cache.delete(SITE_ROOT_PATHS_CACHE_KEY, version=SITE_ROOT_PATHS_CACHE_VERSION)
    with database_fails():
        stale = client.get(url)
        unavailable = client.get("/activities/?type=lecture")
        admin = client.get("/admin/login/")
    assert stale.status_code == 200 and stale[pagecache.HEADER] == "STALE"
    assert_public_headers(stale, "stale copy")
    assert unavailable.status_code == 503
    assert_public_headers(unavailable, "503 page")
    assert admin.status_code == 503
    assert_admin_policy(admin)


# --- error pages ---------------------------------------------------------------------


def test_the_500_page_style_is_allowed_by_its_hash_and_nothing_else_inline():
    """templates/500.html is self-contained (one inline <style>); server errors
    allow exactly that CSS."""
    request = RequestFactory().get("/anything/")
    middleware = security.ContentSecurityPolicyMiddleware(server_error)
    response = middleware(request)
    assert response.status_code == 500
    css = re.search(r"<style>(.*?)</style>", response.content.decode(), re.S)[1]
    import base64
    import hashlib

    digest = base64.b64encode(hashlib.sha256(css.encode()).digest()).decode()
    directives = policy(response)
    assert directives["style-src-elem"] == ["'self'", f"'sha256-{digest}'"]
    assert directives["script-src"] == ["'self'"]


# --- uploads -------------------------------------------------------------------------


SVG = (
    b'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10">'
    b"<script>alert(document.cookie)</script></svg>"
)


def png_bytes(size=(40, 40)) -> bytes:
    buffer = BytesIO()
    PILImage.new("RGB", size, "#b22222").save(buffer, "PNG")
    return buffer.getvalue()


def add_image(client, name: str, content: bytes, content_type: str):
    return client.post(
        "/admin/images/add/",
        {
            "title": "上传测试",
            "collection": Collection.get_first_root_node().pk,
            "file": SimpleUploadedFile(name, content, content_type=content_type),
        },
    )


@pytest.mark.parametrize(
    ("name", "content_type", "message"),
    [
        (
            "logo.svg",
            "image/svg+xml",
            "不支持的图片格式。支持类型如下： GIF, JPG, JPEG, PNG, WEBP",
        ),
        # An SVG renamed to .png is caught by its content.
        ("logo.png", "image/png", "不是有效的 .png 图像。扩展名与文件格式不匹配 (svg)"),
    ],
)
def test_an_svg_image_upload_is_refused_in_chinese(
    admin_client, name, content_type, message
):
    Image = get_image_model()
    before = Image.objects.count()
    response = add_image(admin_client, name, SVG, content_type)
    assert response.status_code == 200  # the form again, not a redirect
    errors = " ".join(response.context["form"].errors["file"])
    assert errors == message, errors
    assert Image.objects.count() == before


def test_a_real_png_is_accepted_by_the_same_form(admin_client):
    """The control for the test above: the form and the post are right."""
    Image = get_image_model()
    before = Image.objects.count()
    response = add_image(admin_client, "ok.png", png_bytes(), "image/png")
    assert response.status_code == 302
    assert Image.objects.count() == before + 1


def test_an_oversized_image_is_refused_in_chinese(admin_client, settings):
    settings.WAGTAILIMAGES_MAX_UPLOAD_SIZE = 1000
    Image = get_image_model()
    before = Image.objects.count()
    content = png_bytes((400, 400))
    assert len(content) > 1000
    response = add_image(admin_client, "big.png", content, "image/png")
    assert response.status_code == 200
    assert "文件过大" in " ".join(response.context["form"].errors["file"])
    assert Image.objects.count() == before


def add_document(client, name: str, content: bytes):
    return client.post(
        "/admin/documents/add/",
        {
            "title": "文档上传测试",
            "collection": Collection.get_first_root_node().pk,
            "file": SimpleUploadedFile(name, content),
        },
    )


def test_document_upload_limits_in_chinese(admin_client, settings):
    Document = get_document_model()
    before = Document.objects.count()

    html = add_document(admin_client, "通知.html", b"<script>alert(1)</script>")
    assert html.status_code == 200
    assert "不被允许" in " ".join(html.context["form"].errors["file"])

    settings.WAGTAILDOCS_MAX_UPLOAD_SIZE = 100
    big = add_document(admin_client, "通知.pdf", b"%PDF-1.4\n" + b"0" * 200)
    assert big.status_code == 200
    assert "文件过大" in " ".join(big.context["form"].errors["file"])
    assert Document.objects.count() == before

    settings.WAGTAILDOCS_MAX_UPLOAD_SIZE = 20 * 1024 * 1024
    ok = add_document(admin_client, "通知.pdf", b"%PDF-1.4\n" + b"0" * 200)
    assert ok.status_code == 302  # control: the same post within the limit
    assert Document.objects.count() == before + 1


@pytest.fixture
def hostile_documents(db):
    """Documents that could run as pages of this site if opened inline — as an
    older upload or a bulk import could have left them (the upload form refuses
    these extensions)."""
    Document = get_document_model()
    made = []
    for name, content in [
        ("evil.html", b"<html><script>alert(document.cookie)</script></html>"),
        ("evil.svg", SVG),
        ("notice.pdf", b"%PDF-1.4\n%%EOF\n"),
    ]:
        made.append(
            Document.objects.create(title=name, file=ContentFile(content, name=name))
        )
    yield made
    for document in made:
        document.file.delete(save=False)


def test_documents_are_served_as_attachments_that_cannot_run(client, hostile_documents):
    for document in hostile_documents:
        response = client.get(document.url)
        assert response.status_code == 200, document.url
        assert response["Content-Disposition"].startswith("attachment"), document.url
        assert response["X-Content-Type-Options"] == "nosniff"
        assert response[CSP] == "default-src 'none'"
        b"".join(response.streaming_content)


def test_uploaded_files_under_media_cannot_run_either(client, hostile_documents):
    """SERVE_MEDIA (the demo, the tests): the same files reached directly."""
    for document in hostile_documents:
        response = client.get(document.file.url)
        assert response.status_code == 200, document.file.url
        assert response["Content-Disposition"] == "attachment"
        assert response["X-Content-Type-Options"] == "nosniff"
        directives = policy(response)
        assert directives["default-src"] == ["'none'"]
        assert directives["sandbox"] == []
        assert directives["frame-ancestors"] == ["'none'"]
        b"".join(response.streaming_content)


def test_media_images_get_the_file_policy_but_stay_inline(client):
    image = get_image_model().objects.first()
    response = client.get(image.file.url)
    assert response.status_code == 200
    assert not response.get("Content-Disposition", "").startswith("attachment")
    assert policy(response)["default-src"] == ["'none'"]
    b"".join(response.streaming_content)


# --- production settings -------------------------------------------------------------


def run_production(tmp_path: Path, *args: str, **env: str):
    environ = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("SECURE_", "HSTS_", "HTTPS_", "WAGTAILADMIN_"))
    }
    environ.update(
        {
            "DJANGO_SETTINGS_MODULE": "portal.settings.production",
            "SECRET_KEY": secrets.token_urlsafe(50),
            "WAGTAILADMIN_BASE_URL": "https://huayuanlu.example.cn",
            "ALLOWED_HOSTS": "huayuanlu.example.cn",
            "SQLITE_PATH": str(tmp_path / "unused.sqlite3"),
            "MEDIA_ROOT": str(tmp_path / "media"),
        }
    )
    environ.pop("DATABASE_URL", None)
    environ.update(env)
    environ = {k: v for k, v in environ.items() if v is not None}
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=environ,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_production_passes_check_deploy_without_warnings(tmp_path):
    result = run_production(tmp_path, "check", "--deploy", "--fail-level", "WARNING")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_production_check_deploy_still_catches_a_plain_http_setup(tmp_path):
    """The silenced checks are silenced only where the proxy does the job:
    turning Django's redirect off without saying the proxy redirects warns."""
    result = run_production(
        tmp_path,
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        SECURE_SSL_REDIRECT="false",
        SECURE_HSTS_SECONDS="0",
    )
    assert result.returncode != 0
    assert "security.W008" in result.stderr and "security.W004" in result.stderr

    behind_proxy = run_production(
        tmp_path,
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        HTTPS_REDIRECT_AT_PROXY="true",
        HSTS_AT_PROXY="true",
    )
    assert behind_proxy.returncode == 0, behind_proxy.stderr


def test_production_refuses_to_start_without_its_public_address(tmp_path):
    result = run_production(tmp_path, "check", WAGTAILADMIN_BASE_URL=None)
    assert result.returncode != 0
    assert "生产环境必须设置环境变量 WAGTAILADMIN_BASE_URL" in result.stderr
    wrong = run_production(tmp_path, "check", WAGTAILADMIN_BASE_URL="huayuanlu.cn")
    assert wrong.returncode != 0
    assert "应为站点的完整地址" in wrong.stderr


# Requests through production settings (no database needed for robots.txt).
PRODUCTION_REQUESTS = """
import json
from django.conf import settings
from django.test import Client
c = Client(HTTP_HOST="huayuanlu.example.cn")
plain = c.get("/robots.txt")
secure = c.get("/robots.txt", secure=True)
proxied = c.get("/robots.txt", HTTP_X_FORWARDED_PROTO="https")
print(json.dumps({
    "plain": [plain.status_code, plain.get("Location")],
    "hsts": secure.get("Strict-Transport-Security"),
    "secure_csp": secure.get("Content-Security-Policy"),
    "proxied": [proxied.status_code, proxied.get("Strict-Transport-Security")],
    "cookies": [settings.SESSION_COOKIE_SECURE, settings.CSRF_COOKIE_SECURE],
    "base_url": settings.WAGTAILADMIN_BASE_URL,
}))
"""


def production_requests(tmp_path, **env) -> dict:
    result = run_production(
        tmp_path, "shell", "--no-imports", "-c", PRODUCTION_REQUESTS, **env
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_production_redirects_to_https_and_sends_hsts(tmp_path):
    seen = production_requests(tmp_path)
    assert seen["plain"] == [301, "https://huayuanlu.example.cn/robots.txt"]
    assert seen["hsts"] == "max-age=31536000"  # no includeSubDomains/preload
    assert "script-src 'self'" in seen["secure_csp"]
    # Without SECURE_PROXY_SSL_HEADER a client cannot claim HTTPS by a header.
    assert seen["proxied"][0] == 301
    assert seen["cookies"] == [True, True]
    assert seen["base_url"] == "https://huayuanlu.example.cn"


def test_production_behind_a_tls_proxy(tmp_path):
    seen = production_requests(
        tmp_path,
        SECURE_PROXY_SSL_HEADER="X-Forwarded-Proto",
        SECURE_HSTS_INCLUDE_SUBDOMAINS="true",
        SECURE_HSTS_PRELOAD="true",
    )
    assert seen["proxied"] == [200, "max-age=31536000; includeSubDomains; preload"]


def test_a_plain_http_try_out_neither_redirects_nor_sets_secure_cookies(tmp_path):
    seen = production_requests(
        tmp_path,
        SECURE_COOKIES="false",
        WAGTAILADMIN_BASE_URL="http://127.0.0.1:8000",
    )
    assert seen["plain"] == [200, None]
    assert seen["cookies"] == [False, False]
