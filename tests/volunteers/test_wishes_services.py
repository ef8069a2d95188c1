"""The 微心愿 service called directly: publish, claim (volunteer by phone + code,
or a 驻区单位), cancel a claim, fulfil with photo and line, withdraw, the purge
of personal data. Bad input and refused changes are a VolunteerError with a
Chinese message and change nothing; the database refuses a second live claim
even without the service."""

import datetime

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db import IntegrityError, transaction
from django.utils import timezone
from wagtail.models import ModelLogEntry

from events.privacy import ERASED_NAME
from home.models import CommunityPage
from tests.factories import ImageFactory
from volunteers import roster, wishes
from volunteers.errors import (
    MESSAGES,
    InvalidInputError,
    NotFoundError,
    RefusedError,
    VolunteerError,
    WishTakenError,
)
from volunteers.models import ClaimKind, Wish, WishClaim, WishState

pytestmark = pytest.mark.django_db

PHONE = "13900002222"


@pytest.fixture
def staff():
    return get_user_model().objects.get(username="admin")


@pytest.fixture
def community():
    return CommunityPage.objects.order_by("path").first()


@pytest.fixture
def volunteer(staff, community):
    return roster.add(name="王建国", phone=PHONE, user=staff, community=community)


def soon(days=10):
    return timezone.localdate() + datetime.timedelta(days=days)


@pytest.fixture
def wish(staff, community):
    return wishes.publish(
        user=staff,
        community=community,
        title="想要一台收音机",
        description="李奶奶眼睛不好，想听戏曲频道。",
        recipient_name="李桂兰",
        recipient_label="独居老人",
        due_date=soon(),
    )


def state():
    return (
        list(
            Wish.objects.order_by("pk").values_list(
                "pk", "state", "title", "recipient_name", "live_claim", "due_date"
            )
        ),
        list(
            WishClaim.objects.order_by("pk").values_list(
                "pk", "cancelled_at", "contact_phone"
            )
        ),
    )


def refused(call, error=VolunteerError, code=None):
    before = state()
    with pytest.raises(error) as raised:
        call()
    assert state() == before
    assert "\u4e00" <= raised.value.message[0] <= "\u9fff"
    if code:
        assert raised.value.code == code
    return raised.value


def test_publish_masks_the_recipient_and_logs(wish):
    assert wish.state == WishState.OPEN
    assert wish.public_recipient == "李** · 独居老人"
    entry = ModelLogEntry.objects.get(
        action="volunteers.wish.published", object_id=str(wish.pk)
    )
    assert entry.label == "想要一台收音机"
    assert "李桂兰" not in str(entry.data)


@pytest.mark.parametrize(
    "fields, code",
    [
        ({"title": "  "}, "wish_title_missing"),
        ({"title": "想" * 61}, "wish_title_too_long"),
        ({"recipient_name": "", "recipient_label": ""}, "wish_recipient_missing"),
        ({"recipient_label": "长" * 21}, "wish_recipient_label_too_long"),
        ({"due_date": None}, "wish_due_missing"),
        ({"due_date": "2030-01-01"}, "wish_due_missing"),
        ({"due_date": datetime.date(2000, 1, 1)}, "wish_due_past"),
        ({"description": "长" * 301}, "wish_description_too_long"),
        ({"recipient_name": "\u200b\u200b"}, "wish_recipient_missing"),
    ],
)
def test_publish_refuses_bad_input(staff, fields, code):
    data = {
        "title": "想要一台收音机",
        "recipient_name": "李桂兰",
        "recipient_label": "",
        "due_date": soon(),
        **fields,
    }
    refused(lambda: wishes.publish(user=staff, **data), InvalidInputError, code)


def test_volunteer_claims_once(wish, volunteer):
    claim = wishes.claim_by_volunteer(
        wish.pk, phone="139 0000 2222", code=volunteer.code.lower()
    )
    wish.refresh_from_db()
    assert wish.state == WishState.CLAIMED and wish.live_claim_id == claim.pk
    assert claim.public_claimant == "志愿者 王**"
    error = refused(
        lambda: wishes.claim_by_unit(
            wish.pk,
            unit_name="花园路邮政支局",
            contact_name="赵明",
            phone="13800001111",
        ),
        WishTakenError,
    )
    assert "已经被认领" in error.message
    claimed = ModelLogEntry.objects.filter(
        action="volunteers.wish.claimed", object_id=str(wish.pk)
    )
    assert claimed.count() == 1


