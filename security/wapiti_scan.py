"""`make scan`: the Debian ``wapiti`` web scanner against a freshly served demo site.

The demo site is served the way the browser tests serve it (``tests/server.py``: a
fresh SQLite file, or a fresh PostgreSQL database next to ``DATABASE_URL``, demo
content loaded, ``DEBUG`` off) so the scanner's thousands of probes, sign-ups
included, never touch the site you run with ``make run``. Wapiti crawls the public
pages and attacks every link and form with the modules below; nothing is sent
anywhere but 127.0.0.1 (no bug reports, no out-of-band endpoint modules).

Exit status 1 when any injection or XSS finding is reported. The full wapiti report
and a summary are written to ``security/results/``; other findings (headers, cookies,
CSP) are printed for reading, they do not fail the scan.
"""

import argparse
import json
import subprocess
import sys
import tempfile
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


def run_wapiti(url: str, report: Path, max_scan_time: int, depth: int) -> None:
    command = [
        "wapiti",
        "-u",
        url + "/",
        "--scope",
        "folder",
        "-m",
        ",".join(MODULES),
        "-d",
        str(depth),
        "--max-links-per-page",
        "60",
        "--max-files-per-dir",
        "60",
        "--max-scan-time",
        str(max_scan_time),
        "--max-attack-time",
        str(max(60, max_scan_time // len(MODULES))),
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
    subprocess.run(command, check=True)


def summarise(report: Path) -> dict:
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
        "modules": MODULES,
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
    parser.add_argument("--depth", type=int, default=4)
    args = parser.parse_args()
    RESULTS.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now().strftime("%Y-%m-%d-%H%M")
    with tempfile.TemporaryDirectory(prefix="portal-scan-") as tmp:
        server = DemoServer(Path(tmp), suffix="scan", extra_env=SERVER_ENV)
        server.start(timeout=120)
        try:
            report = Path(tmp) / "wapiti.json"
            run_wapiti(server.url, report, args.max_scan_time, args.depth)
        finally:
            server.stop()
        summary = summarise(report)
        (RESULTS / f"wapiti-{stamp}.json").write_text(
            json.dumps(summary, ensure_ascii=False, indent=2) + "\n"
        )
    print(f"\n模块: {', '.join(MODULES)}")
    for name, count in sorted(summary["findings"].items()):
        mark = "✗" if name in summary["failing"] else "·"
        print(f"  {mark} {name}: {count}")
    for name, count in sorted(summary["anomalies"].items()):
        print(f"  ! {name}（异常）: {count}")
    print(f"结果: security/results/wapiti-{stamp}.json")
    if summary["failing"]:
        print("发现注入或 XSS 问题，见上。")
        return 1
    print("没有发现注入或 XSS 问题。")
    return 0


if __name__ == "__main__":
    sys.exit(main())
