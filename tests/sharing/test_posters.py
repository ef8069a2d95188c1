"""Posters (海报): every demo page that has one, what is on it, that it can be read
(QR decoded from the whole poster, every character in the font), and that it is
drawn once per published revision and served with conditional GET."""

import logging
import time
from io import BytesIO
from unittest import mock

import pytest
from django.conf import settings
from django.core.cache import cache
from django.core.files.storage import default_storage
from django.test import RequestFactory
from django.utils.http import http_date, parse_http_date
from fontTools.ttLib import TTFont
from PIL import Image
from wagtail.models import Page

from events.models import ActivityPage, EventIndexPage, EventPage, LecturePage
from home.models import CommunityPage, HonourPage
from sharing import content, posters, store
from tests.factories import (
    ActivityPageFactory,
    CommunityPageFactory,
    HonourPageFactory,
)
from tests.sharing.test_sharing import canonical, decode

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def font_codepoints() -> set[int]:
    """Read here with fontTools, independently of the code under test."""
    config = settings.POSTER_FONT
    maps = []
    for weight in ("regular", "bold"):
        with TTFont(config[weight], fontNumber=config["index"], lazy=True) as face:
            maps.append(set(face.getBestCmap()))
    return set.intersection(*maps)


class Recorder:
    """Wraps render_poster to count calls and keep what was drawn."""

    def __init__(self):
        self.real = posters.render_poster
        self.rendered: list[posters.RenderedPoster] = []

    def __call__(self, data):
        result = self.real(data)
        self.rendered.append(result)
        return result


@pytest.fixture
def recorder():
    rec = Recorder()
    with mock.patch.object(posters, "render_poster", rec):
        yield rec


def poster_pages():
    return [
        page
        for page in Page.objects.live().public().filter(depth__gt=1).specific()
        if content.has_poster(page)
    ]


def fresh(page):
    """Forget any poster of ``page`` from earlier tests (storage outlives the
    rolled-back database, and ids are reused)."""
    store.delete_posters(page.pk)
    cache.clear()


def png_image(response) -> Image.Image:
    body = b"".join(response.streaming_content)
    assert body[:8] == b"\x89PNG\r\n\x1a\n"
    return Image.open(BytesIO(body))


# ---------------------------------------------------------------------------
# The font
# ---------------------------------------------------------------------------


def test_default_font_is_the_simplified_chinese_noto_face():
    config = settings.POSTER_FONT
    for weight in ("regular", "bold"):
        with TTFont(config[weight], fontNumber=config["index"], lazy=True) as face:
            assert face["name"].getDebugName(1) == "Noto Sans CJK SC"


def test_characters_without_a_glyph_are_dropped(font_codepoints):
    text = "🎉中秋\u200d👨‍👩‍👧  做月饼️\U0001f96e！\n\n第二行\x07"
    assert posters.printable(text) == "中秋 做月饼！\n第二行"
    assert all(ord(c) in font_codepoints for c in posters.printable(text) if c != "\n")


# ---------------------------------------------------------------------------
# Every demo poster
# ---------------------------------------------------------------------------


def test_every_demo_poster_reads_right(client, recorder, font_codepoints):
    pages = poster_pages()
    kinds = {type(page) for page in pages}
    # The poster page types, and pages that say their own poster (志愿服务).
    own = {kind for kind in kinds if hasattr(kind, "poster_fields")}
    assert own and kinds == set(content.POSTER_BUILDERS) | own
    assert len(pages) >= 40
    for page in pages:
        fresh(page)
        response = client.get(f"/share/{page.pk}/poster.png")
        assert response.status_code == 200, page.url
        assert response["Content-Type"] == "image/png"
        image = png_image(response)
        assert image.size == (750, 1334)
        url = canonical(client.get(page.url).content.decode())
        # The whole poster: exactly one code, the page's canonical address.
        assert decode(image) == [url], page.url

        drawn = recorder.rendered[-1].texts
        text = "".join(drawn)
        missing = {c for c in text if ord(c) not in font_codepoints}
        assert not missing, (page.url, missing)
        # The title (or its first line) and the subdistrict's name are on it.
        assert posters.printable(page.title)[:6] in text.replace("\n", "")
        assert "花园路街道社区门户" in drawn
        assert "长按识别二维码" in drawn
        if isinstance(page, EventPage):
            assert any(line.startswith(page.venue[:6]) for line in drawn)
        if isinstance(page, CommunityPage):
            assert page.brand_name in text
        if isinstance(page, HonourPage):
            assert page.person_name in drawn
            assert str(page.year) in text
    assert len(recorder.rendered) == len(pages)


