"""QR codes (二维码) and the share panel (分享本页) under every page.

Every code is read back with a real decoder (zxing-cpp): the inline SVG of the panel
is rasterised here from segno's path, the PNG download decoded as it is.
"""

import re
from io import BytesIO
from unittest import mock
from urllib.parse import quote, urlsplit

import pytest
import segno
import zxingcpp
from django.core.cache import cache
from django.urls import reverse
from PIL import Image, ImageDraw
from wagtail.models import Page, PageViewRestriction

from events.models import EventIndexPage, Occurrence
from events.registration import sign_up
from home.models import CommunityPage, HomePage
from sharing import content
from tests.factories import ActivityPageFactory

pytestmark = pytest.mark.django_db


# ---------------------------------------------------------------------------
# Helpers (also used by test_posters.py)
# ---------------------------------------------------------------------------


def decode(image: Image.Image) -> list[str]:
    """The text of every QR code zxing-cpp finds in ``image``."""
    return [
        result.text
        for result in zxingcpp.read_barcodes(image.convert("RGB"))
        if result.format == zxingcpp.BarcodeFormat.QRCode
    ]


def svg_image(svg: str, module_px: int = 8) -> Image.Image:
    """Rasterise a segno SVG: one <path> of horizontal strokes one module high
    (absolute M, relative m and h), in module units before any scale()."""
    d = re.search(r'\sd="([^"]+)"', svg).group(1)
    runs, x, y = [], 0.0, 0.0
    for op, args in re.findall(r"([MmHhVv])([^MmHhVv]*)", d):
        nums = [float(n) for n in re.findall(r"-?\d+(?:\.\d+)?", args)]
        if op == "M":
            x, y = nums
        elif op == "m":
            x, y = x + nums[0], y + nums[1]
        elif op == "h":
            runs.append((x, y, nums[0]))
            x += nums[0]
        else:
            raise AssertionError(f"unexpected path command {op}")
    size = int(max(x0 + w for x0, _, w in runs)) + 4  # plus the quiet zone
    height = int(max(y0 for _, y0, _ in runs)) + 5
    image = Image.new("L", (size * module_px, height * module_px), 255)
    draw = ImageDraw.Draw(image)
    for x0, y0, width in runs:
        top = int(y0) * module_px  # strokes are centred on y + .5
        draw.rectangle(
            [x0 * module_px, top, (x0 + width) * module_px - 1, top + module_px - 1],
            fill=0,
        )
    return image


def panel_svg(html: str) -> str:
    panel = re.search(
        r'<details class="share-panel">(.*?)</details>', html, re.DOTALL
    ).group(1)
    return re.search(r"<svg\b.*?</svg>", panel, re.DOTALL).group(0)


def canonical(html: str) -> str:
    return re.search(r'<link rel="canonical" href="([^"]+)"', html).group(1)


def public_pages():
    return list(Page.objects.live().public().filter(depth__gt=1).specific())


# ---------------------------------------------------------------------------
# Every demo page
# ---------------------------------------------------------------------------


def test_every_page_panel_qr_and_downloads_decode_to_the_canonical_url(client):
    pages = public_pages()
    assert len(pages) >= 60
    for page in pages:
        response = client.get(page.url)
        assert response.status_code == 200, page.url
        html = response.content.decode()
        url = canonical(html)
        assert urlsplit(url).path == urlsplit(page.get_full_url()).path
        assert url.startswith("http://testserver/")

        svg = panel_svg(html)
        assert 'role="img"' in svg and 'aria-label="本页二维码"' in svg
        assert "<title>本页二维码</title>" in svg
        assert decode(svg_image(svg)) == [url], page.url

        png = client.get(f"/share/{page.pk}/qr.png")
        assert png.status_code == 200
        assert png["Content-Type"] == "image/png"
        assert png["Content-Disposition"].startswith("attachment;")
        assert "filename" in png["Content-Disposition"]
        assert decode(Image.open(BytesIO(png.content))) == [url], page.url

        has_poster = content.has_poster(page)
        assert (f'href="/share/{page.pk}/poster/"' in html) is has_poster
        assert ("保存海报" in html) is has_poster


def test_site_root_qr_is_the_home_url(client):
    html = client.get("/", {"from": "singlemessage", "isappinstalled": "0"})
    html = html.content.decode()
    assert decode(svg_image(panel_svg(html))) == ["http://testserver/"]


def test_qr_follows_the_sites_own_address_when_served_on_it(client, site):
    # The demo's Site is the address `make run` serves (127.0.0.1:8000).
    page = CommunityPage.objects.get(slug="jiayuan")
    host = f"{site.hostname}:{site.port}"
    html = client.get(page.url, HTTP_HOST=host).content.decode()
    assert decode(svg_image(panel_svg(html))) == [
        f"{site.root_url}/communities/jiayuan/"
    ]
    png = client.get(f"/share/{page.pk}/qr.png", HTTP_HOST=host)
    assert decode(Image.open(BytesIO(png.content))) == [page.get_full_url()]


def test_svg_download_is_the_same_code(client):
    page = CommunityPage.objects.get(slug="jiayuan")
    response = client.get(f"/share/{page.pk}/qr.svg")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("image/svg+xml")
    assert response["Content-Disposition"] == (
        "inline; filename*=utf-8''" + quote("甲院社区-二维码.svg")
    )
    svg = response.content.decode()
    assert svg.startswith("<?xml")
    assert decode(svg_image(svg)) == ["http://testserver/communities/jiayuan/"]


