"""Wagtail's own admin views show a community editor (demo account ``jiayuan``)
only the pages the explorer shows them and published public pages — never
another community's unpublished draft: the page chooser (browse, search,
chosen-multiple), the bulk actions, the move confirmation, the copy form and the
page-types report. The 街道宣传办 (``xuanchuan``) still sees every page."""

import json

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse
from wagtail.search import index

from home.admin_scope import visible_pages
from home.models import CommunityPage, NewsIndexPage
from tests.factories import ArticlePageFactory

pytestmark = pytest.mark.django_db

BULK_ACTIONS = ("publish", "unpublish", "delete", "move")


def user(username):
    return get_user_model().objects.get(username=username)


def text(response) -> str:
    """The HTML of a page or of a modal step (JSON with the HTML inside)."""
    if response["Content-Type"].startswith("application/json"):
        return json.dumps(response.json(), ensure_ascii=False)
    return response.content.decode()


@pytest.fixture
def pages():
    """In 戊院: a draft, a published page and a published page with a retitled
    draft; in 甲院: a draft of jiayuan's own."""
    own = CommunityPage.objects.get(slug="jiayuan")
    other = CommunityPage.objects.get(slug="wuyuan")
    draft = ArticlePageFactory(parent=other, title="戊院未发布草稿", live=False)
    public = ArticlePageFactory(parent=other, title="戊院已发布文章")
    retitled = ArticlePageFactory(parent=other, title="戊院公开标题")
    retitled.title = "戊院改名草稿"
    retitled.save_revision()
    own_draft = ArticlePageFactory(parent=own, title="甲院未发布草稿", live=False)
    for page in (draft, public, retitled, own_draft):
        index.insert_or_update_object(page)
    return {
        "own": own,
        "other": other,
        "draft": draft,
        "public": public,
        "retitled": retitled,
        "own_draft": own_draft,
    }


SECRETS = ("戊院未发布草稿", "戊院改名草稿")


def leaks(response) -> list[str]:
    body = text(response)
    return [title for title in SECRETS if title in body]


@pytest.fixture
def editor(client):
    client.force_login(user("jiayuan"))
    return client


def test_visible_pages_follow_the_explorer_and_what_is_published(pages):
    editor = user("jiayuan")
    visible = set(visible_pages(editor).values_list("pk", flat=True))
    assert pages["own_draft"].pk in visible and pages["own"].pk in visible
    assert pages["public"].pk in visible and pages["other"].pk in visible
    assert pages["draft"].pk not in visible
    assert pages["retitled"].pk not in visible
    everything = set(visible_pages(user("xuanchuan")).values_list("pk", flat=True))
    assert {pages["draft"].pk, pages["retitled"].pk} <= everything


def test_page_chooser_browse_hides_another_communitys_drafts(editor, pages):
    response = editor.get(
        reverse("wagtailadmin_choose_page_child", args=[pages["other"].pk])
    )
    assert response.status_code == 200
    assert leaks(response) == []
    assert "戊院已发布文章" in text(response)  # linking to published pages works
    response = editor.get(
        reverse("wagtailadmin_choose_page_child", args=[pages["own"].pk])
    )
    assert "甲院未发布草稿" in text(response)
    # A draft as the parent: its title would head the listing.
    for page in ("draft", "retitled"):
        response = editor.get(
            reverse("wagtailadmin_choose_page_child", args=[pages[page].pk])
        )
        assert response.status_code == 404
        assert leaks(response) == []
    # Choosing by type starts at the visible pages of that type.
    response = editor.get(
        reverse("wagtailadmin_choose_page"), {"page_type": "home.articlepage"}
    )
    assert response.status_code == 200 and leaks(response) == []


def test_page_chooser_search_and_chosen_multiple(editor, pages):
    search = reverse("wagtailadmin_choose_page_search")
    response = editor.get(search, {"q": "戊院"})
    assert response.status_code == 200
    assert leaks(response) == []
    assert "戊院已发布文章" in text(response)
    ids = [("id", pages[page].pk) for page in ("draft", "retitled", "own_draft")]
    response = editor.get(reverse("wagtailadmin_choose_page_chosen_multiple"), ids)
    assert response.status_code == 200
    assert leaks(response) == []
    assert [r["id"] for r in response.json()["result"]] == [pages["own_draft"].pk]


