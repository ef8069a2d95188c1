"""Share metadata on every page of the demo site: <title>, description (≤ 60
characters), absolute canonical URL, Open Graph tags and a share image of at
least 300×300 that is also the first <img> of the body. Links as WeChat rewrites
them (?from=singlemessage&isappinstalled=0 …) serve the same page with the same
canonical URL."""

import re
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.conf import settings
from PIL import Image
from wagtail.models import Page

from core.images import SIZES
from events.models import ActivityPage, EventIndexPage
from home.models import ArticlePage, HomePage, SiteSettings, StandardPage

pytestmark = pytest.mark.django_db

HOST = "http://testserver"
OG_PROPERTIES = (
    "og:type",
    "og:site_name",
    "og:title",
    "og:description",
    "og:url",
    "og:image",
    "og:image:width",
    "og:image:height",
)
WECHAT_VARIANTS = (
    {"from": "singlemessage", "isappinstalled": "0"},
    {"from": "timeline"},
    {"from": "groupmessage", "isappinstalled": "1"},
)


def page_path(page) -> str:
    """The page's path on its site. (``page.url`` turns absolute when another
    test left a second site in Wagtail's cached site list.)"""
    return page.get_url_parts()[2]


class ShareTags(HTMLParser):
    """The head's share tags and the body's first <img>."""

    def __init__(self, html: str):
        super().__init__(convert_charrefs=True)
        self.title = None
        self.meta: dict[str, str] = {}
        self.canonical = []
        self.first_img = None
        self.in_title = self.in_body = False
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "title":
            self.in_title, self.title = True, ""
        elif tag == "meta":
            key = attrs.get("property") or attrs.get("name")
            if key:
                self.meta[key] = attrs.get("content", "")
        elif tag == "link" and attrs.get("rel") == "canonical":
            self.canonical.append(attrs.get("href"))
        elif tag == "body":
            self.in_body = True
        elif tag == "img" and self.in_body and self.first_img is None:
            self.first_img = attrs

    def handle_endtag(self, tag):
        if tag == "title":
            self.in_title = False

    def handle_data(self, data):
        if self.in_title:
            self.title += data


# The hidden share image is only sent inside WeChat (the only browser that reads
# it); the share metadata is checked as WeChat gets it.
WECHAT_UA = (
    "Mozilla/5.0 (Linux; Android 13; V2134A Build/TP1A.220624.014; wv) "
    "AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/116.0.0.0 "
    "Mobile Safari/537.36 XWEB/1160065 MMWEBSDK/20231202 MicroMessenger/8.0.47"
)
PHONE_UA = (
    "Mozilla/5.0 (Linux; Android 13; V2134A) AppleWebKit/537.36 (KHTML, like "
    "Gecko) Chrome/116.0.0.0 Mobile Safari/537.36"
)


def share_tags(client, path, params=None, user_agent=WECHAT_UA) -> ShareTags:
    response = client.get(path, params or {}, HTTP_USER_AGENT=user_agent)
    assert response.status_code == 200, (path, params)
    return ShareTags(response.content.decode())


def image_size(url: str) -> tuple[int, int]:
    path = urlsplit(url).path
    assert path.startswith(settings.MEDIA_URL), url
    with Image.open(Path(settings.MEDIA_ROOT) / path[len(settings.MEDIA_URL) :]) as im:
        return im.size


