"""志愿服务 › 微心愿 in the admin: a community editor (demo ``jiayuan``) sees and
manages only 甲院社区's wishes, the resident's name and the claimant's contact
masked; 街道宣传办 (``xuanchuan``) sees everything in full. Publishing, editing
and the row actions 标记已完成 / 取消认领 / 撤下 go through the service: bad
input is a Chinese message and changes nothing, never a 5xx."""

import datetime

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.urls import reverse
from django.utils import timezone

from home.models import CommunityPage
from tests.factories import ImageFactory
from volunteers import wishes
from volunteers.models import Wish, WishClaim, WishState

pytestmark = pytest.mark.django_db


def user(username):
    return get_user_model().objects.get(username=username)


@pytest.fixture
def jiayuan():
    return CommunityPage.objects.get(slug="jiayuan")


@pytest.fixture
def made(jiayuan):
    admin = user("admin")
    other = CommunityPage.objects.exclude(pk=jiayuan.pk).order_by("path").first()
    due = timezone.localdate() + datetime.timedelta(days=7)

    def publish(community, title, name):
        return wishes.publish(
            user=admin,
            community=community,
            title=title,
            recipient_name=name,
            recipient_label="独居老人",
            due_date=due,
        )

    own = publish(jiayuan, "甲院测试心愿", "李桂兰")
    wishes.claim_by_unit(
        own.pk, unit_name="花园路邮政支局", contact_name="赵明", phone="13800004444"
    )
    return {
        "own": own,
        "other": publish(other, "别院测试心愿", "孙大海"),
        "wide": publish(None, "街道测试心愿", "钱多多"),
        "due": due,
    }


def index(client):
    return client.get(reverse("volunteers_wishes:index")).content.decode()


def test_community_editor_lists_only_their_community_masked(client, made):
    client.force_login(user("jiayuan"))
    html = index(client)
    assert "甲院测试心愿" in html
    assert "别院测试心愿" not in html and "街道测试心愿" not in html
    assert "李桂兰" not in html and "李**" in html
    assert "赵明" not in html and "13800004444" not in html
    assert "138****4444" in html and "花园路邮政支局" in html
    assert reverse("volunteers_wishes:fulfil", args=[made["own"].pk]) in html


def test_subdistrict_office_sees_everything_in_full(client, made):
    client.force_login(user("xuanchuan"))
    html = index(client)
    for title in ("甲院测试心愿", "别院测试心愿", "街道测试心愿"):
        assert title in html
    assert "李桂兰" in html and "赵明 13800004444" in html


def test_another_communitys_wish_is_not_found(client, made):
    client.force_login(user("jiayuan"))
    other = made["other"]
    for name in ("edit", "release", "withdraw", "fulfil"):
        url = reverse(f"volunteers_wishes:{name}", args=[other.pk])
        assert client.get(url).status_code == 404
        assert client.post(url, {"reason": "x"}).status_code == 404
    other.refresh_from_db()
    assert other.state == WishState.OPEN


def test_editor_publishes_in_their_community_only(client, jiayuan, made):
    client.force_login(user("jiayuan"))
    url = reverse("volunteers_wishes:add")
    data = {
        "title": "想要一个暖手宝",
        "recipient_name": "周奶奶",
        "recipient_label": "",
        "due_date": made["due"].isoformat(),
        "community": jiayuan.pk,
    }
    assert client.post(url, data).status_code == 302
    wish = Wish.objects.get(title="想要一个暖手宝")
    assert wish.community == jiayuan and wish.state == WishState.OPEN
    other = made["other"].community
    response = client.post(url, {**data, "title": "别处的", "community": other.pk})
    assert response.status_code == 200
    assert not Wish.objects.filter(title="别处的").exists()


@pytest.mark.parametrize(
    "change, message",
    [
        ({"title": ""}, "必需字段"),
        ({"due_date": "2001-01-01"}, "希望完成日期不能早于今天。"),
        ({"due_date": "not a date"}, "输入一个有效的日期。"),
        ({"recipient_name": "", "recipient_label": ""}, "请填写心愿人姓名或说明"),
    ],
)
def test_bad_input_on_publish_changes_nothing(client, jiayuan, made, change, message):
    client.force_login(user("xuanchuan"))
    before = Wish.objects.count()
    data = {
        "title": "想要一个暖手宝",
        "recipient_name": "周奶奶",
        "recipient_label": "",
        "due_date": made["due"].isoformat(),
        "community": jiayuan.pk,
        **change,
    }
    response = client.post(reverse("volunteers_wishes:add"), data)
    assert response.status_code == 200
    assert message in response.content.decode()
    assert Wish.objects.count() == before


