"""The search page /search/: labels, highlighting, filters, pagination, ordering,
odd queries, and a fixed number of database queries."""

import datetime
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from wagtail.models import Page

from events.models import ActivityPage, EventIndexPage
from home.models import ArticlePage, NewsIndexPage
from search import views
from tests.factories import HomePageFactory, NewsIndexPageFactory, make_site

pytestmark = pytest.mark.django_db

ODD_QUERIES = [
    "",
    "   ",
    "院",
    "饺",
    "x" * 200,
    "讲" * 200,
    "长" * 300,
    "🏮",
    "🏮讲堂🎉",
    "' OR 1=1 --",
    "'; DROP TABLE wagtailcore_page; --",
    '"',
    '"讲堂',
    "*",
    "讲*",
    "NEAR(",
    "NEAR(讲堂 月饼, 3)",
    "AND OR NOT",
    "NOT 讲堂",
    "title:讲堂",
    "{title body} : 讲堂",
    "讲堂 -月饼 +榜样 ^2",
    "%_\\",
    "<script>alert(1)</script>",
    "\x00",
    "的",
]


def get(client, **params):
    response = client.get("/search/", params)
    assert response.status_code == 200
    return response.content.decode()


def titles(html) -> list[str]:
    found = re.findall(r'search-result__title"><a href="[^"]+">(.*?)</a>', html)
    return [re.sub(r"</?mark>", "", t) for t in found]


def links(html) -> list[str]:
    return re.findall(r'search-result__title"><a href="([^"]+)">', html)


def publish(page):
    page.save_revision().publish()
    return page


@pytest.mark.parametrize("query", ODD_QUERIES)
def test_any_query_gets_a_page_with_a_chinese_message(client, query):
    html = get(client, q=query)
    assert 'class="search-form"' in html
    assert "<script>alert" not in html
    # NUL never reaches the view (portal/input.py): "\x00" is an empty search.
    if query.replace("\x00", "").strip():
        assert re.search(r'class="search-message"[^>]*>\s*\S', html), query
    else:
        assert "可以搜索活动、社区、榜样和新闻" in html


def test_messages(client):
    assert "没有可以搜索的文字" in get(client, q="🏮")
    assert "没有找到与“zzzqqq”相关的内容" in get(client, q="zzzqqq")
    assert "关键词太长，只按前 200 个字搜索" in get(client, q="讲" * 300)
    assert re.search(r"找到 \d+ 条与“讲堂”相关的结果", get(client, q="讲堂"))


def test_result_lines_have_type_label_link_highlight_and_snippet(client):
    html = get(client, q="月饼")
    assert set(titles(html)) == {
        "中秋做月饼 共话团圆",
        "中秋做月饼、重阳敬老人 慈孝文化节暖了整个秋天",
    }
    assert "/communities/wuyuan/zhongqiu-yuebing/" in links(html)
    assert '<span class="search-result__kind">活动</span>' in html
    assert "中秋做<mark>月饼</mark> 共话团圆" in html
    assert re.search(r'search-result__snippet">[^<]*<mark>月饼</mark>', html)
    labels = re.findall(r'search-result__kind">(.*?)<', get(client, q="甲院"))
    assert {"社区", "榜样"} <= set(labels)
    assert "新闻" in re.findall(
        r'search-result__kind">(.*?)<', get(client, q="红色物业")
    )
    assert "页面" in re.findall(
        r'search-result__kind">(.*?)<', get(client, q="隐私政策")
    )


def test_page_text_is_escaped_and_only_our_marks_are_markup(client):
    news = NewsIndexPage.objects.get()
    page = ArticlePage(
        title="<b>讲堂</b>笔记",
        slug="xss",
        date=datetime.date(2026, 11, 1),
        summary='讲堂 <img src=x onerror="alert(1)">',
        body=[],
    )
    news.add_child(instance=page)
    publish(page)
    html = get(client, q="讲堂笔记")
    assert "&lt;b&gt;<mark>讲堂</mark>&lt;/b&gt;<mark>笔记</mark>" in html
    assert "<img src=x" not in html and "&lt;img src=x" in html


def test_traditional_full_width_pinyin_initials_and_mixed(client):
    assert titles(get(client, q="戊院社區"))[0] == "戊院社区"
    assert titles(get(client, q="jiayuan"))[:5].count("甲院社区") == 1
    assert "<mark>甲院</mark>社区" in get(client, q="jiayuan")
    assert all("先锋讲堂" in t for t in titles(get(client, q="xfjt"))[:4])
    assert titles(get(client, q="２０２６ 花园榜样"))[0].startswith("2026年度")
    assert titles(get(client, q="2025 花园榜样"))[0] == "花园榜样"


