"""The year-end report benchmark keeps working (the real run: `make bench-report`,
10,000 sign-ups in a database of its own). A benchmark, not a timed test: this
only checks that it builds its data and writes its figures."""

import json
from io import StringIO

import pytest
from django.core.management import call_command

from demo import report_bench
from events import stats
from events.models import Registration

pytestmark = pytest.mark.django_db


def test_bench_report_small(tmp_path):
    out = StringIO()
    call_command(
        "bench_report", signups=300, rounds=1, output=str(tmp_path), stdout=out
    )
    (path,) = tmp_path.glob("report-*.json")
    result = json.loads(path.read_text())
    ours = Registration.objects.filter(page__url_path__startswith="/report-bench/")
    assert result["signups"] == ours.count() == 300
    for name in ("page", "xlsx"):
        assert result[name]["median_ms"] > 0 and result[name]["queries"] > 0
    figures = stats.year_figures(report_bench.BENCH_YEAR)
    assert figures.total.sessions > 0 and figures.total.signups > 0
    assert "统计页面" in out.getvalue() and str(path) in out.getvalue()
