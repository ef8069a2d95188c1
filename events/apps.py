from django.apps import AppConfig


class EventsConfig(AppConfig):
    """Activities, sign-ups and calendars (活动、报名、日历)."""

    name = "events"
    verbose_name = "活动"

    def ready(self):
        from . import occurrences, placement

        occurrences.connect_signals()
        placement.connect_signals()
