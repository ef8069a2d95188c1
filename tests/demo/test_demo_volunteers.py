"""The demo's volunteers (demo/volunteers.py): teams in every community, about 40
volunteers approved through the roster, hours from the demo's past sessions and
from duty, 卫生厅社区's time bank with withdrawals and a family transfer — all
written through the services, so every ledger adds up. Demo data is picked by
property (ended sessions, kinds of ledger line), never by date: these tests pass
with the clock moved (``faketime -f '+200d'``)."""

from collections import defaultdict
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command
from django.db.models import Sum
from django.utils import timezone
from wagtail.models import ModelLogEntry

from demo import volunteers as demo
from home.models import CommunityPage
from volunteers import audit, bank
from volunteers.models import (
    EntryKind,
    PostSignup,
    PostSignupStatus,
    ServiceRecord,
    ServiceSource,
    Team,
    TimeBankAccount,
    TimeBankEntry,
    Volunteer,
    VolunteerPost,
    VolunteerStatus,
)

pytestmark = pytest.mark.django_db


def by_name(name) -> Volunteer:
    return demo.demo_volunteers().select_related("account").get(name=name)


def test_every_community_has_its_teams_and_the_subdistrict_its_own():
    for community in CommunityPage.objects.live():
        names = set(
            Team.objects.filter(community=community).values_list("name", flat=True)
        )
        assert {demo.PARTY, demo.BUILDING} <= names, community.title
        assert (
            Volunteer.objects.filter(
                community=community, status=VolunteerStatus.ACTIVE
            ).count()
            >= 3
        ), community.title
    wide = Team.objects.filter(community=None).values_list("name", flat=True)
    assert set(wide) >= {"星级志愿服务俱乐部", "在职党员志愿服务队"}
    assert Team.objects.get(community=None, name=demo.CLUB).volunteers.count() >= 3


def test_about_forty_volunteers_with_fake_phones_approved_through_the_roster():
    people = demo.demo_volunteers()
    active = people.filter(status=VolunteerStatus.ACTIVE)
    assert 35 <= active.count() <= 45
    assert people.filter(status=VolunteerStatus.APPLIED).count() == len(demo.APPLICANTS)
    assert all(p.startswith("13900") for p in people.values_list("phone", flat=True))
    for volunteer in active:
        assert volunteer.approved_at > volunteer.applied_at
        assert volunteer.teams.exists()
    approved = ModelLogEntry.objects.filter(action=audit.APPROVED)
    assert approved.count() >= active.count()


def test_hours_come_from_past_sessions_and_duty_through_the_services():
    records = ServiceRecord.objects.filter(volunteer__in=demo.demo_volunteers())
    assert records.filter(source=ServiceSource.DUTY).count() > 100
    served = PostSignup.objects.filter(record__isnull=False).select_related(
        "occurrence", "record"
    )
    assert served.exists(), "no post at a session that has ended"
    for signup in served:
        # Checked in before the session, out after it ended; the hours between.
        assert signup.checked_in_at < signup.occurrence.start
        assert signup.occurrence.end < signup.checked_out_at
        assert signup.record.source == ServiceSource.POST
        assert signup.record.date == timezone.localdate(signup.checked_in_at)
        assert signup.record.community_id == (
            signup.occurrence.community_id or signup.volunteer.community_id
        )
    assert served.count() == records.filter(source=ServiceSource.POST).count()
    assert records.filter(date__gt=timezone.localdate()).count() == 0
    # Each record was deposited (one ledger line) and logged by the service.
    assert (
        TimeBankEntry.objects.filter(kind=EntryKind.DEPOSIT, record__in=records).count()
        == records.count()
    )
    assert (
        ModelLogEntry.objects.filter(action=audit.RECORDED).count() >= records.count()
    )


def test_posts_are_never_overfilled_and_some_places_stay_open():
    posts = VolunteerPost.objects.all()
    assert posts.exists()
    for post in posts:
        confirmed = post.signups.filter(status=PostSignupStatus.CONFIRMED).count()
        assert post.taken == confirmed <= post.capacity
    open_posts = [
        post
        for post in posts.select_related("occurrence")
        if post.occurrence.start > timezone.now() and post.places_left
    ]
    # The next session of an activity with posts is open for volunteers.
    assert open_posts or not posts.filter(occurrence__start__gt=timezone.now())


