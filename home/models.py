"""Content of the portal: home, 一社一品 communities, 花园榜样 honours, news, pages.

Pages describe content only; what every page shares (``BasePage``, the listing
queryset and helpers, blocks, image sizes) lives in core/. Listings go through the
querysets below so each index runs a fixed number of queries however many
children it has.
"""

import hashlib

from django.contrib.contenttypes.models import ContentType
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import Prefetch, Q
from django.utils import timezone
from modelcluster.contrib.taggit import ClusterTaggableManager
from modelcluster.fields import ParentalKey
from taggit.models import TaggedItemBase
from wagtail.admin.panels import FieldPanel, FieldRowPanel, InlinePanel, MultiFieldPanel
from wagtail.fields import StreamField
from wagtail.models import Orderable, Page, PageManager
from wagtail.search import index

from core.blocks import BodyBlock, StandardBodyBlock
from core.images import prefetch_renditions
from core.models import (
    TITLE_PANELS,
    BasePage,
    ListingQuerySet,
    filter_query,
    image_field,
    int_or_none,
    page_children,
    page_with_pictures,
    paginate,
    private_sections,
    specific_from,
    specific_query,
)
from core.prepared import prepared
from portal import pagecache

# Imported here so the model belongs to the home app; importers use home.models.
from .site_settings import (  # noqa: F401
    RETENTION_DAYS_DEFAULT,
    RETENTION_DAYS_MAX,
    RETENTION_DAYS_MIN,
    SiteSettings,
)


def community_field(
    verbose_name: str, related_name: str, help_text: str = ""
) -> models.ForeignKey:
    """An optional link to a community; blank means the whole subdistrict."""
    return models.ForeignKey(
        "home.CommunityPage",
        verbose_name=verbose_name,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name=related_name,
        help_text=help_text,
    )


# ---------------------------------------------------------------------------
# Home
# ---------------------------------------------------------------------------


def route_name(path_components) -> str:
    """The path in a memo's cache key: as it is when short and plain, else its
    digest (a cache key must stay under 250 characters without spaces or
    control characters, and a visitor may send any path)."""
    path = "/".join(path_components)
    if len(path) <= 120 and path.isascii() and path.isprintable() and " " not in path:
        return path
    return "sha256-" + hashlib.sha256(path.encode()).hexdigest()


