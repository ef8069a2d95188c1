"""The portal's content: HomePage, 一社一品 communities, 花园榜样 honours, news
and plain pages (models.py), SiteSettings (site_settings.py) and the editorial
roles and approval workflow (editorial.py). What pages share is in core/."""

from django.apps import AppConfig


class HomeConfig(AppConfig):
    """Home page, 一社一品 communities, 花园榜样 honours, news and site settings."""

    name = "home"
    verbose_name = "门户内容"