def test_poster_page_shows_the_poster_with_the_long_press_hint(client):
    page = LecturePage.objects.get(slug="xianfeng-jiayuan-1")
    response = client.get(f"/share/{page.pk}/poster/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "长按图片保存，或发送给朋友" in html
    assert '<meta name="robots" content="noindex">' in html
    assert response["X-Robots-Tag"] == "noindex"
    state_version = html.split(f"/share/{page.pk}/poster.png?v=")[1].split('"')[0]
    assert 'width="750" height="1334"' in html
    assert f'href="/share/{page.pk}/poster.png?v={state_version}&amp;download=1"' in (
        html
    )
    assert "share-panel" not in html  # this page is the share view itself
    assert page.title in html
    download = client.get(
        f"/share/{page.pk}/poster.png", {"v": state_version, "download": "1"}
    )
    assert download["Content-Disposition"].startswith("attachment;")
    assert "immutable" in download["Cache-Control"]


def test_activity_poster_content(rf_request):
    cancelled = ActivityPage.objects.get(slug="lvhang-fenlei")
    data = content.poster_data(cancelled, rf_request)
    assert data.status == "cancelled"
    assert data.status_text.startswith("活动已取消：")
    assert data.caption_detail == "查看活动详情"

    weekly = ActivityPage.objects.get(slug="shuhua-ke")
    data = content.poster_data(weekly, rf_request)
    when = dict(data.facts)["时间"]
    assert when.startswith(weekly.repeat_description)
    assert "下一场：" in when

    lecture = LecturePage.objects.get(slug="xianfeng-jiayuan-1")
    data = content.poster_data(lecture, rf_request)
    assert data.kicker == lecture.series
    assert dict(data.facts)["主讲"] == str(lecture.lecturer)
    assert data.colour == lecture.community.brand_color


@pytest.fixture
def rf_request():
    return RequestFactory().get("/", HTTP_HOST="testserver")


# ---------------------------------------------------------------------------
# Cached per revision
# ---------------------------------------------------------------------------


def test_drawn_once_then_served_from_storage(client, recorder):
    page = ActivityPage.objects.get(slug="yizhen-weishengting")
    fresh(page)
    url = f"/share/{page.pk}/poster.png"
    first = b"".join(client.get(url).streaming_content)
    assert len(recorder.rendered) == 1
    _, files = default_storage.listdir(f"posters/{page.pk}")
    assert files == [f"{page.pk}-{page.live_revision_id}-" + files[0].split("-", 2)[2]]
    for _ in range(3):
        assert b"".join(client.get(url).streaming_content) == first
    assert len(recorder.rendered) == 1
    # The poster page does not draw either.
    assert client.get(f"/share/{page.pk}/poster/").status_code == 200
    assert len(recorder.rendered) == 1


def test_a_new_revision_redraws_and_deletes_the_old_file(client, recorder):
    page = ActivityPage.objects.get(slug="yizhen-weishengting")
    fresh(page)
    url = f"/share/{page.pk}/poster.png"
    old = client.get(url)
    old_etag = old["ETag"]
    _, [old_file] = default_storage.listdir(f"posters/{page.pk}")

    page.title = "健康义诊进楼院（第二期）"
    page.save_revision().publish()
    page.refresh_from_db()

    new = client.get(url)
    assert new.status_code == 200
    assert len(recorder.rendered) == 2
    assert "健康义诊进楼院（第二期）" in "".join(recorder.rendered[-1].texts)
    assert new["ETag"] != old_etag
    _, files = default_storage.listdir(f"posters/{page.pk}")
    assert len(files) == 1 and files[0] != old_file
    assert files[0].startswith(f"{page.pk}-{page.live_revision_id}-")
    assert not default_storage.exists(f"posters/{page.pk}/{old_file}")

    # Republishing without a change is still a new revision: drawn again.
    page.save_revision().publish()
    client.get(url)
    assert len(recorder.rendered) == 3


def test_conditional_get(client, recorder):
    page = CommunityPage.objects.get(slug="jiayuan")
    fresh(page)
    url = f"/share/{page.pk}/poster.png"
    response = client.get(url)
    etag, last_modified = response["ETag"], response["Last-Modified"]
    assert etag.startswith(f'"{page.pk}-{page.live_revision_id}-')
    assert parse_http_date(last_modified) == int(page.last_published_at.timestamp())
    assert set(response["Cache-Control"].split(", ")) == {"public", "max-age=600"}

    not_modified = client.get(url, HTTP_IF_NONE_MATCH=etag)
    assert not_modified.status_code == 304
    assert not_modified["ETag"] == etag
    since = client.get(url, HTTP_IF_MODIFIED_SINCE=last_modified)
    assert since.status_code == 304
    changed = client.get(url, HTTP_IF_NONE_MATCH='"something-else"')
    assert changed.status_code == 200
    older = http_date(page.last_published_at.timestamp() - 3600)
    assert client.get(url, HTTP_IF_MODIFIED_SINCE=older).status_code == 200
    assert len(recorder.rendered) == 1
    assert client.head(url).status_code == 200
    assert client.post(url).status_code == 405


# ---------------------------------------------------------------------------
# Odd content and a missing font
# ---------------------------------------------------------------------------


def test_emoji_title_renders_without_tofu(client, recorder, font_codepoints):
    index = EventIndexPage.objects.get(slug="activities")
    page = ActivityPageFactory(
        parent=index,
        title="🎉邻里节快乐🏮 Happy Day！",
        summary="一起来👨‍👩‍👧‍👦包饺子🥟",
        venue="甲院社区🏠活动室",
        cover=None,
    )
    response = client.get(f"/share/{page.pk}/poster.png")
    assert response.status_code == 200
    image = png_image(response)
    assert image.size == (750, 1334)
    assert decode(image) == [f"http://testserver{page.url}"]
    text = "".join(recorder.rendered[-1].texts)
    assert "邻里节快乐" in text and "Happy" in text and "Day！" in text
    assert "甲院社区活动室" in text and "包饺子" in text
    assert all(ord(c) in font_codepoints for c in text)


def test_pages_without_pictures_get_the_brand_colour_block(client, recorder):
    community = CommunityPageFactory(
        parent=CommunityPage.objects.first().get_parent(),
        cover=None,
        brand_name="很长的品牌名称" * 6,
        slogan="口号" * 30,
        summary="简介" * 200,
        brand_color="#F0F0F0",  # too light for white text: darkened when drawn
        address="地址" * 50,
    )
    honour = HonourPageFactory(
        parent=HonourPage.objects.first().get_parent(),
        portrait=None,
        person_name="无照片",
        citation="颁奖词" * 100,
    )
    for page in (community, honour):
        response = client.get(f"/share/{page.pk}/poster.png")
        assert response.status_code == 200
        image = png_image(response)
        assert image.size == (750, 1334)
        assert decode(image) == [f"http://testserver{page.url}"]
    community_text = recorder.rendered[0].texts
    # Long texts are cut with an ellipsis, never drawn past the edge.
    assert any(line.endswith("…") for line in community_text)


def test_missing_font_is_a_503_with_a_chinese_log_line(client, caplog, settings):
    page = CommunityPage.objects.get(slug="jiayuan")
    fresh(page)
    settings.POSTER_FONT = {"regular": "/nonexistent/font.ttc", "bold": "", "index": 0}
    with caplog.at_level(logging.ERROR, logger="sharing.views"):
        image = client.get(f"/share/{page.pk}/poster.png")
        page_view = client.get(f"/share/{page.pk}/poster/")
        qr = client.get(f"/share/{page.pk}/qr.png")
    assert image.status_code == 503 and "ETag" not in image
    assert page_view.status_code == 503
    assert "海报暂时无法生成" in page_view.content.decode()
    assert qr.status_code == 200  # QR codes need no font
    assert "海报字体文件不存在：/nonexistent/font.ttc" in caplog.text
    assert "fonts-noto-cjk" in caplog.text


# ---------------------------------------------------------------------------
# How long it takes
# ---------------------------------------------------------------------------


def test_generation_time_cold_and_cached(client, recorder, record_property):
    """Prints the figures (run with -s): the one-off font loading of a process,
    a poster drawn on its first request, and the same poster served from storage,
    each through the whole view. The cached request must be much faster."""
    page = LecturePage.objects.get(slug="xianfeng-jiayuan-1")
    url = f"/share/{page.pk}/poster.png"

    def get():
        response = client.get(url)
        assert response.status_code == 200
        return b"".join(response.streaming_content)

    posters._cmap.cache_clear()
    posters._font.cache_clear()
    font_loading = _timed(posters.covered_codepoints)
    fresh(page)
    first = _timed(get)  # the first poster of the process: Pillow warms up too
    fresh(page)
    cold = _timed(get)
    cached = min(_timed(get) for _ in range(5))
    size = len(get())
    timings = {"font": font_loading, "first": first, "cold": cold, "cached": cached}
    for name, seconds in timings.items():
        record_property(f"poster_{name}_ms", round(seconds * 1000, 1))
    print(
        f"\nposter {page.slug} ({size // 1024} KiB): font loading "
        f"{font_loading * 1000:.0f} ms and first poster {first * 1000:.0f} ms once "
        f"per process; cold {cold * 1000:.0f} ms; cached {cached * 1000:.1f} ms"
    )
    assert len(recorder.rendered) == 2
    assert cached < cold / 3


def _timed(fn) -> float:
    started = time.perf_counter()
    fn()
    return time.perf_counter() - started
