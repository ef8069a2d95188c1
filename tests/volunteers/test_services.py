"""The volunteer services called directly: roster (codes, applications,
approval, lookup by phone + code), the time bank (records, corrections,
withdrawals, transfers, stars) and posts (sign-up, door check-in and out).
Bad input is a VolunteerError with a Chinese message and changes nothing."""

import datetime
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.utils import timezone
from wagtail.models import ModelLogEntry

from events.models import Occurrence
from home.models import CommunityPage
from tests.factories import signup_activity
from volunteers import audit, bank, posts, roster
from volunteers.errors import (
    InsufficientBalanceError,
    InvalidInputError,
    PostFullError,
    RefusedError,
    VolunteerError,
)
from volunteers.models import (
    EntryKind,
    PostSignup,
    ServiceRecord,
    TimeBankAccount,
    TimeBankEntry,
    Volunteer,
    VolunteerPost,
    VolunteerSettings,
    VolunteerStatus,
)

pytestmark = pytest.mark.django_db

PHONE = "13900001111"


@pytest.fixture
def staff():
    return get_user_model().objects.get(username="admin")


@pytest.fixture
def community():
    return CommunityPage.objects.order_by("path").first()


@pytest.fixture
def volunteer(staff, community):
    return roster.add(name="王建国", phone=PHONE, user=staff, community=community)


def state():
    """Everything the services write, to assert that a refusal changed nothing."""
    return (
        list(Volunteer.objects.values_list("pk", "status", "name", "phone")),
        list(TimeBankAccount.objects.values_list("pk", "balance", "total_hours")),
        TimeBankEntry.objects.count(),
        list(ServiceRecord.objects.values_list("pk", "hours")),
        list(VolunteerPost.objects.values_list("pk", "taken")),
        PostSignup.objects.count(),
    )


def refused(call, error=VolunteerError, code=None):
    before = state()
    with pytest.raises(error) as raised:
        call()
    assert state() == before
    assert raised.value.message and "\u4e00" <= raised.value.message[0] <= "\u9fff"
    if code:
        assert raised.value.code == code
    return raised.value


# ---------------------------------------------------------------------------
# Roster
# ---------------------------------------------------------------------------


def test_codes_avoid_confusable_characters_and_are_unique(staff):
    codes = {roster.new_code() for _ in range(500)}
    assert not any(set(code) & set("0O1I") for code in codes)
    made = [
        roster.add(name=f"志愿者{n}", phone=f"1390000{n:04d}", user=staff)
        for n in range(20)
    ]
    assert len({v.code for v in made}) == 20
    assert all(len(v.code) == 6 for v in made)


def test_application_is_approved_then_found_by_phone_and_code(staff, community):
    applied = roster.apply(name=" 李 梅 ", phone="139-0000-2222", community=community)
    assert applied.status == VolunteerStatus.APPLIED
    assert applied.phone == "13900002222"
    # Not yet 在册: the lookup answers as for a wrong code.
    refused(
        lambda: roster.find_by_credentials("13900002222", applied.code),
        code="credentials_wrong",
    )
    roster.approve(applied.pk, user=staff)
    found = roster.find_by_credentials("139 0000 2222", applied.code.lower())
    assert found.pk == applied.pk
    assert TimeBankAccount.objects.get(pk=applied.pk).balance == 0
    assert ModelLogEntry.objects.filter(action=audit.APPROVED).exists()


def test_wrong_code_wrong_phone_same_neutral_answer(volunteer):
    wrong_code = refused(lambda: roster.find_by_credentials(PHONE, "ZZZZZZ"))
    wrong_phone = refused(
        lambda: roster.find_by_credentials("13700000000", volunteer.code)
    )
    bad_phone = refused(lambda: roster.find_by_credentials("abc", volunteer.code))
    assert wrong_code.message == wrong_phone.message == bad_phone.message


def test_one_current_volunteer_per_phone(volunteer):
    refused(lambda: roster.apply(name="另一个", phone=PHONE), code="phone_taken")
    refused(lambda: roster.apply(name="", phone="13900003333"), code="name_missing")
    refused(lambda: roster.apply(name="张三", phone="12345"), code="phone_invalid")


