"""Build the 花园路街道 demo site from demo/content.py.

Idempotent: every object is looked up by a stable key (page slug under its parent,
image title, group name, username) and only created when missing, so a second run
changes nothing and makes no duplicates.
"""

import hashlib
import os
from datetime import date, datetime, time, timedelta
from io import BytesIO

from django.contrib.auth import get_user_model
from django.core.files.images import ImageFile
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone
from wagtail.images import get_image_model
from wagtail.models import Collection, Page, Site

from demo import content
from demo import images as demo_images
from demo import volunteers as demo_volunteers
from home.editorial import (
    IMAGE_ROOT_COLLECTION,
    SUBDISTRICT_GROUP,
    community_group_name,
    image_collection,
    setup_editorial_roles,
)
from home.models import (
    ArticlePage,
    CommunityGalleryImage,
    CommunityIndexPage,
    CommunityPage,
    CommunitySubBrand,
    HomePage,
    HonourIndexPage,
    HonourPage,
    NewsIndexPage,
    SiteSettings,
    StandardPage,
)
from volunteers.pages import VolunteerIndexPage

SUBDISTRICT_COLOUR = "#A8071A"
DEMO_PASSWORD_ENV = "DEMO_PASSWORD"
DEFAULT_DEMO_PASSWORD = "huayuanlu2026"
DEMO_HOST, DEMO_PORT = "127.0.0.1", 8000  # the Makefile's HOST and PORT
# The Site Wagtail's first migration creates: still on it, the demo's Site is
# moved to the address it is served on; an address set by an admin is kept.
STOCK_SITE_ADDRESS = ("localhost", 80)


def paragraphs(texts):
    """Rich-text paragraphs; a dict ``{block_type: value}`` is a block of that type
    (the privacy notice's retention sentence)."""
    return [
        next(iter(text.items()))
        if isinstance(text, dict)
        else ("paragraph", f"<p>{text}</p>")
        for text in texts
    ]


