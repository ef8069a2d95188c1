"""活动回顾: once a session of an activity has ended, one action (the activity's
edit view, or 报名管理 filtered to it) drafts one news article under the
activity's community — or 街道动态 for a subdistrict-wide activity — with the
figures from the sign-ups, a gallery block and a link back; it goes through the
same approval, and the activity page links to it once it is live."""

from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse
from django.utils import timezone

from events import recap, registration
from events.models import EventIndexPage
from home.editorial import WORKFLOW_NAME
from home.models import ArticlePage, CommunityPage, NewsIndexPage
from tests.factories import ActivityPageFactory

pytestmark = pytest.mark.django_db

TITLE = "甲院社区邻里节"


def user(username):
    return get_user_model().objects.get(username=username)


@pytest.fixture
def activities():
    return EventIndexPage.objects.get(slug="activities")


@pytest.fixture
def jiayuan():
    return CommunityPage.objects.get(slug="jiayuan")


def make_activity(calendar, community, start, **fields):
    """A community's activity sits under its community page (and takes its
    community from there), a subdistrict-wide one under the 活动日历."""
    fields.setdefault("title", TITLE)
    return ActivityPageFactory(
        parent=community or calendar,
        community=community,
        venue="甲院社区广场",
        start=start,
        end=start + timedelta(hours=2),
        registration_required=True,
        capacity=20,
        max_party_size=4,
        **fields,
    )


def sign_up_four(page, checker):
    """Sign-ups of 2, 1, 3 and 1 people; the first two check in, the last
    cancels: 6 people signed up, 3 checked in."""
    occurrence = page.occurrences.get()
    before = occurrence.start - timedelta(days=1)
    made = [
        registration.sign_up(
            page,
            occurrence.pk,
            name=name,
            phone=phone,
            party_size=size,
            now=before,
        ).registration
        for name, phone, size in [
            ("王芳", "13800000001", 2),
            ("李强", "13800000002", 1),
            ("张伟", "13800000003", 3),
            ("刘洋", "13800000004", 1),
        ]
    ]
    for reg in made[:2]:
        registration.check_in(reg.pk, user=checker, now=occurrence.start)
    registration.cancel(made[3].pk, now=before)


@pytest.fixture
def ended(activities, jiayuan):
    page = make_activity(activities, jiayuan, timezone.now() - timedelta(days=3))
    sign_up_four(page, user("admin"))
    return page


def recap_url(page):
    return reverse("events_recap", args=[page.pk])


def test_refused_before_the_end_with_a_chinese_message(client, activities, jiayuan):
    page = make_activity(activities, jiayuan, timezone.now() + timedelta(days=3))
    client.force_login(user("jiayuan"))
    response = client.get(recap_url(page))
    assert response.status_code == 200
    assert "活动还没有结束" in response.content.decode()
    assert 'type="submit"' not in response.content.decode().split("recap-confirm")[1]
    response = client.post(recap_url(page))
    assert response.status_code == 409
    assert "活动还没有结束。第一场结束后才能起草活动回顾。" in response.content.decode()
    assert not ArticlePage.objects.filter(recap_of=page).exists()
    with pytest.raises(recap.RecapError) as error:
        recap.draft_recap(page, user=user("jiayuan"))
    assert error.value.code == "not_ended"


def test_a_cancelled_activity_has_no_recap(activities, jiayuan):
    page = make_activity(
        activities,
        jiayuan,
        timezone.now() - timedelta(days=3),
        status="cancelled",
        status_reason="下雨",
    )
    with pytest.raises(recap.RecapError) as error:
        recap.draft_recap(page, user=user("jiayuan"))
    assert error.value.message == "活动已取消，没有可回顾的场次。"


def test_drafts_exactly_one_article_with_the_right_content(client, ended, jiayuan):
    editor = user("jiayuan")
    client.force_login(editor)
    page_html = client.get(recap_url(ended)).content.decode()
    assert "报名人数</dt><dd>6 人" in page_html
    assert "签到人数</dt><dd>3 人" in page_html

    response = client.post(recap_url(ended))
    article = ArticlePage.objects.get(recap_of=ended)
    assert response.status_code == 302
    assert response.url == reverse("wagtailadmin_pages:edit", args=[article.pk])

    assert article.title == f"活动回顾：{TITLE}"
    assert article.slug == "huo-dong-hui-gu-jia-yuan-she-qu-lin-li-jie"
    assert article.get_parent().pk == jiayuan.pk
    assert article.community_id == jiayuan.pk
    assert article.date == timezone.localdate(ended.occurrences.get().start)
    assert article.owner == editor
    assert not article.live and article.first_published_at is None
    assert article.cover_id == ended.cover_id
    assert "6 人报名，3 人签到" in article.summary
    blocks = {block.block_type: block for block in reversed(article.body)}
    assert "地点：甲院社区广场" in blocks["paragraph"].value.source
    assert "社区：甲院社区" in blocks["paragraph"].value.source
    assert recap.PLACEHOLDER in article.body[1].value.source
    facts = [(f["figure"], f["label"]) for f in blocks["facts"].value]
    assert facts == [("6 人", "报名"), ("3 人", "签到")]
    assert "gallery" in blocks
    link = article.body[-1].value.source
    assert f'<a linktype="page" id="{ended.pk}">' in link
    # The revision the editor opens has the same content.
    assert article.get_latest_revision().user == editor

    # A second click opens the same draft.
    response = client.post(recap_url(ended))
    assert response.url == reverse("wagtailadmin_pages:edit", args=[article.pk])
    assert ArticlePage.objects.filter(recap_of=ended).count() == 1
    again, created = recap.draft_recap(ended, user=editor)
    assert (again.pk, created) == (article.pk, False)


