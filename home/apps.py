from django.apps import AppConfig


class HomeConfig(AppConfig):
    """Home page, 一社一品 communities, 花园榜样 honours, news and site settings."""

    name = "home"
    verbose_name = "门户内容"
