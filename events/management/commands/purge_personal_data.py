"""Remove residents' names, phones, 楼院 and 备注 from sign-ups of activities that
ended longer ago than the retention period (站点设置 › 报名信息保留天数).

Run daily (deploy/portal-purge-personal-data.timer); see
``events.registration.purge_personal_data`` for what is kept and why.
"""

from django.core.management.base import BaseCommand, CommandError

from events import registration as service
from events.staff.audit import local


class Command(BaseCommand):
    help = (
        "清除活动结束超过保留天数的报名个人信息（姓名、手机号、楼院、备注），"
        "人数、状态和签到统计保留。Purge residents' personal data of past "
        "activities after the retention period."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="只统计会清除多少条，不做任何修改 / count only, change nothing",
        )
        parser.add_argument(
            "--days",
            type=int,
            metavar="N",
            help="本次按活动结束 N 天计算，代替站点设置里的报名信息保留天数"
            " / override the retention setting for this run",
        )

    def handle(self, *args, dry_run=False, days=None, **options):
        if days is not None and days < 1:
            raise CommandError("--days 至少为 1（天）/ --days must be at least 1.")
        result = service.purge_personal_data(days=days, dry_run=dry_run)
        for rule in result.rules:
            where = f"站点 {rule.site}" if rule.site else "全部站点 / all sites"
            self.stdout.write(
                f"  {where}：保留 {rule.days} 天，清除 {local(rule.cutoff)} "
                f"前结束的场次 / retention {rule.days} days"
            )
        if result.dry_run:
            self.stdout.write(
                f"试运行：将清除 {result.purged} 份报名的个人信息"
                f"（{result.occurrences} 个场次），未做任何修改。"
                f"\nDry run: would purge personal data of {result.purged} "
                f"sign-ups ({result.occurrences} occurrences); nothing changed."
            )
            return
        self.stdout.write(
            self.style.SUCCESS(
                f"已清除 {result.purged} 份报名的个人信息"
                f"（{result.occurrences} 个场次），已记入站点历史。"
                f"\nPurged personal data of {result.purged} sign-ups "
                f"({result.occurrences} occurrences); logged in the site history."
            )
        )
