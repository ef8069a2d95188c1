"""Search latency at scale: ``manage.py bench_search --pages 5000``.

Generates the pages if fewer exist (in whatever database is configured — ``make
bench-search`` points DATABASE_URL at a separate one), then times our search
(segment the query, ask the index, order, load the first ten results) against
``Page.objects.live().filter(title__icontains=q)[:10]`` over the same queries,
prints p50/p95 and writes bench/results/search-<date>.json.
"""

import json
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand
from django.utils import timezone

from demo import search_bench as bench
from search.models import SearchDocument


class Command(BaseCommand):
    help = "生成页面并测量搜索耗时（p50/p95），与按标题查询对比"

    def add_arguments(self, parser):
        parser.add_argument("--pages", type=int, default=5000)
        parser.add_argument("--rounds", type=int, default=20)
        parser.add_argument("--seed", type=int, default=20261)
        parser.add_argument(
            "--output",
            default=str(settings.BASE_DIR / "bench" / "results"),
            help="folder for search-<date>.json",
        )

    def handle(self, *args, pages, rounds, seed, output, **options):
        started = timezone.now()
        home = bench.Generator(seed).ensure(pages, stdout=self.stdout)
        within = home.url_path
        documents = SearchDocument.objects.filter(
            page__path__startswith=home.path
        ).count()
        if documents < pages:
            from search.documents import rebuild_documents

            self.stdout.write("  重建搜索文档 …")
            rebuild_documents()
            documents = SearchDocument.objects.filter(
                page__path__startswith=home.path
            ).count()
        bench.analyse()
        summary = bench.measure(bench.QUERIES, rounds, within)
        summary.update(
            pages=documents,
            rounds=rounds,
            queries=len(bench.QUERIES),
            date=started.isoformat(timespec="seconds"),
        )
        self.report(summary)
        folder = Path(output)
        folder.mkdir(parents=True, exist_ok=True)
        path = (
            folder
            / f"search-{timezone.localdate():%Y-%m-%d}-{summary['database']}.json"
        )
        path.write_text(json.dumps(summary, ensure_ascii=False, indent=2) + "\n")
        self.stdout.write(f"结果已写入 {path}")

    def report(self, s):
        w = self.stdout.write
        w(
            f"\n{s['database']}，{s['pages']} 个页面，"
            f"{s['queries']} 个查询 × {s['rounds']} 轮（毫秒）"
        )
        w(f"{'查询':<14}{'本站搜索':>10}{'标题查询':>10}{'结果数':>10}")
        for row in s["per_query"]:
            w(
                f"{row['query'][:12]:<14}{row['ours_ms']:>10.2f}"
                f"{row['title_lookup_ms']:>10.2f}"
                f"{row['ours_results']:>6}/{row['title_lookup_results']:<3}"
            )
        w(f"{'':<14}{'p50':>10}{'p95':>10}")
        w(f"{'本站搜索':<14}{s['ours']['p50']:>10.2f}{s['ours']['p95']:>10.2f}")
        t = s["title_lookup"]
        w(f"{'标题查询':<14}{t['p50']:>10.2f}{t['p95']:>10.2f}")
        r = s["ratio"]
        w(f"{'倍数':<14}{r['p50']:>10.2f}{r['p95']:>10.2f}")
        verdict = "在 2 倍以内" if max(r.values()) <= 2 else "超过 2 倍"
        w(f"本站搜索 p50/p95 与标题查询相比：{verdict}")
