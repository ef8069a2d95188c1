"""`make scan`: the Debian ``wapiti`` web scanner against a freshly served demo site.

The demo site is served the way the browser tests serve it (``tests/server.py``: a
fresh SQLite file, or a fresh PostgreSQL database next to ``DATABASE_URL``, demo
content loaded, ``DEBUG`` off) so the scanner's thousands of probes, sign-ups
included, never touch the site you run with ``make run``. Wapiti crawls the public
pages and attacks every link and form with the modules below; nothing is sent
anywhere but 127.0.0.1 (no bug reports, no out-of-band endpoint modules).

Exit status 1 when any injection or XSS finding is reported, or when a form wapiti
reports as lacking a CSRF token is accepted without one (wapiti 3.0.4 does not know
Django's ``csrfmiddlewaretoken`` by name, so the script submits each such form
without token and cookie and expects Django's 403). Modules that ran out of their
time before trying every link and form are listed (``stopped_early``): a scan is
complete only when that list is empty. The full wapiti report
and a summary are written to ``security/results/``; other findings (headers, cookies,
CSP) are printed for reading, they do not fail the scan.
"""

import argparse
import json
import re
import subprocess
import sys
import tempfile
import urllib.error
import urllib.request
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.server import DemoServer  # noqa: E402

RESULTS = ROOT / "security" / "results"

# Attack modules. Left out: ssrf and xxe (they need wapiti's public out-of-band
# endpoint), timesql (minutes of sleep() probes per parameter; blindsql covers
# boolean blind injection), nikto/buster/backup (brute-force file lists).
MODULES = [
    "sql",
    "blindsql",
    "exec",
    "file",
    "crlf",
    "xss",
    "permanentxss",
    "redirect",
    "csrf",
    "csp",
    "http_headers",
    "cookieflags",
]

# Wapiti's category names of the findings that fail the scan.
FAILING = {
    "SQL Injection",
    "Blind SQL Injection",
    "Command execution",
    "Path Traversal",
    "CRLF Injection",
    "Cross Site Scripting",
    "Stored Cross Site Scripting",
    "Open Redirect",
}

# Settings for the scanned server: sign-up limits off, so every probe reaches the
# code under test instead of stopping at 429.
SERVER_ENV = {"SIGNUP_LIMITS_ENABLED": "false"}


def run_wapiti(
    url: str,
    modules: list[str],
    report: Path,
    max_scan_time: int,
    max_attack_time: int,
    depth: int,
    breadth: int,
) -> list[str]:
    """Run the scan; return the modules that stopped at ``max_attack_time`` before
    trying every link and form (their coverage is partial), and ``crawl`` when the
    crawl stopped at ``max_scan_time`` before finding every link."""
    command = [
        "wapiti",
        "-u",
        url + "/",
        "--scope",
        "folder",
        "-m",
        ",".join(modules),
        "-d",
        str(depth),
        "--max-links-per-page",
        str(breadth),
        "--max-files-per-dir",
        str(breadth),
        "--max-scan-time",
        str(max_scan_time),
        "--max-attack-time",
        str(max_attack_time),
        # No "-x …/*" exclusions: Debian's wapiti 3.0.4 builds them into a regex
        # Python 3.11 rejects. The admin's login form is scanned along (after five
        # tries one address is locked out, which the scan reports as 429s).
        "--flush-session",
        "--store-session",
        str(report.parent / "session"),
        "--no-bugreport",
        # Wapiti insists its out-of-band endpoint answers; no module used here
        # talks to it, and pointing it at the site keeps everything local.
        "--endpoint",
        url + "/",
        "-t",
        "20",
        "-v",
        "1",
        "-f",
        "json",
        "-o",
        str(report),
    ]
    print("$", " ".join(command), flush=True)
    stopped = []
    with subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    ) as process:
        for line in process.stdout:
            sys.stdout.write(line)
            found = STOPPED.search(line)
            if found:
                stopped.append(found.group(1))
            elif CRAWL_STOPPED in line:
                stopped.append("crawl")
    if process.returncode:
        raise subprocess.CalledProcessError(process.returncode, command)
    return stopped


# Wapiti's line when a module ran out of time before the end of its list, and
# when the crawl (the only phase --max-scan-time limits in 3.0.4) did.
STOPPED = re.compile(r"Max attack time was reached for module (\w+)")
CRAWL_STOPPED = "Max scan time was reached"


