"""志愿服务 in the admin: a community editor (demo ``jiayuan``) sees and manages
only 甲院社区's teams, volunteers, records and time bank, with names and phones
masked; 街道宣传办 (``xuanchuan``) sees everything in full. The forms go through
the services: bad input is a Chinese message on the form and changes nothing;
the door page checks volunteers in and out and deposits the hours."""

import datetime
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse
from django.utils import timezone
from wagtail.models import ModelLogEntry

from events.models import Occurrence
from home.models import CommunityPage
from tests.factories import signup_activity
from volunteers import bank, posts, roster, wishes
from volunteers.errors import VolunteerError
from volunteers.models import (
    PostSignup,
    ServiceRecord,
    Team,
    TimeBankAccount,
    TimeBankEntry,
    Volunteer,
    VolunteerPost,
    VolunteerStatus,
)

pytestmark = pytest.mark.django_db


def user(username):
    return get_user_model().objects.get(username=username)


@pytest.fixture
def jiayuan():
    return CommunityPage.objects.get(slug="jiayuan")


@pytest.fixture
def other_community(jiayuan):
    return CommunityPage.objects.exclude(pk=jiayuan.pk).order_by("path").first()


@pytest.fixture
def people(jiayuan, other_community):
    admin = user("admin")
    own = roster.add(
        name="甲院张三", phone="13911110001", user=admin, community=jiayuan
    )
    other = roster.add(
        name="别院李四", phone="13911110002", user=admin, community=other_community
    )
    wide = roster.add(name="街道王五", phone="13911110003", user=admin)
    for person in (own, other, wide):
        bank.record_service(person.pk, hours=3, description="值守", user=admin)
    return own, other, wide


def test_community_editor_lists_only_their_community_masked(client, people):
    own, other, wide = people
    client.force_login(user("jiayuan"))
    response = client.get(reverse("volunteers_volunteers:index"))
    assert response.status_code == 200
    text = response.content.decode()
    assert own.code in text and other.code not in text and wide.code not in text
    assert "甲院张三" not in text and "甲**" in text
    assert "13911110001" not in text and "139****0001" in text
    records = client.get(reverse("volunteers_records:index")).content.decode()
    assert str(own) in records and str(other) not in records
    entries = client.get(reverse("volunteers_bank:index")).content.decode()
    assert str(own) in entries and str(other) not in entries


def test_subdistrict_office_sees_everyone_in_full(client, people):
    client.force_login(user("xuanchuan"))
    text = client.get(reverse("volunteers_volunteers:index")).content.decode()
    assert all(person.code in text for person in people)
    assert "甲院张三" in text and "13911110001" in text


def test_another_communitys_volunteer_is_not_found(client, people):
    own, other, _wide = people
    client.force_login(user("jiayuan"))
    edit = reverse("volunteers_volunteers:edit", args=[other.pk])
    assert client.get(edit).status_code == 404
    leave = reverse("volunteers_volunteers:leave", args=[other.pk])
    assert client.post(leave).status_code == 404
    other.refresh_from_db()
    assert other.status == VolunteerStatus.ACTIVE
    record = ServiceRecord.objects.get(volunteer=other)
    correct = reverse("volunteers_correct_hours", args=[record.pk])
    assert client.get(correct).status_code == 404
    # Hours for a code of another community: answered as an unknown code.
    response = client.post(
        reverse("volunteers_record_hours"),
        {
            "code": other.code,
            "date": timezone.localdate(),
            "hours": "1",
            "description": "x",
        },
    )
    assert response.status_code == 400
    assert "没有找到这位志愿者" in response.content.decode()
    assert ServiceRecord.objects.filter(volunteer=other).count() == 1


