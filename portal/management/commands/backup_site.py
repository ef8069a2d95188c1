"""Back up the database and the media into one archive (see portal/backup.py).

Safe while the site is running; schedule it with cron or a systemd timer.
"""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from portal import backup


class Command(BaseCommand):
    help = (
        "备份数据库（SQLite 在线备份 / PostgreSQL pg_dump）和媒体文件，"
        "生成一个带时间戳的 .tar.gz 备份文件。网站运行时也可备份。"
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--output",
            metavar="DIR",
            help="备份文件保存的文件夹"
            "（默认：环境变量 BACKUP_DIR，否则项目下的 backups/）",
        )

    def handle(self, *args, output=None, **options):
        try:
            result = backup.create_backup(Path(output) if output else None)
        except backup.BackupError as error:
            raise CommandError(error.message) from error
        manifest = result.manifest
        database = manifest["database"]
        media = manifest["media"]["files"]
        size = result.path.stat().st_size / 1024 / 1024
        self.stdout.write(
            self.style.SUCCESS(
                f"备份完成：{result.path}"
                f"（{size:.1f} MB，用时 {result.seconds:.1f} 秒）"
            )
        )
        self.stdout.write(
            f"  数据库：{backup.vendor_name(database['vendor'])}，"
            f"sha256 {database['sha256'][:16]}…"
        )
        self.stdout.write(f"  内容：{backup.describe_counts(manifest['counts'])}")
        self.stdout.write(
            f"  媒体文件 {len(media)} 个（不含可重新生成的图片缩略图和海报）"
        )
        self.stdout.write("  备份含居民姓名和手机号，文件仅本用户可读，请妥善保管。")
        missing = manifest["media"]["missing"]
        if missing:
            self.stderr.write(
                self.style.WARNING(
                    f"警告：数据库中有 {len(missing)} 个图片或文档的文件在媒体目录 "
                    f"{backup.media_root()} 中找不到（如 {missing[0]}），"
                    "未能备份。请检查 MEDIA_ROOT 是否指向网站实际使用的媒体目录。"
                )
            )
