"""Community editors own their community's activities (issue 17, item 1).

A community's activities are children of its ``CommunityPage``, where the
community's editor group (demo account ``jiayuan``, 甲院社区宣传员) holds its one
page permission: Wagtail's page permissions let them add, edit, preview and
submit activities of all three types there, and nothing anywhere else. The
activity's community follows from where it sits. 街道宣传办 (``xuanchuan``)
approves and publishes, and keeps the subdistrict-wide activities under the
活动日历.
"""

from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from wagtail.contrib.redirects.models import Redirect
from wagtail.models import Page, WorkflowState
from wagtail.test.utils.form_data import nested_form_data, streamfield

from events import registration as service
from events.models import (
    ActivityPage,
    EventIndexPage,
    FestivalActivityPage,
    LecturePage,
    Lecturer,
    Occurrence,
)
from events.placement import place_community_activities
from home.models import CommunityPage
from tests.factories import ActivityPageFactory, LecturePageFactory

pytestmark = pytest.mark.django_db

KINDS = {
    "activitypage": (ActivityPage, {}),
    "lecturepage": (LecturePage, {"series": "先锋讲堂", "topic": "老党员讲初心"}),
    "festivalactivitypage": (FestivalActivityPage, {"festival": "中秋节"}),
}
_phones = iter(range(10_000))


def user(username):
    return get_user_model().objects.get(username=username)


@pytest.fixture
def own():
    return CommunityPage.objects.get(slug="jiayuan")


@pytest.fixture
def other():
    return CommunityPage.objects.get(slug="wuyuan")


@pytest.fixture
def index():
    return EventIndexPage.objects.get(slug="activities")


@pytest.fixture
def editor(client):
    client.force_login(user("jiayuan"))
    return client


def form(title, slug, **extra):
    """The add/edit form of an activity as the admin posts it."""
    day = timezone.localdate() + timedelta(days=20)
    return nested_form_data(
        {
            "title": title,
            "slug": slug,
            "start": f"{day:%Y-%m-%d} 09:00",
            "end": f"{day:%Y-%m-%d} 11:00",
            "venue": "甲院社区党群服务中心二楼",
            "organiser": "甲院社区居委会",
            "repeat": "",
            "repeat_until": "",
            "repeat_count": "",
            "excluded_dates": "",
            "summary": "社区活动简介",
            "body": streamfield([]),
            "registration_required": "on",
            "capacity": "20",
            "max_party_size": "2",
            "waitlist_enabled": "on",
            "registration_opens": "",
            "registration_closes": "",
            "status": "scheduled",
            "status_reason": "",
            **extra,
        }
    )


def add_url(model_name, parent):
    return reverse("wagtailadmin_pages:add", args=["events", model_name, parent.pk])


def refused(response) -> bool:
    """Wagtail answers a page action the user may not take with 403, or with a
    redirect to the dashboard and its "no permission" message; the scoped views
    (home/admin_scope.py) with 404 for a page the user may not see."""
    if response.status_code in (403, 404):
        return True
    return response.status_code == 302 and response.url.rstrip("/").endswith("/admin")


def activity_of(community, **fields):
    page = ActivityPageFactory(
        parent=community, registration_required=True, capacity=5, **fields
    )
    page.save_revision().publish()
    return ActivityPage.objects.get(pk=page.pk)


# ---------------------------------------------------------------------------
# Their own community: add, edit, preview, submit
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("model_name", KINDS)
def test_community_editor_adds_each_type_under_own_community(editor, own, model_name):
    model, extra = KINDS[model_name]
    response = editor.get(add_url(model_name, own))
    assert response.status_code == 200
    html = response.content.decode()
    # The community follows from where the page sits: not a field to pick.
    assert 'name="community"' not in html

    slug = f"new-{model_name}"
    response = editor.post(add_url(model_name, own), form("新活动", slug, **extra))
    assert response.status_code == 302, response.content.decode()[:2000]
    page = model.objects.get(slug=slug)
    assert page.get_parent().pk == own.pk
    assert page.community_id == own.pk
    assert not page.live  # a draft until 街道宣传办 approves
    assert page.owner.username == "jiayuan"


def test_the_add_menu_of_own_community_offers_the_three_activity_types(editor, own):
    response = editor.get(reverse("wagtailadmin_pages:add_subpage", args=[own.pk]))
    assert response.status_code == 200
    html = response.content.decode()
    for label in ("社区活动", "讲堂", "节日活动", "新闻"):
        assert label in html