@pytest.mark.parametrize(
    "phone, code",
    [("13900002222", "WRONG1"), ("13900009999", None), ("abc", None), ("", "")],
)
def test_wrong_credentials_are_one_neutral_message(wish, volunteer, phone, code):
    error = refused(
        lambda: wishes.claim_by_volunteer(
            wish.pk, phone=phone, code=volunteer.code if code is None else code
        ),
        InvalidInputError,
        "credentials_wrong",
    )
    assert error.message == MESSAGES["credentials_wrong"]


def test_volunteer_not_on_the_roster_cannot_claim(wish, volunteer, staff):
    roster.leave(volunteer.pk, user=staff)
    refused(
        lambda: wishes.claim_by_volunteer(wish.pk, phone=PHONE, code=volunteer.code),
        InvalidInputError,
        "credentials_wrong",
    )


@pytest.mark.parametrize(
    "fields, code",
    [
        ({"unit_name": ""}, "unit_name_missing"),
        ({"unit_name": "单" * 61}, "unit_name_too_long"),
        ({"contact_name": " "}, "contact_name_missing"),
        ({"phone": "12345"}, "phone_invalid"),
    ],
)
def test_unit_claim_refuses_bad_input(wish, fields, code):
    data = {
        "unit_name": "花园路邮政支局",
        "contact_name": "赵明",
        "phone": "13800001111",
    }
    data.update(fields)
    refused(lambda: wishes.claim_by_unit(wish.pk, **data), InvalidInputError, code)


def test_release_then_claim_again_then_fulfil(wish, volunteer, staff):
    wishes.claim_by_unit(
        wish.pk, unit_name="花园路邮政支局", contact_name="赵明", phone="13800001111"
    )
    refused(
        lambda: wishes.release(wish.pk, user=staff, reason=""),
        code="cancel_reason_missing",
    )
    wishes.release(wish.pk, user=staff, reason="单位联系不上")
    wish.refresh_from_db()
    assert wish.state == WishState.OPEN and wish.live_claim is None
    assert WishClaim.objects.get(wish=wish).cancel_reason == "单位联系不上"
    claim = wishes.claim_by_volunteer(wish.pk, phone=PHONE, code=volunteer.code)
    photo = ImageFactory()
    refused(
        lambda: wishes.fulfil(wish.pk, user=staff, photo=None, line="已送到"),
        code="photo_missing",
    )
    refused(
        lambda: wishes.fulfil(wish.pk, user=staff, photo=photo, line=" "),
        code="line_missing",
    )
    wishes.fulfil(wish.pk, user=staff, photo=photo, line="收音机已送到李奶奶家中")
    wish.refresh_from_db()
    assert wish.state == WishState.FULFILLED
    assert wish.live_claim_id == claim.pk and wish.fulfilment_photo == photo
    for call in (
        lambda: wishes.release(wish.pk, user=staff, reason="x"),
        lambda: wishes.withdraw(wish.pk, user=staff, reason="x"),
        lambda: wishes.fulfil(wish.pk, user=staff, photo=photo, line="再次"),
        lambda: wishes.claim_by_volunteer(wish.pk, phone=PHONE, code=volunteer.code),
    ):
        refused(call, RefusedError)


def test_open_wish_cannot_be_fulfilled_or_released(wish, staff):
    refused(
        lambda: wishes.fulfil(wish.pk, user=staff, photo=ImageFactory(), line="好"),
        RefusedError,
        "wish_not_claimed",
    )
    refused(
        lambda: wishes.release(wish.pk, user=staff, reason="x"),
        RefusedError,
        "wish_not_claimed",
    )