class HomePage(BasePage):
    """街道门户首页: banner, featured 一社一品 brands, latest 花园榜样 and news."""

    banner_title = models.CharField(
        "横幅标题", max_length=60, help_text="首页顶部大字，建议不超过 16 个字"
    )
    banner_text = models.TextField("横幅导语", blank=True, max_length=200)
    banner_image = image_field("横幅图片")

    content_panels = Page.content_panels + [
        FieldPanel("banner_title"),
        FieldPanel("banner_text"),
        FieldPanel("banner_image"),
    ]

    parent_page_types = ["wagtailcore.Page"]
    subpage_types = [
        "home.CommunityIndexPage",
        "events.EventIndexPage",
        "home.HonourIndexPage",
        "home.NewsIndexPage",
        "home.StandardPage",
        # By label: home may not import volunteers (layer 4).
        "volunteers.VolunteerIndexPage",
        "volunteers.WishBoardPage",
    ]
    max_count = 1
    share_image_field = "banner_image"
    image_sizes = {"banner_image": ("banner", "share")}

    class Meta:
        verbose_name = "首页"

    def route(self, request, path_components):
        """Wagtail's routing (two queries per level of the URL), remembered per
        content generation as (page, its model, levels walked): a page under this
        root is then one query however deep it is. Any publish, unpublish, move or
        slug change bumps the generation. The found page routes the rest of the
        path itself, so a sub-route (``signup/``) and the live check are Wagtail's
        own; paths with more than one component beyond the page (``r/<code>/``)
        are not stored, nor are unknown paths (404 is raised, nothing kept)."""
        if not path_components:
            return super().route(request, path_components)
        routed = {}

        def build():
            result = super(HomePage, self).route(request, path_components)
            routed["result"] = result
            page = result[0]
            return page.pk, page.content_type_id, page.depth - self.depth

        page_id, content_type_id, levels = pagecache.remember(
            f"route:{self.pk}:{route_name(path_components)}",
            build,
            keep=lambda found: len(path_components) - found[2] <= 1,
        )
        if "result" in routed:
            return routed["result"]
        model = ContentType.objects.get_for_id(content_type_id).model_class()
        found = page_with_pictures(None, model=model, pk=page_id) if model else []
        page = found[0] if found else None
        if page is None:  # gone without a content change (a rolled-back save)
            return super().route(request, path_components)
        return page.route(request, path_components[levels:])

    def get_summary_text(self):
        return self.banner_text

    def section_indexes(self, **models) -> dict:
        """The first live child page of each given type (for "more" links): plain
        ``Page`` objects, which is all a link needs, ``specific`` where the
        template needs more; kept under the content generation."""

        def build():
            content_types = ContentType.objects.get_for_models(*models.values())
            wanted = {content_types[model].pk: name for name, model in models.items()}
            found = dict.fromkeys(models)
            children = self.get_children().live().filter(content_type_id__in=wanted)
            for child in children.order_by("path"):
                name = wanted[child.content_type_id]
                found[name] = found[name] or child
            if found.get("honour_index") is not None:  # its programme name
                found["honour_index"] = found["honour_index"].specific
            return found

        return pagecache.remember(f"sections:{self.pk}:{','.join(models)}", build)

    def get_context(self, request, *args, **kwargs):
        # The activity cards come from {% upcoming_activities %} (events_tags) in
        # the template; the 活动日历 is named, not imported (events imports home).
        from django.apps import apps

        context = super().get_context(request, *args, **kwargs)
        context["communities"] = CommunityPage.objects.for_listing(self.path)
        context["honours"] = HonourPage.objects.for_listing(self.path)[:4]
        context["articles"] = ArticlePage.objects.for_listing(self.path)[:4]
        context.update(
            self.section_indexes(
                community_index=CommunityIndexPage,
                event_index=apps.get_model("events", "EventIndexPage"),
                honour_index=HonourIndexPage,
                news_index=NewsIndexPage,
            )
        )
        return context


# ---------------------------------------------------------------------------
# 一社一品 communities
# ---------------------------------------------------------------------------


class CommunityIndexPage(BasePage):
    """一社一品: the list of the subdistrict's communities and their brands."""

    intro = models.TextField("导语", blank=True, max_length=300)

    content_panels = Page.content_panels + [FieldPanel("intro")]
    parent_page_types = ["home.HomePage"]
    subpage_types = ["home.CommunityPage"]
    max_count = 1

    class Meta:
        verbose_name = "一社一品（社区列表）"

    def get_context(self, request, *args, **kwargs):
        context = super().get_context(request, *args, **kwargs)
        context["communities"] = CommunityPage.objects.for_listing(self.path)
        return context


class CommunityPageQuerySet(ListingQuerySet):
    def for_listing(self, within: str | None = None):
        """Live communities (under the tree path ``within``) in tree order, with
        cover rendition and 板块 names loaded in a fixed number of queries."""
        return (
            self.listed(within)
            .with_images("cover", "card")
            .prefetch_related(
                Prefetch(
                    "sub_brands",
                    queryset=CommunitySubBrand.objects.only(
                        "id", "page_id", "name", "sort_order"
                    ),
                ),
            )
            .order_by("path")
        )


hex_colour = RegexValidator(
    r"^#[0-9A-Fa-f]{6}$", "请填写 #RRGGBB 格式的颜色，如 #B22222"
)


