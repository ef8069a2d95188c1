"""The staff side of sign-ups in the admin: 报名管理 listing (filters, search,
export, masking), the row actions 签到 / 取消报名, the door page 现场签到, the audit
log and the counts panel on an activity's edit view."""

import csv
import io
import re
from datetime import datetime, time, timedelta

import openpyxl
import pytest
from django.contrib.auth.models import Permission
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from wagtail.models import ModelLogEntry

from events import registration as service
from events.errors import BusyError
from events.models import EventIndexPage, Occurrence, Registration
from events.staff import audit
from home.models import CommunityPage
from tests.factories import ActivityPageFactory

pytestmark = pytest.mark.django_db

INDEX = "events_registrations:index"
FULL_PHONE = re.compile(r"(?<!\d)1[3-9]\d{9}(?!\d)")
PERMS = {
    "admin": ("wagtailadmin", "access_admin"),
    "view": ("events", "view_registration"),
    "change": ("events", "change_registration"),
    "personal": ("events", "view_personal_data"),
}


# ---------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------


@pytest.fixture
def activities():
    return EventIndexPage.objects.get(slug="activities")


def make_user(django_user_model, username, *perms, groups=()):
    user = django_user_model.objects.create_user(username=username, password="x")
    for key in ("admin", *perms):
        app_label, codename = PERMS[key]
        user.user_permissions.add(
            Permission.objects.get(content_type__app_label=app_label, codename=codename)
        )
    for group in groups:
        user.groups.add(group)
    return user


@pytest.fixture
def boss(django_user_model):
    return django_user_model.objects.create_superuser(
        username="boss", password="x", email="boss@example.com"
    )


@pytest.fixture
def viewer(django_user_model):
    """May see the listing, not personal data, may not change anything."""
    return make_user(django_user_model, "viewer", "view")


@pytest.fixture
def door(django_user_model):
    """Door staff: view and change (check in / cancel), no personal data."""
    return make_user(django_user_model, "door", "view", "change")


def at(days: int, hour: int = 9):
    day = timezone.localdate() + timedelta(days=days)
    return timezone.make_aware(datetime.combine(day, time(hour)))


def make_activity(activities, **fields):
    fields = {"registration_required": True, "capacity": 2, **fields}
    page = ActivityPageFactory(parent=activities, **fields)
    return page, Occurrence.objects.get(page_id=page.pk)


_phones = iter(range(10_000))


def sign(page, occurrence, name="测试居民", party_size=1, **fields):
    phone = f"1370000{next(_phones):04d}"
    return service.sign_up(
        page, occurrence.pk, name=name, phone=phone, party_size=party_size, **fields
    ).registration


def html(response) -> str:
    return response.content.decode()


def logs(action, registration=None):
    entries = ModelLogEntry.objects.filter(action=action)
    if registration is not None:
        entries = entries.filter(object_id=str(registration.pk))
    return entries


def reload(registration):
    return Registration.objects.get(pk=registration.pk)


# ---------------------------------------------------------------------------
# Listing, masking, permissions
# ---------------------------------------------------------------------------


def test_superuser_sees_full_names_and_phones(client, boss, activities):
    page, occurrence = make_activity(activities, title="全名测试活动")
    a = sign(page, occurrence, name="张三丰")
    b = sign(page, occurrence, name="李四", party_size=1)
    client.force_login(boss)
    response = client.get(reverse(INDEX), {"page": page.pk})
    assert response.status_code == 200
    text = html(response)
    for registration in (a, b):
        assert registration.code in text
        assert registration.phone in text
        assert registration.name in text
    assert "全名测试活动" in text
    assert f"{occurrence.local_start:%Y-%m-%d %H:%M}" in text
    for heading in (
        "报名码",
        "活动",
        "场次",
        "姓名",
        "手机号",
        "人数",
        "状态",
        "签到时间",
    ):
        assert heading in text
    assert "报名时间" in text