def test_the_draft_goes_through_the_same_approval(ended):
    editor = user("jiayuan")
    article, _ = recap.draft_recap(ended, user=editor)
    workflow = article.get_workflow()
    assert workflow is not None and workflow.name == WORKFLOW_NAME
    workflow.start(article, editor)
    article.refresh_from_db()
    assert article.workflow_in_progress
    assert not article.live


def test_only_a_get_shows_the_form_and_a_post_needs_csrf(ended):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(user("jiayuan"))
    assert client.post(recap_url(ended)).status_code == 403
    assert not ArticlePage.objects.filter(recap_of=ended).exists()
    html = client.get(recap_url(ended)).content.decode()
    assert 'name="csrfmiddlewaretoken"' in html
    assert not ArticlePage.objects.filter(recap_of=ended).exists()


def test_another_communitys_editor_cannot(client, ended):
    client.force_login(user("wuyuan"))
    for response in (client.get(recap_url(ended)), client.post(recap_url(ended))):
        assert response.status_code == 403
        assert "您没有在“甲院社区”下新建文章的权限" in response.content.decode()
    assert not ArticlePage.objects.filter(recap_of=ended).exists()
    with pytest.raises(recap.RecapError) as error:
        recap.draft_recap(ended, user=user("wuyuan"))
    assert error.value.code == "forbidden"


def test_subdistrict_activity_recap_goes_under_the_news(client, activities):
    page = make_activity(activities, None, timezone.now() - timedelta(days=3))
    client.force_login(user("jiayuan"))
    assert client.post(recap_url(page)).status_code == 403
    client.force_login(user("xuanchuan"))
    assert client.post(recap_url(page)).status_code == 302
    article = ArticlePage.objects.get(recap_of=page)
    assert article.get_parent().specific_class is NewsIndexPage
    assert article.community_id is None
    assert "社区：" not in article.body[0].value.source


def test_repeating_activity_counts_its_ended_sessions(activities, jiayuan):
    start = timezone.now() - timedelta(days=15)
    page = make_activity(
        activities,
        jiayuan,
        start,
        repeat="DAILY",
        repeat_count=3,
        excluded_dates="",
    )
    # Sessions 15 and 14 days ago have ended, the one 13 days ago too: all three.
    article, created = recap.draft_recap(page, user=user("jiayuan"))
    assert created
    facts = [(f["figure"], f["label"]) for f in article.body[2].value]
    assert facts[0] == ("3 场", "举办")
    assert "共 3 场" in article.body[0].value.source


def test_link_appears_only_once_the_recap_is_live(client, ended):
    article, _ = recap.draft_recap(ended, user=user("jiayuan"))
    html = client.get(ended.url).content.decode()
    assert "活动回顾</a>" not in html
    article.save_revision(user=user("xuanchuan")).publish()
    article.refresh_from_db()
    html = client.get(ended.url).content.decode()
    assert f'<a href="{article.url}">活动回顾</a>' in html


def test_buttons_on_the_edit_view_and_in_registrations(client, ended):
    # The community's own editor, on the activity's edit view.
    client.force_login(user("jiayuan"))
    edit = client.get(reverse("wagtailadmin_pages:edit", args=[ended.pk]))
    assert recap_url(ended) in edit.content.decode()
    client.force_login(user("admin"))
    edit = client.get(reverse("wagtailadmin_pages:edit", args=[ended.pk]))
    assert recap_url(ended) in edit.content.decode()
    listing = client.get(
        reverse("events_registrations:index"), {"page": ended.pk}
    ).content.decode()
    assert recap_url(ended) in listing
    session = ended.occurrences.get()
    listing = client.get(
        reverse("events_registrations:index"), {"occurrence": session.pk}
    ).content.decode()
    assert recap_url(ended) in listing
    # Not for a page that is no activity, nor in the unfiltered listing.
    listing = client.get(reverse("events_registrations:index")).content.decode()
    assert "/admin/events/recap/" not in listing
    news = NewsIndexPage.objects.get()
    edit = client.get(reverse("wagtailadmin_pages:edit", args=[news.pk]))
    assert "/admin/events/recap/" not in edit.content.decode()
    assert client.get(reverse("events_recap", args=[news.pk])).status_code == 404


def count_queries(client, path) -> int:
    """Queries of the third request (the first two warm the caches), as in
    tests/portal/test_query_counts.py."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    for _warm in range(2):
        assert client.get(path).status_code == 200
    with CaptureQueriesContext(connection) as queries:
        assert client.get(path).status_code == 200
    return len(queries.captured_queries)


def test_the_recap_link_costs_no_query(client, ended, monkeypatch):
    """The link is remembered under the content generation: once warm, the
    activity page runs as many queries as it would without the link at all."""
    article, _ = recap.draft_recap(ended, user=user("jiayuan"))
    article.save_revision(user=user("xuanchuan")).publish()
    with_link = count_queries(client, ended.url)
    assert "活动回顾</a>" in client.get(ended.url).content.decode()
    monkeypatch.setattr("events.views.live_recap_link", lambda page: None)
    assert with_link == count_queries(client, ended.url)


def test_the_draft_is_in_the_page_history(ended):
    from wagtail.models import PageLogEntry

    article, _ = recap.draft_recap(ended, user=user("jiayuan"))
    actions = set(
        PageLogEntry.objects.filter(page=article).values_list(
            "action", "user__username"
        )
    )
    assert ("wagtail.create", "jiayuan") in actions
