"""Remove residents' names, phones, 楼院 and 备注 from sign-ups of activities that
ended longer ago than the retention period (站点设置 › 报名信息保留天数).

Run daily (deploy/portal-purge-personal-data.timer); see
``events.registration.purge_personal_data`` for what is kept and why. With
``--vacuum`` the sign-up and audit-log tables are then rewritten
(``portal.vacuum``), so the old row versions leave the database files too.
"""

from django.core.management.base import BaseCommand, CommandError
from wagtail.log_actions import registry as log_registry

from events import registration as service
from events.models import Registration
from events.staff.audit import local
from portal.vacuum import vacuum_tables


def tables_holding_personal_data() -> list[str]:
    """The sign-ups' table and the one their audit entries are kept in."""
    log_model = log_registry.get_log_model_for_model(Registration)
    return [Registration._meta.db_table, log_model._meta.db_table]


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
        parser.add_argument(
            "--vacuum",
            action="store_true",
            help="清除后重写报名表和站点历史表（PostgreSQL: VACUUM FULL + CHECKPOINT；"
            "SQLite: VACUUM + WAL 截断），旧数据不再留在数据库文件里。"
            "重写期间报名会等待"
            " / then rewrite the tables so old row versions leave the database "
            "files (locks them while it runs)",
        )

    def handle(self, *args, dry_run=False, days=None, vacuum=False, **options):
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
        if vacuum:
            done = vacuum_tables(tables_holding_personal_data())
            for statement in done.statements:
                self.stdout.write(f"  {statement}")
            for note in done.notes:
                self.stderr.write(f"  {note}")
            self.stdout.write(
                self.style.SUCCESS(
                    "已重写数据表，旧数据已从数据库文件中移除（备份和归档 WAL 除外）。"
                    "\nTables rewritten; old row versions are gone from the "
                    "database files (not from backups or archived WAL)."
                )
            )