def assert_complete(tags: ShareTags, where: str) -> None:
    assert tags.title and tags.title.strip(), where
    description = tags.meta.get("description", "")
    assert description, where
    assert len(description) <= 60, (where, description)
    assert description == " ".join(description.split()), (where, description)
    assert len(tags.canonical) == 1, where
    canonical = tags.canonical[0]
    assert re.match(r"https?://[^/]+/", canonical), (where, canonical)
    for prop in OG_PROPERTIES:
        assert tags.meta.get(prop), (where, prop)
    assert tags.meta["og:url"] == canonical, where
    assert tags.meta["og:description"] == description, where
    assert tags.meta["og:site_name"] == "花园路街道社区门户", where
    image = tags.meta["og:image"]
    assert re.match(r"https?://[^/]+/", image), (where, image)
    width, height = int(tags.meta["og:image:width"]), int(tags.meta["og:image:height"])
    assert width >= 300 and height >= 300, (where, width, height)
    assert image_size(image) == (width, height), where
    # The same picture is the body's first <img>, hidden from sight and readers.
    first = tags.first_img
    assert first is not None, where
    assert first["src"] == image, where
    assert first.get("class") == "share-image", where
    assert first.get("alt") == "" and first.get("aria-hidden") == "true", where


def live_pages():
    return [
        page.specific
        for page in Page.objects.live().public().filter(depth__gt=1).order_by("path")
    ]


def test_demo_default_share_image_is_set_and_large_enough(site):
    image = SiteSettings.for_site(site).default_share_image
    assert image is not None
    assert min(image.width, image.height) >= 300


def test_every_demo_page_has_complete_absolute_share_metadata(client):
    pages = live_pages()
    assert len(pages) > 40
    for page in pages:
        tags = share_tags(client, page_path(page))
        assert_complete(tags, page_path(page))
        assert tags.canonical == [HOST + page_path(page)], page_path(page)
        assert tags.meta["og:title"] == (page.seo_title or page.title)
        assert tags.meta["description"] == page.get_meta_description()
        # The link as WeChat rewrites it: same page, same canonical URL.
        shared = share_tags(client, page_path(page), WECHAT_VARIANTS[0])
        assert shared.canonical == tags.canonical, page_path(page)
        assert shared.meta == tags.meta, page_path(page)


@pytest.mark.parametrize("params", WECHAT_VARIANTS)
def test_wechat_rewritten_links_keep_the_canonical_url(client, params):
    page = ActivityPage.objects.live().order_by("path").first()
    tags = share_tags(client, page_path(page), params)
    assert tags.canonical == [HOST + page_path(page)]
    assert tags.meta["og:url"] == HOST + page_path(page)


def test_filtered_and_paginated_index_is_the_page_itself(client):
    tags = share_tags(client, "/news/", {"tag": "党建引领", "page": "2"})
    assert tags.canonical == [HOST + "/news/"]


def test_routes_and_search_have_complete_metadata(client):
    index = EventIndexPage.objects.live().get()
    month = page_path(index) + "month/"
    for path, params, canonical in (
        (month, {}, HOST + month),
        (
            month,
            {"m": "2030-01", "from": "singlemessage", "isappinstalled": "0"},
            HOST + month + "?m=2030-01",
        ),
        ("/search/", {}, HOST + "/search/"),
        (
            "/search/",
            {"q": "讲堂", "from": "timeline"},
            HOST + "/search/?q=%E8%AE%B2%E5%A0%82",
        ),
    ):
        tags = share_tags(client, path, params)
        assert_complete(tags, f"{path} {params}")
        assert tags.canonical == [canonical], (path, params)


def test_month_view_title_names_the_month(client):
    index = EventIndexPage.objects.live().get()
    tags = share_tags(client, page_path(index) + "month/", {"m": "2030-01"})
    assert tags.meta["og:title"] == f"{index.title} · 2030年1月"


def test_personal_result_page_points_to_the_activity(client):
    from events.models import Registration

    registration = Registration.objects.select_related("occurrence").first()
    if registration is None:
        pytest.skip("the demo has no sign-ups")
    page = Page.objects.get(pk=registration.page_id).specific
    tags = share_tags(client, f"{page_path(page)}r/{registration.token}/")
    assert tags.canonical == [HOST + page_path(page)]


def test_canonical_uses_the_site_root_on_the_site_hostname(client, site):
    page = ActivityPage.objects.live().order_by("path").first()
    response = client.get(page_path(page), HTTP_HOST=site.hostname)
    tags = ShareTags(response.content.decode())
    assert tags.canonical == [site.root_url + page_path(page)]


