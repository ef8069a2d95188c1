"""Search documents follow the pages: publish, unpublish, delete, move, privacy,
renamed lecturers and communities; the rebuild command; the demo."""

from io import StringIO

import pytest
from django.contrib.contenttypes.models import ContentType
from django.core.management import call_command
from wagtail.models import Page, PageViewRestriction
from wagtail.search.models import IndexEntry

from events.models import LecturePage, Lecturer
from home.models import ArticlePage, CommunityPage, HonourPage, NewsIndexPage
from search.documents import refresh_document
from search.models import Kind, SearchDocument
from tests.factories import ArticlePageFactory

pytestmark = pytest.mark.django_db


def document(page) -> SearchDocument | None:
    return SearchDocument.objects.filter(page_id=page.pk).first()


def index_entry(doc) -> IndexEntry | None:
    content_type = ContentType.objects.get_for_model(SearchDocument)
    return IndexEntry.objects.filter(
        content_type=content_type, object_id=str(doc.pk)
    ).first()


def publish(page):
    page.save_revision().publish()
    return type(page).objects.get(pk=page.pk)


def test_demo_has_one_document_per_live_public_page():
    pages = Page.objects.live().public().filter(depth__gt=1)
    own = SearchDocument.objects.filter(route="")
    assert own.count() == pages.count() > 40
    assert set(own.values_list("page_id", flat=True)) == set(
        pages.values_list("pk", flat=True)
    )
    # ... and one per route of the pages that list theirs (志愿服务: 时间银行,
    # each team), no other
    routes = {
        (page.pk, route["route"])
        for page in pages.specific()
        for route in getattr(page, "search_routes", list)()
    }
    assert routes
    assert {
        (d.page_id, d.route) for d in SearchDocument.objects.exclude(route="")
    } == routes
    # ... and every document is in the search backend's index
    content_type = ContentType.objects.get_for_model(SearchDocument)
    assert (
        IndexEntry.objects.filter(content_type=content_type).count()
        == SearchDocument.objects.count()
    )


def test_documents_have_kind_tokens_text_and_schedule():
    community = document(CommunityPage.objects.get(slug="jiayuan"))
    assert community.kind == Kind.COMMUNITY
    assert {"甲院", "jiayuan", "jysq"} <= set(community.title.split())
    assert {"拾光", "新颜"} <= set(community.body.split())  # 板块
    assert community.text.startswith("甲院是花园路上的老院子")
    honour = document(HonourPage.objects.get(slug="zhang-guilan-2025"))
    assert honour.kind == Kind.HONOUR
    assert {"2025", "优秀党员", "花园榜样", "戊院", "张桂兰"} <= set(
        honour.body.split()
    )
    lecture = LecturePage.objects.get(slug="xianfeng-jiayuan-1")
    doc = document(lecture)
    assert doc.kind == Kind.ACTIVITY
    assert {"王建国", "先锋讲堂", "xfjt"} <= set(doc.title.split() + doc.body.split())
    assert doc.next_start == lecture.start and doc.ends_at == lecture.end
    article = document(ArticlePage.objects.get(slug="shijian-yinhang-weishengting"))
    assert article.kind == Kind.NEWS and "时间银行" in article.body.split()
    assert document(NewsIndexPage.objects.get()).kind == Kind.PAGE


def test_publish_creates_and_updates_the_document(home):
    news = NewsIndexPage.objects.get()
    page = ArticlePage(
        title="楼道里的图书角", slug="tushujiao", date="2026-11-01", body=[]
    )
    news.add_child(instance=page)
    page = publish(page)
    doc = document(page)
    assert doc is not None and "图书" in doc.title.split()
    assert index_entry(doc) is not None

    page.title = "楼道里的读书角"
    page = publish(page)
    doc.refresh_from_db()
    assert "读书" in doc.title.split() and "图书" not in doc.title.split()


def test_a_draft_changes_nothing():
    page = ArticlePage.objects.get(slug="shedaihui-2026")
    before = document(page).title
    page.title = "草稿标题"
    page.save_revision()
    assert document(page).title == before


def test_unpublish_removes_the_document_and_its_index_entry():
    page = ArticlePage.objects.get(slug="shedaihui-2026")
    doc = document(page)
    page.unpublish()
    assert document(page) is None
    assert index_entry(doc) is None


def test_delete_removes_the_document_and_its_index_entry():
    page = ArticlePage.objects.get(slug="shedaihui-2026")
    doc = document(page)
    page.delete()
    assert not SearchDocument.objects.filter(pk=doc.pk).exists()
    assert index_entry(doc) is None


def test_deleting_a_section_removes_every_document_below_it():
    honours = Page.objects.get(slug="honours")
    below = list(honours.get_descendants(inclusive=True).values_list("pk", flat=True))
    honours.delete()
    assert not SearchDocument.objects.filter(page_id__in=below).exists()


def test_view_restriction_hides_a_subtree_and_lifting_it_restores_it():
    community = CommunityPage.objects.get(slug="jiayuan")
    restriction = PageViewRestriction.objects.create(
        page=community, restriction_type=PageViewRestriction.PASSWORD, password="x"
    )
    assert document(community) is None
    restriction.delete()
    assert document(community) is not None


def test_move_refreshes_the_subtree():
    article = ArticlePage.objects.get(slug="shedaihui-2026")
    community = CommunityPage.objects.get(slug="jiayuan")
    PageViewRestriction.objects.create(
        page=community, restriction_type=PageViewRestriction.PASSWORD, password="x"
    )
    article.move(community, pos="last-child")
    assert document(article) is None  # now under a private page


def test_renaming_a_lecturer_updates_the_lectures():
    lecturer = Lecturer.objects.get(name="王建国")
    lecture = LecturePage.objects.get(lecturer=lecturer)
    lecturer.name = "王建军"
    lecturer.save()
    assert "王建军" in document(lecture).body


def test_renaming_a_community_updates_its_honours():
    community = CommunityPage.objects.get(slug="jiayuan")
    community.title = "甲苑社区"
    community.short_name = "甲苑"
    publish(community)
    honour = HonourPage.objects.filter(community=community).first()
    assert "甲苑" in document(honour).body.split()


def test_refresh_document_of_a_page_made_in_code():
    news = NewsIndexPage.objects.get()
    page = ArticlePageFactory(parent=news, title="代码里建的新闻")
    assert document(page) is None  # created live, never published: no signal
    assert refresh_document(page) is not None
    assert "新闻" in document(page).title.split()


def test_rebuild_command_is_idempotent():
    SearchDocument.objects.filter(kind=Kind.HONOUR).delete()
    stray = SearchDocument.objects.first()
    Page.objects.filter(pk=stray.page_id).update(live=False)
    out = StringIO()
    call_command("rebuild_search_documents", stdout=out)
    pages = Page.objects.live().public().filter(depth__gt=1)
    assert SearchDocument.objects.filter(route="").count() == pages.count()
    assert not SearchDocument.objects.filter(page_id=stray.page_id).exists()
    out = StringIO()
    call_command("rebuild_search_documents", stdout=out)
    assert "新建 0，更新 0，删除 0" in out.getvalue()
    content_type = ContentType.objects.get_for_model(SearchDocument)
    assert (
        IndexEntry.objects.filter(content_type=content_type).count()
        == SearchDocument.objects.count()
    )
