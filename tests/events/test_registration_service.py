"""The sign-up service (events/registration.py): rules, waitlist, promotion,
check-in, the database constraints behind it, and occurrences of recurring
activities."""

from datetime import timedelta

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from events import privacy
from events import registration as service
from events.errors import SignupError
from events.models import EventIndexPage, Occurrence, Registration
from tests.factories import ActivityPageFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def index(db):
    return EventIndexPage.objects.get(slug="activities")


def make_activity(index, **fields):
    defaults = {"registration_required": True, "capacity": 3, "max_party_size": 2}
    return ActivityPageFactory(parent=index, **{**defaults, **fields})


def only_occurrence(page) -> Occurrence:
    return Occurrence.objects.get(page_id=page.pk)


def sign(page, phone, name="王秀兰", size=1, **kw):
    occurrence = kw.pop("occurrence", None) or only_occurrence(page)
    return service.sign_up(
        page, occurrence.pk, name=name, phone=phone, party_size=size, **kw
    )


@pytest.mark.parametrize(
    "raw",
    [
        "13800001234",
        "138 0000 1234",
        "138-0000-1234",
        "+86 138 0000 1234",
        "+86-13800001234",
        "0086 13800001234",
        "8613800001234",
        "１３８００００１２３４",
        " 138.0000.1234 ",
    ],
)
def test_phone_numbers_are_normalised(raw):
    assert service.normalise_phone(raw) == "13800001234"


@pytest.mark.parametrize(
    "raw", ["", "12800001234", "1380000123", "138000012345", "abc", "+1 13800001234"]
)
def test_bad_phone_numbers_are_refused(raw):
    with pytest.raises(SignupError) as error:
        service.normalise_phone(raw)
    assert "手机号" in error.value.message


def test_masking():
    assert privacy.mask_phone("13800001234") == "138****1234"
    assert privacy.mask_name("王秀兰") == "王**"
    assert privacy.mask_name("李") == "李*"


def test_confirmed_sign_up_gets_a_readable_code_and_a_long_token(index):
    page = make_activity(index)
    result = sign(page, "13900001111", size=2)
    registration = result.registration
    assert result.created and registration.is_confirmed
    assert len(registration.code) == 6
    assert not set(registration.code) & set("0O1I")
    assert len(registration.token) >= 40
    assert only_occurrence(page).taken == 2


def test_capacity_is_counted_in_people_then_waitlist(index):
    page = make_activity(index, capacity=3)
    assert sign(page, "13900001111", size=2).registration.is_confirmed
    second = sign(page, "13900002222", size=2).registration
    assert second.is_waitlisted
    third = sign(page, "13900003333", size=1).registration
    # First come, first served is about the seats: one seat is left for a party of 1.
    assert third.is_confirmed
    assert only_occurrence(page).taken == 3
    assert service.waitlist_position(second) == 1


def test_resubmitting_returns_the_existing_sign_up_to_its_holder(index):
    """``mine``: the sign-ups the caller shows are this resident's (the
    browser's signed cookie, events/signup_cookie.py)."""
    page = make_activity(index)
    first = sign(page, "13900001111")
    again = sign(page, "139 0000 1111", mine=[first.registration.pk])
    assert not again.created
    assert again.registration.pk == first.registration.pk
    assert Registration.objects.filter(page_id=page.pk).count() == 1


@pytest.mark.parametrize("name", ["王秀兰", "李建华"])
@pytest.mark.parametrize("holder", [False, True])
def test_the_same_phone_otherwise_is_refused_the_same_whatever_the_name(
    index, name, holder
):
    """Without the sign-up in ``mine`` a name and a phone are no key: the same
    refusal for the right name and a wrong one (no oracle). The holder with
    another name is refused too (one sign-up per phone and date)."""
    page = make_activity(index)
    first = sign(page, "13900001111").registration
    if holder and name == "王秀兰":
        return  # the holder's own resubmission: the test above
    mine = [first.pk] if holder else [first.pk + 1000]
    with pytest.raises(SignupError) as error:
        sign(page, "13900001111", name=name, mine=mine)
    assert error.value.code == "already_signed_up"
    assert error.value.message == (
        "这个手机号不能再报名这一场。如果您已经报过名，请到“我的报名”输入手机号和"
        "报名码查看或取消，或联系社区工作人员。"
    )
    assert Registration.objects.filter(page_id=page.pk).count() == 1


