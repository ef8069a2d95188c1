"""Rebuild every search document from the pages and reindex them.

Idempotent: afterwards there is exactly one document per live, public page,
whatever there was before; running it twice changes nothing the second time.
Documents are normally kept current by the page signals; run this after a bulk
import that bypassed them, or after changing what ``search.documents`` indexes.
"""

from django.core.management.base import BaseCommand

from search.documents import rebuild_documents


class Command(BaseCommand):
    help = "重建全部搜索文档（可重复运行）"

    def handle(self, *args, **options):
        counts = rebuild_documents()
        self.stdout.write(
            self.style.SUCCESS(
                "搜索文档已重建：共 {total} 篇，新建 {created}，更新 {updated}，"
                "删除 {deleted}。".format(**counts)
            )
        )
