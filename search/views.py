"""Site search page. Uses Wagtail's search backend; Chinese-aware indexing (jieba,
OpenCC, pypinyin) is added to search/text.py by the search issue."""

from django.template.response import TemplateResponse
from wagtail.models import Page

from home.models import filter_query, paginate

MAX_QUERY_LENGTH = 100


def search(request):
    query = (request.GET.get("q") or "").strip()[:MAX_QUERY_LENGTH]
    results = None
    if query:
        pages = (
            Page.objects.live().public().filter(depth__gt=1).specific().search(query)
        )
        results = paginate(request, pages, 10)
    return TemplateResponse(
        request,
        "search/search.html",
        {
            "query": query,
            "results": results,
            "title": f"搜索：{query}" if query else "搜索",
            "query_prefix": filter_query(q=query),
        },
    )
