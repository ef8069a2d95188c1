"""Demo volunteers, teams, posts, service hours and the time bank, from the seeds:
志愿服务队 in every community (党员志愿服务队, 楼组志愿者: 000), a subdistrict-wide
星级志愿服务俱乐部 and 时间银行 at 卫生厅社区 (004), and the honours' own
“志愿服务时长最多的老王” and “时间银行里的大储户”.

Everything a service owns goes through it, as the demo sign-ups do: volunteers
apply and are approved (``roster``), posts are signed up for with phone + code,
checked in and out at the door (``posts``), duty hours are recorded, withdrawn
and transferred (``bank``). Teams, posts and family links have no service (the
admin's own forms save them as plain rows) and are created here the same way.

Nothing assumes a date. The history is laid out backwards from the moment the
demo is loaded (weekly duty over the past year), the posts' past sessions are
whichever sessions of the demo's activities have *ended* by then, and the
operations run in time order with each service's ``now``, so every passbook reads
in order. Idempotent: volunteers are found by phone, teams by name, posts by
activity; the history is written once (when no demo volunteer has a record yet).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.db.models import Sum
from django.utils import timezone

from volunteers import bank, posts, roster
from volunteers.models import (
    CURRENT_STATUSES,
    EntryKind,
    PostSignup,
    ServiceRecord,
    Team,
    TimeBankAccount,
    TimeBankEntry,
    Volunteer,
    VolunteerPost,
    VolunteerStatus,
)

# Phones in the demo residents' fake block (139 0000 xxxx): 139 0009 xxxx, a range no
# test registers volunteers in.
PHONE_PREFIX = "1390009"
SUBDISTRICT_STAFF = "xuanchuan"

PARTY, BUILDING = "党员志愿服务队", "楼组志愿者"
TEAM_TEXT = {
    PARTY: "社区直管党员、退休党员和在职党员组成，“群众有需要，党员能做到”。",
    BUILDING: "每个楼组三到五名志愿者，学习、清洁、健康、平安、关怀都在楼组。",
}
SPECIAL_TEAMS = {
    "weishengting": [
        (
            "时间银行医护志愿服务队",
            "退休医生、护士为高龄、独居老人上门服务，服务时长存进时间银行。",
        )
    ],
    "gongyeyuan": [("四点钟课堂志愿服务队", "大学生和退休教师辅导孩子写作业。")],
}
SUBDISTRICT_TEAMS = [
    (
        "星级志愿服务俱乐部",
        "全街道志愿者按服务质量和服务时间评定星级，优秀队员推荐参评花园榜样。",
    ),
    ("在职党员志愿服务队", "辖区单位在职党员到社区报到，参加调解、宣传和结对帮扶。"),
]

# (name, community slug or None, extra team, skills, weekly duty or None)
# weekly duty: (description, hours, weekdays 0=Mon, weeks back)
VOLUNTEERS = [
    (
        "王建平",
        "tongxinhuayuan",
        PARTY,
        "手机使用教学",
        ("党群服务中心教老人用手机", "6", (0, 2), 52),
    ),
    ("孟秀芝", "tongxinhuayuan", BUILDING, "楼道保洁", ("楼组卫生值守", "2", (5,), 12)),
    ("段志勇", "tongxinhuayuan", BUILDING, "水电维修", None),
    ("葛玉珍", "tongxinhuayuan", PARTY, "", ("独居老人探访", "2", (3,), 8)),
    (
        "马春生",
        "wuyuan",
        PARTY,
        "陪诊、搬运",
        ("陪老人看病、帮邻居搬家", "6", (1,), 52),
    ),
    ("邵桂香", "wuyuan", BUILDING, "烹饪", ("温暖戊家厨房帮厨", "3", (4,), 10)),
    ("汪德福", "wuyuan", BUILDING, "", None),
    ("贺春兰", "jiayuan", PARTY, "文艺", ("拾光合唱排练组织", "2", (2,), 14)),
    ("温建设", "jiayuan", BUILDING, "平安巡逻", ("夜间楼院巡逻", "2", (4,), 16)),
    ("董淑芬", "jiayuan", BUILDING, "", None),
    ("彭立新", "jiayuan", PARTY, "理发", ("为老人义务理发", "3", (6,), 9)),
    ("潘玉凤", "shenggongxiaoshe", PARTY, "", ("公益社便民服务", "2", (1,), 10)),
    ("蒋国栋", "shenggongxiaoshe", BUILDING, "木工", None),
    ("鲁秀云", "shenggongxiaoshe", BUILDING, "", ("美丽社绿化养护", "2", (5,), 6)),
    ("韦建中", "nongyeyuan", PARTY, "书法", ("红空间书法辅导", "2", (1,), 12)),
    ("毛翠英", "nongyeyuan", BUILDING, "", ("绿农园种植", "2", (3,), 8)),
    ("史长河", "nongyeyuan", BUILDING, "", None),
    ("钱立国", "gongyeyuan", PARTY, "", ("红色物业议事", "2", (0,), 10)),
    (
        "薛晓燕",
        "gongyeyuan",
        "四点钟课堂志愿服务队",
        "小学数学",
        ("四点钟课堂辅导", "1.5", (1, 3), 10),
    ),
    (
        "侯嘉豪",
        "gongyeyuan",
        "四点钟课堂志愿服务队",
        "英语",
        ("四点钟课堂辅导", "1.5", (2,), 8),
    ),
    ("龚秀梅", "gongyeyuan", BUILDING, "", None),
    (
        "周雅琴",
        "weishengting",
        "时间银行医护志愿服务队",
        "护理",
        ("健康驿站量血压", "5", (1,), 48),
    ),
    (
        "杨文博",
        "weishengting",
        "时间银行医护志愿服务队",
        "全科医生",
        ("上门问诊", "2", (6,), 30),
    ),
    ("田玉兰", "weishengting", BUILDING, "", ("颐养食堂送餐", "2", (2,), 20)),
    ("田守义", "weishengting", PARTY, "", ("健康讲座引导", "2", (4,), 20)),
    (
        "邱桂英",
        "weishengting",
        "时间银行医护志愿服务队",
        "康复理疗",
        ("康复指导", "3", (3,), 16),
    ),
    ("阎振东", "shengminhang", PARTY, "", ("绿航分类站值守", "2", (5,), 12)),
    ("蔡丽华", "shengminhang", BUILDING, "", ("垃圾分类指导", "2", (0,), 6)),
    ("项明", "shengminhang", BUILDING, "", None),
    ("金秀荣", "shengyinhang", PARTY, "理财知识", ("防范诈骗宣传", "2", (2,), 10)),
    ("尹国华", "shengyinhang", BUILDING, "", ("乐融邻里调解", "2", (4,), 6)),
    ("姜淑兰", "shengyinhang", BUILDING, "", None),
    ("卢振国", "shengshuliting", PARTY, "", ("红旗渠精神宣讲", "2", (3,), 10)),
    ("苏彩霞", "shengshuliting", BUILDING, "园艺", ("楼院微花园养护", "2", (6,), 8)),
    ("崔永军", "shengshuliting", BUILDING, "", None),
    ("石惠芳", "shengshuliting", PARTY, "", None),
    (
        "程立德",
        None,
        "在职党员志愿服务队",
        "人民调解",
        ("每天民事调解", "2.5", (0, 3), 26),
    ),
    (
        "江海燕",
        None,
        "在职党员志愿服务队",
        "法律咨询",
        ("每天民事调解", "2.5", (2,), 20),
    ),
    ("陆家豪", None, "星级志愿服务俱乐部", "摄影", ("活动摄影", "3", (5,), 10)),
    ("白文静", None, "星级志愿服务俱乐部", "", None),
]
# Public applications not yet approved: the admin's 审核通过 has something to do.
APPLICANTS = [("纪晓雯", "jiayuan", "绘画"), ("谭宇航", "weishengting", "")]
# The honours' 老王 (most hours) and 大储户 belong to the subdistrict's club too.
CLUB = "星级志愿服务俱乐部"
CLUB_MEMBERS = ("王建平", "马春生", "周雅琴")

# 卫生厅社区's time bank: what was withdrawn (days ago, who, hours, kind, note)
# and one transfer to a registered family member (its community allows it).
WITHDRAWALS = [
    (40, "周雅琴", "4", EntryKind.SERVICE, "享受服务：预约上门助浴"),
    (25, "田玉兰", "5", EntryKind.GIFT, "兑换物品：米面油一份"),
    (12, "邱桂英", "3", EntryKind.SERVICE, "享受服务：陪同就医"),
    (5, "田守义", "2", EntryKind.GIFT, "兑换物品：毛巾两条"),
]
FAMILY = ("田守义", "田玉兰")
TRANSFER = (8, "田守义", "田玉兰", "6", "转给老伴，预约上门理发")

# Posts (岗位) at activities: on up to ``PAST_SESSIONS`` of each activity's
# sessions that have ended (filled, checked in and out) and on its next one
# (a few places taken, the rest open).
POSTS = {
    "chongyang-jinglao": [("引导", 4), ("签到", 2)],
    "zhongqiu-yuebing": [("帮厨", 3), ("签到", 2)],
    "minshi-tiaojie": [("调解助理", 1)],
    "sidianzhong-ketang": [("作业辅导", 3)],
    "yizhen-weishengting": [("引导", 4), ("签到", 2)],
    "yundonghui-gongyeyuan": [("引导", 4), ("签到", 2), ("后勤保障", 3)],
    "dongzhi-jiaozi": [("帮厨", 4), ("送餐", 2)],
}
PAST_SESSIONS = 2
UPCOMING_SIGNUPS = 2


CENT = Decimal("0.01")


def hours_sum(queryset, field="hours") -> Decimal:
    """A sum of hours to two places (SQLite's sum of decimals is a float)."""
    total = queryset.aggregate(n=Sum(field, default=Decimal(0)))["n"]
    return Decimal(total).quantize(CENT)


def phone(n: int) -> str:
    return f"{PHONE_PREFIX}{n:04d}"


@dataclass
class Totals:
    teams: int
    volunteers: int
    applicants: int
    records: int
    hours: Decimal
    post_records: int
    balance: Decimal
    withdrawals: int
    withdrawn: Decimal
    transfers: int
    posts: int
    post_signups: int
    top: Volunteer | None

    def lines(self) -> list[str]:
        top = self.top
        return [
            f"志愿服务：{self.teams} 支志愿服务队，在册志愿者 {self.volunteers} 名"
            f"（另有 {self.applicants} 份申请待审核）。",
            f"服务记录 {self.records} 条（活动岗位 {self.post_records} 条），"
            f"共 {self.hours} 小时；志愿岗位 {self.posts} 个，岗位报名 "
            f"{self.post_signups} 人次。",
            f"时间银行余额合计 {self.balance} 小时；支取 {self.withdrawals} 笔共 "
            f"{self.withdrawn} 小时，转赠家人 {self.transfers} 笔。",
            f"累计时长最多：{top} {top.account.total_hours} 小时。"
            if top
            else "还没有服务时长。",
        ]


def demo_volunteers():
    """The demo's volunteers (current or not), by their phone block."""
    return Volunteer.objects.filter(phone__startswith=PHONE_PREFIX)


def totals() -> Totals:
    """Figures of the demo's volunteers, as load_demo prints them."""
    people = demo_volunteers()
    records = ServiceRecord.objects.filter(volunteer__in=people)
    entries = TimeBankEntry.objects.filter(account__volunteer__in=people)
    withdrawals = entries.filter(kind__in=[EntryKind.SERVICE, EntryKind.GIFT])
    signups = PostSignup.objects.filter(volunteer__in=people, status="confirmed")
    return Totals(
        teams=Team.objects.count(),
        volunteers=people.filter(status=VolunteerStatus.ACTIVE).count(),
        applicants=people.filter(status=VolunteerStatus.APPLIED).count(),
        records=records.count(),
        hours=hours_sum(records),
        post_records=records.filter(source="post").count(),
        balance=hours_sum(
            TimeBankAccount.objects.filter(volunteer__in=people), "balance"
        ),
        withdrawals=withdrawals.count(),
        withdrawn=-hours_sum(withdrawals),
        transfers=entries.filter(kind=EntryKind.TRANSFER_OUT).count(),
        posts=VolunteerPost.objects.count(),
        post_signups=signups.count(),
        top=people.select_related("account")
        .order_by("-account__total_hours", "pk")
        .first(),
    )


class VolunteerDemo:
    """Builds the volunteers' part of the demo; ``created`` counts new objects."""

    def __init__(self, communities: dict):
        self.communities = communities  # slug → CommunityPage
        self.created = 0
        self.now = timezone.now()
        User = get_user_model()
        self.staff = {
            user.username: user
            for user in User.objects.filter(
                username__in=[SUBDISTRICT_STAFF, "admin", *communities]
            )
        }

    def staff_for(self, community):
        slug = community.slug if community else SUBDISTRICT_STAFF
        return self.staff.get(slug) or self.staff.get(SUBDISTRICT_STAFF)

    # -- teams and people --------------------------------------------------

    def team(self, community, name: str, description: str) -> Team:
        team = Team.objects.filter(community=community, name=name).first()
        if team is None:
            team = Team.objects.create(
                community=community, name=name, description=description
            )
            self.created += 1
        return team

    def teams(self) -> dict[tuple[str | None, str], Team]:
        teams = {}
        for slug, community in self.communities.items():
            specs = [(name, TEAM_TEXT[name]) for name in (PARTY, BUILDING)]
            for name, description in specs + SPECIAL_TEAMS.get(slug, []):
                teams[slug, name] = self.team(community, name, description)
        for name, description in SUBDISTRICT_TEAMS:
            teams[None, name] = self.team(None, name, description)
        return teams

    def person(self, n, name, slug, team_names, skills, *, approve: bool):
        existing = Volunteer.objects.filter(
            phone=phone(n), status__in=CURRENT_STATUSES
        ).first()
        if existing:
            return existing
        community = self.communities.get(slug) if slug else None
        teams = [self.team_map[key] for key in team_names if key in self.team_map]
        # Applied a while before the history starts, approved a day later.
        applied = self.now - timedelta(days=450 - n)
        volunteer = roster.apply(
            name=name,
            phone=phone(n),
            community=community,
            skills=skills,
            teams=teams,
            now=applied if approve else self.now - timedelta(days=2 + n % 3),
        )
        if approve:
            volunteer = roster.approve(
                volunteer.pk,
                user=self.staff_for(community),
                now=applied + timedelta(days=1),
            )
        self.created += 2  # the volunteer and their time-bank account
        return volunteer

    def people(self) -> dict[str, Volunteer]:
        self.team_map = self.teams()
        people = {}
        for n, (name, slug, team, skills, _duty) in enumerate(VOLUNTEERS):
            teams = dict.fromkeys([(slug, team), (slug, BUILDING)])
            if name in CLUB_MEMBERS:
                teams[None, CLUB] = None
            people[name] = self.person(n, name, slug, teams, skills, approve=True)
        for n, (name, slug, skills) in enumerate(APPLICANTS, len(VOLUNTEERS)):
            self.person(n, name, slug, [(slug, BUILDING)], skills, approve=False)
        return people

    # -- the history, in time order ---------------------------------------

    def local(self, day, hour: int, minute: int = 0):
        return timezone.make_aware(datetime.combine(day, time(hour, minute)))

    def duty_operations(self, people):
        today = timezone.localdate(self.now)
        for name, _slug, _team, _skills, duty in VOLUNTEERS:
            if not duty:
                continue
            description, hours, weekdays, weeks = duty
            volunteer = people[name]
            for back in range(1, weeks * 7 + 1):
                day = today - timedelta(days=back)
                if day.weekday() not in weekdays:
                    continue
                at = self.local(day, 18)
                yield at, self.record(volunteer, day, hours, description, at)

    def record(self, volunteer, day, hours, description, at):
        def run():
            bank.record_service(
                volunteer.pk,
                hours=hours,
                day=day,
                description=description,
                user=self.staff_for(volunteer.community),
                community=volunteer.community,
                now=at,
            )
            self.created += 2  # the record and its ledger line

        return run

    def bank_operations(self, people):
        today = timezone.localdate(self.now)
        for back, name, hours, kind, note in WITHDRAWALS:
            at = self.local(today - timedelta(days=back), 10)
            yield at, self.withdrawal(people[name], hours, kind, note, at)
        back, giver, taker, hours, note = TRANSFER
        at = self.local(today - timedelta(days=back), 10)
        yield at, self.transfer(people[giver], people[taker], hours, note, at)

    def withdrawal(self, volunteer, hours, kind, note, at):
        def run():
            bank.withdraw(
                volunteer.pk,
                hours=hours,
                kind=kind,
                note=note,
                user=self.staff_for(volunteer.community),
                now=at,
            )
            self.created += 1

        return run

    def transfer(self, giver, taker, hours, note, at):
        def run():
            bank.transfer(
                giver.pk,
                taker.pk,
                hours=hours,
                note=note,
                user=self.staff_for(giver.community),
                now=at,
            )
            self.created += 2

        return run

    def allow_family_transfers(self, people):
        """卫生厅社区's time bank allows transfers to family (志愿服务设置), and
        the two 田 are registered as family (the admin's edit form does the same)."""
        community = self.communities.get("weishengting")
        settings = bank.volunteer_settings()
        if (
            community
            and not settings.transfer_communities.filter(pk=community.pk).exists()
        ):
            settings.transfer_communities.add(community)
        a, b = (people[name] for name in FAMILY)
        if not a.family.filter(pk=b.pk).exists():
            a.family.add(b)
            self.created += 1

    # -- posts at activities ---------------------------------------------

    def candidates(self, occurrence, people) -> list[Volunteer]:
        """Who serves at a session: the activity's community's volunteers first,
        then the subdistrict-wide ones (all of them for a subdistrict activity)."""
        here = occurrence.community_id
        own = [v for v in people.values() if v.community_id == here]
        wide = [v for v in people.values() if v.community_id is None]
        return own + (wide if here is not None else [])

    def post_operations(self, people):
        from wagtail.models import Page

        from events.models import Occurrence

        for slug, specs in POSTS.items():
            page = Page.objects.filter(slug=slug).first()
            if page is None:
                continue
            sessions = Occurrence.objects.filter(
                page_id=page.pk, cancelled=False
            ).select_related("page")
            if VolunteerPost.objects.filter(occurrence__in=sessions).exists():
                continue
            ended = list(
                sessions.filter(end__lt=self.now).order_by("-start")[:PAST_SESSIONS]
            )
            upcoming = list(
                sessions.filter(start__gt=self.now + timedelta(hours=1)).order_by(
                    "start"
                )[:1]
            )
            for occurrence in ended:
                yield from self.served(occurrence, specs, people)
            for occurrence in upcoming:
                yield self.now, self.open_posts(occurrence, specs, people)

    def make_posts(self, occurrence, specs) -> list[VolunteerPost]:
        made = []
        for title, capacity in specs:
            made.append(
                VolunteerPost.objects.create(
                    occurrence=occurrence,
                    title=title,
                    capacity=capacity,
                    description=f"{occurrence.page.title}需要{title}志愿者",
                )
            )
            self.created += 1
        return made

    def served(self, occurrence, specs, people):
        """A past session: its posts filled but one place, signed up three days
        before, checked in 15 minutes before the start, out after the end."""
        volunteers = iter(self.candidates(occurrence, people))
        signed_up = occurrence.start - timedelta(days=3)
        made: list = []
        signups: list = []

        def create_and_sign_up():
            made.extend(self.make_posts(occurrence, specs))
            places = [p for p in made for _ in range(p.capacity)][:-1] or made[:1]
            for i, post in enumerate(places):
                volunteer = next(volunteers, None)
                if volunteer is None:
                    break
                signups.append(
                    posts.sign_up(
                        post.pk,
                        phone=volunteer.phone,
                        code=volunteer.code,
                        now=signed_up + timedelta(minutes=i),
                    )
                )
                self.created += 1

        def check_in():
            for signup in signups:
                posts.check_in(
                    signup.pk,
                    user=self.staff_for(occurrence.community),
                    now=occurrence.start - timedelta(minutes=15),
                )

        def check_out():
            for i, signup in enumerate(signups):
                posts.check_out(
                    signup.pk,
                    user=self.staff_for(occurrence.community),
                    now=occurrence.end + timedelta(minutes=5 + 7 * (i % 3)),
                )
                self.created += 2

        yield signed_up, create_and_sign_up
        yield occurrence.start - timedelta(minutes=15), check_in
        yield occurrence.end + timedelta(minutes=5), check_out

    def open_posts(self, occurrence, specs, people):
        def run():
            made = self.make_posts(occurrence, specs)
            volunteers = iter(self.candidates(occurrence, people))
            for post in made[:1]:
                for _ in range(min(UPCOMING_SIGNUPS, post.capacity - 1)):
                    volunteer = next(volunteers, None)
                    if volunteer is None:
                        return
                    posts.sign_up(post.pk, phone=volunteer.phone, code=volunteer.code)
                    self.created += 1

        return run

    # -- all of it -------------------------------------------------------

    def load(self) -> int:
        people = self.people()
        operations = list(self.post_operations(people))
        if not ServiceRecord.objects.filter(volunteer__in=people.values()).exists():
            self.allow_family_transfers(people)
            operations += self.duty_operations(people)
            operations += self.bank_operations(people)
        # Stable: at one moment, the order they were listed in.
        for _at, run in sorted(operations, key=lambda pair: pair[0]):
            run()
        return self.created


def load(communities: dict, stdout=None) -> int:
    """Build the volunteers' demo (see the module docstring); print the totals.
    Returns the number of objects created."""
    created = VolunteerDemo(communities).load()
    if stdout is not None:
        for line in totals().lines():
            stdout.write(line)
    return created
