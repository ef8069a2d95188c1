"""志愿服务's public pages (volunteers/public.py): the index with teams by
community, a team's page, the 时间银行 page, the application form, and a
post's sign-up from the activity page — each through the client, status and
content asserted; query counts constant as teams and members grow."""

import re
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test.utils import CaptureQueriesContext

from events.models import Occurrence
from home.models import CommunityPage
from tests.factories import signup_activity
from volunteers import bank, roster
from volunteers.models import (
    EntryKind,
    PostSignup,
    Team,
    Volunteer,
    VolunteerPost,
    VolunteerSettings,
    VolunteerStatus,
)
from volunteers.pages import VolunteerIndexPage

pytestmark = pytest.mark.django_db

PHONE = "13900002222"


def text(response) -> str:
    return response.content.decode()


@pytest.fixture
def index():
    return VolunteerIndexPage.objects.get(slug="volunteers")


@pytest.fixture
def staff():
    return get_user_model().objects.get(username="admin")


@pytest.fixture
def communities():
    return list(CommunityPage.objects.live().order_by("path")[:3])


def add_members(team, staff, count, start, hours="2"):
    """``count`` 在册 volunteers of ``team``, each with one record of ``hours``."""
    people = []
    for n in range(count):
        person = roster.add(
            name=f"赵{n}号",
            phone=f"1370{start + n:07d}",
            user=staff,
            community=team.community,
            teams=[team],
        )
        bank.record_service(person.pk, hours=hours, description="楼道清扫", user=staff)
        people.append(person)
    return people


def queries(client, url) -> int:
    client.get(url)  # warm: settings, content types, routing memo
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200, url
    return len(captured)


# ---------------------------------------------------------------------------
# The index and the teams
# ---------------------------------------------------------------------------


def test_index_lists_teams_by_community_and_the_ways_in(client, index, communities):
    party = Team.objects.create(name="党员突击队", community=communities[0])
    Team.objects.create(name="全街道应急队", community=None)
    html = text(client.get(index.url))
    assert "党员突击队" in html and "全街道应急队" in html
    assert f'href="{index.url}teams/{party.pk}/"' in html
    assert communities[0].title in html
    for label in ("申请成为志愿者", "志愿者查询", "时间银行"):
        assert label in html
    # The star levels of 志愿服务设置, by default 100 / 300 / … hours.
    assert "累计服务满 100 小时" in html and "累计服务满 1500 小时" in html


def test_index_and_team_queries_stay_constant(client, index, communities, staff):
    team = Team.objects.create(name="楼组志愿小分队", community=communities[0])
    add_members(team, staff, 1, 100)
    small = {
        "index": queries(client, index.url),
        "team": queries(client, f"{index.url}teams/{team.pk}/"),
        "time bank": queries(client, f"{index.url}time-bank/"),
    }
    for n, community in enumerate(communities):
        other = Team.objects.create(name=f"巾帼志愿队{n}", community=community)
        add_members(other, staff, 3, 200 + 10 * n)
    add_members(team, staff, 6, 300)
    large = {
        "index": queries(client, index.url),
        "team": queries(client, f"{index.url}teams/{team.pk}/"),
        "time bank": queries(client, f"{index.url}time-bank/"),
    }
    assert large == small


def test_team_page_shows_counts_and_hours_but_no_person(client, index, staff):
    community = CommunityPage.objects.live().order_by("path").first()
    team = Team.objects.create(
        name="党员突击队", community=community, description="每周六清扫楼道。"
    )
    people = add_members(team, staff, 3, 400, hours="1.5")
    roster.leave(people[2].pk, user=staff)  # left: not a member any more
    response = client.get(f"{index.url}teams/{team.pk}/")
    html = text(response)
    assert response.status_code == 200
    assert "党员突击队" in html and "每周六清扫楼道。" in html
    assert community.title in html
    assert "2 名在册志愿者" in html
    assert "累计服务 4.5 小时" in html
    for person in people:
        assert person.name not in html and person.phone not in html
    assert f"apply/?team={team.pk}" in html
    # Its own share card: title and canonical URL of the team page.
    assert '<meta property="og:title" content="党员突击队">' in html
    assert re.search(
        rf'<link rel="canonical" href="http://[^"]+{index.url}teams/{team.pk}/">', html
    )