class Command(BaseCommand):
    help = "载入花园路街道演示站点（可重复运行，不会产生重复数据）"

    def add_arguments(self, parser):
        # `make run` passes its HOST and PORT, so that the Site's root URL (in
        # calendar feeds, the sitemap, sign-up calendar files) is the address
        # the demo is served on.
        parser.add_argument(
            "--host", default=DEMO_HOST, help="演示站点的主机名（默认 127.0.0.1）"
        )
        parser.add_argument(
            "--port", type=int, default=DEMO_PORT, help="演示站点的端口（默认 8000）"
        )

    def handle(self, *args, **options):
        self.host, self.port = options["host"], options["port"]
        try:
            demo_images.font_path()
        except demo_images.FontMissingError as exc:
            raise CommandError(str(exc)) from exc
        self.created = 0
        with transaction.atomic():
            self.load()
        self.stdout.write(
            self.style.SUCCESS(f"演示站点已就绪（本次新建 {self.created} 个对象）。")
        )

    # -- helpers ---------------------------------------------------------------

    def image(self, title: str, data_factory, collection: Collection):
        Image = get_image_model()
        existing = Image.objects.filter(title=title).first()
        if existing:
            return existing
        data = data_factory()
        filename = f"demo-{hashlib.sha1(title.encode()).hexdigest()[:10]}.jpg"
        if data[:4] == b"\x89PNG":
            filename = filename.replace(".jpg", ".png")
        image = Image(title=title, collection=collection)
        image.file = ImageFile(BytesIO(data), name=filename)
        image.save()
        self.created += 1
        return image

    def child(self, parent: Page, model, slug: str, **fields):
        """The live child of ``parent`` with ``slug``; created and published if
        missing. Inline items are passed as ``_inline={"relation": [objs]}``."""
        existing = parent.get_children().filter(slug=slug).first()
        if existing:
            return existing.specific
        inline = fields.pop("_inline", {})
        tags = fields.pop("_tags", [])
        page = model(slug=slug, **fields)
        for relation, items in inline.items():
            setattr(page, relation, items)
        parent.add_child(instance=page)
        if tags:
            page.tags.add(*tags)
        page.save_revision().publish()
        self.created += 1
        return page

    # -- the site ----------------------------------------------------------------

    def load(self):
        root = Page.get_first_root_node()
        images_root = image_collection(IMAGE_ROOT_COLLECTION)
        home = self.home_page(root, images_root)
        self.site(home)

        community_index = self.child(
            home,
            CommunityIndexPage,
            "communities",
            title="一社一品",
            show_in_menus=True,
            intro=(
                "花园路街道十个社区，各有各的品牌。"
                "点开一个社区，看看它的故事、板块和联系方式。"
            ),
        )
        communities = {
            data["slug"]: self.community(community_index, data, images_root)
            for data in content.COMMUNITIES
        }
        self.activities(home, communities, images_root)
        honour_index = self.child(
            home,
            HonourIndexPage,
            "honours",
            title="花园榜样",
            programme_name="花园榜样",
            show_in_menus=True,
            intro="每年评选一次的“花园榜样”，记录身边的好党员、好邻居和志愿者。",
        )
        for data in content.HONOURS:
            self.honour(honour_index, data, communities, images_root)
        news_index = self.child(
            home,
            NewsIndexPage,
            "news",
            title="街道动态",
            show_in_menus=True,
            intro="街道和社区的新做法、新活动、新面貌。",
        )
        for data in content.ARTICLES:
            self.article(news_index, data, communities, images_root)
        # 志愿服务: teams, volunteers and hours are demo/volunteers.py's.
        self.child(
            home, VolunteerIndexPage, "volunteers", title="志愿服务", show_in_menus=True
        )
        about = self.child(
            home,
            StandardPage,
            "about",
            title=content.ABOUT["title"],
            intro=content.ABOUT["intro"],
            body=paragraphs(content.ABOUT["body"]),
        )
        privacy = self.child(
            home,
            StandardPage,
            "privacy",
            title=content.PRIVACY["title"],
            intro=content.PRIVACY["intro"],
            body=paragraphs(content.PRIVACY["body"]),
        )
        self.settings(home, images_root, about, privacy)
        groups = setup_editorial_roles(home, communities.values())
        self.users(groups, communities)
        self.sign_ups()
        # Teams, volunteers, posts, hours and the time bank (demo/volunteers.py).
        self.created += demo_volunteers.load(communities, self.stdout)
        from demo.wishes import load_wishes  # after demo volunteers: they claim

        load_wishes(self, home, communities, images_root)

    def home_page(self, root: Page, images_root: Collection) -> HomePage:
        home = HomePage.objects.first()
        if home:
            return home
        # Wagtail's migrations leave a "Welcome" page where our home page belongs.
        for page in root.get_children():
            if page.specific_class is Page:
                page.delete()
        banner = self.image(
            "演示：首页横幅",
            lambda: demo_images.scene(
                content.SITE_SETTINGS["subdistrict_name"],
                SUBDISTRICT_COLOUR,
                "home",
                size=(1200, 600),
            ),
            images_root,
        )
        return self.child(
            root,
            HomePage,
            "home",
            title="首页",
            seo_title=content.SITE_SETTINGS["site_name"],
            banner_title=content.HOME["banner_title"],
            banner_text=content.HOME["banner_text"],
            banner_image=banner,
        )

    def site(self, home: HomePage) -> None:
        site = Site.objects.filter(is_default_site=True).first()
        address = {"hostname": getattr(self, "host", DEMO_HOST)}
        address["port"] = getattr(self, "port", DEMO_PORT)
        if site is None:
            Site.objects.create(
                **address,
                root_page=home,
                is_default_site=True,
                site_name=content.SITE_SETTINGS["site_name"],
            )
            self.created += 1
            return
        changed = site.root_page_id != home.pk
        if changed:
            site.root_page = home
            site.site_name = content.SITE_SETTINGS["site_name"]
        if (site.hostname, site.port) == STOCK_SITE_ADDRESS and (
            address["hostname"],
            address["port"],
        ) != STOCK_SITE_ADDRESS:
            site.hostname, site.port = address["hostname"], address["port"]
            changed = True
        if changed:
            site.save()

    def settings(self, home, images_root, about, privacy) -> None:
        site = Site.objects.get(root_page=home)
        settings = SiteSettings.for_site(site)
        if settings.icp_number:
            return
        data = content.SITE_SETTINGS
        settings.site_name = data["site_name"]
        settings.subdistrict_name = data["subdistrict_name"]
        settings.contact_phone = data["contact_phone"]
        settings.address = data["address"]
        settings.wechat_account = data["wechat_account"]
        settings.icp_number = data["icp_number"]
        settings.about_page = about
        settings.privacy_page = privacy
        settings.wechat_qr = self.image(
            "演示：公众号二维码",
            lambda: demo_images.qr_card(site.root_url + "/", data["wechat_account"]),
            images_root,
        )
        settings.default_share_image = self.image(
            "演示：默认分享图",
            lambda: demo_images.brand_cover(
                data["subdistrict_name"],
                data["site_name"],
                "",
                SUBDISTRICT_COLOUR,
                size=(800, 800),
            ),
            images_root,
        )
        settings.save()

    def community(self, index, data, images_root) -> CommunityPage:
        collection = image_collection(data["title"], images_root)
        cover = self.image(
            f"演示：{data['title']}封面",
            lambda: demo_images.brand_cover(
                data["title"], data["brand_name"], data["slogan"], data["color"]
            ),
            collection,
        )
        gallery = [
            CommunityGalleryImage(
                image=self.image(
                    f"演示：{data['title']}·{caption}",
                    lambda caption=caption, i=i: demo_images.scene(
                        caption, data["color"], f"{data['slug']}-{i}"
                    ),
                    collection,
                ),
                caption=caption,
            )
            for i, caption in enumerate(data["gallery"])
        ]
        return self.child(
            index,
            CommunityPage,
            data["slug"],
            title=data["title"],
            short_name=data["short_name"],
            brand_name=data["brand_name"],
            slogan=data["slogan"],
            brand_color=data["color"],
            cover=cover,
            summary=data["story"][0][:200],
            story=paragraphs(data["story"][1:]),
            address=data["address"],
            phone=data["phone"],
            office_hours=data["office_hours"],
            _inline={
                "sub_brands": [
                    CommunitySubBrand(name=item["name"], text=item["text"])
                    for item in data["sub_brands"]
                ],
                "gallery_images": gallery,
            },
        )

    def honour(self, index, data, communities, images_root) -> HonourPage:
        community = communities[data["community"]]
        portrait = self.image(
            f"演示：榜样{data['person']}",
            lambda: demo_images.portrait(data["person"], community.brand_color),
            image_collection(community.title, images_root),
        )
        return self.child(
            index,
            HonourPage,
            data["slug"],
            title=data["title"],
            person_name=data["person"],
            year=data["year"],
            category=data["category"],
            community=community,
            portrait=portrait,
            citation=data["citation"],
            body=paragraphs(data["story"]),
        )

    def article(self, index, data, communities, images_root) -> ArticlePage:
        community = communities.get(data["community"] or "")
        colour = community.brand_color if community else SUBDISTRICT_COLOUR
        cover = self.image(
            f"演示：新闻封面·{data['slug']}",
            lambda: demo_images.article_cover(
                data["tags"][0],
                community.title if community else "花园路街道",
                colour,
            ),
            images_root,
        )
        body = paragraphs(data["body"])
        if data.get("quote"):
            text, attribution = data["quote"]
            body.insert(1, ("quote", {"text": text, "attribution": attribution}))
        if data.get("facts"):
            facts = [{"figure": f, "label": label} for f, label in data["facts"]]
            body.append(("facts", facts))
        return self.child(
            index,
            ArticlePage,
            data["slug"],
            title=data["title"],
            date=date.fromisoformat(data["date"]),
            summary=data["summary"],
            community=community,
            cover=cover,
            body=body,
            _tags=data["tags"],
        )

    def activities(self, home, communities, images_root) -> None:
        from events.lunar import last_festival_date, next_festival_date
        from events.models import (
            ActivityPage,
            EventIndexPage,
            FestivalActivityPage,
            LecturePage,
            Lecturer,
        )
        from events.placement import place_community_activities

        index = self.child(
            home,
            EventIndexPage,
            "activities",
            title="活动日历",
            show_in_menus=True,
            intro="这周身边有什么活动？先锋讲堂、节日活动、社区活动都在这里。",
        )
        lecturers = {}
        for data in content.LECTURERS:
            community = communities[data["community"]]
            lecturer = Lecturer.objects.filter(name=data["name"]).first()
            if lecturer is None:
                lecturer = Lecturer.objects.create(
                    name=data["name"],
                    title=data["title"],
                    bio=data["bio"],
                    community=community,
                    photo=self.image(
                        f"演示：讲师{data['name']}",
                        lambda d=data, c=community: demo_images.portrait(
                            d["name"], c.brand_color
                        ),
                        image_collection(community.title, images_root),
                    ),
                )
                self.created += 1
            lecturers[data["key"]] = lecturer

        today = timezone.localdate()
        page_types = {
            "activity": ActivityPage,
            "lecture": LecturePage,
            "festival": FestivalActivityPage,
        }
        # A community's activities sit under its page (events/placement.py);
        # a database loaded before that layout has them under the 活动日历.
        place_community_activities(index)
        for data in content.ACTIVITIES:
            community = communities.get(data["community"] or "")
            parent = community or index
            if parent.get_children().filter(slug=data["slug"]).exists():
                continue
            if data["type"] == "festival":
                day = (
                    last_festival_date(data["festival"], today)
                    if data.get("past")
                    else next_festival_date(data["festival"], today)
                )
            else:
                day = today + timedelta(days=data["day"])
            start, end = (
                timezone.make_aware(datetime.combine(day, time.fromisoformat(t)))
                for t in data["time"]
            )
            kind_label = page_types[data["type"]].kind_label
            topic = data.get("series") or data.get("festival") or kind_label
            colour = community.brand_color if community else SUBDISTRICT_COLOUR
            fields = {
                "title": data["title"],
                "start": start,
                "end": end,
                "venue": data["venue"],
                "organiser": (community.title if community else "花园路街道")
                + ("党委" if data["type"] == "lecture" else "居委会"),
                "summary": data["summary"],
                "body": paragraphs([data["summary"]]),
                "status": data.get("status", "scheduled"),
                "status_reason": data.get("status_reason", ""),
                "cover": self.image(
                    f"演示：活动封面·{data['slug']}",
                    lambda t=topic, c=community, col=colour: demo_images.article_cover(
                        t, c.title if c else "花园路街道", col
                    ),
                    images_root,
                ),
            }
            if data["type"] == "lecture":
                fields.update(
                    series=data["series"],
                    topic=data["topic"],
                    lecturer=lecturers.get(data["lecturer"] or ""),
                )
            if data["type"] == "festival":
                fields["festival"] = data["festival"]
            if "repeat" in data:
                fields.update(self.repeat_fields(data["repeat"], start))
            if "signup" in data:
                signup = data["signup"]
                if "party" in signup:  # else the model's default: a household
                    fields["max_party_size"] = signup["party"]
                fields.update(
                    registration_required=True,
                    capacity=signup["capacity"],
                    waitlist_enabled=signup.get("waitlist", True),
                    ask_household="household" in signup.get("ask", ()),
                    ask_note="note" in signup.get("ask", ()),
                )
            else:  # 需要报名 is on by default for editors; these need none
                fields["registration_required"] = False
            self.child(parent, page_types[data["type"]], data["slug"], **fields)

    @staticmethod
    def repeat_fields(repeat: dict, start) -> dict:
        """Recurrence from the demo data: weekly/daily for a count or a number of
        weeks, skipping the n-th occurrences (0-based) as 停课日期."""
        from events.recurrence import expand

        fields = {
            "repeat": repeat["repeat"],
            "repeat_weekdays": repeat["weekdays"],
            "repeat_count": repeat.get("count"),
            "repeat_until": (
                timezone.localdate(start) + timedelta(weeks=repeat["weeks"])
                if "weeks" in repeat
                else None
            ),
        }
        slots = expand(
            start,
            None,
            repeat=fields["repeat"],
            weekdays=fields["repeat_weekdays"],
            until=fields["repeat_until"],
            count=fields["repeat_count"],
        )
        fields["excluded_dates"] = "\n".join(
            timezone.localdate(slots[n].start).isoformat() for n in repeat["skip"]
        )
        return fields

    def sign_ups(self) -> None:
        """Demo sign-ups, made through the sign-up service like a resident's: the
        first occurrence of each activity with "signup" numbers gets that many
        confirmed people (in parties of one), then the waitlist; past ones are
        signed up "three days before" and checked in by 街道宣传办."""
        from events import registration as service
        from events.models import Occurrence, Registration

        staff = get_user_model().objects.filter(username="xuanchuan").first()
        residents = iter(self.demo_residents())
        for data in content.ACTIVITIES:
            numbers = data.get("signup")
            if not numbers:
                continue
            page = Page.objects.get(slug=data["slug"]).specific
            occurrence = (
                Occurrence.objects.filter(page_id=page.pk, cancelled=False)
                .order_by("start")
                .first()
            )
            if Registration.objects.filter(page_id=page.pk).exists():
                continue
            before = min(
                occurrence.start - timedelta(days=3),
                timezone.now() - timedelta(hours=2),
            )
            results = []
            total = numbers["confirmed"] + numbers["waitlisted"]
            for i in range(total):
                name, phone = next(residents)
                results.append(
                    service.sign_up(
                        page,
                        occurrence.pk,
                        name=name,
                        phone=phone,
                        party_size=1,
                        household="演示数据",  # kept where the activity asks
                        note="演示备注",
                        now=before + timedelta(minutes=i),
                    ).registration
                )
                self.created += 1
            for registration in results[: numbers.get("checked_in", 0)]:
                service.check_in(
                    registration.pk,
                    user=staff,
                    now=occurrence.start + timedelta(minutes=5),
                )

    @staticmethod
    def demo_residents():
        """(name, phone) pairs, endlessly: demo names with 139 0000 xxxx numbers."""
        n = 0
        while True:
            for name in content.DEMO_RESIDENTS:
                yield name, f"1390000{n:04d}"
                n += 1

    def users(self, groups, communities) -> None:
        """Demo accounts: admin (superuser), xuanchuan (街道宣传办) and one editor
        per community named after its slug. Passwords: $DEMO_PASSWORD."""
        User = get_user_model()
        password = os.environ.get(DEMO_PASSWORD_ENV, DEFAULT_DEMO_PASSWORD)
        accounts = [("admin", "管理员", None, True)]
        accounts.append(("xuanchuan", "宣传办", groups[SUBDISTRICT_GROUP], False))
        for slug, community in communities.items():
            group = groups[community_group_name(community)]
            accounts.append((slug, f"{community.short_name}宣传员", group, False))
        for username, first_name, group, is_superuser in accounts:
            if User.objects.filter(username=username).exists():
                continue
            user = User.objects.create_user(
                username=username,
                password=password,
                first_name=first_name,
                email=f"{username}@example.com",
                is_staff=is_superuser,
                is_superuser=is_superuser,
            )
            if group is not None:
                user.groups.add(group)
            self.created += 1