# ---------------------------------------------------------------------------
# Where the description and image come from
# ---------------------------------------------------------------------------


def test_description_prefers_search_description_then_summary(home):
    article = ArticlePage.objects.live().first()
    article.search_description = "  搜索\n描述   优先  "
    assert article.get_meta_description() == "搜索 描述 优先"
    article.search_description = ""
    article.summary = "摘要" * 40
    description = article.get_meta_description()
    # Django's Chinese translation marks the cut with "...".
    assert len(description) == 60 and description.endswith(("…", "..."))
    assert description.startswith("摘要摘要")


def test_description_falls_back_to_the_first_paragraph_of_the_body(home):
    page = StandardPage(
        title="测试页",
        intro="",
        body=[
            ("quote", {"text": "引文不算", "attribution": ""}),
            ("paragraph", "<p>  </p>"),
            ("paragraph", '<p>第一段\n  <a linktype="page" id="3">正文</a>。</p>'),
            ("paragraph", "<p>第二段。</p>"),
        ],
    )
    assert page.get_meta_description() == "第一段 正文。"


def test_small_cover_gives_way_to_the_default_image(client, site):
    page = ActivityPage.objects.live().exclude(cover=None).order_by("path").first()
    cover = page.cover
    default = SiteSettings.for_site(site).default_share_image
    assert page.get_share_image() == cover
    cover.width, cover.height = 640, 200  # as if a small picture were uploaded
    assert page.get_share_image() is None
    type(cover).objects.filter(pk=cover.pk).update(width=640, height=200)
    tags = share_tags(client, page_path(page))
    assert_complete(tags, page_path(page))
    assert "fill-300x300" in tags.meta["og:image"]
    expected = default.get_rendition(SIZES["share"].specs[0])
    assert tags.meta["og:image"] == HOST + expected.url


def test_share_image_is_sent_inside_wechat_only(client, settings):
    """Outside WeChat nothing reads the hidden share image: it is not in the page
    (it was the largest download of most pages); inside WeChat it is the body's
    first picture, 300×300, the smallest WeChat takes for a card. With the page
    cache on, each browser family gets its own copy, the first request of each a
    MISS and the second a HIT."""
    settings.PAGE_CACHE_SECONDS = 300
    page = ArticlePage.objects.live().exclude(cover=None).order_by("path").first()
    path = page_path(page)
    for state in ("MISS", "HIT"):
        outside = client.get(path, HTTP_USER_AGENT=PHONE_UA)
        inside = client.get(path, HTTP_USER_AGENT=WECHAT_UA)
        assert outside["X-Page-Cache"] == inside["X-Page-Cache"] == state
        assert ShareTags(outside.content.decode()).meta["og:image"]
        assert "share-image" not in outside.content.decode()
        tags = ShareTags(inside.content.decode())
        assert tags.first_img["class"] == "share-image"
        assert tags.first_img["src"] == tags.meta["og:image"]
        assert (tags.first_img["width"], tags.first_img["height"]) == ("300", "300")
        assert image_size(tags.first_img["src"]) == (300, 300)


def test_share_image_is_small(client):
    """Every visit inside WeChat downloads the share image (the body's first
    picture), so it counts towards the home page's 60 KB first screen (issue 19):
    JPEG at quality 60, under 10 KB for the demo home page's banner photo (13.5 KB
    at quality 80)."""
    home = HomePage.objects.live().first()
    inside = client.get("/", HTTP_USER_AGENT=WECHAT_UA)
    src = ShareTags(inside.content.decode()).first_img["src"]
    assert home.banner_image.get_rendition(SIZES["share"].specs[0]).url in src
    path = urlsplit(src).path
    size = (Path(settings.MEDIA_ROOT) / path[len(settings.MEDIA_URL) :]).stat().st_size
    assert size < 10 * 1024, size