def test_publishing_directly_is_refused_submitting_reaches_the_subdistrict(
    editor, own, django_capture_on_commit_callbacks
):
    response = editor.post(
        add_url("activitypage", own),
        {**form("想直接发布", "try-publish"), "action-publish": "action-publish"},
    )
    assert response.status_code == 302
    page = ActivityPage.objects.get(slug="try-publish")
    assert not page.live and page.live_revision is None
    assert not Occurrence.objects.filter(page_id=page.pk).exists()

    # Edit, preview, submit for approval.
    edit = reverse("wagtailadmin_pages:edit", args=[page.pk])
    assert editor.get(edit).status_code == 200
    preview = reverse("wagtailadmin_pages:preview_on_edit", args=[page.pk])
    data = form("甲院社区书画展", "try-publish")
    response = editor.post(preview, data)
    assert response.json()["is_valid"] is True
    response = editor.get(preview)
    assert response.status_code == 200
    assert "甲院社区书画展" in response.content.decode()

    response = editor.post(edit, {**data, "action-submit": "action-submit"})
    assert response.status_code == 302
    page.refresh_from_db()
    assert not page.live
    state = WorkflowState.objects.get(
        base_content_type__model="page", object_id=str(page.pk), status="in_progress"
    )
    assert state.workflow.name == "街道宣传办审核"

    # 街道宣传办 approves, and with that publishes.
    approver = Client()
    approver.force_login(user("xuanchuan"))
    task_state = state.current_task_state
    with django_capture_on_commit_callbacks(execute=True):
        response = approver.post(
            reverse(
                "wagtailadmin_pages:workflow_action",
                args=[page.pk, "approve", task_state.pk],
            ),
            {"comment": ""},
        )
    assert response.status_code in (200, 302)
    page.refresh_from_db()
    assert page.live and page.title == "甲院社区书画展"
    assert page.community_id == own.pk
    occurrence = Occurrence.objects.get(page_id=page.pk)
    assert occurrence.community_id == own.pk
    # On the calendar, the community page and the community's feed.
    client = Client()
    listed = f"/activities/?community={own.pk}&type=activity"
    assert "甲院社区书画展" in client.get(listed).content.decode()
    assert "甲院社区书画展" in client.get(own.url).content.decode()
    feed = client.get(f"/activities/calendar.ics?community={own.pk}")
    assert "甲院社区书画展" in feed.content.decode()
    assert page.url == f"{own.url}try-publish/"


def test_community_editor_edits_own_activity(editor, own):
    page = activity_of(own, title="旧标题", slug="own-edit")
    edit = reverse("wagtailadmin_pages:edit", args=[page.pk])
    response = editor.post(edit, form("新标题", "own-edit"))
    assert response.status_code == 302
    page.refresh_from_db()
    assert page.get_latest_revision().content["title"] == "新标题"
    assert page.title == "旧标题"  # live stays as approved until the next approval


# ---------------------------------------------------------------------------
# Another community's: nothing
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("model_name", KINDS)
def test_community_editor_cannot_add_under_another_community(
    editor, other, index, model_name
):
    model, extra = KINDS[model_name]
    for parent in (other, index):
        assert refused(editor.get(add_url(model_name, parent)))
        response = editor.post(
            add_url(model_name, parent), form("越界活动", "trespass", **extra)
        )
        assert refused(response)
    assert not Page.objects.filter(slug="trespass").exists()


def test_community_editor_cannot_edit_preview_or_delete_another_communitys(
    editor, other
):
    page = activity_of(other, title="戊院活动", slug="other-act")
    revisions = page.revisions.count()
    edit = reverse("wagtailadmin_pages:edit", args=[page.pk])
    assert refused(editor.get(edit))
    assert refused(editor.post(edit, form("被改掉了", "other-act")))
    preview = reverse("wagtailadmin_pages:preview_on_edit", args=[page.pk])
    assert refused(editor.post(preview, form("被改掉了", "other-act")))
    delete = reverse("wagtailadmin_pages:delete", args=[page.pk])
    assert refused(editor.get(delete))
    assert refused(editor.post(delete))
    unpublish = reverse("wagtailadmin_pages:unpublish", args=[page.pk])
    assert refused(editor.post(unpublish))
    page.refresh_from_db()
    assert page.live and page.title == "戊院活动"
    assert page.revisions.count() == revisions


