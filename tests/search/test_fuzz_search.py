"""Hundreds of generated searches (hypothesis, derandomized) on the demo site:
``q`` of any Unicode (control characters, NUL, emoji, right-to-left marks, very
long, FTS and SQL syntax, markup), ``page`` and ``type`` of any value, repeated
parameters and extra ones. The page answers 200, 400 or 404 only — never a 5xx —
and what was typed appears escaped: no markup from the query reaches the HTML.
"""

import re
from urllib.parse import urlencode

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from search.models import Kind

pytestmark = pytest.mark.django_db

EXAMPLES = 300
TAG_RE = re.compile(r"<\s*/?\s*(script|img|iframe|svg|a\s+href=\"?javascript)", re.I)

SNIPPETS = [
    "讲堂",
    "月饼",
    "榜样",
    "重阳节",
    "戊院社區",
    "jiayuan",
    "xfjt",
    "２０２６",
    "\x00",
    "讲\x00堂",
    "\u202e讲堂\u202c",
    "🏮🎉",
    '"',
    "'",
    "*",
    "NEAR(",
    "AND OR NOT",
    "title:讲堂",
    "^2 -月饼 +榜样",
    "%_\\",
    "' OR 1=1 --",
    "'; DROP TABLE search_searchdocument; --",
    "<script>alert(1)</script>",
    '"><img src=x onerror=alert(1)>',
    "</mark><script>x</script><mark>",
    "<svg/onload=alert(1)>",
    "{{ 7*7 }}{% debug %}",
    "长" * 300,
]

query_text = st.one_of(
    st.text(max_size=30),
    st.text(min_size=150, max_size=400),
    st.sampled_from(SNIPPETS),
    st.lists(st.sampled_from(SNIPPETS), min_size=2, max_size=4).map(" ".join),
)
page_value = st.one_of(
    st.integers(-5, 30).map(str),
    st.sampled_from(["", "last", "1.0", "1e9", "9" * 30, "-0", "NaN", "１"]),
    st.text(max_size=10),
)
type_value = st.one_of(st.sampled_from([*Kind.values, ""]), st.text(max_size=12))


@st.composite
def searches(draw):
    params = [("q", draw(query_text))]
    if draw(st.booleans()):
        params.append(("page", draw(page_value)))
    if draw(st.booleans()):
        params.append(("type", draw(type_value)))
    if draw(st.integers(0, 4)) == 0:  # a parameter twice
        params.append((draw(st.sampled_from(["q", "page", "type"])), draw(query_text)))
    extra = draw(
        st.lists(st.tuples(st.text(max_size=8), st.text(max_size=20)), max_size=2)
    )
    return params + extra


def baseline_tags(client) -> int:
    """Markup of that kind the search page has of its own (say, a script tag)."""
    html = client.get("/search/", {"q": "讲堂"}).content.decode()
    return len(TAG_RE.findall(html))


def test_generated_searches_never_fail_and_escape_the_query(client):
    own_tags = baseline_tags(client)
    seen = {"statuses": set(), "with_results": 0}

    @settings(settings.get_profile("fuzz"), max_examples=EXAMPLES)
    @given(searches())
    def one_search(params):
        response = client.get("/search/?" + urlencode(params))
        status = response.status_code
        seen["statuses"].add(status)
        assert status in (200, 400, 404), (status, params)
        if status != 200:
            return
        html = response.content.decode()
        assert len(TAG_RE.findall(html)) == own_tags, params
        if "search-result__title" in html:
            seen["with_results"] += 1

    one_search()
    assert 200 in seen["statuses"] and seen["with_results"] >= 20, seen
    print(f"search fuzz: {seen}")