def test_withdraw_cancels_the_claim(wish, staff):
    wishes.claim_by_unit(
        wish.pk, unit_name="花园路邮政支局", contact_name="赵明", phone="13800001111"
    )
    refused(
        lambda: wishes.withdraw(wish.pk, user=staff, reason=""),
        code="withdraw_reason_missing",
    )
    wishes.withdraw(wish.pk, user=staff, reason="家属已经买了")
    wish.refresh_from_db()
    assert wish.state == WishState.WITHDRAWN and wish.live_claim is None
    assert WishClaim.objects.get(wish=wish).cancelled_at is not None
    assert not Wish.objects.public().filter(pk=wish.pk).exists()


def test_missing_wish(staff):
    for call in (
        lambda: wishes.claim_by_unit(
            10**9, unit_name="单位", contact_name="赵明", phone="13800001111"
        ),
        lambda: wishes.release(10**9, user=staff, reason="x"),
        lambda: wishes.withdraw(10**9, user=staff, reason="x"),
    ):
        refused(call, NotFoundError, "wish_missing")


def test_database_refuses_a_second_live_claim(wish):
    WishClaim.objects.create(wish=wish, kind=ClaimKind.UNIT, unit_name="甲单位")
    with pytest.raises(IntegrityError), transaction.atomic():
        WishClaim.objects.create(wish=wish, kind=ClaimKind.UNIT, unit_name="乙单位")


def test_database_refuses_a_claimed_wish_without_claim(wish):
    with pytest.raises(IntegrityError), transaction.atomic():
        Wish.objects.filter(pk=wish.pk).update(state=WishState.CLAIMED)


def test_update_keeps_state_and_checks_input(wish, staff, community):
    wishes.update(
        wish.pk,
        user=staff,
        community=None,
        title="想要一台大字收音机",
        recipient_name="李桂兰",
        recipient_label="独居老人",
        due_date=wish.due_date,
    )
    wish.refresh_from_db()
    assert wish.title == "想要一台大字收音机" and wish.community is None
    refused(
        lambda: wishes.update(
            wish.pk, user=staff, title="", recipient_name="李桂兰", due_date=soon()
        ),
        InvalidInputError,
        "wish_title_missing",
    )


def test_purge_erases_personal_data_of_finished_wishes(wish, staff):
    Wish.objects.exclude(pk=wish.pk).delete()  # the demo's
    wishes.claim_by_unit(
        wish.pk, unit_name="花园路邮政支局", contact_name="赵明", phone="13800001111"
    )
    wishes.fulfil(wish.pk, user=staff, photo=ImageFactory(), line="已送到")
    fresh = wishes.publish(
        user=staff, title="想学用智能手机", recipient_name="周大爷", due_date=soon()
    )
    later = timezone.now() + datetime.timedelta(days=400)
    dry = wishes.purge_personal_data(days=30, dry_run=True, now=later)
    assert (dry.wishes, dry.claims) == (1, 1)
    result = wishes.purge_personal_data(days=30, now=later)
    assert (result.wishes, result.claims) == (1, 1)
    wish.refresh_from_db()
    claim = WishClaim.objects.get(wish=wish)
    assert wish.recipient_name == ERASED_NAME and wish.public_recipient == "独居老人"
    assert (claim.contact_name, claim.contact_phone) == (ERASED_NAME, "")
    assert claim.unit_name == "花园路邮政支局" and wish.fulfilment_line == "已送到"
    fresh.refresh_from_db()
    assert fresh.recipient_name == "周大爷"  # still open: kept
    again = wishes.purge_personal_data(days=30, now=later)
    assert (again.wishes, again.claims) == (0, 0)


def test_purge_command_includes_wishes(wish, staff):
    Wish.objects.exclude(pk=wish.pk).delete()  # the demo's
    wishes.withdraw(wish.pk, user=staff, reason="不需要了")
    Wish.objects.filter(pk=wish.pk).update(
        updated_at=timezone.now() - datetime.timedelta(days=4000)
    )
    from io import StringIO

    out = StringIO()
    call_command("purge_volunteer_data", stdout=out)
    assert "1 个微心愿" in out.getvalue()
    wish.refresh_from_db()
    assert wish.recipient_name == ERASED_NAME
