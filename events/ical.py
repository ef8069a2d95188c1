"""iCalendar feeds (being written)."""


def event_feed_response(page, request, occurrence_id=None):
    raise NotImplementedError


def index_feed_response(index, request, community=None, kinds=None):
    raise NotImplementedError
