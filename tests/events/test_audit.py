"""The sign-up service writes the audit log (站点历史) of what it changes, inside
its own transaction: a resident's cancellation and the promotions it triggers
(no user, no personal data), staff check-ins and cancellations; an action that
rolls back leaves no entry."""

import importlib

import pytest
from django.apps import apps
from django.contrib.contenttypes.models import ContentType
from django.urls import reverse
from wagtail.models import ModelLogEntry

from events import registration as service
from events.errors import BusyError
from events.models import EventIndexPage, Occurrence, Registration
from events.privacy import SCRUBBED_LABEL
from events.staff import audit
from tests.factories import ActivityPageFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def page(db):
    index = EventIndexPage.objects.get(slug="activities")
    return ActivityPageFactory(
        parent=index,
        title="审计测试活动",
        registration_required=True,
        capacity=2,
        max_party_size=2,
        waitlist_enabled=True,
    )


@pytest.fixture
def staff(django_user_model):
    return django_user_model.objects.get(username="xuanchuan")


_phones = iter(range(1000, 9999))


def sign(page, name="王秀兰", party_size=1):
    occurrence = Occurrence.objects.get(page_id=page.pk)
    return service.sign_up(
        page,
        occurrence.pk,
        name=name,
        phone=f"1370000{next(_phones):04d}",
        party_size=party_size,
    ).registration


def logs(action=None, registration=None):
    """Entries of this test's sign-ups (the demo's check-ins have theirs)."""
    ours = Registration.objects.filter(page__title="审计测试活动").values("pk")
    entries = ModelLogEntry.objects.filter(
        action__startswith="events.registration.",
        content_type=ContentType.objects.get_for_model(Registration),
        object_id__in=[str(row["pk"]) for row in ours],
    )
    if action is not None:
        entries = entries.filter(action=action)
    if registration is not None:
        entries = entries.filter(object_id=str(registration.pk))
    return entries


def assert_no_personal_data(entry, *registrations):
    text = entry.label + str(entry.data)
    for registration in registrations:
        assert registration.phone not in text
        assert registration.name not in text
        assert registration.masked_name not in text


def test_a_residents_cancel_and_the_promotion_it_triggers_are_logged(client, page):
    leaving = sign(page, name="张建国", party_size=2)
    waiting = sign(page, name="李秀英", party_size=2)
    assert waiting.is_waitlisted
    assert not logs().exists()  # signing up is not an audit event

    response = client.post(f"{page.url}r/{leaving.token}/cancel/")
    assert response.status_code == 303

    cancelled = logs(audit.CANCEL_BY_RESIDENT, leaving).get()
    assert cancelled.user is None
    assert cancelled.data["code"] == leaving.code
    assert cancelled.data["promoted"] == [waiting.code]
    assert cancelled.data["erased"] is False
    assert cancelled.label == f"{leaving.code} {leaving.masked_phone}"
    assert_no_personal_data(cancelled, leaving, waiting)

    promoted = logs(audit.PROMOTE, waiting).get()
    assert promoted.user is None
    assert promoted.data["freed_by"] == leaving.code
    assert promoted.data["status"] == "confirmed"
    assert promoted.data["page_title"] == "审计测试活动"
    assert_no_personal_data(promoted, leaving, waiting)
    assert not logs(audit.CANCEL).exists()  # the staff action is another

    # Cancelling again changes nothing and logs nothing.
    client.post(f"{page.url}r/{leaving.token}/cancel/")
    assert logs().count() == 2


def test_cancel_with_erase_and_a_later_erase_are_logged_without_the_person(
    client, page
):
    first = sign(page, name="赵淑芬")
    client.post(f"{page.url}r/{first.token}/cancel/", {"erase": "1"})
    entry = logs(audit.CANCEL_BY_RESIDENT, first).get()
    assert entry.data["erased"] is True and entry.user is None
    # Scrubbed with the person: no code, no masked phone (test_audit_scrub.py).
    assert entry.label == SCRUBBED_LABEL
    assert "code" not in entry.data
    assert_no_personal_data(entry, first)

    second = sign(page, name="钱国强")
    client.post(f"{page.url}r/{second.token}/cancel/")
    client.post(f"{page.url}r/{second.token}/cancel/", {"erase": "1"})
    erased = logs(audit.ERASE, second).get()
    assert erased.user is None
    assert_no_personal_data(erased, second)
    client.post(f"{page.url}r/{second.token}/cancel/", {"erase": "1"})
    assert logs(audit.ERASE, second).count() == 1  # nothing left to erase