def test_editor_without_personal_permission_edits_without_seeing_the_name(client, made):
    client.force_login(user("jiayuan"))
    own = made["own"]
    url = reverse("volunteers_wishes:edit", args=[own.pk])
    html = client.get(url).content.decode()
    assert "李桂兰" not in html
    response = client.post(
        url,
        {
            "title": "甲院测试心愿（改）",
            "recipient_label": "独居老人",
            "due_date": made["due"].isoformat(),
            "community": own.community_id,
        },
    )
    assert response.status_code == 302
    own.refresh_from_db()
    assert own.title == "甲院测试心愿（改）" and own.recipient_name == "李桂兰"
    assert own.state == WishState.CLAIMED


def test_fulfil_release_and_withdraw_from_the_admin(client, made):
    client.force_login(user("jiayuan"))
    own = made["own"]
    fulfil = reverse("volunteers_wishes:fulfil", args=[own.pk])
    assert client.get(fulfil).status_code == 200
    # No photo, an unknown photo, no line: Chinese messages, nothing changed.
    for data, message in (
        ({"line": "已送到"}, "请选择一张完成照片。"),
        ({"photo": "999999999", "line": "已送到"}, "没有找到这张照片"),
        ({"photo": "abc", "line": "已送到"}, "没有找到这张照片"),
        ({"photo": str(ImageFactory().pk), "line": ""}, "请写一句完成说明。"),
    ):
        response = client.post(fulfil, data)
        assert response.status_code == 400
        assert message in response.content.decode()
        own.refresh_from_db()
        assert own.state == WishState.CLAIMED
    release = reverse("volunteers_wishes:release", args=[own.pk])
    assert client.post(release, {"reason": ""}).status_code == 400
    assert client.post(release, {"reason": "单位联系不上"}).status_code == 302
    own.refresh_from_db()
    assert own.state == WishState.OPEN
    # An open wish cannot be fulfilled: the service's message on the form.
    response = client.post(fulfil, {"photo": ImageFactory().pk, "line": "已送到"})
    assert response.status_code == 400
    assert "还没有人认领" in response.content.decode()
    wishes.claim_by_unit(
        own.pk, unit_name="花园路邮政支局", contact_name="赵明", phone="13800004444"
    )
    photo = ImageFactory()
    assert client.post(fulfil, {"photo": photo.pk, "line": "已送到"}).status_code == 302
    own.refresh_from_db()
    assert own.state == WishState.FULFILLED and own.fulfilment_photo == photo
    withdraw = reverse("volunteers_wishes:withdraw", args=[own.pk])
    response = client.post(withdraw, {"reason": "误发"})
    assert response.status_code == 400
    assert "已经完成或已撤下" in response.content.decode()
    assert WishClaim.objects.filter(wish=own).count() == 2


def test_withdraw_an_open_wish(client, made):
    client.force_login(user("xuanchuan"))
    wide = made["wide"]
    url = reverse("volunteers_wishes:withdraw", args=[wide.pk])
    assert client.post(url, {"reason": "家属已办"}).status_code == 302
    wide.refresh_from_db()
    assert wide.state == WishState.WITHDRAWN


@pytest.mark.parametrize("action", ["fulfil", "release", "withdraw"])
def test_garbage_posts_never_500(client, made, action):
    client.force_login(user("jiayuan"))
    url = reverse(f"volunteers_wishes:{action}", args=[made["own"].pk])
    for data in ({}, {"reason": "x" * 5000}, {"photo": "\x00", "line": ["a", "b"]}):
        assert client.post(url, data).status_code in (302, 400)


def test_residents_and_plain_staff_are_kept_out(client, made, django_user_model):
    url = reverse("volunteers_wishes:index")
    assert client.get(url).status_code == 302  # to the login
    plain = django_user_model.objects.create_user("plain", password="x")
    plain.user_permissions.add(*Permission.objects.filter(codename="access_admin"))
    client.force_login(plain)
    assert client.get(url).status_code in (302, 403)
    fulfil = reverse("volunteers_wishes:fulfil", args=[made["own"].pk])
    assert client.get(fulfil).status_code in (302, 403)
