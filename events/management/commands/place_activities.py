"""Move activities that name a community but still sit under the 活动日历 to
their community's page (``events.placement.place_community_activities``); the
old URLs redirect (301). Idempotent."""

from django.core.management.base import BaseCommand

from events.models import EventIndexPage
from events.placement import place_community_activities


class Command(BaseCommand):
    help = "把活动日历下属于某个社区的活动移到该社区页面下（旧网址自动跳转）。"

    def handle(self, *args, **options):
        moved = 0
        for index in EventIndexPage.objects.all():
            moved += len(place_community_activities(index))
        self.stdout.write(f"移动了 {moved} 个活动。")
