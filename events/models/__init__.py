"""The events app's models: activity pages (``pages``), the 讲师团
(``lecturers``) and the sessions and sign-ups behind them (``registrations``),
importable from ``events.models``."""

from .audit import ScopedModelLogEntry
from .lecturers import Lecturer, LecturerTitle
from .pages import (
    EVENT_KINDS,
    EVENT_MODELS,
    ActivityPage,
    EventIndexPage,
    EventPage,
    EventPageQuerySet,
    EventStatus,
    FestivalActivityPage,
    LecturePage,
    LectureSeries,
)
from .registrations import (
    ACTIVE_STATUSES,
    Occurrence,
    Registration,
    RegistrationStatus,
)

__all__ = [
    "ACTIVE_STATUSES",
    "EVENT_KINDS",
    "EVENT_MODELS",
    "ActivityPage",
    "EventIndexPage",
    "EventPage",
    "EventPageQuerySet",
    "EventStatus",
    "FestivalActivityPage",
    "LecturePage",
    "LectureSeries",
    "Lecturer",
    "LecturerTitle",
    "Occurrence",
    "Registration",
    "RegistrationStatus",
    "ScopedModelLogEntry",
]
