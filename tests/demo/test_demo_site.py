"""The demo site that `make run` shows: built from the seeds, idempotent, every page
renders with its content and share metadata."""

import re
from io import StringIO

import pytest
from django.apps import apps
from django.core.management import call_command
from django.utils.html import escape
from wagtail.images import get_image_model
from wagtail.models import Page, Revision

from demo import content as demo_content
from home.models import (
    ArticlePage,
    CommunityPage,
    HonourPage,
    SiteSettings,
    StandardPage,
)

pytestmark = pytest.mark.django_db

SEED_BRANDS = {
    "戊院社区": ["红色戊家", "温暖戊家", "颐和戊家", "人文戊家"],
    "通信花园社区": [
        "党建之花",
        "楼组之花",
        "服务之花",
        "社团之花",
        "自治之花",
        "共建之花",
    ],
    "甲院社区": ["甲院·党建", "甲院·拾光", "甲院·新颜"],
    "省供销社社区": ["自治社", "公益社", "美丽社"],
    "农业院社区": ["红空间", "绿农园", "众驿站", "聚力坊"],
}
SEED_BRAND_NAMES = {
    "通信花园社区": "六朵金花",
    "省供销社社区": "省社印象+",
    "农业院社区": "浓情家园",
    "工业院社区": "‘工’筑阳光家园",
    "卫生厅社区": "健康养生康乐社区",
    "省民航社区": "绿航家园",
    "省银行社区": "乐融邻里",
    "省水利厅社区": "水木年华",
}


def model_counts() -> dict[str, int]:
    return {
        model._meta.label: model.objects.count()
        for model in apps.get_models()
        if model._meta.managed and not model._meta.proxy
    }


def test_load_demo_is_idempotent():
    before = model_counts()
    out = StringIO()
    call_command("load_demo", stdout=out)
    assert model_counts() == before
    assert "新建 0 个对象" in out.getvalue()


def test_all_ten_communities_with_seed_brands():
    communities = {c.title: c for c in CommunityPage.objects.live()}
    assert len(communities) == 10
    for title, brand in SEED_BRAND_NAMES.items():
        assert communities[title].brand_name == brand
    for title, subs in SEED_BRANDS.items():
        names = [s.name for s in communities[title].sub_brands.all()]
        assert names == subs
    for community in communities.values():
        assert community.cover is not None
        assert community.gallery_images.count() == 3


def test_honours_span_two_years_and_several_categories():
    honours = HonourPage.objects.live()
    assert honours.count() >= 16
    assert set(honours.values_list("year", flat=True)) >= {2025, 2026}
    assert len(set(honours.values_list("category", flat=True))) >= 4
    assert not honours.filter(community__isnull=True).exists()


def test_news_covers_the_seed_practices():
    articles = ArticlePage.objects.live()
    assert articles.count() >= 8
    text = " ".join(
        a.title + a.summary + str(a.body) + " ".join(a.tags.names()) for a in articles
    )
    for practice in (
        "三领三创三化",
        "社代会",
        "三社联动",
        "九在楼组",
        "星级楼院",
        "红色物业",
        "时间银行",
    ):
        assert practice in text, practice


def test_demo_text_is_simplified_chinese():
    traditional = set("黨國區會與這為個們來說時學樂鄰裡園書講壇紅溫頤動節應寫")
    text = str(demo_content.__dict__)
    assert not traditional & set(text)


def test_settings_and_standard_pages(site):
    settings = SiteSettings.for_site(site)
    assert settings.icp_number.startswith("豫ICP备")
    assert settings.contact_phone and settings.wechat_account and settings.address
    assert settings.wechat_qr and settings.default_share_image
    assert settings.privacy_page.specific.title == "隐私政策"
    assert StandardPage.objects.filter(slug="about").exists()


def test_demo_pages_are_published_through_revisions():
    pages = Page.objects.live().filter(depth__gt=1)
    assert (
        Revision.page_revisions.filter(object_id__in=[str(p.pk) for p in pages]).count()
        >= pages.count()
    )


