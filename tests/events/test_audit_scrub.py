"""The audit log keeps no key to a person once their data goes: staff searches are
stored masked, and a sign-up's entries are scrubbed (no code, no masked phone) in
the transaction that erases or purges it; entries written before are masked and
scrubbed by migration 0006."""

import importlib
import json
from datetime import timedelta

import pytest
from django.apps import apps
from django.contrib.auth.models import Permission
from django.contrib.contenttypes.models import ContentType
from django.urls import reverse
from django.utils import timezone
from wagtail.models import ModelLogEntry

from events import registration as service
from events.models import EventIndexPage, Occurrence, Registration
from events.privacy import SCRUBBED_LABEL, mask_search_term
from events.staff import audit
from tests.factories import ActivityPageFactory

pytestmark = pytest.mark.django_db

GUO = ("郭振华", "13712340001")
LI = ("李秀英", "13712340002")
WANG = ("王建国", "13712340003")


@pytest.fixture
def page(db):
    index = EventIndexPage.objects.get(slug="activities")
    return ActivityPageFactory(
        parent=index,
        title="清除审计测试活动",
        registration_required=True,
        capacity=2,
        waitlist_enabled=True,
    )


@pytest.fixture
def boss(django_user_model):
    user = django_user_model.objects.create_user("boss", password="x")
    for codename in (
        "access_admin",
        "view_registration",
        "change_registration",
        "view_personal_data",
    ):
        user.user_permissions.add(Permission.objects.get(codename=codename))
    return user


def sign(page, person):
    occurrence = Occurrence.objects.get(page_id=page.pk)
    name, phone = person
    return service.sign_up(page, occurrence.pk, name=name, phone=phone).registration


def entries_of(*registrations):
    return ModelLogEntry.objects.filter(
        content_type=ContentType.objects.get_for_model(Registration),
        object_id__in=[str(r.pk) for r in registrations],
    )


def everything_logged() -> str:
    return "\n".join(
        e.label + json.dumps(e.data, ensure_ascii=False)
        for e in ModelLogEntry.objects.all()
    )


def assert_scrubbed(entry, registration):
    text = entry.label + json.dumps(entry.data, ensure_ascii=False)
    assert entry.label == SCRUBBED_LABEL
    assert registration.code not in text
    assert registration.masked_phone[:3] + "****" not in text
    assert entry.data["scrubbed"] is True
    assert entry.data["page_title"] == "清除审计测试活动"


# ---------------------------------------------------------------------------
# Search terms
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "kept"),
    [
        ("13712340001", "137****0001"),
        (" 137 1234 0001 ", "137****0001"),
        ("137-1234-0001", "137****0001"),
        ("+86 137 1234 0001", "+861******0001"),
        ("1371234", "137****"),
        ("0001", "0001"),  # the last four, as typed at the door
        ("郭振华", "郭**"),
        ("郭", "郭*"),
        ("HRPDGJ", "H*****"),
        ("郭振华 13712340001", "郭** 137****0001"),
        ("郭振华13712340001", "郭**137****0001"),
        ("", ""),
    ],
)
def test_search_terms_are_masked(typed, kept):
    assert mask_search_term(typed) == kept


def test_staff_searches_are_logged_masked(client, page, boss):
    sign(page, GUO)
    client.force_login(boss)
    index = reverse("events_registrations:index")
    for q in (GUO[1], GUO[0]):
        response = client.get(index, {"q": q})
        assert response.status_code == 200
        assert GUO[1] in response.content.decode()  # the staff member sees it
    export = client.get(index, {"q": GUO[1], "export": "csv", "status": "confirmed"})
    assert export.status_code == 200
    logged = ModelLogEntry.objects.filter(
        user=boss, action__in=[audit.VIEW_PERSONAL_DATA, audit.EXPORT]
    ).order_by("pk")
    assert [e.data["filters"] for e in logged] == [
        {"q": "137****0001"},
        {"q": "郭**"},
        {"q": "137****0001", "status": "confirmed"},
    ]
    text = everything_logged()
    assert GUO[1] not in text and GUO[0] not in text


# ---------------------------------------------------------------------------
# Scrubbed with the sign-up
# ---------------------------------------------------------------------------


