"""Restore an archive written by ``backup_site`` (see portal/backup.py): checks it
completely first, refuses a database with content unless ``--force``, then
compares what it restored with the archive's manifest."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from portal import backup


class Command(BaseCommand):
    help = (
        "从 backup_site 生成的备份文件恢复数据库和媒体文件。先校验备份；"
        "目标数据库已有内容时需加 --force（会先另存一份现有数据的备份）。"
    )

    def add_arguments(self, parser):
        parser.add_argument("archive", metavar="ARCHIVE", help="备份文件（.tar.gz）")
        parser.add_argument(
            "--force",
            action="store_true",
            help="目标数据库已有内容时也恢复（覆盖前先自动备份现有数据）",
        )

    def handle(self, *args, archive, force=False, **options):
        try:
            result = backup.restore_backup(Path(archive), force=force)
        except backup.BackupError as error:
            raise CommandError(error.message) from error
        manifest = result.manifest
        if result.safety_backup:
            self.stdout.write(f"覆盖前的数据已另存为：{result.safety_backup.path}")
        self.stdout.write(
            self.style.SUCCESS(
                f"恢复完成：{archive}（备份于 {manifest['created_at']}，"
                f"用时 {result.seconds:.1f} 秒）"
            )
        )
        self.stdout.write(f"  恢复后：{backup.describe_counts(result.counts)}")
        self.stdout.write("  与备份清单核对：一致")
        self.stdout.write(
            f"  媒体文件 {len(manifest['media']['files'])} 个已校验并复制到媒体目录；"
            "图片缩略图和海报会在首次访问时重新生成。"
        )
        if result.pending_migrations:
            self.stdout.write(
                self.style.WARNING(
                    f"  备份早于当前代码：还有 {len(result.pending_migrations)} 个迁移"
                    "未执行，请运行 python manage.py migrate。"
                )
            )
        self.stdout.write("  如有其他正在运行的网站进程，请重启它们。")