def test_without_personal_data_permission_everything_is_masked(
    client, viewer, activities
):
    page, occurrence = make_activity(activities)
    registration = sign(page, occurrence, name="王小明", household="3号楼", note="备注")
    client.force_login(viewer)

    everything = html(client.get(reverse(INDEX)))  # the demo's sign-ups too
    assert "137****" in everything or "139****" in everything
    assert not FULL_PHONE.search(everything)
    listing = html(client.get(reverse(INDEX), {"page": page.pk}))
    assert registration.code in listing
    assert registration.masked_phone in listing
    assert registration.masked_name in listing
    assert "王小明" not in listing
    assert not FULL_PHONE.search(listing)

    results = html(client.get(reverse("events_registrations:index_results")))
    assert not FULL_PHONE.search(results)

    export = client.get(reverse(INDEX), {"export": "csv"})  # everything
    assert export.status_code == 200
    text = b"".join(export.streaming_content).decode("utf-8-sig")
    assert registration.masked_phone in text
    assert not FULL_PHONE.search(text)
    assert "王小明" not in text
    assert "3号楼" not in text and "所在社区/楼院" not in text

    xlsx = client.get(reverse(INDEX), {"export": "xlsx"})
    sheet = openpyxl.load_workbook(io.BytesIO(b"".join(xlsx.streaming_content))).active
    cells = [str(c) for row in sheet.iter_rows(values_only=True) for c in row]
    assert registration.masked_phone in cells
    assert not any(FULL_PHONE.search(c) for c in cells)

    # The door page too, and a listing view by a masked user is not a "reveal".
    door_page = html(client.get(reverse("events_checkin"), {"code": registration.code}))
    assert registration.masked_phone in door_page
    assert not FULL_PHONE.search(door_page)
    assert not logs(audit.VIEW_PERSONAL_DATA).filter(user=viewer).exists()


def test_masked_search_needs_the_full_phone_or_name(client, viewer, activities):
    page, occurrence = make_activity(activities)
    registration = sign(page, occurrence, name="赵大海")
    client.force_login(viewer)

    def found(q):
        return registration.code in html(
            client.get(reverse(INDEX), {"page": page.pk, "q": q})
        )

    assert found(registration.phone)
    assert found("赵大海")
    assert not found(registration.phone[:7])  # would uncover the masked digits
    assert not found("大海")


def test_listing_needs_view_permission(client, django_user_model, activities):
    page, occurrence = make_activity(activities)
    registration = sign(page, occurrence)
    nobody = make_user(django_user_model, "nobody")  # admin access only
    client.force_login(nobody)
    urls = [
        reverse(INDEX),
        reverse(INDEX) + "?export=csv",
        reverse("events_registrations:history", args=[registration.pk]),
        reverse("events_checkin") + f"?code={registration.code}",
    ]
    for url in urls:
        response = client.get(url)
        assert response.status_code in (302, 403), url
        assert registration.phone not in html(response)
    home = html(client.get(reverse("wagtailadmin_home")))
    assert '"url": "/admin/registrations/"' not in home
    assert '"url": "/admin/checkin/"' not in home

    client.logout()
    response = client.get(reverse(INDEX))
    assert response.status_code == 302
    assert reverse("wagtailadmin_login") in response["Location"]


def test_menu_items_for_staff(client, viewer):
    client.force_login(viewer)
    # The sidebar is rendered from JSON (labels \u-escaped).
    text = html(client.get(reverse("wagtailadmin_home")))
    assert '"label": "\\u62a5\\u540d\\u7ba1\\u7406"' in text  # 报名管理
    assert '"url": "/admin/registrations/"' in text
    assert '"url": "/admin/checkin/"' in text


# ---------------------------------------------------------------------------
# Filters and search
# ---------------------------------------------------------------------------