def test_party_size_limits(index):
    page = make_activity(index, max_party_size=2)
    for size in (0, 3):
        with pytest.raises(SignupError) as error:
            sign(page, "13900001111", size=size)
        assert error.value.field == "party_size"
    assert not Registration.objects.filter(page_id=page.pk).exists()


def test_no_waitlist_means_full_is_refused(index):
    page = make_activity(index, capacity=1, waitlist_enabled=False)
    sign(page, "13900001111")
    with pytest.raises(SignupError) as error:
        sign(page, "13900002222")
    assert "名额已满" in error.value.message
    assert Registration.objects.filter(page_id=page.pk).count() == 1


def test_sign_up_window_and_status(index):
    now = timezone.now()
    page = make_activity(index, registration_opens=now + timedelta(days=1))
    with pytest.raises(SignupError, match="开始"):
        sign(page, "13900001111")
    page = make_activity(index, registration_closes=now - timedelta(hours=1))
    with pytest.raises(SignupError, match="截止"):
        sign(page, "13900001111")
    page = make_activity(index, status="cancelled", status_reason="下雨")
    with pytest.raises(SignupError, match="取消"):
        sign(page, "13900001111")
    page = make_activity(index, registration_required=False)
    with pytest.raises(SignupError, match="无需报名"):
        sign(page, "13900001111")
    page = make_activity(index)
    with pytest.raises(SignupError, match="截止"):
        sign(page, "13900001111", now=only_occurrence(page).start)
    assert not Registration.objects.filter(phone="13900001111").exists()


def test_occurrence_of_another_page_is_refused(index):
    page, other = make_activity(index), make_activity(index)
    with pytest.raises(SignupError):
        sign(page, "13900001111", occurrence=only_occurrence(other))
    with pytest.raises(SignupError):
        service.sign_up(page, 999999, name="王", phone="13900001111")


def test_cancel_promotes_the_waitlist_in_order(index):
    page = make_activity(index, capacity=2)
    a = sign(page, "13900000001", size=2).registration
    b = sign(page, "13900000002", size=2).registration  # waitlist 1
    c = sign(page, "13900000003", size=1).registration  # waitlist 2
    assert (b.status, c.status) == ("waitlisted", "waitlisted")
    promoted = service.cancel(a.pk)
    assert [r.pk for r in promoted] == [b.pk]
    b.refresh_from_db(), c.refresh_from_db()
    assert b.is_confirmed and c.is_waitlisted
    assert service.waitlist_position(c) == 1
    assert only_occurrence(page).taken == 2
    # Strict order: c (1 person) waits behind nobody now; cancelling b frees 2.
    promoted = service.cancel(b.pk)
    assert [r.pk for r in promoted] == [c.pk]
    assert only_occurrence(page).taken == 1
    # Cancelling twice changes nothing.
    assert service.cancel(b.pk) == []
    assert only_occurrence(page).taken == 1


def test_a_party_that_does_not_fit_keeps_its_place_while_a_smaller_one_fits(index):
    # The waitlist rule for parties (registration.WAITLIST_RULE); more cases in
    # tests/events/test_households.py.
    page = make_activity(index, capacity=2)
    a = sign(page, "13900000001", size=1).registration
    sign(page, "13900000002", size=1)
    big = sign(page, "13900000003", size=2).registration
    small = sign(page, "13900000004", size=1).registration
    service.cancel(a.pk)  # one seat: the party of 2 at the head does not fit
    big.refresh_from_db(), small.refresh_from_db()
    assert big.is_waitlisted and small.is_confirmed
    assert service.waitlist_position(big) == 1


