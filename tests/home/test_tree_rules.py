"""Editors can only create pages where they belong."""

from django.apps import apps
from wagtail.models import Page
from wagtail.test.utils import WagtailPageTestCase

from events.models import (
    ActivityPage,
    EventIndexPage,
    FestivalActivityPage,
    LecturePage,
)
from home.models import (
    ArticlePage,
    CommunityIndexPage,
    CommunityPage,
    HomePage,
    HonourIndexPage,
    HonourPage,
    NewsIndexPage,
    StandardPage,
)


class TreeRulesTests(WagtailPageTestCase):
    def test_home_page_sits_at_the_root_only(self):
        self.assertCanCreateAt(Page, HomePage)
        self.assertAllowedParentPageTypes(HomePage, {Page})
        self.assertCanNotCreateAt(StandardPage, HomePage)

    def test_home_page_children(self):
        self.assertAllowedSubpageTypes(
            HomePage,
            {
                CommunityIndexPage,
                EventIndexPage,
                HonourIndexPage,
                NewsIndexPage,
                StandardPage,
                apps.get_model("volunteers", "VolunteerIndexPage"),
                apps.get_model("volunteers", "WishBoardPage"),
            },
        )

    def test_communities_only_under_the_community_index(self):
        self.assertCanCreateAt(CommunityIndexPage, CommunityPage)
        self.assertAllowedParentPageTypes(CommunityPage, {CommunityIndexPage})
        self.assertCanNotCreateAt(HomePage, CommunityPage)
        self.assertCanNotCreateAt(NewsIndexPage, CommunityPage)

    def test_community_editors_can_write_news_pages_and_activities_there(self):
        activities = {ActivityPage, LecturePage, FestivalActivityPage}
        self.assertAllowedSubpageTypes(
            CommunityPage, {ArticlePage, StandardPage, *activities}
        )
        for model in activities:
            self.assertAllowedParentPageTypes(model, {EventIndexPage, CommunityPage})

    def test_honours_only_under_the_honour_index(self):
        self.assertCanCreateAt(HonourIndexPage, HonourPage)
        self.assertAllowedParentPageTypes(HonourPage, {HonourIndexPage})
        self.assertCanNotCreateAt(CommunityPage, HonourPage)
        self.assertAllowedSubpageTypes(HonourPage, set())

    def test_articles_under_news_or_a_community(self):
        self.assertAllowedParentPageTypes(ArticlePage, {NewsIndexPage, CommunityPage})
        self.assertCanNotCreateAt(HonourIndexPage, ArticlePage)
        self.assertAllowedSubpageTypes(ArticlePage, set())

    def test_indexes_live_under_the_home_page(self):
        for index in (CommunityIndexPage, HonourIndexPage, NewsIndexPage):
            self.assertAllowedParentPageTypes(index, {HomePage})
            self.assertCanNotCreateAt(StandardPage, index)

    def test_singletons(self):
        for model in (HomePage, CommunityIndexPage, HonourIndexPage, NewsIndexPage):
            self.assertEqual(model.max_count, 1)
