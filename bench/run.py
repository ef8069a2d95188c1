"""`make bench`: build a large synthetic site in its own database, serve it with
gunicorn in production mode and drive it with wrk.

For each target — home page, activity index, one activity, search, the main
iCalendar feed — it measures requests/s and p50/p95/p99 with the page cache off
(every request renders: the miss figure) and on (warmed: the hit figure), then a
mix of activity-page views and sign-up POSTs against an activity with few seats,
and checks afterwards that the activity was never oversold. Queries per page are
counted with Django's test client on the same database. The table is printed and
kept in ``bench/results/<date>-<database>.json`` so later changes can be compared.

Database: SQLite at ``bench/data/bench.sqlite3`` unless ``BENCH_DATABASE_URL`` names
a PostgreSQL database. Cache: Redis database 15 on 127.0.0.1 when it answers (then
gunicorn runs cores + 1 single-threaded workers, portal/gunicorn.conf.py), else
local memory and one worker with threads.
The site is built once and reused; ``--rebuild`` starts over.
"""

import argparse
import json
import os
import platform
import re
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from datetime import datetime
from pathlib import Path

from bench import browser

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "bench" / "data"
RESULTS = ROOT / "bench" / "results"
PYTHON = sys.executable
SIZES = {"activities": 2000, "honours": 500, "articles": 300, "signups": 20000}
QUICK_SIZES = {"activities": 120, "honours": 40, "articles": 30, "signups": 600}
UNCACHED = ("feed", "signup")
CSRF_RE = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


def redis_url() -> str | None:
    try:
        with socket.create_connection(("127.0.0.1", 6379), timeout=0.5) as sock:
            sock.sendall(b"PING\r\n")
            if sock.recv(16).startswith(b"+PONG"):
                return "redis://127.0.0.1:6379/15"
    except OSError:
        pass
    return None