def test_approving_twice_and_leaving_twice_are_refused(volunteer, staff):
    refused(lambda: roster.approve(volunteer.pk, user=staff), code="not_applied")
    roster.leave(volunteer.pk, user=staff)
    refused(lambda: roster.leave(volunteer.pk, user=staff), code="already_left")
    # The phone is free again once the volunteer left.
    again = roster.apply(name="王建国", phone=PHONE)
    assert again.code != volunteer.code


# ---------------------------------------------------------------------------
# Time bank
# ---------------------------------------------------------------------------


def account(volunteer) -> TimeBankAccount:
    return TimeBankAccount.objects.get(pk=volunteer.pk)


def test_recorded_hours_are_deposited(volunteer, staff):
    record = bank.record_service(
        volunteer.pk, hours="2.5", description="每天民事调解", user=staff
    )
    assert record.hours == Decimal("2.50")
    assert record.community_id == volunteer.community_id
    acc = account(volunteer)
    assert acc.balance == acc.total_hours == Decimal("2.50")
    entry = TimeBankEntry.objects.get(account=acc)
    assert entry.kind == EntryKind.DEPOSIT and entry.balance_after == Decimal("2.50")
    logged = ModelLogEntry.objects.get(action=audit.RECORDED, data__code=volunteer.code)
    assert volunteer.name not in logged.label and volunteer.code in logged.label


@pytest.mark.parametrize(
    ("hours", "code"),
    [
        ("-2", "hours_not_positive"),
        ("0", "hours_not_positive"),
        ("25", "hours_absurd"),
        ("1e9", "hours_absurd"),
        ("两小时", "hours_invalid"),
        ("", "hours_invalid"),
        ("NaN", "hours_invalid"),
        ("Infinity", "hours_invalid"),
    ],
)
def test_bad_hours_are_refused(volunteer, staff, hours, code):
    refused(
        lambda: bank.record_service(
            volunteer.pk, hours=hours, description="值守", user=staff
        ),
        InvalidInputError,
        code,
    )


def test_more_than_24_hours_in_one_day_is_refused(volunteer, staff):
    bank.record_service(volunteer.pk, hours=20, description="值守", user=staff)
    error = refused(
        lambda: bank.record_service(
            volunteer.pk, hours=5, description="值守", user=staff
        ),
        code="hours_day_over",
    )
    assert "24 小时" in error.message


def test_future_date_missing_description_and_inactive_are_refused(volunteer, staff):
    tomorrow = timezone.localdate() + datetime.timedelta(days=1)
    refused(
        lambda: bank.record_service(
            volunteer.pk, hours=1, day=tomorrow, description="值守", user=staff
        ),
        code="date_in_future",
    )
    refused(
        lambda: bank.record_service(volunteer.pk, hours=1, description=" ", user=staff),
        code="description_missing",
    )
    applied = roster.apply(name="李四", phone="13900004444")
    refused(
        lambda: bank.record_service(applied.pk, hours=1, description="x", user=staff),
        RefusedError,
        "not_active",
    )


def test_withdrawal_above_the_balance_is_refused(volunteer, staff):
    bank.record_service(volunteer.pk, hours=3, description="值守", user=staff)
    error = refused(
        lambda: bank.withdraw(
            volunteer.pk, hours=4, kind=EntryKind.GIFT, note="大米", user=staff
        ),
        InsufficientBalanceError,
    )
    assert "3.00" in error.message and "4.00" in error.message
    entry = bank.withdraw(
        volunteer.pk, hours=3, kind=EntryKind.SERVICE, note="上门理发", user=staff
    )
    assert entry.hours == Decimal("-3.00") and entry.balance_after == 0
    acc = account(volunteer)
    assert acc.balance == 0 and acc.total_hours == 3  # stars keep what was served
    refused(
        lambda: bank.withdraw(
            volunteer.pk, hours=1, kind=EntryKind.GIFT, note="x", user=staff
        ),
        InsufficientBalanceError,
    )
    refused(
        lambda: bank.withdraw(
            volunteer.pk, hours=1, kind="deposit", note="x", user=staff
        ),
        code="withdraw_kind_invalid",
    )


