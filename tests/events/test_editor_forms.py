"""An editor gets it right the first time: pinyin slugs on the main tab, made
unique under the parent (never Wagtail's English slug error), 发布日期 prefilled,
help text for a repeating activity's first session, the 重复活动 panel open when
used, 需要报名 on and a party of up to 4 by default, and the editor's unfinished
autosaved draft offered on a new create form."""

import json
import re

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse
from django.utils import timezone

from core.slugs import follows_title, pinyin_slug
from events.forms import SignUpForm
from events.models import ActivityPage, EventIndexPage
from events.occurrences import sync_occurrences
from home.models import ArticlePage, CommunityPage
from tests.factories import ActivityPageFactory
from tests.formdata import form_fields

pytestmark = pytest.mark.django_db

TITLE = "甲院社区书画课"
PINYIN = "jia-yuan-she-qu-shu-hua-ke"


def user(username):
    return get_user_model().objects.get(username=username)


@pytest.fixture
def activities():
    return EventIndexPage.objects.get(slug="activities")


def add_url(model, parent):
    app, name = model._meta.app_label, model._meta.model_name
    return reverse("wagtailadmin_pages:add", args=[app, name, parent.pk])


def activity_data(client, parent, **changes):
    """The create form of an activity as the browser submits it, filled in."""
    html = client.get(add_url(ActivityPage, parent)).content.decode()
    data = form_fields(html)
    data.update(
        title=TITLE,
        start="2027-03-01 09:00",
        end="2027-03-01 11:00",
        venue="甲院社区党群服务中心",
        capacity="20",
    )
    data["body-count"] = "0"  # the StreamField's inputs are made by its script
    data.update(changes)
    return data


def article_data(client, parent, **changes):
    html = client.get(add_url(ArticlePage, parent)).content.decode()
    data = form_fields(html)
    data.update(
        {
            "title": "甲院社区开展垃圾分类宣传",
            "body-count": "1",
            "body-0-type": "paragraph",
            "body-0-deleted": "",
            "body-0-order": "0",
            "body-0-value": json.dumps(
                {
                    "blocks": [{"key": "a", "type": "unstyled", "text": "正文。"}],
                    "entityMap": {},
                }
            ),
        }
    )
    data.update(changes)
    return data


# ---------------------------------------------------------------------------
# Pinyin
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("title", "slug"),
    [
        (TITLE, PINYIN),
        (
            "活动回顾：2026年重阳节 敬老宴",
            "huo-dong-hui-gu-2026-nian-chong-yang-jie-jing-lao-yan",
        ),
        ("ＡＢＣ绿色家园", "abc-lv-se-jia-yuan"),
        ("！！", "page"),
    ],
)
def test_pinyin_slug(title, slug):
    assert pinyin_slug(title) == slug


def test_pinyin_slug_is_cut_between_syllables():
    slug = pinyin_slug("社区" * 40)
    assert len(slug) <= 80
    assert set(slug.split("-")) == {"she", "qu"}
    assert follows_title(PINYIN + "-3", TITLE)
    assert not follows_title("shufa", TITLE)


# ---------------------------------------------------------------------------
# The create form
# ---------------------------------------------------------------------------


def test_slug_is_on_the_main_tab_without_title_sync(client, activities):
    client.force_login(user("admin"))
    html = client.get(add_url(ActivityPage, activities)).content.decode()
    # The first tab (内容) holds it, and there is no 推广 tab any more.
    content_tab = html.split('role="tabpanel"')[1]
    assert 'name="slug"' in content_tab
    assert "按标题拼音自动生成" in content_tab
    assert ">推广<" not in html
    # Wagtail's script would copy the Chinese title into the slug as typed.
    title_input = re.search(r'<input[^>]*name="title"[^>]*>', html).group(0)
    assert "w-sync" not in title_input