def run_number() -> str:
    """00–99, one more at each sign-up mix on the same built site
    (bench/data/signup-runs): its phone numbers are then not the last run's."""
    counter = DATA / "signup-runs"
    number = (int(counter.read_text() or 0) + 1) % 100 if counter.exists() else 0
    counter.write_text(str(number))
    return f"{number:02d}"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Bench:
    def __init__(self, args):
        self.args = args
        self.sizes = QUICK_SIZES if args.quick else SIZES
        DATA.mkdir(parents=True, exist_ok=True)
        database_url = os.environ.get("BENCH_DATABASE_URL", "")
        self.database = "postgresql" if database_url else "sqlite"
        self.redis = None if args.no_redis else redis_url()
        self.env = {
            **os.environ,
            "SECRET_KEY": secrets.token_urlsafe(50),
            "MEDIA_ROOT": str(DATA / "media"),
            "ALLOWED_HOSTS": "127.0.0.1,localhost,testserver",
            "SECURE_COOKIES": "false",
            "WAGTAILADMIN_BASE_URL": "http://127.0.0.1",
            "SERVE_MEDIA": "true",
            "DEBUG": "false",
            # wrk posts hundreds of sign-ups a second from one address: the
            # per-address and per-phone limits (events/limits.py) would answer 429.
            "SIGNUP_LIMITS_ENABLED": "false",
        }
        self.env.pop("DATABASE_URL", None)
        self.env.pop("REDIS_URL", None)
        suffix = "-quick" if args.quick else ""
        if database_url:
            self.env["DATABASE_URL"] = database_url
        else:
            self.env["SQLITE_PATH"] = str(DATA / f"bench{suffix}.sqlite3")
        if self.redis:
            self.env["REDIS_URL"] = self.redis
        self.marker = DATA / f"built-{self.database}{suffix}.json"

    # -- building ----------------------------------------------------------------

    def manage(self, *args, settings="portal.settings.dev", **kwargs):
        env = {**self.env, "DJANGO_SETTINGS_MODULE": settings}
        return subprocess.run(
            [PYTHON, "manage.py", *args], cwd=ROOT, env=env, check=True, **kwargs
        )

    def build(self):
        wanted = json.dumps(self.sizes, sort_keys=True)
        if not self.args.rebuild and self.marker.exists():
            if self.marker.read_text() == wanted:
                print("== 复用已建好的压测站点（--rebuild 重建）")
                return
        print(f"== 建压测站点 {self.sizes}（{self.database}）")
        if self.database == "sqlite":
            for path in DATA.glob(Path(self.env["SQLITE_PATH"]).name + "*"):
                path.unlink()
        else:
            self.manage("flush", "--noinput")
        shutil.rmtree(DATA / "media", ignore_errors=True)
        started = time.monotonic()
        self.manage("migrate", "--noinput", "-v0")
        self.manage("load_demo")
        subprocess.run(
            [PYTHON, "-m", "bench.site", *self.size_args()],
            cwd=ROOT,
            env={**self.env, "DJANGO_SETTINGS_MODULE": "portal.settings.dev"},
            check=True,
        )
        self.after_build()
        self.marker.write_text(wanted)
        print(f"== 建站用时 {time.monotonic() - started:.0f} 秒")

    def size_args(self):
        return [f"--{name}={value}" for name, value in self.sizes.items()]

    def after_build(self):
        """The bulk build skips publish signals: index the new pages for search and
        make the renditions their pictures are shown in."""
        self.manage("rebuild_search_documents")
        self.manage("make_renditions")

    def shell_json(self, code: str):
        """Run ``code`` in ``manage.py shell`` on the bench database; its last
        printed line is JSON."""
        output = self.manage(
            "shell", "--no-imports", "-c", code, capture_output=True, text=True
        ).stdout
        return json.loads(output.strip().splitlines()[-1])

    # -- serving -----------------------------------------------------------------

    def serve(self, page_cache: bool):
        port = free_port()
        env = {
            **self.env,
            "DJANGO_SETTINGS_MODULE": "portal.settings.production",
            "BIND": f"127.0.0.1:{port}",
            "PAGE_CACHE_SECONDS": "600" if page_cache else "0",
            # The full render: no cached page parts either.
            "FRAGMENT_CACHE_SECONDS": "600" if page_cache else "0",
        }
        if self.redis:
            subprocess.run(
                ["redis-cli", "-n", "15", "flushdb"], check=False, capture_output=True
            )
        self.log = open(DATA / "gunicorn.log", "a")  # noqa: SIM115
        process = subprocess.Popen(
            [PYTHON, "-m", "gunicorn", "portal.wsgi:application"]
            + ["-c", "portal/gunicorn.conf.py"],
            cwd=ROOT,
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                urllib.request.urlopen(url + "/robots.txt", timeout=2).read()
                return process, url
            except OSError:  # not listening yet, or still starting up
                time.sleep(0.3)
        process.terminate()
        raise SystemExit("gunicorn 没有启动，见 bench/data/gunicorn.log")

    @staticmethod
    def stop(process):
        process.terminate()
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            process.kill()

    # -- measuring ---------------------------------------------------------------

    def wrk(self, url, script="bench/wrk/report.lua", args=(), duration=None):
        command = [
            "wrk",
            f"--threads={self.args.threads}",
            f"--connections={self.args.connections}",
            f"--duration={duration or self.args.duration}s",
            "--timeout=10s",
            f"--script={script}",
            url,
        ]
        if args:
            command += ["--", *args]
        output = subprocess.run(
            command, cwd=ROOT, capture_output=True, text=True, check=True
        ).stdout
        line = next(line for line in output.splitlines() if line.startswith("BENCH "))
        return json.loads(line[len("BENCH ") :])

    def targets(self):
        code = (
            "import json\n"
            "from events.models import EventIndexPage, Occurrence\n"
            "from django.utils import timezone\n"
            "from wagtail.models import Page\n"
            "index = EventIndexPage.objects.get(slug='activities')\n"
            "o = (Occurrence.objects.filter(capacity__isnull=False, cancelled=False,"
            " start__gt=timezone.now()).order_by('start').first())\n"
            "plain = Page.objects.get(pk=Occurrence.objects.filter("
            "capacity__isnull=True, start__gt=timezone.now()).order_by('start')"
            ".first().page_id)\n"
            "signup = Page.objects.get(pk=o.page_id)\n"
            "from home.models import ArticlePage, CommunityPage\n"
            "community = CommunityPage.objects.live().order_by('path').first()\n"
            "article = ArticlePage.objects.live().order_by('-date', 'pk').first()\n"
            "print(json.dumps({'index': index.url, 'activity': plain.url,"
            " 'signup': signup.url, 'occurrence': o.pk, 'community': community.url,"
            " 'article': article.url}))\n"
        )
        found = self.shell_json(code)
        self.signup_page, self.occurrence = found["signup"], found["occurrence"]
        return {
            "home": "/",
            "activity_index": found["index"],
            "community": found["community"],
            "activity": found["activity"],
            "signup": found["signup"] + "signup/",
            "article": found["article"],
            "search": "/search/?q=" + urllib.parse.quote("讲堂"),
            "feed": found["index"] + "calendar.ics",
        }

    def queries(self, targets):
        code = (
            "import json\n"
            "from django.db import connection\n"
            "from django.test import Client, override_settings\n"
            "from django.test.utils import CaptureQueriesContext\n"
            f"targets = {json.dumps(targets)}\n"
            "counts = {}\n"
            "with override_settings(PAGE_CACHE_SECONDS=0, FRAGMENT_CACHE_SECONDS=0):\n"
            "    client = Client()\n"
            "    for name, url in targets.items():\n"
            "        client.get(url)\n"
            "        with CaptureQueriesContext(connection) as ctx:\n"
            "            status = client.get(url).status_code\n"
            "        counts[name] = len(ctx) if status == 200 else None\n"
            "print(json.dumps(counts))\n"
        )
        return self.shell_json(code)

    def cache_state(self, url) -> str:
        with urllib.request.urlopen(url, timeout=30) as response:
            return response.headers.get("X-Page-Cache", "")

    @staticmethod
    def worker_memory(process) -> list[dict]:
        """RSS, PSS and USS (MB) of each gunicorn worker. RSS counts pages shared
        with the master (what preloading shares) in every worker; USS is what a
        worker holds alone, PSS its fair share of the rest."""
        children = Path(f"/proc/{process.pid}/task/{process.pid}/children")
        workers = []
        for pid in children.read_text().split():
            fields = {}
            try:
                for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
                    name, _, value = line.partition(":")
                    if value.strip().endswith("kB"):
                        fields[name] = int(value.split()[0])
            except OSError:
                continue
            uss = fields.get("Private_Clean", 0) + fields.get("Private_Dirty", 0)
            workers.append(
                {
                    "pid": int(pid),
                    "rss_mb": round(fields.get("Rss", 0) / 1024, 1),
                    "pss_mb": round(fields.get("Pss", 0) / 1024, 1),
                    "uss_mb": round(uss / 1024, 1),
                }
            )
        return workers

    @staticmethod
    def worker_cpu(process) -> float:
        """CPU seconds (user + system) used so far by the gunicorn workers: the
        live ones', plus what the workers that have exited used, which the
        kernel adds to the master's cutime/cstime when it reaps them. Without
        the latter a worker recycled during a run (max_requests) took its CPU
        with it and a cached run's figure came out negative (-2.82 ms)."""
        def stat_fields(pid) -> list[str]:
            stat = Path(f"/proc/{pid}/stat").read_text()
            return stat.rsplit(")", 1)[1].split()

        children = Path(f"/proc/{process.pid}/task/{process.pid}/children")
        master = stat_fields(process.pid)
        ticks = int(master[13]) + int(master[14])  # cutime, cstime
        for pid in children.read_text().split():
            try:
                fields = stat_fields(pid)
            except OSError:
                continue
            ticks += int(fields[11]) + int(fields[12])  # utime, stime
        return ticks / os.sysconf("SC_CLK_TCK")

    def run_pages(self, targets, page_cache: bool):
        process, base = self.serve(page_cache)
        self.memory_start = self.worker_memory(process)
        try:
            figures = {}
            for name, path in targets.items():
                # Warm up: renditions, the jieba dictionary, the cache entry.
                for _ in range(3):
                    state = self.cache_state(base + path)
                # The sign-up form carries a CSRF token: never stored (PASS).
                if page_cache and name not in UNCACHED and state != "HIT":
                    raise SystemExit(f"{name}: 预热后仍未命中缓存（{state!r}）")
                # Two seconds at full load, not counted: every worker process
                # compiles its templates and fills its caches first.
                self.wrk(base + path, duration=2)
                cpu = self.worker_cpu(process)
                figures[name] = self.wrk(base + path)
                # CPU seconds the workers spent per request: steadier than
                # req/s on a machine shared with other work.
                spent = self.worker_cpu(process) - cpu
                figures[name]["cpu_ms"] = round(
                    1000 * spent / max(figures[name]["requests"], 1), 2
                )
                figures[name]["cache"] = state or "off"
                print(f"   {name:15} {self.describe(figures[name])}")
            self.memory_end = self.worker_memory(process)
            return figures
        finally:
            self.stop(process)

    def run_browser(self, targets):
        """Page weight and LCP on an emulated slow 4G (bench/browser.py), against
        the cached site as residents get it."""
        process, base = self.serve(True)
        try:
            for path in targets.values():
                for _ in range(2):
                    self.cache_state(base + path)
            figures = browser.measure(base, targets)
        finally:
            self.stop(process)
        for name, page in figures.items():
            print(f"   {name:15} {browser.describe(name, page)}")
        return figures

    def run_signup_mix(self):
        process, base = self.serve(True)
        try:
            opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor())
            with opener.open(base + self.signup_page + "signup/") as response:
                token = CSRF_RE.search(response.read().decode()).group(1)
            cookie = self.csrf_cookie(opener)
            self.signup_run = run_number()
            figures = self.wrk(
                base + self.signup_page,
                "bench/wrk/signup_mix.lua",
                [
                    self.signup_page,
                    str(self.occurrence),
                    token,
                    cookie,
                    self.signup_run,
                ],
            )
        finally:
            self.stop(process)
        figures.update(self.oversell_check())
        print(f"   {'signup_mix':15} {self.describe(figures)}")
        return figures

    @staticmethod
    def csrf_cookie(opener) -> str:
        for handler in opener.handlers:
            jar = getattr(handler, "cookiejar", None)
            if jar is not None:
                for cookie in jar:
                    if cookie.name == "csrftoken":
                        return cookie.value
        raise SystemExit("没有拿到 CSRF cookie")

    def oversell_check(self):
        code = (
            "import json\n"
            "from django.db.models import Sum\n"
            "from events.models import Occurrence, Registration\n"
            f"o = Occurrence.objects.get(pk={self.occurrence})\n"
            "rows = Registration.objects.filter(occurrence=o)\n"
            "people = rows.filter(status='confirmed').aggregate(n=Sum('party_size'))"
            "['n'] or 0\n"
            # This run's: 137, the thread, the run (bench/wrk/signup_mix.lua).
            f"bench = rows.filter(phone__regex=r'^137[0-9]{{2}}{self.signup_run}')\n"
            "print(json.dumps({'capacity': o.capacity, 'taken': o.taken,"
            " 'confirmed_people': people, 'signups_stored': bench.count(),"
            " 'waitlisted': bench.filter(status='waitlisted').count()}))\n"
        )
        state = self.shell_json(code)
        state["oversold"] = not (
            state["taken"] == state["confirmed_people"] <= state["capacity"]
        )
        return state

    @staticmethod
    def describe(f) -> str:
        return (
            f"{f['rps']:8.1f} 次/秒  p50 {f['p50_ms']:7.1f}  p95 {f['p95_ms']:7.1f}"
            f"  p99 {f['p99_ms']:7.1f} 毫秒  错误 {f['errors']}"
            + (f"  CPU {f['cpu_ms']:.2f} 毫秒/次" if "cpu_ms" in f else "")
        )

    # -- the whole run -----------------------------------------------------------

    def run(self):
        self.build()
        self.manage(
            "collectstatic",
            "--noinput",
            "-v0",
            settings="portal.settings.production",
        )
        targets = self.targets()
        print("== 每页查询数")
        queries = self.queries(targets)
        print("   " + json.dumps(queries, ensure_ascii=False))
        print("== 未命中缓存（页面缓存关闭，每次都渲染）")
        misses = self.run_pages(targets, page_cache=False)
        memory = {"full_render": {"start": self.memory_start, "end": self.memory_end}}
        print("== 命中缓存")
        hits = self.run_pages(targets, page_cache=True)
        memory["cached"] = {"start": self.memory_start, "end": self.memory_end}
        print("== 首屏字节与 LCP（微信 UA，390×844，慢速 4G 1.6 Mbps/150 ms，冷缓存）")
        weight = self.run_browser(targets)
        print("== 浏览 + 报名混合（每 10 个请求 1 个报名）")
        print("   报名频率限制已关闭（SIGNUP_LIMITS_ENABLED=false）：压测同一地址报名")
        mix = self.run_signup_mix()
        result = {
            "date": datetime.now().isoformat(timespec="seconds"),
            "database": self.database,
            "cache": "redis" if self.redis else "locmem",
            "machine": {
                "cpus": os.cpu_count(),
                "python": platform.python_version(),
                "platform": platform.platform(),
            },
            "sizes": self.sizes,
            "wrk": {
                "threads": self.args.threads,
                "connections": self.args.connections,
                "seconds": self.args.duration,
            },
            "targets": targets,
            "queries": queries,
            "miss": misses,
            "hit": hits,
            "signup_mix": mix,
            "page_weight": weight,
            "worker_memory": memory,
        }
        (DATA / "last-result.json").write_text(
            json.dumps(result, ensure_ascii=False, indent=2) + "\n"
        )
        self.report(result)
        if not self.args.quick:
            RESULTS.mkdir(parents=True, exist_ok=True)
            name = f"{datetime.now():%Y-%m-%d-%H%M}-{self.database}.json"
            (RESULTS / name).write_text(
                json.dumps(result, ensure_ascii=False, indent=2) + "\n"
            )
            print(f"== 结果已写入 bench/results/{name}")
        errors = sum(f["errors"] for f in [*misses.values(), *hits.values(), mix])
        if errors or mix["oversold"]:
            raise SystemExit("压测出现错误或超卖")
        return result

    @staticmethod
    def report(result):
        print()
        print(
            f"{'页面':16}{'查询':>6}{'未命中 次/秒':>14}{'p95 毫秒':>10}"
            f"{'CPU 毫秒':>10}{'命中 次/秒':>12}{'p95 毫秒':>10}{'CPU 毫秒':>10}"
        )
        for name in result["targets"]:
            miss, hit = result["miss"][name], result["hit"][name]
            print(
                f"{name:18}{result['queries'][name] or '-':>6}"
                f"{miss['rps']:>14.1f}{miss['p95_ms']:>10.1f}"
                f"{miss.get('cpu_ms', 0):>10.2f}"
                f"{hit['rps']:>14.1f}{hit['p95_ms']:>10.1f}"
                f"{hit.get('cpu_ms', 0):>10.2f}  {hit['cache']}"
            )
        print()
        print("首屏（冷缓存，慢速 4G）:")
        for name, page in result["page_weight"].items():
            print(f"  {name:16}{browser.describe(name, page)}")
        print()
        print("gunicorn 工作进程内存（MB，RSS / PSS / USS；USS 是进程独占的）:")
        for run, states in result["worker_memory"].items():
            for state, workers in states.items():
                text = ", ".join(
                    f"{w['rss_mb']:.0f}/{w['pss_mb']:.0f}/{w['uss_mb']:.0f}"
                    for w in workers
                )
                print(f"  {run:12}{'压测前' if state == 'start' else '压测后'}: {text}")
        mix = result["signup_mix"]
        print(
            f"报名混合: {mix['rps']:.1f} 次/秒, p95 {mix['p95_ms']:.1f} 毫秒, "
            f"错误 {mix['errors']}; 名额 {mix['capacity']}, 已确认 {mix['taken']} 人, "
            f"本次报名 {mix['signups_stored']} 条（候补 {mix['waitlisted']}）, "
            f"超卖: {'是' if mix['oversold'] else '否'}"
        )


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rebuild", action="store_true", help="重建压测站点")
    parser.add_argument("--quick", action="store_true", help="小站点、短时间（测试用）")
    parser.add_argument("--duration", type=int, default=10, help="每项压测秒数")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--no-redis", action="store_true")
    args = parser.parse_args(argv)
    if args.quick:
        args.duration = min(args.duration, 2)
    Bench(args).run()


if __name__ == "__main__":
    main()