def test_type_filter_and_counts(client):
    html = get(client, q="甲院")
    counts = dict(re.findall(r'href="\?q=[^"]*type=(\w+)"[^>]*>[^<]+<span>(\d+)', html))
    assert int(counts["honour"]) >= 2 and int(counts["community"]) == 1
    html = get(client, q="甲院", type="honour")
    labels = re.findall(r'search-result__kind">(.*?)<', html)
    assert labels and set(labels) == {"榜样"}
    assert f"榜样：找到 {counts['honour']} 条" in html
    assert 'aria-current="page">榜样' in html
    # an unknown type is ignored
    assert titles(get(client, q="甲院", type="nonsense")) == titles(
        get(client, q="甲院")
    )
    # a type with no results says so and offers all results
    html = get(client, q="月饼", type="community")
    assert "没有社区类的结果" in html and "看看全部" in html


def test_pagination(client):
    first = get(client, q="社区")
    assert 'rel="next"' in first and len(titles(first)) == 10
    second = get(client, q="社区", page=2)
    assert set(titles(second)).isdisjoint(titles(first))
    assert 'href="?q=%E7%A4%BE%E5%8C%BA&amp;page=1"' in second or "page=1" in second
    assert titles(get(client, q="社区", page="abc")) == titles(first)
    last = get(client, q="社区", page=999)
    assert 'rel="next"' not in last and titles(last)


def test_upcoming_activities_first_among_equal_matches(client):
    index = EventIndexPage.objects.get()
    now = timezone.now()
    pages = {}
    for slug, days in (("past", -30), ("later", 20), ("soon", 2)):
        start = now + datetime.timedelta(days=days)
        page = ActivityPage(
            title="剪纸兴趣班",
            slug=f"jianzhi-{slug}",
            start=start,
            end=start + datetime.timedelta(hours=2),
            venue="活动室",
            summary="学剪纸，做窗花。",
        )
        index.add_child(instance=page)
        pages[slug] = publish(page)
    html = get(client, q="剪纸兴趣班")
    order = [link.rstrip("/").rsplit("/", 1)[-1] for link in links(html)]
    # (pages holding only 剪纸 follow them: fewer than five hold both words)
    assert order[:3] == ["jianzhi-soon", "jianzhi-later", "jianzhi-past"]
    assert "即将举行" in html and "已结束" in html


def test_results_stay_on_the_requesting_site(client):
    other_home = HomePageFactory(parent=Page.get_first_root_node(), slug="other")
    make_site("other.test", other_home)
    news = NewsIndexPageFactory(parent=other_home)
    page = ArticlePage(
        title="别的站点的剪纸新闻",
        slug="elsewhere",
        date=datetime.date(2026, 1, 1),
        body=[],
    )
    news.add_child(instance=page)
    publish(page)
    assert "别的站点的剪纸新闻" not in titles(get(client, q="剪纸新闻"))
    response = client.get("/search/", {"q": "剪纸新闻"}, HTTP_HOST="other.test")
    assert "别的站点的剪纸新闻" in titles(response.content.decode())


def count_queries(client, query) -> int:
    client.get("/search/", {"q": query})  # warm: dictionary, site, settings
    with CaptureQueriesContext(connection) as ctx:
        response = client.get("/search/", {"q": query})
    assert response.status_code == 200
    return len(ctx.captured_queries)


def add_articles(count, start):
    news = NewsIndexPage.objects.get()
    for i in range(start, start + count):
        page = ArticlePage(
            title=f"葫芦丝培训第{i}期",
            slug=f"hulusi-{i}",
            date=datetime.date(2026, 10, 1),
            summary="社区葫芦丝培训班开课了。",
            body=[("paragraph", "<p>每周三下午，葫芦丝老师教基本指法。</p>")],
        )
        news.add_child(instance=page)
        publish(page)


def test_query_count_does_not_grow_with_results(client):
    add_articles(3, 0)
    few = count_queries(client, "葫芦丝")
    assert len(titles(get(client, q="葫芦丝"))) == 3
    add_articles(27, 3)
    many = count_queries(client, "葫芦丝")
    html = get(client, q="葫芦丝")
    assert len(titles(html)) == 10 and "找到 30 条" in html
    assert few == many
    # the candidates and the ten results: two queries of the search's own
    with CaptureQueriesContext(connection) as ctx:
        client.get("/search/", {"q": "葫芦丝"})
    own = [q for q in ctx.captured_queries if "search_searchdocument" in q["sql"]]
    assert len(own) == 2


def test_result_urls_are_the_ones_wagtail_gives(rf):
    other_home = HomePageFactory(parent=Page.get_first_root_node(), slug="other")
    make_site("other.test", other_home)
    NewsIndexPageFactory(parent=other_home)
    for host in ("localhost", "other.test"):
        request = rf.get("/search/", HTTP_HOST=host)
        site, roots = views._roots(request)
        for page in Page.objects.live().filter(depth__gt=1):
            assert views.page_url(page.url_path, site, roots) == page.get_url(request)
