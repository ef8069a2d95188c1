"""Remove the names, phones, skills and family links of volunteers who left
longer ago than the retention period (站点设置 › 报名信息保留天数, the sign-ups'
rule, counted from leaving). Codes, hours, records and the time-bank ledger
stay. The same run erases the personal data of 微心愿 finished (已完成 /
已撤下) that long ago: the resident's name, a unit's contact person and phone
(``volunteers.wishes.purge_personal_data``). Run it daily beside
``purge_personal_data``; see ``volunteers.roster.purge_departed``."""

from django.core.management.base import BaseCommand, CommandError

from volunteers import roster, wishes


class Command(BaseCommand):
    help = (
        "清除退出超过保留天数的志愿者个人信息（姓名、手机号、特长、家人关联），"
        "编号、时长和时间银行流水保留；以及已完成或已撤下的微心愿的心愿人姓名"
        "和单位联系人。Purge departed volunteers' personal data."
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
        wish_result = wishes.purge_personal_data(days=days, dry_run=dry_run)
        wish_text = (
            f"{wish_result.wishes} 个微心愿的心愿人姓名、"
            f"{wish_result.claims} 份单位认领的联系人和电话"
        )
        if result.dry_run:
            self.stdout.write(
                f"试运行：将清除 {result.purged} 位已退出志愿者的个人信息"
                f"（保留 {result.days} 天），未做任何修改。"
            )
            self.stdout.write(f"试运行：将清除{wish_text}。")
        else:
            self.stdout.write(
                self.style.SUCCESS(
                    f"已清除 {result.purged} 位已退出志愿者的个人信息"
                    f"（保留 {result.days} 天），已记入站点历史。"
                )
            )
            self.stdout.write(self.style.SUCCESS(f"已清除{wish_text}。"))