class CommunityPage(BasePage):
    """一社一品 brand page of one community: story, 板块, gallery and contact.

    Community editors work under their own community page (permissions by group):
    its news, pages and activities.
    """

    short_name = models.CharField(
        "简称", max_length=20, help_text="如“甲院”，用于导航和图片"
    )
    brand_name = models.CharField(
        "品牌名称", max_length=60, help_text="一社一品品牌，如“浓情家园”"
    )
    slogan = models.CharField("品牌口号", max_length=60, blank=True)
    brand_color = models.CharField(
        "品牌色",
        max_length=7,
        default="#B22222",
        validators=[hex_colour],
        help_text="页面强调色，格式 #RRGGBB；请选深色，保证白字清晰",
    )
    cover = image_field("封面图")
    summary = models.TextField(
        "简介",
        max_length=200,
        blank=True,
        help_text="列表和分享卡片上显示，60 字以内为宜",
    )
    story = StreamField(BodyBlock(), verbose_name="品牌故事", blank=True)
    address = models.CharField("办公地址", max_length=120, blank=True)
    phone = models.CharField("联系电话", max_length=40, blank=True)
    office_hours = models.CharField("办公时间", max_length=80, blank=True)

    content_panels = Page.content_panels + [
        MultiFieldPanel(
            [
                FieldPanel("short_name"),
                FieldPanel("brand_name"),
                FieldPanel("slogan"),
                FieldPanel("brand_color"),
            ],
            heading="品牌",
        ),
        FieldPanel("cover"),
        FieldPanel("summary"),
        FieldPanel("story"),
        InlinePanel("sub_brands", label="品牌板块", heading="品牌板块"),
        InlinePanel("gallery_images", label="照片", heading="照片墙"),
        MultiFieldPanel(
            [
                FieldPanel("address"),
                FieldRowPanel([FieldPanel("phone"), FieldPanel("office_hours")]),
            ],
            heading="联系方式",
        ),
    ]

    search_fields = Page.search_fields + [
        index.SearchField("brand_name"),
        index.SearchField("slogan"),
        index.SearchField("summary"),
        index.SearchField("story"),
        index.RelatedFields("sub_brands", [index.SearchField("name")]),
    ]

    parent_page_types = ["home.CommunityIndexPage"]
    # The community's activities sit here too, so that its editors' one page
    # permission covers them. Named, not imported: events builds on home.
    subpage_types = [
        "home.ArticlePage",
        "home.StandardPage",
        "events.ActivityPage",
        "events.LecturePage",
        "events.FestivalActivityPage",
    ]
    share_image_field = "cover"
    image_sizes = {"cover": ("card", "banner", "share")}
    objects = PageManager.from_queryset(CommunityPageQuerySet)()

    class Meta:
        verbose_name = "社区（一社一品）"

    def get_images_to_render(self):
        yield from super().get_images_to_render()
        for item in page_children(self, "sub_brands", "image"):
            if item.image is not None:
                yield item.image, ("card",)
        for item in page_children(self, "gallery_images", "image"):
            yield item.image, ("gallery",)

    def get_context(self, request, *args, **kwargs):
        context = super().get_context(request, *args, **kwargs)
        sub_brands = page_children(self, "sub_brands", "image")
        gallery = page_children(self, "gallery_images", "image")
        # Its activities come from {% community_activities %} (events_tags) in
        # the template.
        honours, articles = self.honours_and_articles(honours=6, articles=5)
        # Every picture's renditions in one query rather than one per list.
        prefetch_renditions(
            [
                (self.cover, ("banner", "share")),
                *((item.image, ("card",)) for item in sub_brands),
                *((item.image, ("gallery",)) for item in gallery),
                *((honour.portrait, ("portrait",)) for honour in honours),
                *((article.cover, ("thumb",)) for article in articles),
            ]
        )
        context.update(
            sub_brands=sub_brands, gallery=gallery, honours=honours, articles=articles
        )
        return context

    def honours_and_articles(self, *, honours: int, articles: int):
        """The community's latest ``honours`` 榜样 and ``articles`` 动态 (as their
        listings order them), with portraits and covers: both in one query
        (``community_listing``). Their cards name this community."""
        rows = community_listing(
            None,
            within=self.home_path,
            community=self.pk,
            honours=honours,
            articles=articles,
            private=tuple(private_sections()),
        )
        pages = specific_from(rows, [HonourPage, ArticlePage])
        for page in pages:
            page.community_title = self.title
        people = [page for page in pages if isinstance(page, HonourPage)]
        news = [page for page in pages if isinstance(page, ArticlePage)]
        people.sort(key=lambda page: page.path)
        people.sort(key=lambda page: page.year, reverse=True)
        news.sort(key=lambda page: (page.date, page.pk), reverse=True)
        return people, news


