"""The base every content app builds on (like bakerydemo's ``base``): the abstract
``BasePage`` and ``ListingQuerySet`` with the listing helpers (models.py), the
StreamField blocks (blocks.py), named picture sizes and renditions made on
publish (images.py, ``make_renditions``), and the site-wide template tags
``image_tags`` (``{% responsive_image %}``) and ``nav_tags`` (``site_root``,
``main_nav``, ``breadcrumbs``), and modelcluster's child relations kept per
class (child_relations.py). Only abstract models: no migrations."""

from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "core"
    verbose_name = "页面基础"

    def ready(self):
        from core import child_relations, images

        images.connect_signals()
        child_relations.install()