def test_png_has_a_quiet_zone_and_a_useful_size(client):
    page = CommunityPage.objects.get(slug="jiayuan")
    image = Image.open(BytesIO(client.get(f"/share/{page.pk}/qr.png").content))
    assert 300 <= image.width == image.height <= 800
    # Four light modules on every side (10 px each): the top-left 40 px are white.
    corner = image.convert("L").crop((0, 0, 40, 40))
    assert corner.getextrema() == (255, 255)


# ---------------------------------------------------------------------------
# What is not shared
# ---------------------------------------------------------------------------


def share_urls(page_id):
    return [
        f"/share/{page_id}/qr.png",
        f"/share/{page_id}/qr.svg",
        f"/share/{page_id}/poster.png",
        f"/share/{page_id}/poster/",
    ]


def test_private_pages_and_their_children_are_not_found(client):
    index = EventIndexPage.objects.get(slug="activities")
    activity = index.get_children().live().first()
    PageViewRestriction.objects.create(
        page=index, restriction_type=PageViewRestriction.PASSWORD, password="x"
    )
    for page in (index, activity):
        for url in share_urls(page.pk):
            assert client.get(url).status_code == 404, url


def test_panel_hidden_on_a_private_page_even_for_who_may_see_it(client):
    community = CommunityPage.objects.get(slug="jiayuan")
    restriction = PageViewRestriction.objects.create(
        page=community, restriction_type=PageViewRestriction.PASSWORD, password="x"
    )
    response = client.post(
        reverse(
            "wagtailcore_authenticate_with_password",
            args=[restriction.pk, community.pk],
        ),
        {"password": "x", "return_url": community.url},
    )
    assert response.status_code == 302
    html = client.get(community.url).content.decode()
    assert community.brand_name in html
    assert "share-panel" not in html


def test_drafts_unknown_ids_and_the_tree_root_are_not_found(client):
    index = EventIndexPage.objects.get(slug="activities")
    draft = ActivityPageFactory(parent=index, title="草稿活动", live=False)
    for page_id in (draft.pk, 999999, Page.get_first_root_node().pk):
        for url in share_urls(page_id):
            assert client.get(url).status_code == 404, url


def test_pages_without_a_poster_have_only_the_qr(client):
    home = HomePage.objects.get(slug="home")
    html = client.get("/").content.decode()
    assert "share-panel" in html and "保存海报" not in html
    assert client.get(f"/share/{home.pk}/poster/").status_code == 404
    assert client.get(f"/share/{home.pk}/poster.png").status_code == 404
    assert client.get(f"/share/{home.pk}/qr.png").status_code == 200


def test_no_panel_on_a_residents_sign_up_result_and_cancel_pages(client):
    index = EventIndexPage.objects.get(slug="activities")
    page = ActivityPageFactory(
        parent=index, registration_required=True, capacity=5, title="分享测试活动"
    )
    occurrence = Occurrence.objects.get(page_id=page.pk)
    result = sign_up(page, occurrence.pk, name="王秀兰", phone="13800001234")
    token = result.registration.token
    assert "share-panel" in client.get(page.url).content.decode()
    for path in (f"r/{token}/", f"r/{token}/cancel/"):
        response = client.get(page.url + path)
        assert response.status_code == 200
        html = response.content.decode()
        assert result.registration.code in html
        assert "share-panel" not in html and "本页二维码" not in html


def test_index_month_view_and_search_still_render(client):
    for path in ("/activities/", "/activities/month/", "/activities/?when=past"):
        html = client.get(path).content.decode()
        # A sub-route of the index shares the index itself.
        assert decode(svg_image(panel_svg(html))) == ["http://testserver/activities/"]
        assert "保存海报" not in html
    response = client.get("/search/", {"q": "讲堂"})
    assert response.status_code == 200
    assert "share-panel" not in response.content.decode()


def test_preview_has_no_panel():
    # An editor's preview may show a draft that has no public URL yet.
    page = CommunityPage.objects.get(slug="jiayuan")
    response = page.make_preview_request()
    response.render()
    html = response.content.decode()
    assert page.brand_name in html
    assert "share-panel" not in html


# ---------------------------------------------------------------------------
# Caching and HTTP
# ---------------------------------------------------------------------------


def test_qr_code_is_drawn_once_per_url_not_per_render(client):
    cache.clear()
    page = CommunityPage.objects.get(slug="jiayuan")
    with mock.patch("sharing.qr.segno.make", wraps=segno.make) as make:
        client.get(page.url)
        client.get(page.url)
        client.get(page.url)
    assert make.call_count == 1


def test_qr_download_conditional_get(client):
    page = CommunityPage.objects.get(slug="jiayuan")
    response = client.get(f"/share/{page.pk}/qr.png")
    assert "max-age=" in response["Cache-Control"]
    assert "public" in response["Cache-Control"]
    again = client.get(f"/share/{page.pk}/qr.png", HTTP_IF_NONE_MATCH=response["ETag"])
    assert again.status_code == 304
    assert client.post(f"/share/{page.pk}/qr.png").status_code == 405


def test_panel_markup_is_accessible_and_script_free(client):
    page = CommunityPage.objects.get(slug="jiayuan")
    html = client.get(page.url).content.decode()
    panel = re.search(r'<details class="share-panel">.*?</details>', html, re.DOTALL)
    panel = panel.group(0)
    assert "<summary" in panel and "分享本页" in panel
    # No script and no inline handlers: a content security policy comes later.
    assert "<script" not in panel and not re.search(r"\son\w+=", panel)
    assert f'href="/share/{page.pk}/qr.png"' in panel and "下载二维码" in panel
