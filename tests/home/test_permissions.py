"""Editorial roles: community editors work only under their own community and
submit to 街道宣传办 for approval."""

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from home.editorial import SUBDISTRICT_GROUP, WORKFLOW_NAME
from home.models import ArticlePage, CommunityPage, HonourPage, NewsIndexPage

pytestmark = pytest.mark.django_db


def user(username):
    return get_user_model().objects.get(username=username)


def test_every_community_has_its_own_editor_group():
    for community in CommunityPage.objects.all():
        editor = user(community.slug)
        assert [g.name for g in editor.groups.all()] == [f"{community.title}宣传员"]


def test_community_editor_edits_only_their_own_community():
    editor = user("jiayuan")
    own = CommunityPage.objects.get(slug="jiayuan")
    other = CommunityPage.objects.get(slug="wuyuan")
    assert own.permissions_for_user(editor).can_edit()
    assert own.permissions_for_user(editor).can_add_subpage()
    assert not own.permissions_for_user(editor).can_publish()
    assert not other.permissions_for_user(editor).can_edit()
    assert not other.permissions_for_user(editor).can_add_subpage()
    news = NewsIndexPage.objects.get()
    assert not news.permissions_for_user(editor).can_add_subpage()
    honour = HonourPage.objects.first()
    assert not honour.permissions_for_user(editor).can_edit()


def test_community_editor_in_the_admin(client):
    client.force_login(user("jiayuan"))
    own = CommunityPage.objects.get(slug="jiayuan")
    other = CommunityPage.objects.get(slug="wuyuan")
    response = client.get(reverse("wagtailadmin_pages:edit", args=[own.pk]))
    assert response.status_code == 200
    assert "甲院社区" in response.content.decode()
    response = client.get(reverse("wagtailadmin_pages:edit", args=[other.pk]))
    assert response.status_code in (302, 403)
    add_url = reverse("wagtailadmin_pages:add", args=["home", "articlepage", other.pk])
    assert client.get(add_url).status_code in (302, 403)
    add_own = reverse("wagtailadmin_pages:add", args=["home", "articlepage", own.pk])
    assert client.get(add_own).status_code == 200


def test_community_editor_cannot_post_an_edit_to_another_community(client):
    client.force_login(user("jiayuan"))
    other = CommunityPage.objects.get(slug="wuyuan")
    response = client.post(
        reverse("wagtailadmin_pages:edit", args=[other.pk]),
        {"title": "被改掉了", "slug": other.slug},
    )
    assert response.status_code in (302, 403)
    other.refresh_from_db()
    assert other.title == "戊院社区"
    assert other.get_latest_revision().content["title"] == "戊院社区"


def test_article_under_a_community_is_submitted_to_the_subdistrict():
    editor = user("jiayuan")
    community = CommunityPage.objects.get(slug="jiayuan")
    article = ArticlePage(
        title="甲院社区新学期四点钟课堂开课",
        slug="four-oclock-class",
        date="2026-11-20",
        body=[("paragraph", "<p>欢迎报名。</p>")],
        live=False,
        owner=editor,
    )
    community.add_child(instance=article)
    assert article.community_id == community.pk
    revision = article.save_revision(user=editor)
    workflow = article.get_workflow()
    assert workflow.name == WORKFLOW_NAME
    state = workflow.start(article, editor)
    task = state.current_task_state.task.specific
    assert [g.name for g in task.groups.all()] == [SUBDISTRICT_GROUP]
    approver = user("xuanchuan")
    assert task.user_can_access_editor(article, approver)
    assert any(name == "approve" for name, *_ in task.get_actions(article, approver))
    assert not any(name == "approve" for name, *_ in task.get_actions(article, editor))
    state.current_task_state.approve(user=approver)
    article.refresh_from_db()
    assert article.live
    assert article.live_revision_id == revision.pk


def test_subdistrict_office_can_publish_anywhere():
    publisher = user("xuanchuan")
    for page in (
        CommunityPage.objects.get(slug="wuyuan"),
        HonourPage.objects.first(),
        NewsIndexPage.objects.get(),
    ):
        permissions = page.permissions_for_user(publisher)
        assert permissions.can_edit() and permissions.can_publish()
    assert publisher.has_perm("home.change_sitesettings")


def test_community_editor_images_are_limited_to_their_collection():
    from wagtail.images import get_image_model
    from wagtail.models import Collection
    from wagtail.permissions import policy_registry

    permission_policy = policy_registry.get_by_type(get_image_model())
    editor = user("jiayuan")
    own = Collection.objects.get(name="甲院社区")
    other = Collection.objects.get(name="戊院社区")
    addable = permission_policy.collections_user_has_permission_for(editor, "add")
    assert own in addable and other not in addable
    choosable = permission_policy.collections_user_has_permission_for(editor, "choose")
    assert own in choosable and other in choosable
