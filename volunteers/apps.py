"""Volunteers (志愿服务): teams, volunteers and their codes, posts at activities,
service hours and the time bank (时间银行), star ratings. Layer 4, beside
sharing/search/notify: imports portal, core, home and events; only the root
URLconf and the settings name it."""

from django.apps import AppConfig


class VolunteersConfig(AppConfig):
    """志愿服务队、志愿者、服务时长、时间银行、星级评定。"""

    name = "volunteers"
    verbose_name = "志愿服务"

    def ready(self):
        from . import signals

        signals.connect()