def test_filters_and_search(client, boss, activities, django_user_model):
    page, occurrence = make_activity(activities, capacity=2, start=at(200, 9))
    other, other_occurrence = make_activity(activities, capacity=5, start=at(201, 9))
    confirmed = sign(page, occurrence, name="甲一", party_size=2)
    waiting = sign(page, occurrence, name="乙二")
    elsewhere = sign(other, other_occurrence, name="丙三")
    service.check_in(elsewhere.pk, user=boss)
    assert waiting.status == "waitlisted"
    client.force_login(boss)

    def codes(**params):
        text = html(client.get(reverse(INDEX), params))
        return {r.code for r in (confirmed, waiting, elsewhere) if r.code in text}

    assert codes(date=at(200).date().isoformat()) == {confirmed.code, waiting.code}
    assert codes(page=page.pk) == {confirmed.code, waiting.code}
    assert codes(page=page.pk, status="waitlisted") == {waiting.code}
    assert codes(occurrence=other_occurrence.pk) == {elsewhere.code}
    assert codes(page=other.pk, occurrence=other_occurrence.pk) == {elsewhere.code}
    assert codes(checked_in="true", date=at(201).date().isoformat()) == {elsewhere.code}
    assert codes(checked_in="false", page=page.pk) == {confirmed.code, waiting.code}
    # Search: code as typed at the door, any part of the name or phone.
    spaced = " ".join(confirmed.code.lower())
    assert codes(q=spaced) == {confirmed.code}
    assert codes(q="丙三") == {elsewhere.code}
    assert codes(q=waiting.phone[-6:]) == {waiting.code}
    assert codes(q=f"{waiting.phone[:3]} {waiting.phone[3:7]} {waiting.phone[7:]}") == {
        waiting.code
    }
    assert codes(page=page.pk, q="nothing-like-this") == set()
    assert codes(q="甲一") == {confirmed.code}


def test_link_from_a_page_without_sign_ups_still_filters(client, boss, activities):
    page, _ = make_activity(activities, registration_required=False, capacity=None)
    client.force_login(boss)
    response = client.get(reverse(INDEX), {"page": page.pk})
    assert response.status_code == 200
    text = html(response)
    assert page.title in text  # shown as the active filter
    assert 'class="registration-actions"' not in text  # not everyone's sign-ups


# ---------------------------------------------------------------------------
# Export
# ---------------------------------------------------------------------------