def test_the_constraint_refuses_a_negative_balance_without_the_service(volunteer):
    with pytest.raises(IntegrityError), transaction.atomic():
        TimeBankAccount.objects.filter(pk=volunteer.pk).update(balance=Decimal(-1))


def test_correction_with_reason_goes_through_the_bank_and_the_log(volunteer, staff):
    record = bank.record_service(volunteer.pk, hours=2, description="值守", user=staff)
    refused(
        lambda: bank.correct_hours(record.pk, hours=3, reason="", user=staff),
        code="reason_missing",
    )
    refused(
        lambda: bank.correct_hours(record.pk, hours=2, reason="核对", user=staff),
        code="hours_unchanged",
    )
    bank.correct_hours(record.pk, hours="3.5", reason="签退忘记按", user=staff)
    acc = account(volunteer)
    assert acc.balance == acc.total_hours == Decimal("3.50")
    entry = ModelLogEntry.objects.get(action=audit.CORRECTED)
    assert entry.data["reason"] == "签退忘记按"
    assert entry.data["old_hours"] == "2.00" and entry.data["new_hours"] == "3.50"
    # Spent hours cannot be corrected away.
    bank.withdraw(volunteer.pk, hours=3, kind=EntryKind.GIFT, note="油", user=staff)
    refused(
        lambda: bank.correct_hours(record.pk, hours=1, reason="多记了", user=staff),
        code="correction_below_balance",
    )


def test_transfer_to_family_only_where_the_community_allows(
    volunteer, staff, community, site
):
    bank.record_service(volunteer.pk, hours=5, description="值守", user=staff)
    spouse = roster.add(
        name="刘芳", phone="13900005555", user=staff, community=community
    )
    stranger = roster.add(name="赵六", phone="13900006666", user=staff)
    refused(
        lambda: bank.transfer(volunteer.pk, spouse.pk, hours=1, user=staff),
        code="transfer_not_family",
    )
    volunteer.family.add(spouse)
    refused(
        lambda: bank.transfer(volunteer.pk, spouse.pk, hours=1, user=staff),
        code="transfer_not_allowed",
    )
    VolunteerSettings.for_site(site).transfer_communities.add(community)
    refused(
        lambda: bank.transfer(volunteer.pk, stranger.pk, hours=1, user=staff),
        code="transfer_not_family",
    )
    refused(
        lambda: bank.transfer(volunteer.pk, spouse.pk, hours=6, user=staff),
        InsufficientBalanceError,
    )
    refused(
        lambda: bank.transfer(volunteer.pk, volunteer.pk, hours=1, user=staff),
        code="transfer_to_self",
    )
    bank.transfer(volunteer.pk, spouse.pk, hours=2, user=staff)
    assert account(volunteer).balance == 3 and account(spouse).balance == 2
    # A gift is not service: the receiver's star hours do not grow.
    assert account(spouse).total_hours == 0


def test_stars_follow_the_editable_thresholds(site):
    assert [bank.stars(h) for h in (0, 99.99, 100, 299, 300, 600, 1000, 1500)] == [
        0,
        0,
        1,
        1,
        2,
        3,
        4,
        5,
    ]
    settings = VolunteerSettings.for_site(site)
    settings.star_1 = 10
    settings.full_clean()
    assert bank.stars(10, settings.thresholds) == 1
    settings.star_2 = 5
    with pytest.raises(Exception, match="逐级增加"):
        settings.full_clean()


# ---------------------------------------------------------------------------
# Posts and the door
# ---------------------------------------------------------------------------


@pytest.fixture
def post():
    page = signup_activity(capacity=30)
    occurrence = Occurrence.objects.get(page_id=page.pk)
    return VolunteerPost.objects.create(occurrence=occurrence, title="引导", capacity=2)


def test_post_sign_up_with_phone_and_code_never_overfills(post, staff):
    people = [
        roster.add(name=f"志愿者{n}", phone=f"1390001{n:04d}", user=staff)
        for n in range(3)
    ]
    for person in people[:2]:
        posts.sign_up(post.pk, phone=person.phone, code=person.code)
    refused(
        lambda: posts.sign_up(post.pk, phone=people[2].phone, code=people[2].code),
        PostFullError,
    )
    refused(
        lambda: posts.sign_up(post.pk, phone=people[0].phone, code="ZZZZZZ"),
        InvalidInputError,
        "credentials_wrong",
    )
    post.refresh_from_db()
    assert post.taken == 2