def test_editor_adds_a_volunteer_only_in_their_community(
    client, jiayuan, other_community
):
    client.force_login(user("jiayuan"))
    add = reverse("volunteers_volunteers:add")
    form = client.get(add).content.decode()
    assert jiayuan.title in form and other_community.title not in form
    response = client.post(
        add,
        {"name": "新人", "phone": "139 1111 0009", "community": other_community.pk},
    )
    assert response.status_code == 200  # the form again, nothing stored
    assert not Volunteer.objects.filter(phone="13911110009").exists()
    response = client.post(
        add, {"name": "新人", "phone": "139 1111 0009", "community": jiayuan.pk}
    )
    assert response.status_code == 302, response.context["form"].errors
    made = Volunteer.objects.get(phone="13911110009")
    assert made.status == VolunteerStatus.ACTIVE and made.community == jiayuan
    assert TimeBankAccount.objects.filter(pk=made.pk).exists()
    # The same phone again: the service's message on the form.
    response = client.post(
        add, {"name": "又一个", "phone": "13911110009", "community": jiayuan.pk}
    )
    assert "已经登记为志愿者" in response.content.decode()


def test_application_approved_from_the_listing(client, jiayuan):
    applied = roster.apply(name="申请人", phone="13911110010", community=jiayuan)
    client.force_login(user("jiayuan"))
    listing = client.get(reverse("volunteers_volunteers:index")).content.decode()
    assert "审核通过" in listing
    response = client.post(reverse("volunteers_volunteers:approve", args=[applied.pk]))
    assert response.status_code == 302
    applied.refresh_from_db()
    assert applied.status == VolunteerStatus.ACTIVE


def test_teams_scoped(client, jiayuan, other_community):
    own = Team.objects.create(name="甲院党员志愿服务队", community=jiayuan)
    other = Team.objects.create(name="别院楼组志愿者", community=other_community)
    client.force_login(user("jiayuan"))
    text = client.get(reverse("volunteers_teams:index")).content.decode()
    assert own.name in text and other.name not in text
    assert (
        client.get(reverse("volunteers_teams:edit", args=[other.pk])).status_code == 404
    )


@pytest.mark.parametrize(
    ("hours", "message"),
    [("-1", "必须大于 0"), ("30", "不能超过 24 小时"), ("abc", "请填写服务时长")],
)
def test_bad_hours_on_the_form_change_nothing(client, people, hours, message):
    own = people[0]
    client.force_login(user("jiayuan"))
    response = client.post(
        reverse("volunteers_record_hours"),
        {
            "code": own.code,
            "date": timezone.localdate(),
            "hours": hours,
            "description": "每天民事调解",
        },
    )
    assert response.status_code == 400
    assert message in response.content.decode()
    assert ServiceRecord.objects.filter(volunteer=own).count() == 1
    assert TimeBankAccount.objects.get(pk=own.pk).balance == 3


def test_withdrawal_above_balance_on_the_form(client, people):
    own = people[0]
    client.force_login(user("jiayuan"))
    url = reverse("volunteers_withdraw")
    data = {"code": own.code, "kind": "gift", "hours": "5", "note": "大米"}
    response = client.post(url, data)
    assert response.status_code == 400
    assert "余额只有 3.00 小时" in response.content.decode()
    assert TimeBankEntry.objects.filter(account_id=own.pk).count() == 1
    response = client.post(url, {**data, "hours": "2"})
    assert response.status_code == 302
    assert TimeBankAccount.objects.get(pk=own.pk).balance == 1


def test_garbage_posts_never_500(client, people):
    client.force_login(user("jiayuan"))
    for url in (
        reverse("volunteers_record_hours"),
        reverse("volunteers_withdraw"),
        reverse("volunteers_transfer"),
        reverse("volunteers_door"),
    ):
        for data in ({}, {"code": "\x00", "hours": "1e999999", "signup": "９"}):
            assert client.post(url, data).status_code in (302, 400)


def test_correction_with_reason(client, people):
    own = people[0]
    record = ServiceRecord.objects.get(volunteer=own)
    client.force_login(user("jiayuan"))
    url = reverse("volunteers_correct_hours", args=[record.pk])
    response = client.post(url, {"hours": "4", "reason": ""})
    assert response.status_code == 400
    response = client.post(url, {"hours": "4", "reason": "签退漏记"})
    assert response.status_code == 302
    record.refresh_from_db()
    assert record.hours == 4
    assert TimeBankAccount.objects.get(pk=own.pk).balance == 4


