"""Make every rendition the live pages show (core/images.py): after a deploy that
adds or changes a picture size, or after pages were created without publishing
(bulk imports, the benchmark site). Publishing makes a page's renditions anyway."""

from django.core.management.base import BaseCommand
from wagtail.models import Page

from core import images


class Command(BaseCommand):
    help = "为所有已发布页面生成图片尺寸（WebP srcset）"

    def handle(self, *args, **options):
        pages = asked = 0
        for page in Page.objects.live().specific().iterator(chunk_size=200):
            if hasattr(page, "get_images_to_render"):
                pages += 1
                for image, sizes in page.get_images_to_render():
                    asked += images.make_renditions(image, *sizes)
        self.stdout.write(f"已检查 {pages} 个页面的 {asked} 个图片尺寸，缺少的已生成。")