def test_staff_actions_are_logged_by_the_service(page, staff):
    leaving = sign(page, party_size=2)
    waiting = sign(page, party_size=1)
    service.cancel(leaving.pk, user=staff)
    entry = logs(audit.CANCEL, leaving).get()
    assert entry.user == staff and entry.data["promoted"] == [waiting.code]
    assert logs(audit.PROMOTE, waiting).get().user == staff

    registration, newly = service.check_in(waiting.pk, user=staff)
    assert newly
    entry = logs(audit.CHECK_IN, waiting).get()
    assert entry.user == staff and entry.data["code"] == waiting.code
    service.check_in(waiting.pk, user=staff)  # already in: no second entry
    assert logs(audit.CHECK_IN, waiting).count() == 1


def test_a_rolled_back_cancel_writes_no_entry(page, monkeypatch):
    """The promotion's entry is written, then the transaction fails: the entry
    goes with everything else."""
    leaving = sign(page, party_size=2)
    waiting = sign(page, party_size=2)
    written = []
    log_registration = audit.log_registration

    def fail_on_the_cancel_entry(registration, action, user, **extra):
        if action == audit.CANCEL_BY_RESIDENT:
            assert logs(audit.PROMOTE, waiting).exists()  # written already …
            raise RuntimeError("the audit log could not be written")
        written.append(action)
        return log_registration(registration, action, user, **extra)

    monkeypatch.setattr(audit, "log_registration", fail_on_the_cancel_entry)
    with pytest.raises(RuntimeError):
        service.cancel(leaving.pk)
    assert written == [audit.PROMOTE]
    assert not logs().exists()  # … and rolled back with the cancellation
    assert Registration.objects.get(pk=leaving.pk).is_confirmed
    assert Registration.objects.get(pk=waiting.pk).is_waitlisted
    assert Occurrence.objects.get(page_id=page.pk).taken == 2


def test_a_refused_or_busy_action_writes_no_entry(page, staff, monkeypatch):
    confirmed = sign(page, party_size=2)
    waiting = sign(page, party_size=1)
    assert waiting.is_waitlisted
    with pytest.raises(service.SignupError):
        service.check_in(waiting.pk, user=staff)

    def busy(occurrence_id):
        raise BusyError()

    monkeypatch.setattr(service, "_lock", busy)
    with pytest.raises(BusyError):
        service.cancel(confirmed.pk)
    assert not logs().exists()


def test_new_log_actions_have_chinese_labels():
    from wagtail.log_actions import registry

    choices = dict(registry.get_choices())
    assert choices[audit.CHECK_IN] == "报名签到"
    assert choices[audit.CANCEL] == "取消报名（工作人员）"
    assert choices[audit.CANCEL_BY_RESIDENT] == "取消报名（居民本人）"
    assert choices[audit.PROMOTE] == "候补转正"
    assert choices[audit.ERASE] == "删除报名人信息（居民本人）"
    assert audit.CHECK_IN == "events.registration.checked_in"
    assert audit.CANCEL == "events.registration.cancelled"
    assert audit.PROMOTE == "events.registration.promoted"


def test_resident_entries_read_well_in_site_history(client, page, admin_client):
    leaving = sign(page, party_size=2)
    waiting = sign(page, party_size=2)
    client.post(f"{page.url}r/{leaving.token}/cancel/")
    report = admin_client.get(reverse("wagtailadmin_reports:site_history"))
    html = report.content.decode()
    assert f"居民取消报名：报名码 {leaving.code}" in html
    assert f"候补递补：{waiting.code}" in html
    assert f"候补转为已报名：报名码 {waiting.code}" in html


def test_entries_under_the_old_action_names_are_renamed():
    migration = importlib.import_module(
        "events.migrations.0004_rename_registration_log_actions"
    )
    entry = ModelLogEntry.objects.log_action(
        Registration(pk=0), audit.EXPORT, title="旧记录", data={}
    )
    # Saved under a name no longer registered (save() would refuse it).
    ModelLogEntry.objects.filter(pk=entry.pk).update(
        action="events.registration.check_in"
    )
    migration.rename(apps, None)
    entry.refresh_from_db()
    assert entry.action == audit.CHECK_IN