@prepared
def community_listing(now, *, within, community, honours, articles, private):
    """A community's latest ``honours`` and ``articles`` as their listings order
    them, with portraits and covers (``specific_query``), its SQL kept per
    community and set of ``private`` sections (``core.prepared``; building the
    two limited subqueries and the join cost more than running them). Not a
    matter of time: ``now`` is None. ``private`` is what ``for_listing``
    leaves out (``private_sections()``), in the key so that a section made
    private is never listed from an older SQL."""
    ids = Page.objects.filter(
        Q(
            pk__in=HonourPage.objects.for_listing(within)
            .filter(community_id=community)
            .values("pk")[:honours]
        )
        | Q(
            pk__in=ArticlePage.objects.for_listing(within)
            .filter(community_id=community)
            .values("pk")[:articles]
        )
    ).values("pk")
    return specific_query(
        Page.objects.filter(pk__in=ids),
        [HonourPage, ArticlePage],
        related={HonourPage: ["portrait"], ArticlePage: ["cover"]},
    )


class CommunitySubBrand(Orderable):
    """One 板块 of a community brand, e.g. 甲院·拾光."""

    page = ParentalKey(
        CommunityPage, on_delete=models.CASCADE, related_name="sub_brands"
    )
    name = models.CharField("板块名称", max_length=40)
    text = models.TextField("介绍", blank=True, max_length=400)
    image = image_field("图片")

    panels = [FieldPanel("name"), FieldPanel("text"), FieldPanel("image")]

    class Meta(Orderable.Meta):
        verbose_name = "品牌板块"
        verbose_name_plural = "品牌板块"

    def __str__(self):
        return self.name


class CommunityGalleryImage(Orderable):
    page = ParentalKey(
        CommunityPage, on_delete=models.CASCADE, related_name="gallery_images"
    )
    image = models.ForeignKey(
        "wagtailimages.Image",
        verbose_name="图片",
        on_delete=models.CASCADE,
        related_name="+",
    )
    caption = models.CharField("说明", max_length=60, blank=True)

    panels = [FieldPanel("image"), FieldPanel("caption")]

    class Meta(Orderable.Meta):
        verbose_name = "照片"
        verbose_name_plural = "照片墙"


# ---------------------------------------------------------------------------
# 花园榜样 honours
# ---------------------------------------------------------------------------


class HonourCategory(models.TextChoices):
    PARTY_MEMBER = "优秀党员", "优秀党员"
    VOLUNTEER = "志愿之星", "志愿之星"
    NEIGHBOUR = "好邻居", "好邻居"
    FILIAL = "孝老爱亲", "孝老爱亲"
    HELPER = "助人为乐", "助人为乐"
    DEDICATION = "敬业奉献", "敬业奉献"