def test_community_editor_cannot_move_activities_across_communities(
    editor, own, other, index
):
    mine = activity_of(own, title="甲院活动", slug="mine")
    theirs = activity_of(other, title="戊院活动", slug="theirs")

    def move(page, destination):
        url = reverse("wagtailadmin_pages:move_confirm", args=[page.pk, destination.pk])
        return editor.get(url), editor.post(url)

    for page, destination in ((mine, other), (mine, index), (theirs, own)):
        for response in move(page, destination):
            assert refused(response)
    assert refused(editor.get(reverse("wagtailadmin_pages:move", args=[theirs.pk])))
    for page, parent, community in ((mine, own, own), (theirs, other, other)):
        page.refresh_from_db()
        assert page.get_parent().pk == parent.pk
        assert page.community_id == community.pk


def test_community_editor_cannot_copy_across_communities(editor, own, other):
    mine = activity_of(own, title="甲院活动", slug="mine")
    theirs = activity_of(other, title="戊院活动", slug="theirs")
    copy_theirs = reverse("wagtailadmin_pages:copy", args=[theirs.pk])
    assert refused(editor.get(copy_theirs))
    assert refused(
        editor.post(
            copy_theirs,
            {"new_title": "偷来的", "new_slug": "stolen", "new_parent_page": own.pk},
        )
    )
    copy_mine = reverse("wagtailadmin_pages:copy", args=[mine.pk])
    response = editor.post(
        copy_mine,
        {"new_title": "复制到戊院", "new_slug": "copied", "new_parent_page": other.pk},
    )
    assert response.status_code == 200  # the form again, with the refusal
    assert not Page.objects.filter(slug__in=["stolen", "copied"]).exists()

    # Within their own community a copy is theirs, as a draft.
    response = editor.post(
        copy_mine,
        {
            "new_title": "甲院活动（第二场）",
            "new_slug": "mine-2",
            "new_parent_page": own.pk,
        },
    )
    assert response.status_code == 302
    copied = ActivityPage.objects.get(slug="mine-2")
    assert copied.community_id == own.pk and not copied.live


def test_community_editor_cannot_bulk_delete_or_move_another_communitys(
    editor, own, other
):
    theirs = activity_of(other, title="戊院活动", slug="theirs")
    for action in ("delete", "move"):
        url = (
            reverse("wagtail_bulk_action", args=["wagtailcore", "page", action])
            + f"?id={theirs.pk}"
        )
        # The confirmation lists it among the pages they may not act on.
        assert editor.get(url).status_code in (200, 302, 403, 404)
        editor.post(url, {"chooser": own.pk})
    theirs.refresh_from_db()
    assert theirs.live and theirs.get_parent().pk == other.pk


# ---------------------------------------------------------------------------
# Where it sits decides its community
# ---------------------------------------------------------------------------


def test_community_follows_the_tree_whatever_is_set(own, other, index):
    page = ActivityPageFactory(parent=own, community=other, slug="mismatch")
    assert page.community_id == own.pk
    page.community = other
    page.save_revision().publish()
    page.refresh_from_db()
    assert page.community_id == own.pk
    assert Occurrence.objects.get(page_id=page.pk).community_id == own.pk
    subdistrict = ActivityPageFactory(parent=index, community=own, slug="wide")
    assert subdistrict.community_id is None


def test_subdistrict_office_moves_an_activity_and_its_community_follows(
    client, own, other, index
):
    page = activity_of(own, title="挪一挪", slug="moving")
    client.force_login(user("xuanchuan"))
    for destination, community_id in ((other, other.pk), (index, None)):
        url = reverse("wagtailadmin_pages:move_confirm", args=[page.pk, destination.pk])
        assert client.post(url).status_code == 302
        page = ActivityPage.objects.get(pk=page.pk)
        assert page.get_parent().pk == destination.pk
        assert page.community_id == community_id
        assert Occurrence.objects.get(page_id=page.pk).community_id == community_id


# ---------------------------------------------------------------------------
# Sign-ups of their own activities
# ---------------------------------------------------------------------------


def sign(page):
    occurrence = Occurrence.objects.get(page_id=page.pk)
    phone = f"1350000{next(_phones):04d}"
    return service.sign_up(
        page, occurrence.pk, name="测试居民", phone=phone, party_size=1
    ).registration


