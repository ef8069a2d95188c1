"""Messages to residents about their sign-ups (短信通知): 候补转正, a new time or
place, a cancelled session and the reminder the day before. Listens to the
events app's signals (``events/signals.py``); events never imports it."""

from django.apps import AppConfig


class NotifyConfig(AppConfig):
    """SMS to residents who opted in, through a configurable backend."""

    name = "notify"
    verbose_name = "短信通知"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from . import service

        service.connect_signals()
