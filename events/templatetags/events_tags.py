from django import template
from django.utils import timezone

from events.lunar import Festival, next_festival_date

register = template.Library()


@register.simple_tag
def festival_calendar():
    """[(festival, next date), …] sorted by date, for the editor's help panel."""
    today = timezone.localdate()
    dates = [(f.label, next_festival_date(f.value, today)) for f in Festival]
    return sorted(dates, key=lambda item: item[1])
