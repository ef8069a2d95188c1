"""Remove the names, phones, skills and family links of volunteers who left
longer ago than the retention period (站点设置 › 报名信息保留天数, the sign-ups'
rule, counted from leaving). Codes, hours, records and the time-bank ledger
stay. Run it daily beside ``purge_personal_data``; see
``volunteers.roster.purge_departed``."""

from django.core.management.base import BaseCommand, CommandError

from volunteers import roster


class Command(BaseCommand):
    help = (
        "清除退出超过保留天数的志愿者个人信息（姓名、手机号、特长、家人关联），"
        "编号、时长和时间银行流水保留。Purge departed volunteers' personal data."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--dry-run", action="store_true", help="只统计 / count only"
        )
        parser.add_argument("--days", type=int, metavar="N", help="保留天数 / days")

    def handle(self, *args, dry_run=False, days=None, **options):
        if days is not None and days < 1:
            raise CommandError("--days 至少为 1（天）/ --days must be at least 1.")
        result = roster.purge_departed(days=days, dry_run=dry_run)
        if result.dry_run:
            self.stdout.write(
                f"试运行：将清除 {result.purged} 位已退出志愿者的个人信息"
                f"（保留 {result.days} 天），未做任何修改。"
            )
        else:
            self.stdout.write(
                self.style.SUCCESS(
                    f"已清除 {result.purged} 位已退出志愿者的个人信息"
                    f"（保留 {result.days} 天），已记入站点历史。"
                )
            )
