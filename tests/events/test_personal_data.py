"""Residents' personal data (个人信息保护法): the privacy notice and its retention
period, the unticked consent box, only the fields an activity asks for, the
retention purge (service, command, task, audit entry) on a frozen clock, and a
resident's cancel-and-erase."""

import csv
import io
import re
from datetime import datetime, timedelta
from io import StringIO
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.forms.models import model_to_dict
from django.test import override_settings
from django.urls import reverse
from wagtail.blocks import StructBlockValidationError
from wagtail.models import ModelLogEntry

from core.blocks import RetentionNoticeBlock
from events import registration as service
from events.models import EventIndexPage, Occurrence, Registration
from events.staff import audit
from events.tasks import purge_expired_personal_data
from events.templatetags.events_tags import registration_counts
from home.models import SiteSettings
from tests.factories import ActivityPageFactory, make_site

pytestmark = pytest.mark.django_db

SHANGHAI = ZoneInfo("Asia/Shanghai")
# Long before the demo's own activities, so that a purge on this clock finds
# only this file's sign-ups and its counts are exact.
START = datetime(2025, 3, 10, 9, 0, tzinfo=SHANGHAI)
END = START + timedelta(hours=2)
FULL_PHONE = re.compile(r"(?<!\d)1[3-9]\d{9}(?!\d)")
CONSENT_MESSAGE = "请阅读隐私说明并勾选同意，才能报名。"


@pytest.fixture
def activities():
    return EventIndexPage.objects.get(slug="activities")


@pytest.fixture
def settings_row(site) -> SiteSettings:
    return SiteSettings.objects.get(site=site)


def set_retention(site, days: int) -> None:
    row = SiteSettings.objects.get(site=site)
    row.registration_retention_days = days
    row.save()


def html(response) -> str:
    return response.content.decode()


def purge_logs():
    return ModelLogEntry.objects.filter(action=audit.PURGE)


# ---------------------------------------------------------------------------
# The privacy notice
# ---------------------------------------------------------------------------


def test_privacy_notice_says_who_what_why_how_long_and_how_to_withdraw(client, site):
    page = SiteSettings.for_site(site).privacy_page
    response = client.get(page.url)
    assert response.status_code == 200
    text = re.sub(r"<[^>]+>", "", html(response))
    for words in (
        "花园路街道办事处",  # who
        "社区居民委员会",
        "姓名、手机号和参加人数",  # what
        "所在社区/楼院",
        "备注",
        "组织活动",  # why
        "签到",
        "通知您",
        "活动结束 90 天后",  # how long: the setting's default
        "取消报名",  # how to withdraw
        "同时删除我的姓名和手机号",
        "0371-65938206",  # contact
    ):
        assert words in text, words
    assert "{天数}" not in text


def test_privacy_notice_shows_the_retention_setting(client, site):
    set_retention(site, 30)
    page = SiteSettings.for_site(site).privacy_page
    text = html(client.get(page.url))
    assert "活动结束 30 天后" in text and "90 天" not in text


@override_settings(PAGE_CACHE_SECONDS=300)
def test_changing_the_setting_updates_a_cached_privacy_notice(client, site):
    from django.core.cache import cache

    cache.clear()
    url = SiteSettings.for_site(site).privacy_page.url
    client.get(url)
    cached = client.get(url)
    assert cached["X-Page-Cache"] == "HIT" and "活动结束 90 天后" in html(cached)
    set_retention(site, 45)
    assert "活动结束 45 天后" in html(client.get(url))


def test_retention_sentence_must_keep_its_placeholder():
    block = RetentionNoticeBlock()
    assert block.clean({"text": "活动结束 {天数} 天后删除。"})
    with pytest.raises(StructBlockValidationError) as caught:
        block.clean({"text": "活动结束 90 天后删除。"})
    assert "请在文字中保留 {天数}" in str(caught.value.block_errors["text"])