def test_erasing_scrubs_every_entry_of_that_sign_up_only(client, page, boss):
    guo, li, wang = sign(page, GUO), sign(page, LI), sign(page, WANG)
    assert wang.is_waitlisted
    service.check_in(guo.pk, user=boss)
    client.force_login(boss)
    # Door pages show full data, so they are logged against each sign-up.
    for registration in (guo, li):
        checkin = reverse("events_checkin") + f"?code={registration.code}"
        assert client.get(checkin).status_code == 200
    before = {e.pk: (e.label, e.data) for e in entries_of(li)}
    assert len(before) == 1 and li.masked_phone in next(iter(before.values()))[0]

    # 郭振华 cancels and erases: her seat goes to 王建国.
    client.post(f"{page.url}r/{guo.token}/cancel/", {"erase": "1"})
    mine = list(entries_of(guo).order_by("pk"))
    assert [e.action for e in mine] == [
        audit.CHECK_IN,
        audit.VIEW_PERSONAL_DATA,
        audit.CANCEL_BY_RESIDENT,
    ]
    for entry in mine:
        assert_scrubbed(entry, guo)
    assert mine[-1].data["erased"] is True
    assert mine[-1].data["promoted_count"] == 1
    # Others keep theirs. (王建国's promotion still says whose cancellation freed
    # the seat by its code: the sign-up row keeps its code too, and it leads to
    # no one once erased.)
    assert {e.pk: (e.label, e.data) for e in entries_of(li)} == before
    promoted = entries_of(wang).get(action=audit.PROMOTE)
    assert promoted.label == f"{wang.code} {wang.masked_phone}"
    assert GUO[1] not in everything_logged()

    # 站点历史 still reads: what happened, where, without the code.
    report = client.get(reverse("wagtailadmin_reports:site_history"))
    html = report.content.decode()
    assert report.status_code == 200
    assert "居民取消报名：报名码 （已删除）（清除审计测试活动" in html
    assert "签到：报名码 （已删除）" in html
    assert guo.masked_phone not in html
    assert wang.masked_phone in html  # a sign-up that still has its data


def test_an_erase_after_cancelling_scrubs_too(client, page):
    li = sign(page, LI)
    client.post(f"{page.url}r/{li.token}/cancel/")
    assert entries_of(li).get().label == f"{li.code} {li.masked_phone}"
    client.post(f"{page.url}r/{li.token}/cancel/", {"erase": "1"})
    entries = list(entries_of(li))
    assert {e.action for e in entries} == {audit.CANCEL_BY_RESIDENT, audit.ERASE}
    for entry in entries:
        assert_scrubbed(entry, li)


def test_the_purge_scrubs_the_entries_of_the_sign_ups_it_purges(client, page, boss):
    guo, li = sign(page, GUO), sign(page, LI)
    service.check_in(guo.pk, user=boss)
    client.force_login(boss)
    client.get(reverse("events_checkin") + f"?code={li.code}")
    client.get(reverse("events_registrations:index"), {"q": GUO[0]})
    elsewhere = ModelLogEntry.objects.exclude(
        pk__in=entries_of(guo, li).values("pk")
    ).count()
    occurrence = Occurrence.objects.get(page_id=page.pk)
    start = timezone.now() - timedelta(days=3)
    Occurrence.objects.filter(pk=occurrence.pk).update(
        start=start, end=start + timedelta(hours=2)
    )

    result = service.purge_personal_data(days=1, batch_size=1)

    assert result.purged >= 2
    for registration in (guo, li):
        for entry in entries_of(registration):
            assert_scrubbed(entry, registration)
    text = everything_logged()
    for name, phone in (GUO, LI):
        assert name not in text and phone not in text
    assert "137****000" not in text  # no masked phone left either
    # Nothing deleted: their two entries, the rest, and the purge's own.
    assert ModelLogEntry.objects.count() == elsewhere + 2 + 1


def test_a_failed_scrub_rolls_the_erasure_back(client, page, monkeypatch):
    guo = sign(page, GUO)

    def broken(ids):
        raise RuntimeError("disk full")

    monkeypatch.setattr(audit, "scrub_registrations", broken)
    with pytest.raises(RuntimeError):
        service.cancel(guo.pk, erase=True)
    guo.refresh_from_db()
    assert (guo.name, guo.phone, guo.status) == (GUO[0], GUO[1], "confirmed")
    assert not entries_of(guo).exists()


# ---------------------------------------------------------------------------
# Entries written before: migration 0006
# ---------------------------------------------------------------------------


def test_the_migration_masks_old_searches_and_scrubs_erased_sign_ups(page, boss):
    migration = importlib.import_module(
        "events.migrations.0006_scrub_audit_personal_data"
    )
    guo, wang = sign(page, GUO), sign(page, WANG)
    # As the code before wrote them: search terms verbatim, the erased sign-up's
    # entries with its code and masked phone.
    searched = audit.log_list(
        audit.VIEW_PERSONAL_DATA,
        boss,
        title="报名名单",
        data={"rows": 1, "filters": {"q": GUO[1], "status": "confirmed"}},
    )
    exported = audit.log_list(
        audit.EXPORT,
        boss,
        title="报名名单",
        data={"format": "xlsx", "rows": 1, "filters": {"q": GUO[0]}},
    )
    checked_in = audit.log_registration(guo, audit.CHECK_IN, boss)
    kept = audit.log_registration(wang, audit.CHECK_IN, boss)
    service.erase_personal_data(guo)

    migration.scrub(apps, None)

    searched.refresh_from_db()
    exported.refresh_from_db()
    checked_in.refresh_from_db()
    assert searched.data["filters"] == {"q": "137****0001", "status": "confirmed"}
    assert exported.data["filters"] == {"q": "郭**"}
    assert_scrubbed(checked_in, guo)
    assert ModelLogEntry.objects.get(pk=kept.pk).label == (
        f"{wang.code} {wang.masked_phone}"
    )
    text = everything_logged()
    assert GUO[0] not in text and GUO[1] not in text