def test_every_ledger_adds_up_in_time_order():
    """Each passbook, read in order, moves by its lines to its balance; the
    cumulative hours are the records' hours; nothing negative on the way."""
    records = defaultdict(Decimal)
    for volunteer_id, hours in ServiceRecord.objects.values_list(
        "volunteer_id", "hours"
    ):
        records[volunteer_id] += hours
    lines = defaultdict(list)
    for entry in TimeBankEntry.objects.order_by("created_at", "pk"):
        lines[entry.account_id].append(entry)
    accounts = TimeBankAccount.objects.filter(volunteer__in=demo.demo_volunteers())
    assert accounts.count() == demo.demo_volunteers().count()
    for account in accounts:
        running = Decimal(0)
        for entry in lines[account.pk]:
            running += entry.hours
            assert running == entry.balance_after >= 0, account.volunteer_id
        assert running == account.balance
        assert account.total_hours == records[account.pk]


def test_lao_wang_has_the_most_hours_and_the_big_saver_never_withdrew():
    wang, ma = by_name("王建平"), by_name("马春生")
    top = TimeBankAccount.objects.order_by("-total_hours").first()
    assert top.pk == wang.pk
    assert wang.account.total_hours >= 600  # “一年志愿服务六百多个小时”
    assert bank.stars(wang.account.total_hours) >= 3
    assert 300 <= ma.account.balance < 400  # “存下了三百多个小时”
    assert not TimeBankEntry.objects.filter(account=ma.account, hours__lt=0).exists()


def test_weishengting_time_bank_withdrawals_and_a_family_transfer():
    weishengting = CommunityPage.objects.get(slug="weishengting")
    withdrawals = TimeBankEntry.objects.filter(
        kind__in=[EntryKind.SERVICE, EntryKind.GIFT]
    ).select_related("account__volunteer")
    assert withdrawals.count() == len(demo.WITHDRAWALS)
    assert {e.account.volunteer.community_id for e in withdrawals} == {weishengting.pk}
    assert all(e.note for e in withdrawals)
    out = TimeBankEntry.objects.get(kind=EntryKind.TRANSFER_OUT)
    into = TimeBankEntry.objects.get(kind=EntryKind.TRANSFER_IN)
    giver, taker = out.account.volunteer, into.account.volunteer
    assert out.hours == -into.hours and out.counterpart == taker
    assert giver.family.filter(pk=taker.pk).exists()
    assert bank.transfer_allowed(giver)
    assert ModelLogEntry.objects.filter(action=audit.TRANSFERRED).count() == 1
    assert ModelLogEntry.objects.filter(action=audit.WITHDRAWN).count() == len(
        demo.WITHDRAWALS
    )


def test_totals_are_printed_and_match_the_data():
    totals = demo.totals()
    out = StringIO()
    created = demo.load({c.slug: c for c in CommunityPage.objects.all()}, stdout=out)
    assert created == 0  # a second run makes nothing
    text = out.getvalue()
    records = ServiceRecord.objects.filter(volunteer__in=demo.demo_volunteers())
    hours = records.aggregate(n=Sum("hours"))["n"]
    assert totals.hours == Decimal(hours).quantize(demo.CENT)
    assert f"在册志愿者 {totals.volunteers} 名" in text
    assert f"服务记录 {totals.records} 条" in text
    assert f"共 {totals.hours} 小时" in text
    assert f"时间银行余额合计 {totals.balance} 小时" in text
    assert totals.top.name == "王建平" and "王建平" not in text  # masked: 王**


def test_load_demo_again_changes_no_volunteer_data():
    def state():
        return (
            Volunteer.objects.count(),
            Team.objects.count(),
            ServiceRecord.objects.count(),
            TimeBankEntry.objects.count(),
            VolunteerPost.objects.count(),
            PostSignup.objects.count(),
            list(TimeBankAccount.objects.order_by("pk").values_list("balance")),
        )

    before = state()
    out = StringIO()
    call_command("load_demo", stdout=out)
    assert state() == before
    assert "在册志愿者" in out.getvalue()