def test_one_post_per_session_and_none_after_the_start(post, volunteer):
    other = VolunteerPost.objects.create(
        occurrence=post.occurrence, title="签到", capacity=2
    )
    posts.sign_up(post.pk, phone=PHONE, code=volunteer.code)
    refused(
        lambda: posts.sign_up(other.pk, phone=PHONE, code=volunteer.code),
        code="post_already",
    )
    later = post.occurrence.start + datetime.timedelta(minutes=1)
    refused(
        lambda: posts.sign_up(other.pk, phone=PHONE, code=volunteer.code, now=later),
        code="post_closed",
    )


def test_check_in_and_out_records_and_deposits_the_hours(post, volunteer, staff):
    signup = posts.sign_up(post.pk, phone=PHONE, code=volunteer.code)
    start = post.occurrence.start
    refused(
        lambda: posts.check_out(signup.pk, user=staff, now=start),
        code="not_checked_in",
    )
    posts.check_in(signup.pk, user=staff, now=start)
    assert posts.check_in(signup.pk, user=staff, now=start)[1] is False
    refused(
        lambda: posts.check_out(signup.pk, user=staff, now=start),
        code="checkout_too_short",
    )
    refused(
        lambda: posts.check_out(
            signup.pk, user=staff, now=start + datetime.timedelta(hours=25)
        ),
        code="checkout_too_long",
    )
    done = posts.check_out(
        signup.pk, user=staff, now=start + datetime.timedelta(hours=2, minutes=30)
    )
    assert done.record.hours == Decimal("2.50")
    assert done.record.source == "post"
    # A subdistrict-wide activity: the hours count for the volunteer's community.
    assert post.occurrence.community_id is None
    assert done.record.community_id == volunteer.community_id
    assert account(volunteer).balance == Decimal("2.50")
    refused(
        lambda: posts.check_out(
            signup.pk, user=staff, now=start + datetime.timedelta(hours=3)
        ),
        code="already_checked_out",
    )


def test_cancelling_gives_the_place_back(post, volunteer):
    signup = posts.sign_up(post.pk, phone=PHONE, code=volunteer.code)
    posts.cancel(signup.pk)
    post.refresh_from_db()
    assert post.taken == 0
    posts.sign_up(post.pk, phone=PHONE, code=volunteer.code)


# ---------------------------------------------------------------------------
# Retention
# ---------------------------------------------------------------------------


def test_departed_volunteers_personal_data_is_purged_after_retention(volunteer, staff):
    bank.record_service(volunteer.pk, hours=2, description="值守", user=staff)
    left = timezone.now() - datetime.timedelta(days=400)
    roster.leave(volunteer.pk, user=staff, now=left)
    assert roster.purge_departed(dry_run=True).purged == 1
    result = roster.purge_departed()
    assert result.purged == 1
    volunteer.refresh_from_db()
    assert volunteer.is_erased and volunteer.skills == ""
    assert account(volunteer).total_hours == 2  # figures stay
    # This volunteer's entries (the demo's volunteers have theirs too).
    labels = ModelLogEntry.objects.filter(
        content_type__app_label="volunteers", data__code=volunteer.code
    ).values_list("label", flat=True)
    assert labels and all("王" not in label for label in labels)
    assert roster.purge_departed().purged == 0  # idempotent


def test_purge_command(volunteer, staff):
    from io import StringIO

    from django.core.management import call_command

    roster.leave(
        volunteer.pk, user=staff, now=timezone.now() - datetime.timedelta(days=10)
    )
    out = StringIO()
    call_command("purge_volunteer_data", "--days", "30", stdout=out)
    assert "已清除 0 位" in out.getvalue()
    call_command("purge_volunteer_data", "--days", "5", stdout=out)
    assert "已清除 1 位" in out.getvalue()
    volunteer.refresh_from_db()
    assert volunteer.is_erased