def test_generated_images_are_real_pictures():
    Image = get_image_model()
    assert Image.objects.count() >= 60
    cover = CommunityPage.objects.get(slug="jiayuan").cover
    assert (cover.width, cover.height) == (1200, 675)
    with cover.open_file() as f:
        from PIL import Image as PILImage

        picture = PILImage.open(f)
        colours = picture.convert("RGB").resize((60, 34)).getcolors(5000)
    # A deliberate picture, not a flat grey box: many distinct colours.
    assert len(colours) > 50


def live_pages():
    return [
        p.specific for p in Page.objects.live().filter(depth__gt=1).order_by("path")
    ]


def key_content(page) -> list[str]:
    if isinstance(page, CommunityPage):
        return [page.brand_name, *(s.name for s in page.sub_brands.all()), page.phone]
    if isinstance(page, HonourPage):
        return [page.person_name, page.citation, str(page.year)]
    if isinstance(page, ArticlePage):
        return [page.summary, *(t.name for t in page.tags.all())]
    if hasattr(page, "intro") and page.intro:
        return [page.intro]
    if hasattr(page, "banner_title"):
        return [page.banner_title]
    return []


def test_every_demo_page_renders_with_its_content_and_share_tags(client):
    pages = live_pages()
    assert len(pages) > 40
    for page in pages:
        response = client.get(page.url)
        assert response.status_code == 200, page.url
        html = response.content.decode()
        assert "<title>" in html and escape(page.title) in html, page.url
        for text in key_content(page):
            assert escape(text) in html or text in html, (page.url, text)
        canonical = re.search(r'<link rel="canonical" href="([^"]+)"', html)
        assert canonical and canonical.group(1).startswith("http://"), page.url
        og_image = re.search(r'<meta property="og:image" content="([^"]+)"', html)
        assert og_image and og_image.group(1).startswith("http://"), page.url
        for prop in ("og:title", "og:description", "og:url"):
            assert f'property="{prop}"' in html, (page.url, prop)
        assert re.search(r'<meta name="description" content="[^"]+"', html), page.url
        assert "豫ICP备" in html
        # No external resource of any kind: every src/href is on this site.
        for url in re.findall(r'(?:src|href)="(https?://[^"]+)"', html):
            assert url.startswith(("http://testserver/", "http://localhost/")), url


def test_images_are_lazy_renditions_with_dimensions(client):
    html = client.get("/communities/").content.decode()
    # The hidden share image (first <img>, a JPEG for WeChat) is not content.
    images = [
        tag
        for tag in re.findall(r"<img [^>]+>", html)
        if 'class="share-image"' not in tag
    ]
    assert len(images) == 10
    for tag in images:
        assert 'loading="lazy"' in tag and "width=" in tag and "height=" in tag
        assert ".webp" in tag


def test_honour_index_filters_by_year_and_category(client):
    response = client.get("/honours/", {"year": 2025, "category": "好邻居"})
    assert response.status_code == 200
    expected = HonourPage.objects.live().filter(year=2025, category="好邻居")
    others = HonourPage.objects.live().exclude(pk__in=expected)
    html = response.content.decode()
    assert expected.exists()
    for honour in expected:
        assert honour.person_name in html
    for honour in others:
        assert f">{honour.person_name}<" not in html


def test_honour_index_ignores_bad_filters(client):
    response = client.get(
        "/honours/", {"year": "abc", "category": "<script>", "page": "x"}
    )
    assert response.status_code == 200
    assert "<script>" not in response.content.decode()


def test_news_index_filters_by_tag(client):
    article = ArticlePage.objects.live().first()
    tag = article.tags.first().name
    html = client.get("/news/", {"tag": tag}).content.decode()
    assert article.title in html
    assert f"街道动态：{tag}" in html