def test_cancel_with_erase_removes_personal_data_but_keeps_the_row(index):
    page = make_activity(index)
    registration = sign(page, "13900001111").registration
    service.cancel(registration.pk, erase=True)
    registration.refresh_from_db()
    assert registration.status == "cancelled"
    assert registration.phone == "" and registration.name == service.ERASED_NAME
    assert Registration.objects.filter(page_id=page.pk).count() == 1


def test_staff_cancel_records_who(index, django_user_model):
    page = make_activity(index)
    staff = django_user_model.objects.get(username="xuanchuan")
    registration = sign(page, "13900001111").registration
    service.cancel(registration.pk, user=staff)
    registration.refresh_from_db()
    assert registration.cancelled_by == staff and registration.cancelled_at


def test_check_in_rules(index, django_user_model):
    staff = django_user_model.objects.get(username="xuanchuan")
    page = make_activity(index, capacity=1)
    confirmed = sign(page, "13900000001").registration
    waiting = sign(page, "13900000002").registration
    registration, new = service.check_in(confirmed.pk, user=staff)
    assert new and registration.checked_in_at and registration.checked_in_by == staff
    _, new = service.check_in(confirmed.pk, user=staff)
    assert not new
    with pytest.raises(SignupError, match="候补"):
        service.check_in(waiting.pk, user=staff)
    service.cancel(waiting.pk)
    with pytest.raises(SignupError, match="取消"):
        service.check_in(waiting.pk, user=staff)


def test_constraint_refuses_an_oversold_counter(index):
    page = make_activity(index, capacity=2)
    occurrence = only_occurrence(page)
    with pytest.raises(IntegrityError), transaction.atomic():
        Occurrence.objects.filter(pk=occurrence.pk).update(taken=3)


def test_constraint_refuses_two_active_sign_ups_for_one_phone(index):
    page = make_activity(index)
    registration = sign(page, "13900001111").registration
    with pytest.raises(IntegrityError), transaction.atomic():
        Registration.objects.create(
            page_id=page.pk,
            occurrence=registration.occurrence,
            name="李建华",
            phone="13900001111",
            status="waitlisted",
            code="ZZZZZZ",
            token="x" * 43,
        )


def test_counter_is_recounted_under_the_lock(index):
    """A counter that drifted (e.g. edited by hand) is corrected before deciding."""
    page = make_activity(index, capacity=2)
    occurrence = only_occurrence(page)
    Occurrence.objects.filter(pk=occurrence.pk).update(taken=2)  # wrong: nobody
    assert sign(page, "13900001111", size=2).registration.is_confirmed


# ---------------------------------------------------------------------------
# Recurring activities
# ---------------------------------------------------------------------------


def weekly(index, **fields):
    return make_activity(
        index,
        repeat="WEEKLY",
        repeat_weekdays=["TU", "TH"],
        repeat_count=6,
        capacity=2,
        **fields,
    )


def test_recurring_page_has_one_occurrence_per_date(index):
    page = weekly(index)
    starts = list(
        Occurrence.objects.filter(page_id=page.pk).values_list("start", flat=True)
    )
    assert len(starts) == 6
    assert {timezone.localtime(s).strftime("%a") for s in starts} == {"Tue", "Thu"}
    assert {timezone.localtime(s).hour for s in starts} == {9}


def test_excluded_dates_have_no_occurrence(index):
    page = weekly(index)
    second = Occurrence.objects.filter(page_id=page.pk).order_by("start")[1]
    page.excluded_dates = timezone.localdate(second.start).isoformat()
    page.save_revision().publish()
    occurrences = Occurrence.objects.filter(page_id=page.pk, cancelled=False)
    assert occurrences.count() == 5
    assert second.pk not in set(occurrences.values_list("pk", flat=True))


def test_a_sign_up_is_for_one_occurrence(index):
    page = weekly(index)
    first, second = Occurrence.objects.filter(page_id=page.pk).order_by("start")[:2]
    sign(page, "13900001111", size=2, occurrence=first)
    other = sign(page, "13900002222", size=2, occurrence=second).registration
    assert other.is_confirmed  # the first date being full does not matter
    # The same phone may come to another date.
    assert sign(page, "13900001111", occurrence=second).registration.is_waitlisted


