"""志愿服务's public page: ``VolunteerIndexPage`` (one per site, under the home
page, slug ``volunteers``). Its routes only hand the request to
``volunteers/public.py`` (pages, forms) and ``volunteers/lookup_views.py``
(志愿者查询, certificate, verification), as the activity pages do with
``events/views.py``."""

from django.db import models
from django.db.models import Q
from wagtail.admin.panels import FieldPanel
from wagtail.contrib.routable_page.models import RoutablePageMixin, path

from core.models import TITLE_PANELS, BasePage, full_url

__all__ = ["VolunteerIndexPage"]

DEFAULT_INTRO = (
    "花园路街道的每个社区、每栋楼都有志愿服务队：党员志愿服务队、楼组志愿者、"
    "巾帼志愿者……居民有需要，邻里搭把手。欢迎您加入，服务时长记入时间银行。"
)
DEFAULT_TIME_BANK = (
    "时间银行把志愿者的服务时间记录下来、存起来：每参加一次志愿服务，签到签退后"
    "服务时长自动存入您的账户。需要的时候，可以用存下的时长兑换物品，或者直接享受"
    "社区的志愿服务——今天帮助别人，明天也被别人帮助，让居民从接受帮助变成帮助"
    "别人、从“被管理”变成“来参与”。社区还按服务质量和累计时长评定星级志愿者。"
)


def _public():
    from . import public

    return public


def _lookup():
    from . import lookup_views

    return lookup_views


class VolunteerIndexPage(RoutablePageMixin, BasePage):
    """志愿服务: teams by community, how to join, the time bank, 志愿者查询.
    One per site, under the home page."""

    intro = models.TextField("导语", blank=True, default=DEFAULT_INTRO)
    time_bank_text = models.TextField(
        "时间银行介绍",
        blank=True,
        default=DEFAULT_TIME_BANK,
        help_text="显示在“时间银行”页面顶部，说明时间银行是什么",
    )

    content_panels = TITLE_PANELS + [
        FieldPanel("intro"),
        FieldPanel("time_bank_text"),
    ]
    promote_panels = []
    parent_page_types = ["home.HomePage"]
    subpage_types = []
    max_count = 1

    class Meta:
        verbose_name = "志愿服务"
        verbose_name_plural = "志愿服务"

    # -- Teams of this site ---------------------------------------------------

    def teams(self):
        """This site's teams: subdistrict-wide ones and those of communities
        under this page's home page."""
        from .models import Team

        return Team.objects.filter(
            Q(community__isnull=True) | Q(community__path__startswith=self.home_path)
        )

    # -- Routes ---------------------------------------------------------------

    @path("")
    def index(self, request):
        return _public().index(self, request)

    @path("teams/<int:pk>/")
    def team(self, request, pk):
        return _public().team(self, request, pk)

    @path("time-bank/")
    def time_bank(self, request):
        return _public().time_bank(self, request)

    @path("apply/")
    def apply(self, request):
        return _public().apply(self, request)

    @path("apply/done/<str:token>/")
    def applied(self, request, token):
        return _public().applied(self, request, token)

    @path("posts/<int:pk>/")
    def post_signup(self, request, pk):
        return _public().post_signup(self, request, pk)

    @path("my/")
    def lookup(self, request):
        return _lookup().lookup(self, request)

    @path("my/certificate/<str:token>/")
    def certificate(self, request, token):
        return _lookup().certificate_download(self, request, token)

    @path("verify/<str:token>/")
    def verify(self, request, token):
        return _lookup().verify(self, request, token)

    # -- Sitemap and search -------------------------------------------------

    def get_sitemap_urls(self, request=None):
        """The page, its 时间银行 page and every team's page."""
        urls = super().get_sitemap_urls(request)
        if not urls:
            return urls
        base = full_url(self, request) if request is not None else self.full_url
        lastmod = urls[0].get("lastmod")
        routes = ["time-bank/"] + [
            f"teams/{pk}/" for pk in self.teams().values_list("pk", flat=True)
        ]
        return urls + [{"location": base + r, "lastmod": lastmod} for r in routes]

    def search_routes(self) -> list[dict]:
        """Documents of the routes for the site search (``search/documents.py``):
        the 时间银行 page and each team's page."""

        routes = [
            {
                "route": "time-bank/",
                "title": "时间银行",
                "text": self.time_bank_text,
                "facts": ["时间银行", "志愿服务", "星级志愿者", "服务时长", "存折"],
            }
        ]
        teams = self.teams().select_related("community").order_by("pk")
        for team in teams:
            community = team.community
            facts = ["志愿服务队", "志愿者"]
            if community is not None:
                facts += [community.title, community.short_name]
            else:
                facts.append("全街道")
            # The community is a fact, not title words: searching a community's
            # name must find its own page before its teams.
            routes.append(
                {
                    "route": f"teams/{team.pk}/",
                    "title": team.name,
                    "label": team.name
                    if community is None or community.title in team.name
                    else f"{community.title}{team.name}",
                    "text": team.description,
                    "facts": facts,
                }
            )
        return routes

    def poster_fields(self, now=None) -> dict:
        """The page's poster (``sharing/content.py``): what it is and how to join."""
        teams = self.teams().count()
        return {
            "title": self.title,
            "kicker": "志愿服务 · 时间银行",
            "subtitle": f"{teams} 支志愿服务队，欢迎您加入" if teams else "欢迎您加入",
            "quote": self.intro,
            "caption": "长按识别二维码",
            "caption_detail": "申请成为志愿者，查询服务时长",
        }