def test_an_unknown_team_is_a_404(client, index):
    assert client.get(f"{index.url}teams/999999/").status_code == 404


def test_time_bank_page_totals_rules_and_thresholds(client, index, staff, site):
    community = CommunityPage.objects.live().order_by("path").first()
    before = client.get(f"{index.url}time-bank/").context
    base = {k: before["totals"][k] for k in ("deposited", "withdrawn", "holders")}
    person = roster.add(name="钱多多", phone=PHONE, user=staff, community=community)
    bank.record_service(person.pk, hours="3", description="陪老人聊天", user=staff)
    bank.withdraw(
        person.pk, hours="1", kind=EntryKind.GIFT, note="兑换大米", user=staff
    )
    settings = VolunteerSettings.for_site(site)
    settings.star_1 = 50
    settings.save()
    response = client.get(f"{index.url}time-bank/")
    html = text(response)
    totals = response.context["totals"]
    assert totals["deposited"] - base["deposited"] == Decimal(3)
    assert totals["withdrawn"] - base["withdrawn"] == Decimal(1)
    assert totals["holders"] - base["holders"] == 1
    assert "时间银行" in html and "兑换物品" in html and "转赠" in html
    assert "累计服务满 50 小时" in html
    assert f'href="{index.url}my/"' in html


# ---------------------------------------------------------------------------
# 申请成为志愿者
# ---------------------------------------------------------------------------


def apply_form(**changes):
    data = {
        "name": "孙志愿",
        "phone": "139 0000 3333",
        "community": "",
        "team": "",
        "skills": "理发",
        "consent": "on",
        "website": "",
        **changes,
    }
    return {k: v for k, v in data.items() if v is not None}


def test_apply_creates_an_application_and_shows_the_code(client, index):
    community = CommunityPage.objects.live().order_by("path").first()
    team = Team.objects.create(name="理发小分队", community=community)
    form = client.get(f"{index.url}apply/?team={team.pk}")
    assert form.status_code == 200 and "我已阅读并同意《隐私说明》" in text(form)
    response = client.post(
        f"{index.url}apply/",
        apply_form(community=str(community.pk), team=str(team.pk)),
    )
    assert response.status_code == 303
    assert "13900003333" not in response["Location"]
    volunteer = Volunteer.objects.get(phone="13900003333")
    assert volunteer.status == VolunteerStatus.APPLIED
    assert list(volunteer.teams.all()) == [team]
    assert volunteer.community == community and volunteer.skills == "理发"
    done = client.get(response["Location"])
    html = text(done)
    assert done.status_code == 200 and volunteer.code in html
    assert "审核后会联系您" in html and "孙**" in html
    assert "no-store" in done["Cache-Control"]
    assert client.get(f"{index.url}apply/done/garbage/").status_code == 404


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"name": ""}, "请填写姓名。"),
        ({"phone": "12345"}, "请填写正确的 11 位手机号码"),
        ({"consent": None}, "请阅读隐私说明并勾选同意"),
        ({"team": "abc"}, "请从列表里选择志愿服务队。"),
        ({"team": "999999"}, "请从列表里选择志愿服务队。"),
        ({"community": "999999"}, "请从列表里选择社区。"),
        ({"name": "孙\x00志愿"}, "无法识别的特殊字符"),
        ({"skills": "长" * 201}, "特长最多 200 个字。"),
        ({"website": "http://spam"}, "提交失败"),
    ],
)
def test_bad_applications_change_nothing(client, index, changes, message):
    count = Volunteer.objects.count()
    response = client.post(f"{index.url}apply/", apply_form(**changes))
    assert response.status_code == 400
    assert message in text(response)
    assert Volunteer.objects.count() == count


def test_a_team_of_another_community_is_refused(client, index, communities):
    team = Team.objects.create(name="外社区的队", community=communities[1])
    response = client.post(
        f"{index.url}apply/",
        apply_form(community=str(communities[0].pk), team=str(team.pk)),
    )
    assert response.status_code == 400
    assert "不属于您选择的社区" in text(response)
    assert not Volunteer.objects.filter(phone="13900003333").exists()


