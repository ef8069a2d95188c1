"""The benchmark command keeps working (the real run: `make bench-search`)."""

import json
from io import StringIO

import pytest
from django.core.management import call_command

from search.models import SearchDocument

pytestmark = pytest.mark.django_db


def test_bench_search_small(tmp_path):
    out = StringIO()
    call_command("bench_search", pages=200, rounds=1, output=str(tmp_path), stdout=out)
    (path,) = tmp_path.glob("search-*.json")
    result = json.loads(path.read_text())
    assert result["pages"] >= 200
    assert (
        SearchDocument.objects.filter(page__url_path__startswith="/bench/").count()
        >= 200
    )
    for method in ("ours", "title_lookup"):
        assert 0 < result[method]["p50"] <= result[method]["p95"]
    assert len(result["per_query"]) == result["queries"] >= 30
    # the generated pages are found by the words they were made of
    found = {row["query"]: row["ours_results"] for row in result["per_query"]}
    assert found["讲堂"] > 0 and found["jiayuan"] > 0
    text = out.getvalue()
    assert "p50" in text and "p95" in text and str(path) in text