def test_subdistrict_office_still_sees_every_page_in_the_chooser(client, pages):
    client.force_login(user("xuanchuan"))
    response = client.get(
        reverse("wagtailadmin_choose_page_child", args=[pages["other"].pk])
    )
    assert sorted(leaks(response)) == sorted(SECRETS)
    response = client.get(reverse("wagtailadmin_choose_page_search"), {"q": "戊院"})
    assert "戊院未发布草稿" in text(response)
    ids = [("id", pages["draft"].pk)]
    response = client.get(reverse("wagtailadmin_choose_page_chosen_multiple"), ids)
    assert leaks(response) == ["戊院未发布草稿"]


@pytest.mark.parametrize("action", BULK_ACTIONS)
def test_bulk_actions_on_another_communitys_drafts_are_404(editor, pages, action):
    url = reverse("wagtail_bulk_action", args=["wagtailcore", "page", action])
    drafts = [("id", pages["draft"].pk), ("id", pages["retitled"].pk)]
    response = editor.get(url, drafts)
    assert response.status_code == 404
    assert leaks(response) == []
    response = editor.post(url + f"?id={pages['draft'].pk}", {})
    assert response.status_code == 404
    # Mixed with a page of their own: the draft is simply not there.
    response = editor.get(url, [*drafts, ("id", pages["own_draft"].pk)])
    assert response.status_code == 200
    assert leaks(response) == []
    assert "甲院未发布草稿" in text(response)


def test_bulk_actions_of_the_subdistrict_office_are_unchanged(client, pages):
    client.force_login(user("xuanchuan"))
    url = reverse("wagtail_bulk_action", args=["wagtailcore", "page", "publish"])
    response = client.get(url, [("id", pages["draft"].pk)])
    assert response.status_code == 200
    assert "戊院未发布草稿" in text(response)


def test_bulk_move_to_another_communitys_draft_is_refused(editor, pages):
    url = reverse("wagtail_bulk_action", args=["wagtailcore", "page", "move"])
    response = editor.post(
        url + f"?id={pages['own_draft'].pk}", {"chooser": pages["draft"].pk}
    )
    assert response.status_code == 404
    assert leaks(response) == []


def test_move_confirmation(editor, pages):
    confirm = "wagtailadmin_pages:move_confirm"
    own_draft, draft = pages["own_draft"], pages["draft"]
    for args in ((draft.pk, pages["own"].pk), (own_draft.pk, draft.pk)):
        response = editor.get(reverse(confirm, args=args))
        assert response.status_code == 404
        assert leaks(response) == []
    # Visible pages, but a move the editor may not make.
    news = NewsIndexPage.objects.get()
    response = editor.get(reverse(confirm, args=[own_draft.pk, news.pk]))
    assert response.status_code in (302, 403)  # Wagtail's "permission denied"
    response = editor.post(reverse(confirm, args=[own_draft.pk, news.pk]))
    own_draft.refresh_from_db()
    assert own_draft.get_parent().pk == pages["own"].pk


def test_copy_form_does_not_show_a_foreign_draft_as_parent(editor, pages):
    response = editor.post(
        reverse("wagtailadmin_pages:copy", args=[pages["own_draft"].pk]),
        {
            "new_title": "复制的稿",
            "new_slug": "copied",
            "new_parent_page": pages["draft"].pk,
        },
    )
    assert response.status_code == 404
    assert leaks(response) == []
    response = editor.get(
        reverse("wagtailadmin_pages:copy", args=[pages["own_draft"].pk])
    )
    assert response.status_code == 200


def test_page_types_report_names_only_visible_pages(editor, pages):
    pages["draft"].save_revision()  # the last edited article of all
    response = editor.get(reverse("wagtailadmin_reports:page_types_usage"))
    assert response.status_code == 200
    assert leaks(response) == []
    editor.force_login(user("xuanchuan"))
    response = editor.get(reverse("wagtailadmin_reports:page_types_usage"))
    assert "戊院未发布草稿" in text(response)