def test_dropped_date_with_sign_ups_is_kept_as_cancelled(index):
    page = weekly(index)
    last = Occurrence.objects.filter(page_id=page.pk).order_by("start").last()
    sign(page, "13900001111", occurrence=last)
    page.repeat_count = 4
    page.save_revision().publish()
    last.refresh_from_db()
    assert last.cancelled
    assert Occurrence.objects.filter(page_id=page.pk, cancelled=False).count() == 4
    assert Occurrence.objects.filter(page_id=page.pk).count() == 5


def test_moving_a_one_off_activity_keeps_its_sign_ups(index):
    page = make_activity(index)
    registration = sign(page, "13900001111").registration
    page.start += timedelta(days=1)
    page.end += timedelta(days=1)
    page.save_revision().publish()
    registration.refresh_from_db()
    assert registration.occurrence.start == page.start
    assert Occurrence.objects.filter(page_id=page.pk).count() == 1


def test_publishing_a_draft_only_changes_occurrences_on_publish(index):
    page = make_activity(index)
    original = only_occurrence(page).start
    page.start += timedelta(days=2)
    page.end += timedelta(days=2)
    page.save_revision()  # a draft
    assert only_occurrence(page).start == original
    page.get_latest_revision().publish()
    assert only_occurrence(page).start == original + timedelta(days=2)


def test_occurrences_follow_the_page_through_a_post_save_receiver(index):
    """Unpublished pages and drafts change nothing; a receiver, not
    ``EventPage.save``, keeps the rows in step; fixtures (raw) are left alone."""
    from django.db.models.signals import post_save

    from events.models import ActivityPage
    from events.occurrences import page_saved

    page = make_activity(index, live=False)
    assert not Occurrence.objects.filter(page_id=page.pk).exists()
    page.save_revision().publish()
    page = ActivityPage.objects.get(pk=page.pk)
    assert page.live
    original = only_occurrence(page).start

    page.start += timedelta(days=1)
    page.end += timedelta(days=1)
    assert post_save.disconnect(
        page_saved, sender=ActivityPage, dispatch_uid="events-occurrences-activity"
    )
    try:
        page.save()
        assert only_occurrence(page).start == original  # save() alone: no sync
    finally:
        post_save.connect(
            page_saved, sender=ActivityPage, dispatch_uid="events-occurrences-activity"
        )
    post_save.send(ActivityPage, instance=page, created=False, raw=True)
    assert only_occurrence(page).start == original
    page.save()
    assert only_occurrence(page).start == original + timedelta(days=1)


def test_sequence_changes_with_time_place_or_status(index):
    page = make_activity(index)
    assert page.ical_sequence == 0
    page.summary = "新简介"
    page.save_revision().publish()
    page.refresh_from_db()
    assert page.ical_sequence == 0
    page.venue = "另一个活动室"
    page.save_revision().publish()
    page.refresh_from_db()
    assert page.ical_sequence == 1
    page.status, page.status_reason = "cancelled", "天气原因"
    page.save_revision().publish()
    page.refresh_from_db()
    assert page.ical_sequence == 2


def test_capacity_below_confirmed_is_refused_by_validation(index):
    from django.core.exceptions import ValidationError

    page = make_activity(index, capacity=3)
    sign(page, "13900001111", size=2)
    page.capacity = 1
    with pytest.raises(ValidationError) as error:
        page.full_clean()
    assert "capacity" in error.value.message_dict


def test_recurrence_validation(index):
    from django.core.exceptions import ValidationError

    page = make_activity(index)
    page.repeat = "WEEKLY"
    with pytest.raises(ValidationError) as error:
        page.full_clean()
    assert "repeat_until" in error.value.message_dict
    page.repeat_count, page.repeat_until = 3, timezone.localdate()
    with pytest.raises(ValidationError) as error:
        page.full_clean()
    assert "repeat_count" in error.value.message_dict
    page.repeat_until = None
    page.excluded_dates = "明天"
    with pytest.raises(ValidationError) as error:
        page.full_clean()
    assert "excluded_dates" in error.value.message_dict