class HonourIndexPage(BasePage):
    """花园榜样: the role models honoured each year, browsable by year and category.

    The programme name is editable (other subdistricts call it 通许好人 …).
    """

    programme_name = models.CharField(
        "榜样项目名称",
        max_length=30,
        default="花园榜样",
        help_text="如“花园榜样”“通许好人”",
    )
    intro = models.TextField("导语", blank=True, max_length=300)

    content_panels = Page.content_panels + [
        FieldPanel("programme_name"),
        FieldPanel("intro"),
    ]
    parent_page_types = ["home.HomePage"]
    subpage_types = ["home.HonourPage"]
    max_count = 1
    per_page = 24

    class Meta:
        verbose_name = "榜样（列表）"

    def get_context(self, request, *args, **kwargs):
        context = super().get_context(request, *args, **kwargs)
        honours = HonourPage.objects.for_listing(self.path)
        years = sorted(
            set(honours.order_by().values_list("year", flat=True)), reverse=True
        )
        year = int_or_none(request.GET.get("year"))
        category = request.GET.get("category") or ""
        if year in years:
            honours = honours.filter(year=year)
        else:
            year = None
        if category in HonourCategory.values:
            honours = honours.filter(category=category)
        else:
            category = ""
        context.update(
            honours=paginate(request, honours, self.per_page),
            query_prefix=filter_query(year=year, category=category),
            years=years,
            categories=HonourCategory.choices,
            selected_year=year,
            selected_category=category,
        )
        return context


class HonourPageQuerySet(ListingQuerySet):
    def for_listing(self, within: str | None = None):
        """Live honours (under the tree path ``within``) with community, portrait
        and its renditions loaded: two queries for any number of cards."""
        return (
            self.listed(within)
            .with_community_title()
            .with_images("portrait", "portrait")
            .order_by("-year", "path")
        )


class HonourPage(BasePage):
    """One honoured person (花园榜样): portrait, year, category, citation, deeds."""

    person_name = models.CharField("姓名", max_length=30)
    portrait = image_field("照片")
    year = models.PositiveSmallIntegerField("年度", help_text="评选年度，如 2026")
    category = models.CharField("类别", max_length=20, choices=HonourCategory.choices)
    community = community_field("所在社区", "honours")
    citation = models.TextField("颁奖词", max_length=300)
    body = StreamField(BodyBlock(), verbose_name="事迹", blank=True)

    content_panels = Page.content_panels + [
        FieldRowPanel([FieldPanel("person_name"), FieldPanel("year")]),
        FieldRowPanel([FieldPanel("category"), FieldPanel("community")]),
        FieldPanel("portrait"),
        FieldPanel("citation"),
        FieldPanel("body"),
    ]
    search_fields = Page.search_fields + [
        index.SearchField("person_name"),
        index.SearchField("citation"),
        index.SearchField("body"),
        index.FilterField("year"),
        index.FilterField("category"),
    ]
    parent_page_types = ["home.HonourIndexPage"]
    subpage_types = []
    share_image_field = "portrait"
    image_sizes = {"portrait": ("portrait", "portrait_large", "share")}
    # What includes/honour_card.html reads (core.models.specific_query).
    card_fields = ("person_name", "year", "category")
    objects = PageManager.from_queryset(HonourPageQuerySet)()

    class Meta:
        verbose_name = "榜样人物"
        indexes = [models.Index(fields=["year", "category"])]

    def get_summary_text(self):
        return self.citation


class ArticlePageTag(TaggedItemBase):
    content_object = ParentalKey(
        "home.ArticlePage", on_delete=models.CASCADE, related_name="tagged_items"
    )


class ArticlePageQuerySet(ListingQuerySet):
    def for_listing(self, within: str | None = None):
        """Live articles (under the tree path ``within``), newest first, with
        community, cover and its renditions loaded: two queries for any number
        of cards (tags are shown on the article only)."""
        return (
            self.listed(within)
            .with_community_title()
            .with_images("cover", "thumb")
            .order_by("-date", "-pk")
        )