def test_csv_and_xlsx_export_with_personal_data(client, boss, activities):
    page, occurrence = make_activity(
        activities,
        title="导出测试活动",
        capacity=3,
        ask_household=True,
        ask_note=True,
    )
    first = sign(page, occurrence, name="=HYPERLINK(1)", household="5号院", note="轮椅")
    second = sign(page, occurrence, name="钱七", party_size=2)
    service.check_in(second.pk, user=boss)
    client.force_login(boss)

    response = client.get(reverse(INDEX), {"page": page.pk, "export": "csv"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    raw = b"".join(response.streaming_content)
    assert raw.startswith("\ufeff".encode())  # opens in Excel / WPS as UTF-8
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    assert rows[0] == [
        "报名码",
        "活动",
        "场次",
        "姓名",
        "手机号",
        "人数",
        "状态",
        "签到时间",
        "报名时间",
        "所在社区/楼院",
        "备注",
    ]
    by_code = {row[0]: row for row in rows[1:]}
    assert set(by_code) == {first.code, second.code}
    row = by_code[second.code]
    assert row[1] == "导出测试活动"
    assert row[2] == f"{occurrence.local_start:%Y-%m-%d %H:%M}"
    assert row[3:7] == ["钱七", second.phone, "2", "已报名"]
    assert (
        row[7] == f"{timezone.localtime(reload(second).checked_in_at):%Y-%m-%d %H:%M}"
    )
    assert by_code[first.code][3] == "'=HYPERLINK(1)"  # no formula in Excel
    assert by_code[first.code][9:] == ["5号院", "轮椅"]

    response = client.get(reverse(INDEX), {"page": page.pk, "export": "xlsx"})
    assert response.status_code == 200
    book = openpyxl.load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    assert book.sheetnames == ["报名名单"]  # not Wagtail's "Sheet1"
    sheet = book.active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:5] == ("报名码", "活动", "场次", "姓名", "手机号")
    by_code = {row[0]: row for row in rows[1:]}
    assert by_code[second.code][4] == second.phone  # text, not a number
    assert by_code[second.code][2] == occurrence.local_start.replace(tzinfo=None)
    assert by_code[first.code][3] == "=HYPERLINK(1)"
    assert sheet.cell(row=2, column=4).data_type == "s"

    exports = logs(audit.EXPORT).filter(user=boss).order_by("timestamp", "pk")
    assert [e.data["format"] for e in exports] == ["csv", "xlsx"]
    assert exports[0].data["rows"] == 2 and exports[0].data["personal_data"] is True
    assert exports[0].label == "报名名单：导出测试活动"


# ---------------------------------------------------------------------------
# The door page
# ---------------------------------------------------------------------------


def test_door_check_in_with_a_code_typed_in_lower_case_with_spaces(
    client, door, activities
):
    page, occurrence = make_activity(activities, title="门口签到活动")
    registration = sign(page, occurrence, name="孙八", party_size=2)
    typed = " " + " ".join(registration.code.lower()) + " "
    client.force_login(door)

    response = client.get(reverse("events_checkin"))
    assert response.status_code == 200
    assert 'autocapitalize="characters"' in html(response)
    assert "autofocus" in html(response)

    response = client.get(reverse("events_checkin"), {"code": typed})
    assert response.status_code == 200
    text = html(response)
    assert "门口签到活动" in text
    assert "孙*" in text and "孙八" not in text
    assert "已报名" in text
    assert "确认签到" in text
    assert reload(registration).checked_in_at is None  # GET changes nothing

    response = client.post(reverse("events_checkin"), {"code": typed}, follow=True)
    assert response.status_code == 200
    text = html(response)
    assert "签到成功" in text
    checked = reload(registration)
    assert checked.checked_in_at is not None
    assert checked.checked_in_by == door
    assert f"已签到 {timezone.localtime(checked.checked_in_at):%H:%M}" in text
    assert "确认签到" not in text
    entry = logs(audit.CHECK_IN, registration).get()
    assert entry.user == door
    assert entry.data["code"] == registration.code
    assert registration.phone not in entry.label + str(entry.data)
    assert "孙八" not in entry.label + str(entry.data)

    # A second scan says so and logs nothing more.
    response = client.post(reverse("events_checkin"), {"code": typed}, follow=True)
    assert "已于" in html(response) and "无需重复签到" in html(response)
    assert logs(audit.CHECK_IN, registration).count() == 1


def test_door_page_with_personal_data_shows_the_full_name(
    client, django_user_model, activities
):
    user = make_user(django_user_model, "fulldoor", "view", "change", "personal")
    page, occurrence = make_activity(activities)
    registration = sign(page, occurrence, name="周九")
    client.force_login(user)
    text = html(client.get(reverse("events_checkin"), {"code": registration.code}))
    assert "周九" in text and registration.phone in text


def test_door_page_unknown_code(client, door):
    client.force_login(door)
    response = client.get(reverse("events_checkin"), {"code": "zz zz 99"})
    assert response.status_code == 404
    assert "没有找到报名码 ZZZZ99，请核对" in html(response)
    assert 'name="code"' in html(response)
    response = client.post(reverse("events_checkin"), {"code": "nope"})
    assert response.status_code == 404
    assert "没有找到报名码 NOPE" in html(response)
    response = client.post(reverse("events_checkin"), {})
    assert response.status_code == 404


def test_door_page_view_only_user_cannot_check_in(client, viewer, activities):
    page, occurrence = make_activity(activities)
    registration = sign(page, occurrence)
    client.force_login(viewer)
    text = html(client.get(reverse("events_checkin"), {"code": registration.code}))
    assert "确认签到" not in text
    assert "没有签到权限" in text
    response = client.post(reverse("events_checkin"), {"code": registration.code})
    assert response.status_code in (302, 403)
    assert reload(registration).checked_in_at is None


def test_check_in_refused_for_waitlisted_and_cancelled(client, door, activities):
    page, occurrence = make_activity(activities, capacity=1)
    confirmed = sign(page, occurrence)
    waiting = sign(page, occurrence)
    gone = sign(page, occurrence)
    service.cancel(gone.pk)
    assert reload(waiting).status == "waitlisted"
    client.force_login(door)

    response = client.post(
        reverse("events_registrations:check_in", args=[waiting.pk]), follow=True
    )
    assert "还在候补中" in html(response)
    response = client.post(reverse("events_checkin"), {"code": gone.code}, follow=True)
    assert "已取消，不能签到" in html(response)
    text = html(client.get(reverse("events_checkin"), {"code": waiting.code}))
    assert "候补" in text and "确认签到" not in text

    assert reload(waiting).status == "waitlisted"
    assert reload(gone).status == "cancelled"
    for registration in (waiting, gone):
        assert reload(registration).checked_in_at is None
        assert not logs(audit.CHECK_IN, registration).exists()
    assert reload(confirmed).checked_in_at is None


def test_busy_lock_is_a_message_not_a_500(client, door, activities, monkeypatch):
    page, occurrence = make_activity(activities)
    registration = sign(page, occurrence)
    client.force_login(door)

    def busy(*args, **kwargs):
        raise BusyError()

    monkeypatch.setattr(service, "cancel", busy)
    url = reverse("events_registrations:cancel", args=[registration.pk])
    response = client.post(url, follow=True)
    assert response.status_code == 200
    assert "系统繁忙，请稍后再试" in html(response)
    for failure in (busy,):
        monkeypatch.setattr(service, "check_in", failure)
        response = client.post(
            reverse("events_checkin"), {"code": registration.code}, follow=True
        )
        assert response.status_code == 200
        assert "系统繁忙，请稍后再试" in html(response)
    after = reload(registration)
    assert after.status == "confirmed" and after.checked_in_at is None
    assert not ModelLogEntry.objects.for_instance(registration).exists()


# ---------------------------------------------------------------------------
# Row actions
# ---------------------------------------------------------------------------


def test_check_in_row_action(client, door, activities):
    page, occurrence = make_activity(activities)
    registration = sign(page, occurrence)
    client.force_login(door)
    listing = reverse(INDEX) + f"?page={page.pk}"
    text = html(client.get(listing))
    action = reverse("events_registrations:check_in", args=[registration.pk])
    assert f'action="{action}"' in text
    assert "csrfmiddlewaretoken" in text

    response = client.post(action, {"next": listing})
    assert response.status_code == 302
    assert response["Location"] == listing
    assert reload(registration).checked_in_at is not None
    assert logs(audit.CHECK_IN, registration).count() == 1


def test_row_actions_need_csrf(door, activities):
    from django.test import Client

    page, occurrence = make_activity(activities)
    registration = sign(page, occurrence)
    client = Client(enforce_csrf_checks=True)
    client.force_login(door)
    for name in ("check_in", "cancel"):
        url = reverse(f"events_registrations:{name}", args=[registration.pk])
        assert client.post(url).status_code == 403
    after = reload(registration)
    assert after.checked_in_at is None and after.status == "confirmed"


def test_cancel_promotes_the_first_waitlisted(client, door, activities):
    page, occurrence = make_activity(activities, capacity=2)
    leaving = sign(page, occurrence, party_size=2)
    first = sign(page, occurrence, party_size=2)
    second = sign(page, occurrence, party_size=1)
    assert reload(first).status == reload(second).status == "waitlisted"
    client.force_login(door)
    url = reverse("events_registrations:cancel", args=[leaving.pk])

    response = client.get(url)
    assert response.status_code == 200
    text = html(response)
    assert "确认取消报名" in text and leaving.code in text
    assert "候补" in text
    assert reload(leaving).status == "confirmed"  # GET changes nothing

    response = client.post(url, follow=True)
    assert response.status_code == 200
    text = html(response)
    assert "已取消报名" in text and first.code in text
    cancelled = reload(leaving)
    assert cancelled.status == "cancelled"
    assert cancelled.cancelled_by == door
    assert reload(first).status == "confirmed"
    assert reload(second).status == "waitlisted"  # strict first come, first served
    occurrence.refresh_from_db()
    assert occurrence.taken == 2

    entry = logs(audit.CANCEL, leaving).get()
    assert entry.user == door and entry.data["promoted"] == [first.code]
    promote = logs(audit.PROMOTE, first).get()
    assert promote.data["freed_by"] == leaving.code

    # Cancelling again changes nothing and logs nothing.
    client.post(url)
    assert logs(audit.CANCEL, leaving).count() == 1


def test_get_on_action_urls_changes_nothing(client, door, activities):
    page, occurrence = make_activity(activities)
    registration = sign(page, occurrence)
    client.force_login(door)
    response = client.get(
        reverse("events_registrations:check_in", args=[registration.pk])
    )
    assert response.status_code == 302
    assert response["Location"] == (
        reverse("events_checkin") + f"?code={registration.code}"
    )
    assert (
        client.get(
            reverse("events_registrations:cancel", args=[registration.pk])
        ).status_code
        == 200
    )
    after = reload(registration)
    assert after.status == "confirmed" and after.checked_in_at is None
    assert not logs(audit.CHECK_IN, registration).exists()
    assert not logs(audit.CANCEL, registration).exists()


def test_garbage_posts_are_404(client, door):
    client.force_login(door)
    for name in ("check_in", "cancel"):
        url = reverse(f"events_registrations:{name}", args=[987654321])
        assert client.post(url).status_code == 404
        assert client.get(url).status_code == 404
    for path in ("check-in", "cancel"):
        response = client.post(f"/admin/registrations/{path}/abc/")
        assert response.status_code == 404
        response = client.post(f"/admin/registrations/{path}/-1/")
        assert response.status_code == 404


def test_actions_need_change_permission(client, viewer, activities):
    page, occurrence = make_activity(activities)
    registration = sign(page, occurrence)
    client.force_login(viewer)
    text = html(client.get(reverse(INDEX), {"page": page.pk}))
    assert "取消报名…" not in text
    for name in ("check_in", "cancel"):
        url = reverse(f"events_registrations:{name}", args=[registration.pk])
        assert client.post(url).status_code in (302, 403)
    after = reload(registration)
    assert after.status == "confirmed" and after.checked_in_at is None


def test_no_add_edit_or_delete_views():
    from django.urls import NoReverseMatch

    for name in ("add", "edit", "delete", "copy", "usage"):
        with pytest.raises(NoReverseMatch):
            args = [] if name == "add" else [1]
            reverse(f"events_registrations:{name}", args=args)


# ---------------------------------------------------------------------------
# Audit log
# ---------------------------------------------------------------------------


def test_log_entries_show_in_site_history_and_registration_history(
    client, boss, activities
):
    page, occurrence = make_activity(activities, title="日志测试活动")
    registration = sign(page, occurrence)
    client.force_login(boss)
    client.post(reverse("events_registrations:check_in", args=[registration.pk]))
    client.get(reverse(INDEX), {"page": page.pk})  # a reveal of personal data

    reveal = logs(audit.VIEW_PERSONAL_DATA).filter(user=boss).get()
    assert reveal.object_id == str(audit.LIST_OBJECT_ID)
    assert reveal.label == "报名名单：日志测试活动"
    assert reveal.data["rows"] == 1

    report = html(client.get(reverse("wagtailadmin_reports:site_history")))
    assert f"签到：报名码 {registration.code}" in report
    assert "查看报名名单，显示完整姓名和手机号 1 条" in report
    assert reverse("events_checkin") + f"?code={registration.code}" in report
    filtered = html(
        client.get(
            reverse("wagtailadmin_reports:site_history"),
            {"action": audit.CHECK_IN},
        )
    )
    assert registration.code in filtered

    history = client.get(
        reverse("events_registrations:history", args=[registration.pk])
    )
    assert history.status_code == 200
    assert f"签到：报名码 {registration.code}" in html(history)


def test_staff_with_view_permission_see_registration_log_entries(
    client, door, viewer, activities
):
    page, occurrence = make_activity(activities)
    registration = sign(page, occurrence)
    client.force_login(door)
    client.post(reverse("events_registrations:check_in", args=[registration.pk]))
    client.force_login(viewer)
    report = html(client.get(reverse("wagtailadmin_reports:site_history")))
    assert f"签到：报名码 {registration.code}" in report


def test_log_action_labels_are_registered():
    from wagtail.log_actions import registry

    choices = dict(registry.get_choices())
    assert choices[audit.CHECK_IN] == "报名签到"
    assert choices[audit.CANCEL] == "取消报名（工作人员）"
    assert choices[audit.EXPORT] == "导出报名名单"


# ---------------------------------------------------------------------------
# Query counts
# ---------------------------------------------------------------------------


def _listing_queries(client, activities, n: int, days: int) -> int:
    pages = [
        make_activity(activities, capacity=None, start=at(days, 8 + i))
        for i in range(5)
    ]
    for i in range(n):
        page, occurrence = pages[i % len(pages)]
        sign(page, occurrence, name=f"居民{i}")
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(reverse(INDEX), {"date": at(days).date().isoformat()})
    assert response.status_code == 200
    assert html(response).count('class="registration-actions"') == n
    return len(ctx.captured_queries)


@pytest.mark.parametrize("who", ["boss", "door"])
def test_listing_query_count_does_not_grow_with_rows(client, activities, who, request):
    client.force_login(request.getfixturevalue(who))
    client.get(reverse(INDEX))  # warm caches (content types, permissions)
    few = _listing_queries(client, activities, 5, 300)
    many = _listing_queries(client, activities, 40, 310)
    assert few == many, (few, many)
    print(f"\nlisting queries for {who}: {few} (5 rows) / {many} (40 rows)")


# ---------------------------------------------------------------------------
# Counts on the activity's edit view
# ---------------------------------------------------------------------------


def test_counts_panel_on_the_edit_view(client, boss, activities):
    page, occurrence = make_activity(activities, capacity=3)
    a = sign(page, occurrence, party_size=2)
    sign(page, occurrence, party_size=1)
    sign(page, occurrence, party_size=2)  # waitlisted
    service.check_in(a.pk, user=boss)
    client.force_login(boss)
    response = client.get(reverse("wagtailadmin_pages:edit", args=[page.pk]))
    assert response.status_code == 200
    text = html(response)
    for heading in ("已报名人数", "候补", "已签到", "剩余名额"):
        assert heading in text
    table = text[text.index("registration-counts__table") :]
    table = table[: table.index("</table>")]
    cells = re.findall(r"<td>(\d+|不限)</td>", table)
    assert cells == ["3", "2", "2", "0"]
    assert "查看报名名单" in text
    assert f"{reverse(INDEX)}?page={page.pk}" in text


def test_counts_panel_unlimited_and_unsaved(client, boss, activities):
    page, _ = make_activity(activities, capacity=None)
    client.force_login(boss)
    text = html(client.get(reverse("wagtailadmin_pages:edit", args=[page.pk])))
    assert "<td>不限</td>" in text
    past, _ = make_activity(activities, start=at(-10))
    text = html(client.get(reverse("wagtailadmin_pages:edit", args=[past.pk])))
    assert "最近举行的场次" in text
    add = reverse(
        "wagtailadmin_pages:add", args=["events", "activitypage", activities.pk]
    )
    response = client.get(add)
    assert response.status_code == 200
    assert "保存并发布活动后" in html(response)


# ---------------------------------------------------------------------------
# Community scope and permissions in the group editor
# ---------------------------------------------------------------------------


def test_community_editors_see_only_their_communitys_sign_ups(
    client, django_user_model, activities
):
    from django.contrib.auth.models import Group

    jiayuan = CommunityPage.objects.get(slug="jiayuan")
    group = Group.objects.get(name=f"{jiayuan.title}宣传员")
    editor = make_user(django_user_model, "jy", "view", "change", groups=[group])
    own_page, own_occurrence = make_activity(jiayuan)
    all_page, all_occurrence = make_activity(activities)
    own = sign(own_page, own_occurrence)
    theirs = sign(all_page, all_occurrence)
    client.force_login(editor)

    text = html(client.get(reverse(INDEX)))
    assert own.code in text and theirs.code not in text
    response = client.get(reverse("events_checkin"), {"code": theirs.code})
    assert response.status_code == 404
    assert f"没有找到报名码 {theirs.code}" in html(response)
    response = client.post(reverse("events_registrations:check_in", args=[theirs.pk]))
    assert response.status_code == 404
    assert reload(theirs).checked_in_at is None


def test_registration_permissions_offered_in_the_group_editor(client, boss):
    from django.contrib.auth.models import Group

    client.force_login(boss)
    group = Group.objects.get(name="街道宣传办")
    text = html(client.get(reverse("wagtailusers_groups:edit", args=[group.pk])))
    assert "查看报名人姓名和手机号" in text