def test_chinese_slug_becomes_pinyin(client, activities):
    client.force_login(user("admin"))
    # What Wagtail's script puts in the slug: the title itself.
    response = client.post(
        add_url(ActivityPage, activities), activity_data(client, activities, slug=TITLE)
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    page = ActivityPage.objects.get(title=TITLE)
    assert page.slug == PINYIN
    assert not page.live


def test_empty_slug_becomes_pinyin_and_same_title_gets_a_suffix(client, activities):
    client.force_login(user("admin"))
    for _ in range(2):
        response = client.post(
            add_url(ActivityPage, activities),
            activity_data(client, activities, slug=""),
        )
        assert response.status_code == 302
    slugs = sorted(
        ActivityPage.objects.filter(title=TITLE).values_list("slug", flat=True)
    )
    assert slugs == [PINYIN, f"{PINYIN}-2"]


def test_a_taken_slug_typed_by_the_editor_gets_a_chinese_message(client, activities):
    client.force_login(user("admin"))
    taken = activities.get_children().first().slug
    before = ActivityPage.objects.count()
    response = client.post(
        add_url(ActivityPage, activities), activity_data(client, activities, slug=taken)
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert f"同一栏目下已有网址为“{taken}”的页面" in html
    assert "already in use" not in html
    assert ActivityPage.objects.count() == before


def test_autosave_writes_the_pinyin_slug_into_the_open_form(client, activities):
    """Wagtail 8 saves the create form in the background; the answer's
    ``field_updates`` are applied to the open form."""
    client.force_login(user("admin"))
    response = client.post(
        add_url(ActivityPage, activities),
        activity_data(client, activities, slug=""),
        headers={"Accept": "application/json"},
    )
    assert response.status_code == 200, response.content.decode()[:2000]
    answer = response.json()
    assert answer["success"]
    assert answer["field_updates"]["slug"] == PINYIN
    # Typing on: the title grows, the draft's slug follows it until published.
    page = ActivityPage.objects.get(pk=answer["pk"])
    edit = reverse("wagtailadmin_pages:edit", args=[page.pk])
    data = form_fields(client.get(edit).content.decode())
    assert data["slug"] == PINYIN
    data.update({"title": TITLE + "春季班", "body-count": "0"})
    response = client.post(edit, data, headers={"Accept": "application/json"})
    assert response.json()["success"]
    page = ActivityPage.objects.get(pk=page.pk).get_latest_revision_as_object()
    assert page.slug == PINYIN + "-chun-ji-ban"


def test_the_slug_of_a_published_page_stays_when_the_title_changes(activities):
    page = ActivityPageFactory(
        parent=activities, title=TITLE, slug=PINYIN, first_published_at=timezone.now()
    )
    from core.forms import PageForm

    form = PageForm.__new__(PageForm)
    form.instance = page
    assert not form.is_automatic(PINYIN, TITLE + "春季班")
    assert form.is_automatic("", TITLE + "春季班")


def test_a_published_chinese_slug_is_kept(client, activities):
    """Pages published before pinyin slugs keep their address when edited."""
    page = ActivityPageFactory(parent=activities, title=TITLE, slug=TITLE)
    page.save_revision().publish()
    client.force_login(user("admin"))
    edit = reverse("wagtailadmin_pages:edit", args=[page.pk])
    data = form_fields(client.get(edit).content.decode())
    data["body-count"] = "0"
    assert data["slug"] == TITLE
    assert client.post(edit, data).status_code == 302
    assert (
        ActivityPage.objects.get(pk=page.pk).get_latest_revision_as_object().slug
        == TITLE
    )


def test_the_editor_is_offered_an_unfinished_draft(client, activities):
    client.force_login(user("admin"))
    response = client.post(
        add_url(ActivityPage, activities),
        activity_data(client, activities, slug=""),
        headers={"Accept": "application/json"},
    )
    draft_pk = response.json()["pk"]
    html = client.get(add_url(ActivityPage, activities)).content.decode()
    assert f"还没发布的草稿“{TITLE}”" in html
    assert reverse("wagtailadmin_pages:edit", args=[draft_pk]) in html
    # Another editor's drafts are not offered to them.
    client.force_login(user("xuanchuan"))
    html = client.get(add_url(ActivityPage, activities)).content.decode()
    assert "还没发布的草稿" not in html


def test_a_submitted_draft_is_not_offered(client):
    editor = user("jiayuan")
    community = CommunityPage.objects.get(slug="jiayuan")
    article = ArticlePage(
        title="待审核的新闻", slug="dai-shen-he", body=[], owner=editor, live=False
    )
    community.add_child(instance=article)
    article.save_revision(user=editor)
    client.force_login(editor)
    html = client.get(add_url(ArticlePage, community)).content.decode()
    assert "还没发布的草稿“待审核的新闻”" in html
    article.get_workflow().start(article, editor)
    html = client.get(add_url(ArticlePage, community)).content.decode()
    assert "还没发布的草稿" not in html


# ---------------------------------------------------------------------------
# Dates, help, panels, defaults
# ---------------------------------------------------------------------------


def test_article_date_is_today_in_shanghai(client):
    editor = user("jiayuan")
    community = CommunityPage.objects.get(slug="jiayuan")
    client.force_login(editor)
    data = article_data(client, community)
    assert data["date"] == timezone.localdate().isoformat()
    assert str(timezone.get_default_timezone()) == "Asia/Shanghai"
    response = client.post(add_url(ArticlePage, community), data)
    assert response.status_code == 302, response.content.decode()[:3000]
    article = ArticlePage.objects.get(title="甲院社区开展垃圾分类宣传")
    assert article.date == timezone.localdate()
    assert article.slug == "jia-yuan-she-qu-kai-zhan-la-ji-fen-lei-xuan-chuan"


def test_help_text_says_start_and_end_are_the_first_session(client, activities):
    client.force_login(user("admin"))
    html = client.get(add_url(ActivityPage, activities)).content.decode()
    assert "重复活动填第一次活动的开始时间" in html
    assert "重复活动填第一次活动的结束时间" in html
    assert "重复活动中不举办的日期" in html


def repeat_panel(html: str) -> str:
    """The opening tag of the 重复活动 panel's section."""
    heading = html.index("重复活动</")
    return html[html.rindex("<section", 0, heading) : heading]


def test_repeat_panel_is_collapsed_only_when_empty(client, activities):
    client.force_login(user("admin"))
    html = client.get(add_url(ActivityPage, activities)).content.decode()
    assert "collapsed" in repeat_panel(html)
    weekly = ActivityPageFactory(
        parent=activities, repeat="WEEKLY", repeat_weekdays=["TU"], repeat_count=4
    )
    sync_occurrences(weekly)
    html = client.get(
        reverse("wagtailadmin_pages:edit", args=[weekly.pk])
    ).content.decode()
    assert "collapsed" not in repeat_panel(html)


def test_defaults_signup_on_and_party_of_four(client, activities):
    page = ActivityPage()
    assert page.registration_required is True
    assert page.max_party_size == 4
    client.force_login(user("admin"))
    data = activity_data(client, activities)
    assert data["registration_required"] == "on"
    assert data["max_party_size"] == "4"
    assert client.post(add_url(ActivityPage, activities), data).status_code == 302
    created = ActivityPage.objects.get(title=TITLE)
    assert created.registration_required and created.max_party_size == 4


def test_signup_form_enforces_the_party_size(activities):
    page = ActivityPageFactory(
        parent=activities, registration_required=True, capacity=20, max_party_size=4
    )
    sync_occurrences(page)
    occurrence = page.occurrences.get()
    fields = {
        "occurrence": occurrence.pk,
        "name": "王芳",
        "phone": "13800001234",
        "consent": "on",
    }
    form = SignUpForm(
        {**fields, "party_size": "4"}, page=page, occurrences=[occurrence]
    )
    assert form.is_valid(), form.errors
    form = SignUpForm(
        {**fields, "party_size": "5"}, page=page, occurrences=[occurrence]
    )
    assert not form.is_valid()
    assert form.errors["party_size"] == ["人数请在 1 到 4 之间选择。"]