@pytest.mark.parametrize(
    "days, message", [(3, "至少保留 7 天"), (400, "最多保留 365 天")]
)
def test_retention_setting_is_validated_in_chinese(
    client, django_user_model, site, settings_row, days, message
):
    with pytest.raises(ValidationError) as caught:
        settings_row.registration_retention_days = days
        settings_row.full_clean()
    assert message in str(caught.value)

    # Through the admin: the form comes back with the message, nothing saved.
    admin = django_user_model.objects.create_superuser("boss", "b@example.com", "x")
    client.force_login(admin)
    url = reverse("wagtailsettings:edit", args=["home", "sitesettings", site.pk])
    stored = SiteSettings.objects.get(pk=settings_row.pk)
    data = {
        key: ("" if value is None else value)
        for key, value in model_to_dict(stored).items()
        if key not in ("id", "site")
    }
    data["registration_retention_days"] = str(days)
    response = client.post(url, data)
    assert response.status_code == 200
    assert message in html(response)
    assert SiteSettings.objects.get(pk=stored.pk).registration_retention_days == 90

    data["registration_retention_days"] = "30"
    assert client.post(url, data).status_code == 302  # the same form saves
    assert SiteSettings.objects.get(pk=stored.pk).registration_retention_days == 30


# ---------------------------------------------------------------------------
# Consent
# ---------------------------------------------------------------------------


@pytest.fixture
def page(activities):
    return ActivityPageFactory(
        parent=activities,
        title="隐私测试活动",
        registration_required=True,
        capacity=5,
    )


def form_data(page, **changes):
    occurrence = Occurrence.objects.get(page_id=page.pk)
    data = {
        "occurrence": str(occurrence.pk),
        "name": "王秀兰",
        "phone": "13912345678",
        "party_size": "1",
        "consent": "on",
        "website": "",
    }
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


def test_consent_box_is_unticked_and_next_to_the_privacy_link(client, page, site):
    response = client.get(page.url + "signup/")
    assert response.status_code == 200
    text = html(response)
    tag = re.search(r"<input[^>]*name=\"consent\"[^>]*>", text).group(0)
    assert 'type="checkbox"' in tag and "checked" not in tag
    label = re.search(
        r"<label>\s*" + re.escape(tag) + r"(.*?)</label>(.*?)</p>", text, re.S
    )
    assert "《隐私说明》" in label.group(1)
    assert "活动结束 90 天后删除" in label.group(1)
    # The link right after the label, a target of its own (a link inside the
    # label was an 18 px target, and a tap on it could tick the box).
    privacy_url = SiteSettings.for_site(site).privacy_page.url
    assert f'href="{privacy_url}"' in label.group(2)


def test_sign_up_without_consent_is_refused_and_writes_nothing(client, page):
    response = client.post(page.url + "signup/", form_data(page, consent=None))
    assert response.status_code == 400
    assert CONSENT_MESSAGE in html(response)
    assert not Registration.objects.filter(page_id=page.pk).exists()
    assert Occurrence.objects.get(page_id=page.pk).taken == 0
    # And with it, the same data goes through; consent time is stored.
    response = client.post(page.url + "signup/", form_data(page))
    assert response.status_code == 303
    assert Registration.objects.get(page_id=page.pk).consented_at is not None


# ---------------------------------------------------------------------------
# Only the fields the activity needs
# ---------------------------------------------------------------------------


def test_optional_fields_are_off_by_default_and_ignored_when_posted(client, page):
    assert not page.ask_household and not page.ask_note
    text = html(client.get(page.url + "signup/"))
    for name, label in (("household", "所在社区/楼院"), ("note", "备注")):
        assert f'name="{name}"' not in text and label not in text
    response = client.post(
        page.url + "signup/",
        form_data(page, household="甲院 3 号楼", note="我的电话 13700001111"),
    )
    assert response.status_code == 303
    registration = Registration.objects.get(page_id=page.pk)
    assert (registration.household, registration.note) == ("", "")
    # The service drops them too, whoever calls it.
    other = service.sign_up(
        page,
        registration.occurrence_id,
        name="李建华",
        phone="13912345679",
        household="乙院",
        note="备注",
    ).registration
    assert (other.household, other.note) == ("", "")