def test_a_phone_already_registered_gets_a_chinese_answer(client, index, staff):
    roster.add(name="周在册", phone="13900003333", user=staff)
    count = Volunteer.objects.count()
    response = client.post(f"{index.url}apply/", apply_form())
    assert response.status_code == 409
    assert "这个手机号已经登记为志愿者（或正在申请）" in text(response)
    assert Volunteer.objects.count() == count


def test_garbage_posts_never_fail(client, index):
    for data in ({}, {"name": ["a", "b"]}, {"phone": "１３９"}, {"csrf": "x" * 500}):
        response = client.post(f"{index.url}apply/", data)
        assert response.status_code == 400
        assert "请修改下面标出的内容后再提交" in text(response)
    assert client.put(f"{index.url}apply/").status_code < 500


def test_applications_are_rate_limited_per_address(client, index, signup_limits):
    signup_limits(per_address="2/10m", per_phone="5/10m")
    for n in range(2):
        client.post(f"{index.url}apply/", apply_form(phone=f"1390000444{n}"))
    over = client.post(f"{index.url}apply/", apply_form(phone="13900004449"))
    assert over.status_code == 429
    assert "提交太频繁，请稍后再试。" in text(over) and int(over["Retry-After"]) > 0
    assert not Volunteer.objects.filter(phone="13900004449").exists()


# ---------------------------------------------------------------------------
# Posts on the activity page, and their sign-up with phone + 志愿者编号
# ---------------------------------------------------------------------------


@pytest.fixture
def post():
    page = signup_activity(capacity=30, title="重阳节游园会")
    occurrence = Occurrence.objects.get(page_id=page.pk)
    return VolunteerPost.objects.create(
        occurrence=occurrence, title="引导", capacity=2, description="在门口引导居民"
    )


def test_the_activity_page_lists_its_posts(client, index, post):
    page = post.occurrence.page
    html = text(client.get(page.url))
    assert "志愿岗位" in html and "引导" in html and "×2" in html
    assert f'href="{index.url}posts/{post.pk}/"' in html and "余 2" in html


def test_an_activity_without_posts_shows_none(client):
    page = signup_activity(capacity=30)
    assert "志愿岗位" not in text(client.get(page.url))


def test_a_volunteer_signs_up_for_a_post(client, index, post, staff):
    volunteer = roster.add(name="李引导", phone=PHONE, user=staff)
    form = client.get(f"{index.url}posts/{post.pk}/")
    assert form.status_code == 200 and "报名这个岗位" in text(form)
    response = client.post(
        f"{index.url}posts/{post.pk}/",
        {"phone": "139 0000 2222", "code": volunteer.code.lower()},
    )
    html = text(response)
    assert response.status_code == 200 and "报名成功" in html and "李**" in html
    assert "no-store" in response["Cache-Control"]
    assert PostSignup.objects.filter(post=post, volunteer=volunteer).count() == 1
    post.refresh_from_db()
    assert post.taken == 1
    # The activity page (page cache or not) shows the place taken.
    assert "余 1" in text(client.get(post.occurrence.page.url))
    again = client.post(
        f"{index.url}posts/{post.pk}/", {"phone": PHONE, "code": volunteer.code}
    )
    assert again.status_code == 409 and "您已经报名了这一场的岗位" in text(again)


def test_post_sign_up_answers_wrong_credentials_neutrally(client, index, post, staff):
    volunteer = roster.add(name="李引导", phone=PHONE, user=staff)
    applied = roster.apply(name="申请中", phone="13900005555")
    answers = []
    for phone, code in (
        (PHONE, "ZZZZ22"),
        ("13700001111", volunteer.code),
        ("13900005555", applied.code),
    ):
        response = client.post(
            f"{index.url}posts/{post.pk}/", {"phone": phone, "code": code}
        )
        assert response.status_code == 404
        answers.append("没有找到志愿者记录" in text(response))
    assert answers == [True, True, True]
    bad = client.post(f"{index.url}posts/{post.pk}/", {"phone": "1", "code": "!"})
    assert bad.status_code == 400 and "请填写志愿者编号" in text(bad)
    assert PostSignup.objects.filter(post=post).count() == 0


def test_a_post_of_another_site_or_unknown_is_a_404(client, index):
    assert client.get(f"{index.url}posts/999999/").status_code == 404