class ArticlePage(BasePage):
    """街道动态: a news article, optionally about one community.

    Created under 街道动态 by the subdistrict, or under a community page by that
    community's editors (the community is then filled in automatically).
    """

    date = models.DateField(
        "发布日期", default=timezone.localdate, help_text="新建时默认今天"
    )
    cover = image_field("封面图")
    summary = models.TextField(
        "摘要",
        max_length=200,
        blank=True,
        help_text="列表和分享卡片上显示，60 字以内为宜",
    )
    body = StreamField(BodyBlock(), verbose_name="正文")
    community = community_field(
        "相关社区", "articles", help_text="发在社区页面下的文章会自动填写"
    )
    tags = ClusterTaggableManager("标签", through=ArticlePageTag, blank=True)
    # Set when the article was drafted as an activity's 活动回顾 (events/recap.py):
    # the activity links to it once it is live, and a second click finds it.
    recap_of = models.ForeignKey(
        "wagtailcore.Page",
        verbose_name="回顾的活动",
        null=True,
        blank=True,
        editable=False,
        on_delete=models.SET_NULL,
        related_name="recaps",
    )

    content_panels = TITLE_PANELS + [
        FieldRowPanel([FieldPanel("date"), FieldPanel("community")]),
        FieldPanel("cover"),
        FieldPanel("summary"),
        FieldPanel("body"),
        FieldPanel("tags"),
    ]
    search_fields = Page.search_fields + [
        index.SearchField("summary"),
        index.SearchField("body"),
        index.FilterField("date"),
    ]
    promote_panels = []  # the slug is on the main tab (TITLE_PANELS)
    parent_page_types = ["home.NewsIndexPage", "home.CommunityPage"]
    subpage_types = []
    share_image_field = "cover"
    image_sizes = {"cover": ("thumb", "cover", "share")}
    # What includes/article_card.html reads (core.models.specific_query).
    card_fields = ("date", "summary")
    objects = PageManager.from_queryset(ArticlePageQuerySet)()

    def get_context(self, request, *args, **kwargs):
        context = super().get_context(request, *args, **kwargs)
        context["news_index"] = (
            NewsIndexPage.objects.live().filter(path__startswith=self.home_path).first()
        )
        return context

    class Meta:
        verbose_name = "新闻"

    def save(self, *args, **kwargs):
        # An article written under a community page belongs to that community.
        if self.community_id is None and self.path and self.depth > 1:
            parent = self.get_parent()
            if parent is not None and parent.specific_class is CommunityPage:
                self.community_id = parent.pk
        return super().save(*args, **kwargs)


class NewsIndexPage(BasePage):
    """街道动态: every news article of the site, newest first, filterable by tag."""

    intro = models.TextField("导语", blank=True, max_length=300)

    content_panels = Page.content_panels + [FieldPanel("intro")]
    parent_page_types = ["home.HomePage"]
    subpage_types = ["home.ArticlePage"]
    max_count = 1
    per_page = 10

    class Meta:
        verbose_name = "新闻（列表）"

    def get_context(self, request, *args, **kwargs):
        context = super().get_context(request, *args, **kwargs)
        articles = ArticlePage.objects.for_listing(self.home_path)
        tag = (request.GET.get("tag") or "").strip()[:50]
        if tag:
            articles = articles.filter(tags__name=tag)
        context.update(
            articles=paginate(request, articles, self.per_page),
            tag=tag,
            query_prefix=filter_query(tag=tag),
        )
        return context


class StandardPage(BasePage):
    """A plain page: 关于我们, 隐私政策, or any page of text and images."""

    intro = models.TextField("导语", blank=True, max_length=300)
    body = StreamField(StandardBodyBlock(), verbose_name="正文", blank=True)

    content_panels = Page.content_panels + [FieldPanel("intro"), FieldPanel("body")]
    search_fields = Page.search_fields + [
        index.SearchField("intro"),
        index.SearchField("body"),
    ]
    parent_page_types = ["home.HomePage", "home.StandardPage", "home.CommunityPage"]
    subpage_types = ["home.StandardPage"]

    class Meta:
        verbose_name = "普通页面"