def test_door_checks_in_and_out_and_deposits(client, jiayuan, people):
    own = people[0]
    page = signup_activity(parent=jiayuan, capacity=20)
    occurrence = Occurrence.objects.get(page_id=page.pk)
    post = VolunteerPost.objects.create(occurrence=occurrence, title="引导", capacity=4)
    signup = posts.sign_up(post.pk, phone=own.phone, code=own.code)
    client.force_login(user("jiayuan"))
    door = reverse("volunteers_door")
    text = client.get(door, {"occurrence": occurrence.pk}).content.decode()
    assert own.code in text and "甲**" in text and "甲院张三" not in text
    client.post(door, {"signup": signup.pk, "action": "check_in"})
    signup.refresh_from_db()
    assert signup.checked_in_at is not None
    # Two hours later (moved by hand: the service takes the time itself).
    PostSignup.objects.filter(pk=signup.pk).update(
        checked_in_at=signup.checked_in_at - datetime.timedelta(hours=2)
    )
    client.post(door, {"signup": signup.pk, "action": "check_out"})
    signup.refresh_from_db()
    assert signup.record.hours == Decimal("2.00")
    assert TimeBankAccount.objects.get(pk=own.pk).balance == Decimal("5.00")
    client.get(door)  # the success messages are read
    # Another community's editor cannot see or check out this session.
    other_editor = (
        CommunityPage.objects.exclude(pk=jiayuan.pk).order_by("path").first().slug
    )
    client.force_login(user(other_editor))
    assert (
        own.code not in client.get(door, {"occurrence": occurrence.pk}).content.decode()
    )


def test_post_capacity_not_below_the_places_taken(client, jiayuan, people):
    own = people[0]
    page = signup_activity(parent=jiayuan, capacity=20)
    occurrence = Occurrence.objects.get(page_id=page.pk)
    post = VolunteerPost.objects.create(occurrence=occurrence, title="签到", capacity=2)
    posts.sign_up(post.pk, phone=own.phone, code=own.code)
    client.force_login(user("jiayuan"))
    url = reverse("volunteers_posts:edit", args=[post.pk])
    response = client.post(
        url, {"occurrence": occurrence.pk, "title": "签到", "capacity": "0"}
    )
    assert response.status_code == 200
    post.refresh_from_db()
    assert post.capacity == 2
    response = client.post(
        url, {"occurrence": occurrence.pk, "title": "签到", "capacity": "3"}
    )
    assert response.status_code == 302
    post.refresh_from_db()
    assert post.capacity == 3


def test_sign_ups_during_an_edit_are_counted_not_overwritten(
    client, jiayuan, people, monkeypatch
):
    """An editor saves 2 places while 1 is taken; two volunteers sign up after
    the form was checked and before it is saved (made to happen inside the
    form's validation here). The save is refused in Chinese (3 hold places),
    and ``taken`` stays 3: the form's stale copy (1) is never written back, so
    the post is never 3 sign-ups for 2 places. A save of 3 then goes through."""
    from volunteers.staff import viewsets

    first, second, third = people[:3]
    page = signup_activity(parent=jiayuan, capacity=20)
    occurrence = Occurrence.objects.get(page_id=page.pk)
    post = VolunteerPost.objects.create(occurrence=occurrence, title="引导", capacity=4)
    posts.sign_up(post.pk, phone=first.phone, code=first.code)
    checking = viewsets._at_least
    racing = []

    def at_least_then_two_sign_ups(taken):
        check = checking(taken)

        def during_validation(value):
            check(value)
            if not racing:
                racing.append(True)
                for volunteer in (second, third):
                    posts.sign_up(post.pk, phone=volunteer.phone, code=volunteer.code)

        return during_validation

    monkeypatch.setattr(viewsets, "_at_least", at_least_then_two_sign_ups)
    client.force_login(user("jiayuan"))
    url = reverse("volunteers_posts:edit", args=[post.pk])
    form = {"occurrence": occurrence.pk, "title": "引导", "capacity": "2"}
    response = client.post(url, form)
    assert racing and response.status_code == 200
    assert "已有 3 人报名，人数不能少于 3。" in response.content.decode()
    post.refresh_from_db()
    assert (post.capacity, post.taken) == (4, 3)
    response = client.post(url, {**form, "title": "引导员", "capacity": "3"})
    assert response.status_code == 302
    post.refresh_from_db()
    assert (post.title, post.capacity, post.taken) == ("引导员", 3, 3)
    assert ModelLogEntry.objects.filter(
        object_id=str(post.pk), action="wagtail.edit"
    ).exists()


