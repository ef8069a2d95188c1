"""Year-end report timing: ``manage.py bench_report --signups 10000``.

Builds the data if fewer sign-ups exist (in whatever database is configured —
``make bench-report`` points DATABASE_URL at a separate one), then times the
活动统计 page and its XLSX export (median of ``--rounds`` requests after a
warm-up), prints them and writes bench/results/report-<date>-<database>.json.
"""

import json
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import connection
from django.utils import timezone

from demo import report_bench as bench


class Command(BaseCommand):
    help = "生成一年的活动和报名，测量活动统计页面及导出的耗时（中位数）"

    def add_arguments(self, parser):
        parser.add_argument("--signups", type=int, default=10_000)
        parser.add_argument("--rounds", type=int, default=7)
        parser.add_argument(
            "--output",
            default=str(settings.BASE_DIR / "bench" / "results"),
            help="folder for report-<date>-<database>.json",
        )

    def handle(self, *args, signups, rounds, output, **options):
        started = timezone.now()
        count = bench.ensure(signups, stdout=self.stdout)
        summary = {
            "database": connection.vendor,
            "signups": count,
            "year": bench.BENCH_YEAR,
            "rounds": rounds,
            "date": started.isoformat(timespec="seconds"),
            **bench.measure(rounds),
        }
        w = self.stdout.write
        w(f"\n{summary['database']}，{count} 条报名，{rounds} 次请求（毫秒）")
        w(f"{'':<10}{'中位数':>8}{'最快':>8}{'最慢':>8}{'查询数':>8}")
        for name, label in (("page", "统计页面"), ("xlsx", "XLSX导出")):
            r = summary[name]
            w(
                f"{label:<10}{r['median_ms']:>10.1f}{r['min_ms']:>10.1f}"
                f"{r['max_ms']:>10.1f}{r['queries']:>8}"
            )
        folder = Path(output)
        folder.mkdir(parents=True, exist_ok=True)
        path = (
            folder
            / f"report-{timezone.localdate():%Y-%m-%d}-{summary['database']}.json"
        )
        path.write_text(json.dumps(summary, ensure_ascii=False, indent=2) + "\n")
        w(f"结果已写入 {path}")