def test_community_editor_sees_and_checks_in_own_activities_sign_ups(
    editor, own, other, index
):
    mine = sign(activity_of(own, title="甲院报名活动", slug="mine"))
    theirs = sign(activity_of(other, title="戊院报名活动", slug="theirs"))
    wide = sign(
        ActivityPage.objects.get(
            pk=ActivityPageFactory(
                parent=index, registration_required=True, capacity=5
            ).pk
        )
    )
    listing = editor.get(reverse("events_registrations:index")).content.decode()
    assert mine.code in listing
    assert theirs.code not in listing and wide.code not in listing
    assert "测试居民" not in listing  # names masked without the permission

    check_in = "events_registrations:check_in"
    assert editor.post(reverse(check_in, args=[mine.pk])).status_code == 302
    mine.refresh_from_db()
    assert mine.checked_in_at is not None
    for registration in (theirs, wide):
        assert editor.post(reverse(check_in, args=[registration.pk])).status_code == 404
        registration.refresh_from_db()
        assert registration.checked_in_at is None
    door = editor.get(reverse("events_checkin"), {"code": theirs.code})
    assert door.status_code == 404


# ---------------------------------------------------------------------------
# 讲师团: a subdistrict snippet they choose but do not edit
# ---------------------------------------------------------------------------


def test_community_editor_chooses_a_lecturer_but_cannot_edit_the_list(editor):
    lecturer = Lecturer.objects.order_by("pk").first()
    chooser = editor.get(reverse("wagtailsnippetchoosers_events_lecturer:choose"))
    assert chooser.status_code == 200
    assert lecturer.name in chooser.json()["html"]
    add = reverse("wagtailsnippets_events_lecturer:add")
    edit = reverse("wagtailsnippets_events_lecturer:edit", args=[lecturer.pk])
    delete = reverse("wagtailsnippets_events_lecturer:delete", args=[lecturer.pk])
    count = Lecturer.objects.count()
    assert refused(editor.get(add))
    assert refused(editor.post(add, {"name": "新讲师", "title": "老党员"}))
    assert refused(editor.get(edit))
    assert refused(editor.post(edit, {"name": "改名", "title": "老党员"}))
    assert refused(editor.post(delete))
    assert Lecturer.objects.count() == count
    lecturer.refresh_from_db()
    assert lecturer.name != "改名"


def test_subdistrict_office_manages_lecturers(client):
    client.force_login(user("xuanchuan"))
    lecturer = Lecturer.objects.order_by("pk").first()
    edit = reverse("wagtailsnippets_events_lecturer:edit", args=[lecturer.pk])
    assert client.get(edit).status_code == 200


# ---------------------------------------------------------------------------
# Activities from before this layout: moved, old URLs redirect
# ---------------------------------------------------------------------------


def test_old_activity_urls_redirect_after_the_move(client, own, index):
    old = LecturePageFactory(
        parent=index, slug="old-place", registration_required=True, capacity=5
    )
    # As before this layout: under the 活动日历, naming a community.
    LecturePage.objects.filter(pk=old.pk).update(community=own)
    old_url = old.url
    registration = sign(LecturePage.objects.get(pk=old.pk))

    moved = place_community_activities(index)
    assert [page.pk for page in moved] == [old.pk]
    assert place_community_activities(index) == []  # idempotent
    page = LecturePage.objects.get(pk=old.pk)
    assert page.get_parent().pk == own.pk and page.community_id == own.pk
    assert page.url == f"{own.url}old-place/"
    assert Redirect.objects.filter(redirect_page=page).exists()

    for suffix, target in (
        ("", ""),
        ("signup/?occurrence=1", "signup/?occurrence=1"),
        ("calendar.ics", "calendar.ics/"),
        (f"r/{registration.token}/", f"r/{registration.token}/"),
    ):
        response = client.get(old_url + suffix)
        assert response.status_code == 301, suffix
        assert response["Location"].endswith(page.url + target), response["Location"]
    assert client.get(page.url).status_code == 200
    assert client.get("/activities/no-such-thing/").status_code == 404
    # Whatever follows the old path, the answer is a redirect, never a 500.
    response = client.get(old_url + "%0A%0DSet-Cookie:x=1/%E4%B8%AD/")
    assert response.status_code in (301, 404)
    if response.status_code == 301:
        assert "\n" not in response["Location"] and "\r" not in response["Location"]