def test_community_page_lists_its_honours_and_contact(client):
    community = CommunityPage.objects.get(slug="jiayuan")
    html = client.get(community.url).content.decode()
    for honour in HonourPage.objects.live().filter(community=community):
        assert honour.person_name in html
    assert community.address in html and community.office_hours in html


def test_sitemap_and_robots(client):
    sitemap = client.get("/sitemap.xml")
    assert sitemap.status_code == 200
    assert "/communities/jiayuan/" in sitemap.content.decode()
    robots = client.get("/robots.txt")
    assert robots.status_code == 200 and robots["Content-Type"].startswith("text/plain")
    assert "Sitemap: http://testserver/sitemap.xml" in robots.content.decode()


def test_404_is_chinese(client):
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    assert "页面未找到" in response.content.decode()


def test_500_page_is_chinese_and_self_contained():
    from django.template.loader import render_to_string

    html = render_to_string("500.html")
    assert "服务暂时不可用" in html and "<link" not in html


def test_search_page_answers_any_query(client):
    for query in ["", "甲院", "x" * 500, "' OR 1=1 --", "🏮"]:
        response = client.get("/search/", {"q": query})
        assert response.status_code == 200, query
    assert "甲院社区" in client.get("/search/", {"q": "甲院社区"}).content.decode()


def test_demo_activities_sit_where_the_design_puts_them():
    """A community's activities under its page (its editors' to edit), the
    subdistrict's own under the 活动日历; the community follows from the place."""
    from events.models import EVENT_MODELS

    for data in demo_content.ACTIVITIES:
        page = Page.objects.get(slug=data["slug"]).specific
        parent = page.get_parent().specific
        if data["community"]:
            assert isinstance(parent, CommunityPage), data["slug"]
            assert parent.slug == data["community"]
            assert page.community_id == parent.pk
            assert page.url == f"/communities/{data['community']}/{data['slug']}/"
        else:
            assert parent.slug == "activities" and page.community_id is None
    for model in EVENT_MODELS:
        for page in model.objects.all():
            parent = page.get_parent()
            expected = parent.pk if parent.specific_class is CommunityPage else None
            assert page.community_id == expected, page.slug


def test_load_demo_moves_activities_of_the_old_layout(client):
    """A database loaded before activities sat under their communities: load_demo
    moves them, creates nothing, and the old URLs redirect."""
    from wagtail.actions.move_page import MovePageAction

    from events.models import EventIndexPage, LecturePage, Occurrence

    index = EventIndexPage.objects.get(slug="activities")
    page = LecturePage.objects.get(slug="xianfeng-jiayuan-1")
    community = page.get_parent()
    # As the old layout had it: under the 活动日历, naming its community.
    MovePageAction(page, index, pos="last-child").execute(skip_permission_checks=True)
    LecturePage.objects.filter(pk=page.pk).update(community=community.pk)
    assert client.get("/activities/xianfeng-jiayuan-1/").status_code == 200
    before = model_counts()

    out = StringIO()
    call_command("load_demo", stdout=out)
    assert "新建 0 个对象" in out.getvalue()
    page = LecturePage.objects.get(slug="xianfeng-jiayuan-1")
    assert page.get_parent().pk == community.pk
    assert page.community_id == community.pk
    occurrences = Occurrence.objects.filter(page_id=page.pk)
    assert set(occurrences.values_list("community_id", flat=True)) == {community.pk}
    after = model_counts()
    # Only the redirects of the moves (and their log entries) are new.
    changed = {label for label in after if after[label] != before.get(label)}
    assert changed <= {
        "wagtailredirects.Redirect",
        "wagtailcore.ModelLogEntry",
        "wagtailcore.PageLogEntry",
    }, changed
    response = client.get("/activities/xianfeng-jiayuan-1/signup/")
    assert response.status_code == 301
    assert response["Location"].endswith(
        "/communities/jiayuan/xianfeng-jiayuan-1/signup/"
    )
