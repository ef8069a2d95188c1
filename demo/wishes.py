"""Demo 微心愿 (issue 20; the seed article 000: “广泛开展‘微心愿’服务”, 驻区单位
与社区困难老人结对帮扶): the board page and a dozen wishes in all three states,
all through the service (``volunteers.wishes``), like the demo sign-ups.

Claims come from 驻区单位 and from the demo's 在册 volunteers, whichever
``demo/volunteers.py`` has registered by then (none: the units claim them all).
Idempotent: nothing is added when the demo already has wishes. Dates are
relative to the day the demo is loaded (open wishes are due in the weeks after).
"""

from datetime import timedelta

from django.utils import timezone

from volunteers import wishes
from volunteers.models import Volunteer, VolunteerStatus, Wish
from volunteers.wish_pages import WishBoardPage

BOARD_INTRO = (
    "社区里的老人、孩子和困难家庭，有些小小的心愿：一台收音机、一次陪诊、"
    "一堂智能手机课。志愿者用手机号和志愿者编号认领，驻区单位填写单位和联系人"
    "认领；完成后，这里会贴出照片。"
)

# (community slug or None, title, recipient name, label, description, days to
# the date, state, claimant: "unit:<name>:<contact>" or "volunteer",
# fulfilment line)
WISHES = [
    ("jiayuan", "想要一台能听豫剧的收音机", "李桂兰", "独居老人",
     "李奶奶今年 82 岁，眼睛不好，每天想听河南台的豫剧。", 20, "open", "", ""),
    ("jiayuan", "陪我去省人民医院复查", "王德顺", "空巢老人",
     "需要有人陪同挂号、取药，上午半天。", 12, "claimed", "volunteer", ""),
    ("jiayuan", "教我用智能手机视频通话", "赵淑芬", "老党员",
     "孩子在外地工作，想学会视频通话。", -20, "fulfilled", "volunteer",
     "志愿者上门教了三次，赵阿姨已经能和孙子视频了。"),
    ("weishengting", "换一个坏了的楼道灯", "", "3号楼住户",
     "三号楼二单元四楼楼道灯坏了，晚上上下楼不安全。", 10, "open", "", ""),
    ("weishengting", "给孩子辅导数学作业", "孙小雨", "困难家庭儿童",
     "小学五年级，每周两次，四点钟课堂时间。", 30, "claimed",
     "unit:花园路邮政支局:郑伟", ""),
    ("weishengting", "冬天的一床厚棉被", "钱玉珍", "低保老人",
     "家里棉被用了十几年，不保暖了。", -30, "fulfilled",
     "unit:省建设银行花园路支行:刘洋",
     "建行花园路支行党员送来新棉被和米面油，钱奶奶说今年冬天不冷了。"),
    ("nongyeyuan", "想要一副老花镜", "周长河", "退休职工",
     "看报纸看不清，想配一副老花镜。", 15, "open", "", ""),
    ("nongyeyuan", "帮忙修一修轮椅", "吴秀英", "残疾人",
     "轮椅刹车失灵，推着出门很危险。", 8, "claimed", "volunteer", ""),
    ("gongyeyuan", "一套小学生课外书", "郑可欣", "困难家庭儿童",
     "三年级，喜欢看科普书。", -15, "fulfilled", "unit:花园路新华书店:陈静",
     "新华书店送来二十本科普读物，还办了一张借书卡。"),
    ("tongxinhuayuan", "重阳节想和老伙计们合张影", "冯国强", "老兵",
     "想请摄影志愿者给楼院里的老伙计们拍一张合影。", 25, "open", "", ""),
    (None, "一次上门理发", "陈桂芝", "失能老人",
     "卧床不能出门，头发很长了。", 6, "open", "", ""),
    (None, "为独居老人安装燃气报警器", "", "独居老人（5户）",
     "街道排查出 5 户独居老人家中没有燃气报警器。", -10, "fulfilled",
     "unit:郑州华润燃气花园路营业所:何强",
     "燃气公司党员服务队为 5 户老人免费安装了报警器，并讲解了安全用气。"),
]


def load_wishes(command, home, communities, images_root) -> None:
    """The board under ``home`` (slug wishes) and the wishes (first load only).
    ``command`` is load_demo's: its ``child`` and ``image`` helpers."""
    from demo import images as demo_images

    board = command.child(
        home,
        WishBoardPage,
        "wishes",
        title="微心愿",
        show_in_menus=False,
        intro=BOARD_INTRO,
    )
    if Wish.objects.exists():
        return
    volunteers = list(
        Volunteer.objects.filter(status=VolunteerStatus.ACTIVE)
        .exclude(phone="")
        .order_by("pk")
    )
    now = timezone.now()
    today = timezone.localdate(now)
    for n, row in enumerate(WISHES):
        slug, title, name, label, text, days, state, claimant, line = row
        community = communities.get(slug) if slug else None
        published = now - timedelta(days=abs(days) + 10)
        if days > 0:
            due = today + timedelta(days=days)
        else:  # already fulfilled: its date lay after it was published
            due = timezone.localdate(published) + timedelta(days=abs(days) + 5)
        wish = wishes.publish(
            user=None,
            community=community,
            title=title,
            description=text,
            recipient_name=name,
            recipient_label=label,
            due_date=due,
            now=published,
        )
        if state == "open":
            continue
        claimed_at = published + timedelta(days=2)
        volunteer = volunteers[n % len(volunteers)] if volunteers else None
        if claimant == "volunteer" and volunteer is not None:
            wishes.claim_by_volunteer(
                wish.pk, phone=volunteer.phone, code=volunteer.code, now=claimed_at
            )
        else:
            _, unit, contact = (claimant.split(":") + ["", "", ""])[:3]
            wishes.claim_by_unit(
                wish.pk,
                unit_name=unit or "花园路街道志愿服务中心",
                contact_name=contact or "张敏",
                phone=f"1370371{n:04d}",
                now=claimed_at,
            )
        if state == "fulfilled":
            colour = community.brand_color if community else "#A8071A"
            photo = command.image(
                f"微心愿完成：{title}",
                lambda title=title, colour=colour: demo_images.scene(
                    f"心愿完成 · {title}", colour, title
                ),
                images_root,
            )
            done = claimed_at + timedelta(days=3)
            wishes.fulfil(wish.pk, user=None, photo=photo, line=line, now=done)
    return board