@pytest.mark.parametrize("household, note", [(True, False), (False, True)])
def test_the_editor_turns_each_field_on(client, page, household, note):
    page.ask_household, page.ask_note = household, note
    page.save_revision().publish()
    text = html(client.get(page.url + "signup/"))
    assert ('name="household"' in text) is household
    assert ('name="note"' in text) is note
    response = client.post(
        page.url + "signup/", form_data(page, household="甲院 3 号楼", note="轮椅")
    )
    assert response.status_code == 303
    registration = Registration.objects.get(page_id=page.pk)
    assert registration.household == ("甲院 3 号楼" if household else "")
    assert registration.note == ("轮椅" if note else "")


def test_edit_view_offers_the_two_switches(client, django_user_model, page):
    admin = django_user_model.objects.create_superuser("boss", "b@example.com", "x")
    client.force_login(admin)
    text = html(client.get(reverse("wagtailadmin_pages:edit", args=[page.pk])))
    assert "询问所在社区/楼院" in text and "允许填写备注" in text


def test_staff_listing_and_export_omit_fields_not_asked(
    client, django_user_model, activities, page
):
    asks = ActivityPageFactory(
        parent=activities,
        title="问楼院的活动",
        registration_required=True,
        capacity=5,
        ask_household=True,
        ask_note=True,
    )
    for target, phone in ((page, "13912340001"), (asks, "13912340002")):
        service.sign_up(
            target,
            Occurrence.objects.get(page_id=target.pk).pk,
            name="赵六",
            phone=phone,
            household="丙院 2 号楼",
            note="需要轮椅",
        )
    admin = django_user_model.objects.create_superuser("boss", "b@example.com", "x")
    client.force_login(admin)
    index = reverse("events_registrations:index")

    def headings(target):
        response = client.get(index, {"page": target.pk, "export": "csv"})
        raw = b"".join(response.streaming_content).decode("utf-8-sig")
        rows = list(csv.reader(io.StringIO(raw)))
        return rows[0], rows[1]

    header, row = headings(page)
    assert "所在社区/楼院" not in header and "备注" not in header
    header, row = headings(asks)
    assert header[-2:] == ["所在社区/楼院", "备注"]
    assert row[-2:] == ["丙院 2 号楼", "需要轮椅"]

    listing = html(client.get(index, {"page": page.pk}))
    assert "所在社区/楼院" not in listing and "需要轮椅" not in listing
    listing = html(client.get(index, {"page": asks.pk}))
    assert "所在社区/楼院" in listing and "需要轮椅" in listing


# ---------------------------------------------------------------------------
# Retention purge on a frozen clock
# ---------------------------------------------------------------------------


def snapshot(page) -> dict:
    """Everything but the personal data, per sign-up, and the seats."""
    rows = {
        r.pk: (
            r.code,
            r.token,
            r.status,
            r.party_size,
            r.created_at,
            r.consented_at,
            r.promoted_at,
            r.cancelled_at,
            r.checked_in_at,
        )
        for r in Registration.objects.filter(page_id=page.pk)
    }
    occurrence = Occurrence.objects.get(page_id=page.pk)
    return {"rows": rows, "taken": occurrence.taken, "seats": occurrence.seats_left}


def personal(page) -> list[tuple]:
    return sorted(
        Registration.objects.filter(page_id=page.pk).values_list(
            "name", "phone", "household", "note"
        )
    )


@pytest.fixture
def past(activities, django_user_model):
    """An activity on START (capacity 3) signed up five days before: a party of
    two checked in, one cancelled (which promoted the first on the waitlist), one
    still waitlisted. Three active sign-ups on one occurrence, so that emptying
    their phones must not trip the one-phone-per-occurrence constraint."""
    staff = django_user_model.objects.create_user("door", password="x")
    with time_machine.travel(START - timedelta(days=5), tick=False):
        page = ActivityPageFactory(
            parent=activities,
            title="过期清除测试活动",
            start=START,
            end=END,
            registration_required=True,
            capacity=3,
            ask_household=True,
            ask_note=True,
        )
        occurrence = Occurrence.objects.get(page_id=page.pk)

        def sign(name, phone, size=1):
            return service.sign_up(
                page,
                occurrence.pk,
                name=name,
                phone=phone,
                party_size=size,
                household="甲院 1 号楼",
                note="带孩子",
            ).registration

        couple = sign("王秀兰", "13812345670", 2)
        single = sign("李建华", "13812345671")
        first_waiting = sign("张桂英", "13812345672")
        sign("刘玉梅", "13812345673")
        service.cancel(single.pk)
        service.check_in(couple.pk, user=staff, now=START + timedelta(minutes=5))
    first_waiting.refresh_from_db()
    assert first_waiting.is_confirmed
    return page


