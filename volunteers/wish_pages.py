"""微心愿 board (``WishBoardPage``, slug ``wishes``, one under each site's home
page): every community's wishes by state, with counts, and one community's
board at ``<community slug>/``; each wish at ``<id>/`` with its claim form at
``<id>/claim/`` and its poster for Moments at ``<id>/poster/``. The routes only
call ``volunteers/wish_views.py``, which calls the service ``wishes.py``."""

from django.db import models
from wagtail.admin.panels import FieldPanel
from wagtail.contrib.routable_page.models import RoutablePageMixin, path
from wagtail.models import Page
from wagtail.search import index

from core.models import TITLE_PANELS, BasePage

from .wish_models import Wish, WishState


def _views():
    # Imported on first use: the views import this module's models.
    from . import wish_views

    return wish_views


class WishBoardPage(RoutablePageMixin, BasePage):
    """微心愿: the public board where residents' small wishes wait for a
    volunteer or a 驻区单位 to claim them, and show the photo once fulfilled.
    The wishes themselves are managed in 志愿服务 › 微心愿."""

    intro = models.TextField(
        "导语",
        blank=True,
        max_length=300,
        help_text="板块上方的介绍，如怎样认领心愿",
    )

    content_panels = TITLE_PANELS + [FieldPanel("intro")]
    promote_panels = []
    parent_page_types = ["home.HomePage"]
    subpage_types = []
    max_count_per_parent = 1
    per_page = 20

    search_fields = Page.search_fields + [
        index.SearchField("intro"),
        index.SearchField("open_wish_text"),
    ]

    class Meta:
        verbose_name = "微心愿"

    def open_wish_text(self) -> str:
        """The open wishes' titles, so that a search for “收音机” finds the
        board (refreshed by the service whenever a wish changes)."""
        titles = Wish.objects.filter(state=WishState.OPEN).values_list(
            "title", flat=True
        )
        return " ".join(titles[:200])

    def get_summary_text(self) -> str:
        return self.intro or "居民的小小心愿，等您来认领。"

    @path("")
    def board(self, request):
        return _views().board(self, request)

    @path("<int:pk>/")
    def wish(self, request, pk):
        return _views().wish_detail(self, request, pk)

    @path("<int:pk>/claim/")
    def claim(self, request, pk):
        return _views().claim(self, request, pk)

    @path("<int:pk>/poster/")
    def poster_page(self, request, pk):
        return _views().poster_page(self, request, pk)

    @path("<int:pk>/poster/image/")
    def poster_png(self, request, pk):
        return _views().poster_png(self, request, pk)

    @path("<slug:community>/")
    def community_board(self, request, community):
        return _views().board(self, request, community)

    def get_sitemap_urls(self, request=None):
        """The board, each community's board and each open wish."""
        urls = super().get_sitemap_urls(request)
        if not urls:
            return urls
        base = urls[0]["location"]
        lastmod = urls[0].get("lastmod")
        for slug in _views().community_slugs(self):
            urls.append({"location": f"{base}{slug}/", "lastmod": lastmod})
        for pk, updated in (
            Wish.objects.filter(state=WishState.OPEN)
            .order_by("pk")
            .values_list("pk", "updated_at")
        ):
            urls.append({"location": f"{base}{pk}/", "lastmod": updated})
        return urls