def test_posts_update_service_refuses_bad_input(jiayuan, people):
    page = signup_activity(parent=jiayuan, capacity=20)
    occurrence = Occurrence.objects.get(page_id=page.pk)
    post = VolunteerPost.objects.create(occurrence=occurrence, title="引导", capacity=2)
    VolunteerPost.objects.create(occurrence=occurrence, title="签到", capacity=2)
    posts.sign_up(post.pk, phone=people[0].phone, code=people[0].code)
    other = signup_activity(parent=jiayuan, capacity=20)
    cases = [
        ({"capacity": 0}, "岗位人数至少为 1。"),
        ({"title": "签到"}, "这一场已经有叫这个名字的岗位了"),
        (
            {"occurrence_id": Occurrence.objects.get(page_id=other.pk).pk},
            "不能换到别的场次",
        ),
    ]
    for change, text in cases:
        fields = {"title": "引导", "capacity": 2, **change}
        with pytest.raises(VolunteerError) as refused:
            posts.update_post(post.pk, **fields)
        assert text in refused.value.message
        post.refresh_from_db()
        assert (post.title, post.capacity, post.occurrence_id) == (
            "引导",
            2,
            occurrence.pk,
        )


@pytest.mark.parametrize("username", ["jiayuan", "xuanchuan"])
def test_every_page_opens(client, people, username):
    client.force_login(user(username))
    for name in (
        "volunteers_teams:index",
        "volunteers_teams:add",
        "volunteers_volunteers:index",
        "volunteers_volunteers:add",
        "volunteers_posts:index",
        "volunteers_posts:add",
        "volunteers_records:index",
        "volunteers_bank:index",
        "volunteers_record_hours",
        "volunteers_withdraw",
        "volunteers_transfer",
        "volunteers_door",
    ):
        response = client.get(reverse(name))
        assert response.status_code == 200, name
    own = people[0]
    edit = reverse("volunteers_volunteers:edit", args=[own.pk])
    assert client.get(edit).status_code == 200


def test_residents_and_plain_staff_are_kept_out(client, django_user_model):
    plain = django_user_model.objects.create_user("plain", password="x")
    client.force_login(plain)
    for name in ("volunteers_door", "volunteers_record_hours", "volunteers_withdraw"):
        assert client.get(reverse(name)).status_code in (302, 403)


def test_site_history_shows_a_community_editor_only_their_communitys_volunteers(
    client, people
):
    """站点历史 (and its CSV): the volunteer entries of another community, or
    subdistrict-wide ones, are not a community editor's to read — not even
    masked; 街道宣传办 reads them all."""
    own, other, wide = people
    for community, title in (
        (own.community, "甲院的收音机"),
        (other.community, "别院的轮椅"),
    ):
        wishes.publish(
            user=user("admin"),
            community=community,
            title=title,
            recipient_name="李大爷",
            recipient_label="独居老人",
            due_date=timezone.localdate() + datetime.timedelta(days=30),
        )
    history = reverse("wagtailadmin_reports:site_history")
    client.force_login(user("jiayuan"))
    report = client.get(history).content.decode()
    assert own.code in report and "甲院的收音机" in report
    assert other.code not in report and wide.code not in report
    assert "别院的轮椅" not in report
    response = client.get(history, {"export": "csv"})
    export = b"".join(response.streaming_content).decode("utf-8-sig")
    assert own.code in export
    assert other.code not in export and wide.code not in export

    client.force_login(user("xuanchuan"))
    report = client.get(history).content.decode()
    assert own.code in report and other.code in report and wide.code in report
    assert "别院的轮椅" in report