def purge_at(moment, **kwargs):
    with time_machine.travel(moment, tick=False):
        return service.purge_personal_data(**kwargs)


@pytest.mark.parametrize("days", [90, 30])
def test_purge_after_the_retention_period_keeps_the_counts(past, site, days):
    if days != 90:
        set_retention(site, days)
    before = snapshot(past)
    counts_before = registration_counts(past)["rows"][0]
    given = personal(past)

    result = purge_at(END + timedelta(days=days - 1))
    assert (result.purged, result.occurrences) == (0, 0)
    assert personal(past) == given
    assert [(r.days, r.site) for r in result.rules] == [(days, str(site))]

    dry = purge_at(END + timedelta(days=days + 1), dry_run=True)
    assert (dry.purged, dry.occurrences) == (4, 1)
    assert personal(past) == given  # a dry run changes nothing …
    assert purge_logs().count() == 1  # … and logs nothing (one entry: day N-1)

    result = purge_at(END + timedelta(days=days + 1))
    assert (result.purged, result.occurrences) == (4, 1)
    assert personal(past) == [(service.ERASED_NAME, "", "", "")] * 4
    assert snapshot(past) == before  # status, sizes, codes, times, seats
    counts = registration_counts(past)["rows"][0]
    assert (
        {k: counts[k] for k in ("confirmed", "waitlisted", "checked_in")}
        == {k: counts_before[k] for k in ("confirmed", "waitlisted", "checked_in")}
        == {"confirmed": 3, "waitlisted": 1, "checked_in": 2}
    )

    again = purge_at(END + timedelta(days=days + 2))
    assert again.purged == 0  # idempotent

    entries = list(purge_logs().order_by("timestamp", "pk"))
    assert [e.data["rows"] for e in entries] == [0, 4, 0]  # one per run
    entry = entries[1]
    assert entry.user is None and entry.label == "报名信息到期清除"
    assert entry.data["occurrences"] == 1 and entry.data["rules"][0]["days"] == days
    assert not FULL_PHONE.search(str(entry.data))


def test_purge_in_batches_writes_one_audit_entry(past):
    result = purge_at(END + timedelta(days=91), batch_size=1)
    assert result.purged == 4
    assert personal(past) == [(service.ERASED_NAME, "", "", "")] * 4
    assert purge_logs().count() == 1


def test_purge_follows_the_deepest_sites_setting(past, activities, site):
    """A second site rooted at 活动日历 keeps sign-ups 30 days; its pages follow
    it, not the default site's 90."""
    other = make_site("huodong.example", activities)
    SiteSettings.objects.create(site=other, registration_retention_days=30)
    result = purge_at(END + timedelta(days=31))
    assert result.purged == 4
    assert sorted((r.site, r.days) for r in result.rules) == sorted(
        [(str(site), 90), (str(other), 30)]
    )


def test_purge_leaves_other_activities_alone(past, page):
    service.sign_up(
        page,
        Occurrence.objects.get(page_id=page.pk).pk,
        name="周德胜",
        phone="13900001111",
    )
    purge_at(END + timedelta(days=91))
    assert personal(page) == [("周德胜", "13900001111", "", "")]


def test_after_the_purge_pages_and_exports_still_work(client, django_user_model, past):
    registration = Registration.objects.filter(page_id=past.pk).first()
    purge_at(END + timedelta(days=91))
    result = client.get(f"{past.url}r/{registration.token}/")
    assert result.status_code == 200
    assert "姓名和手机号已删除" in html(result) and registration.code in html(result)

    admin = django_user_model.objects.create_superuser("boss", "b@example.com", "x")
    client.force_login(admin)
    index = reverse("events_registrations:index")
    listing = client.get(index, {"page": past.pk})
    assert listing.status_code == 200 and service.ERASED_NAME in html(listing)
    export = client.get(index, {"page": past.pk, "export": "csv"})
    rows = list(
        csv.reader(io.StringIO(b"".join(export.streaming_content).decode("utf-8-sig")))
    )
    assert len(rows) == 5 and "所在社区/楼院" not in rows[0]  # nothing left to show
    assert all(row[3] == service.ERASED_NAME and row[4] == "" for row in rows[1:])
    door = client.get(reverse("events_checkin"), {"code": registration.code})
    assert door.status_code == 200 and service.ERASED_NAME in html(door)
    history = reverse("wagtailadmin_reports:site_history")
    report = html(client.get(history, {"action": audit.PURGE}))
    assert "清除过期报名的个人信息 4 条（1 个场次，保留期 90 天）" in report