def csrf_check(url: str, findings: list[dict]) -> dict[str, int]:
    """Wapiti 3.0.4 knows CSRF tokens only by names such as ``csrf_token``; Django's
    is ``csrfmiddlewaretoken``, so every Django form is reported as lacking one.
    Check each reported form the way an attacker's page would submit it: without
    the token and cookie. Django must refuse it (403)."""
    statuses = {}
    for item in findings:
        if item.get("method") != "POST":
            continue
        request = urllib.request.Request(
            url + item["path"],
            data=b"name=x&phone=13900000000",
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
        try:
            status = urllib.request.urlopen(request, timeout=30).status
        except urllib.error.HTTPError as error:
            status = error.code
        statuses[item["path"]] = status
    return statuses


def summarise(report: Path, modules: list[str]) -> dict:
    data = json.loads(report.read_text())
    findings = {
        name: len(items) for name, items in data.get("vulnerabilities", {}).items()
    }
    anomalies = {name: len(items) for name, items in data.get("anomalies", {}).items()}
    failing = {
        name: count for name, count in findings.items() if name in FAILING and count
    }
    return {
        "wapiti": data.get("infos", {}).get("version", ""),
        "target": data.get("infos", {}).get("target", ""),
        "modules": modules,
        "findings": {name: count for name, count in findings.items() if count},
        "anomalies": {name: count for name, count in anomalies.items() if count},
        "failing": failing,
        "details": {
            name: [
                {
                    "path": item.get("path"),
                    "method": item.get("method"),
                    "parameter": item.get("parameter"),
                    "info": item.get("info"),
                }
                for item in items
            ]
            for name, items in data.get("vulnerabilities", {}).items()
            if items
        },
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max-scan-time", type=int, default=900)
    parser.add_argument(
        "--max-attack-time",
        type=int,
        default=0,
        help="每个攻击模块的时限（秒），默认 总时限/模块数，至少 60",
    )
    parser.add_argument("--depth", type=int, default=4)
    parser.add_argument(
        "--breadth",
        type=int,
        default=60,
        help="每页最多跟几个链接、每个目录最多几个文件（海报、筛选组合多是同类）",
    )
    parser.add_argument(
        "--modules",
        default=",".join(MODULES),
        help="只跑这些模块（逗号分隔），例如重扫上次到了时限的模块",
    )
    args = parser.parse_args()
    modules = [name.strip() for name in args.modules.split(",") if name.strip()]
    unknown = set(modules) - set(MODULES)
    if unknown or not modules:
        parser.error(
            f"未知模块: {', '.join(sorted(unknown))}；可选: {', '.join(MODULES)}"
        )
    RESULTS.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now().strftime("%Y-%m-%d-%H%M")
    with tempfile.TemporaryDirectory(prefix="portal-scan-") as tmp:
        # gunicorn (2 workers × 8 threads) answers the probes faster than
        # runserver, so more of them fit in each module's time.
        server = DemoServer(Path(tmp), suffix="scan", gunicorn=2, extra_env=SERVER_ENV)
        server.start(timeout=120)
        attack_time = args.max_attack_time or max(
            60, args.max_scan_time // len(modules)
        )
        try:
            report = Path(tmp) / "wapiti.json"
            stopped = run_wapiti(
                server.url,
                modules,
                report,
                args.max_scan_time,
                attack_time,
                args.depth,
                args.breadth,
            )
            summary = summarise(report, modules)
            summary["csrf_without_token"] = csrf_check(
                server.url, summary["details"].get("Cross Site Request Forgery", [])
            )
        finally:
            server.stop()
        summary["max_attack_time"] = attack_time
        summary["stopped_early"] = stopped
        (RESULTS / f"wapiti-{stamp}.json").write_text(
            json.dumps(summary, ensure_ascii=False, indent=2) + "\n"
        )
    print(f"\n模块: {', '.join(modules)}")
    for name, count in sorted(summary["findings"].items()):
        mark = "✗" if name in summary["failing"] else "·"
        print(f"  {mark} {name}: {count}")
    for name, count in sorted(summary["anomalies"].items()):
        print(f"  ! {name}（异常）: {count}")
    refused = summary["csrf_without_token"]
    if refused:
        accepted = {path: code for path, code in refused.items() if code != 403}
        print(
            f"  CSRF 复核：{len(refused)} 个被报告的表单，不带令牌提交，"
            f"{len(refused) - len(accepted)} 个被拒绝（403）"
        )
        for path, code in accepted.items():
            print(f"  ✗ {path} 不带 CSRF 令牌也被接受（{code}）")
    if summary["stopped_early"]:
        print(
            f"  注意：{', '.join(summary['stopped_early'])} 模块到了单模块时限"
            f"（{attack_time} 秒）就停了，没有试完全部链接和表单；"
            f'用 SCAN_ARGS="--modules {",".join(summary["stopped_early"])}'
            f' --max-attack-time {attack_time * 2}" 单独再扫这些模块。'
        )
    else:
        print("  每个模块都试完了全部链接和表单（没有到时限）。")
    print(f"结果: security/results/wapiti-{stamp}.json")
    if summary["failing"] or any(code != 403 for code in refused.values()):
        print("发现注入、XSS 或 CSRF 问题，见上。")
        return 1
    print("没有发现注入或 XSS 问题。")
    return 0


if __name__ == "__main__":
    sys.exit(main())
