"""`make bench-compare OTHER=http://127.0.0.1:PORT OTHER_PAGES="home=/ …"`: our
full render beside another site's, measured the same way.

Issue 19 compares the portal with Wagtail's bakerydemo on the same machine. This
command does not build or start the other site: serve it yourself on this machine
(2 sync gunicorn workers, SQLite, no page cache) and give its address, the pages to
measure (``name=path``) and, for its workers' memory, its gunicorn master's pid
(``OTHER_PID``). It then serves the bench site (bench/run.py: built once, reused)
with gunicorn, 2 sync workers (``WEB_CONCURRENCY=2``, ``GUNICORN_THREADS=1``), the
page and fragment caches off and the local-memory cache (no Redis), and drives our
home, activity index and community page and the other site's pages with wrk as
``make bench`` does (2 threads, 16 connections, 2 s unmeasured warm-up at full load,
then 10 s), ``--rounds`` times, alternating ours and theirs so that other load on
the machine falls on both. Each figure carries the load average (1 min) before
its run. Prints the table and writes ``bench/results/<date>-compare-sqlite.json``.
"""

import argparse
import json
import os
import subprocess
import urllib.request
from datetime import datetime
from statistics import median

from bench.run import RESULTS, Bench

OUR_PAGES = ("home", "activity_index", "community", "activity", "article")


def load() -> float:
    return round(os.getloadavg()[0], 2)


def pss_of_workers(master_pid: int) -> list[dict]:
    class Process:  # what Bench.worker_memory reads: the master's pid
        pid = master_pid

    return Bench.worker_memory(Process)


def cpu_of_workers(master_pid: int) -> float:
    class Process:
        pid = master_pid

    return Bench.worker_cpu(Process)


def parse_pages(text: str) -> dict[str, str]:
    pages = {}
    for item in text.split():
        name, sep, path = item.partition("=")
        if not sep or not path.startswith("/"):
            raise SystemExit(f"页面格式应为 名称=/路径/：{item!r}")
        pages[name] = path
    if not pages:
        raise SystemExit("请用 OTHER_PAGES 给出对方站点的页面，如 home=/ blog=/blog/")
    return pages


def measure(bench, base, path, pid) -> dict:
    """One page: warm-up requests, 2 s at full load unmeasured, then the run."""
    for _ in range(3):
        urllib.request.urlopen(base + path, timeout=30).read()
    bench.wrk(base + path, duration=2)
    before = load()
    cpu = cpu_of_workers(pid) if pid else None
    figures = bench.wrk(base + path)
    if cpu is not None:
        spent = cpu_of_workers(pid) - cpu
        figures["cpu_ms"] = round(1000 * spent / max(figures["requests"], 1), 2)
    figures["load_1min"] = before
    return figures


def summary(runs: list[dict]) -> dict:
    return {
        "rps_median": round(median(r["rps"] for r in runs), 1),
        "rps": [r["rps"] for r in runs],
        "p95_ms": [r["p95_ms"] for r in runs],
        "cpu_ms": [r.get("cpu_ms") for r in runs],
        "load_1min": [r["load_1min"] for r in runs],
        "errors": sum(r["errors"] for r in runs),
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--other", required=True, help="对方站点地址 http://host:port")
    parser.add_argument("--other-pages", required=True, help="名称=/路径/ …")
    parser.add_argument("--other-name", default="bakerydemo")
    parser.add_argument("--other-pid", type=int, default=0, help="对方 gunicorn 主进程")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--connections", type=int, default=16)
    args = parser.parse_args(argv)
    other_pages = parse_pages(args.other_pages)
    other = args.other.rstrip("/")
    if not other.startswith(("http://127.", "http://localhost")):
        raise SystemExit("只压测本机上的站点（http://127.0.0.1:端口）")

    bench = Bench(
        argparse.Namespace(
            quick=False,
            rebuild=False,
            no_redis=True,
            duration=args.duration,
            threads=args.threads,
            connections=args.connections,
        )
    )
    bench.env.update(WEB_CONCURRENCY="2", GUNICORN_THREADS="1")
    bench.build()
    bench.manage(
        "collectstatic", "--noinput", "-v0", settings="portal.settings.production"
    )
    targets = {
        name: path for name, path in bench.targets().items() if name in OUR_PAGES
    }
    queries = bench.queries(targets)
    ours = {name: [] for name in targets}
    theirs = {name: [] for name in other_pages}
    process, base = bench.serve(page_cache=False)
    try:
        memory = {"ours_start": bench.worker_memory(process)}
        if args.other_pid:
            memory["other_start"] = pss_of_workers(args.other_pid)
        for round_number in range(1, args.rounds + 1):
            print(f"== 第 {round_number} 轮（整页渲染，页面缓存和片段缓存关闭）")
            for (name, path), (other_page, other_path) in zip(
                targets.items(), other_pages.items(), strict=False
            ):
                ours[name].append(measure(bench, base, path, process.pid))
                print(
                    f"   ours  {name:16} {bench.describe(ours[name][-1])}"
                    f"  负载 {ours[name][-1]['load_1min']}"
                )
                theirs[other_page].append(
                    measure(bench, other, other_path, args.other_pid)
                )
                print(
                    f"   {args.other_name[:5]:5} {other_page:16} "
                    f"{bench.describe(theirs[other_page][-1])}"
                    f"  负载 {theirs[other_page][-1]['load_1min']}"
                )
        memory["ours_end"] = bench.worker_memory(process)
        if args.other_pid:
            memory["other_end"] = pss_of_workers(args.other_pid)
    finally:
        bench.stop(process)

    result = {
        "date": datetime.now().isoformat(timespec="seconds"),
        "setup": "gunicorn 2 sync workers, SQLite, page and fragment caches off, "
        "local-memory cache; wrk "
        f"{args.threads} threads, {args.connections} connections, {args.duration} s",
        "git": subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True
        ).stdout.strip(),
        "ours": {
            name: {"path": targets[name], "queries": queries.get(name), **summary(runs)}
            for name, runs in ours.items()
        },
        args.other_name: {
            name: {"path": other_pages[name], **summary(runs)}
            for name, runs in theirs.items()
        },
        "worker_memory_mb": memory,
        "runs": {"ours": ours, args.other_name: theirs},
    }
    print()
    print(
        f"{'ours':24}{'次/秒（中位数）':>14}    "
        f"{args.other_name:24}{'次/秒（中位数）':>14}  倍数"
    )
    for (name, mine), (other_page, them) in zip(
        result["ours"].items(), result[args.other_name].items(), strict=False
    ):
        ratio = mine["rps_median"] / them["rps_median"] if them["rps_median"] else 0
        print(
            f"{name:24}{mine['rps_median']:>14.1f}    {other_page:24}"
            f"{them['rps_median']:>14.1f}  {ratio:.2f}×"
        )
    RESULTS.mkdir(parents=True, exist_ok=True)
    out = RESULTS / f"{datetime.now():%Y-%m-%d-%H%M}-compare-{bench.database}.json"
    out.write_text(json.dumps(result, ensure_ascii=False, indent=2) + "\n")
    print(f"== 结果已写入 bench/results/{out.name}")
    if any(
        r["errors"] for side in ("ours", args.other_name) for r in result[side].values()
    ):
        raise SystemExit("压测出现错误")


if __name__ == "__main__":
    main()