def test_purge_command_dry_run_days_and_output(past):
    out = StringIO()
    with time_machine.travel(END + timedelta(days=11), tick=False):
        call_command("purge_personal_data", "--dry-run", stdout=out)
        assert "试运行：将清除 0 份报名的个人信息" in out.getvalue()
        call_command("purge_personal_data", "--days", "10", "--dry-run", stdout=out)
        assert "试运行：将清除 4 份报名的个人信息（1 个场次）" in out.getvalue()
        assert "would purge personal data of 4 sign-ups" in out.getvalue()
        assert personal(past)[0][0] != service.ERASED_NAME
        assert not purge_logs().exists()

        call_command("purge_personal_data", "--days", "10", stdout=out)
    assert "已清除 4 份报名的个人信息（1 个场次）" in out.getvalue()
    assert "Purged personal data of 4 sign-ups" in out.getvalue()
    assert personal(past) == [(service.ERASED_NAME, "", "", "")] * 4
    assert purge_logs().get().data["override"] is True

    with pytest.raises(CommandError, match="至少为 1"):
        call_command("purge_personal_data", "--days", "0", stdout=out)


def test_purge_task(past):
    with time_machine.travel(END + timedelta(days=91), tick=False):
        result = purge_expired_personal_data.enqueue()
    assert result.return_value == 4
    assert personal(past) == [(service.ERASED_NAME, "", "", "")] * 4


def test_service_refuses_nonsense_days():
    with pytest.raises(ValueError):
        service.purge_personal_data(days=0)


# ---------------------------------------------------------------------------
# The resident withdraws: cancel and erase
# ---------------------------------------------------------------------------


def test_cancel_page_offers_erasure_and_the_result_page_then_shows_nothing(
    client, page
):
    result_url = client.post(page.url + "signup/", form_data(page))["Location"]
    confirm = html(client.get(result_url + "cancel/"))
    box = re.search(r"<input[^>]*name=\"erase\"[^>]*>", confirm).group(0)
    assert 'type="checkbox"' in box and "checked" not in box  # the resident's choice
    assert "同时删除我的姓名和手机号" in confirm

    client.post(result_url + "cancel/", {"erase": "1"})
    registration = Registration.objects.get(page_id=page.pk)
    assert registration.status == "cancelled" and registration.is_erased
    text = html(client.get(result_url))
    assert "报名已取消" in text and "姓名和手机号已删除" in text
    assert "王" not in re.sub(r"<[^>]+>", "", text.split("报名人", 1)[1])[:20]
    assert "139****5678" not in text and not FULL_PHONE.search(text)
    assert "您的姓名和手机号已删除" in html(client.get(result_url + "cancel/"))


def test_cancelled_without_erasing_can_still_erase_later(client, page):
    result_url = client.post(page.url + "signup/", form_data(page))["Location"]
    client.post(result_url + "cancel/", {})
    registration = Registration.objects.get(page_id=page.pk)
    assert registration.status == "cancelled" and registration.phone == "13912345678"
    text = html(client.get(result_url))
    assert "139****5678" in text and "立即删除" in text
    page_text = html(client.get(result_url + "cancel/"))
    assert "删除我的姓名和手机号" in page_text
    client.post(result_url + "cancel/", {"erase": "1"})
    registration.refresh_from_db()
    assert registration.is_erased and registration.household == ""
    assert "139****5678" not in html(client.get(result_url))


def test_result_page_masks_the_phone(client, page):
    result_url = client.post(page.url + "signup/", form_data(page))["Location"]
    text = html(client.get(result_url))
    assert "王**" in text and "139****5678" in text
    assert not FULL_PHONE.search(text)
