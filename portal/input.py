"""Query strings every view can use as they come.

A NUL character (``?q=a%00b``) reaches a query as a parameter PostgreSQL cannot
take (``DataError``: a 500 on /search/ and /news/ before this), and a lone
surrogate cannot be encoded for any database. Neither is ever part of a real
search, tag or filter, so ``CleanQueryMiddleware`` removes them from every
``request.GET`` key and value before any view (or the admin) reads it; the rest
of the value is kept. Forms are left to their fields (Django's
``ProhibitNullCharactersValidator``: the sign-up form says which field).
"""

import re

from django.http import QueryDict

UNUSABLE_RE = re.compile("[\x00\ud800-\udfff]")


def clean_query(query: QueryDict) -> QueryDict | None:
    """A copy of ``query`` without NUL and lone surrogates, or None when it has
    none."""
    if not any(
        UNUSABLE_RE.search(key) or any(UNUSABLE_RE.search(v) for v in values)
        for key, values in query.lists()
    ):
        return None
    cleaned = QueryDict(mutable=True)
    for key, values in query.lists():
        for value in values:
            cleaned.appendlist(UNUSABLE_RE.sub("", key), UNUSABLE_RE.sub("", value))
    cleaned._mutable = False
    return cleaned


class CleanQueryMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        cleaned = clean_query(request.GET)
        if cleaned is not None:
            request.GET = cleaned
        return self.get_response(request)
