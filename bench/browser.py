"""`make bench`'s page weight: what a phone inside WeChat downloads for the first
screen of each page on a cold cache, and when its largest contentful paint comes,
on an emulated slow 4G line.

Debian's Chromium through playwright (as the browser tests), 390×844 at 2×, a
WeChat user agent, a fresh context per page (nothing cached), the line emulated
by the DevTools protocol (``Network.emulateNetworkConditions``: 1.6 Mbit/s down,
750 kbit/s up, 150 ms round trip). Bytes are what arrived over the wire
(``encodedDataLength``: headers and compressed bodies) until the page has loaded
and the network has been quiet for half a second, without scrolling, so lazy
images below the fold are not counted. The LCP is the last
``largest-contentful-paint`` entry by then, from navigation start.

Benchmark figures, not tests: the goal for the home page is ≤ 60 KB and an LCP
≤ 1.0 s.
"""

from __future__ import annotations

from pathlib import Path

CHROMIUM = "/usr/bin/chromium"
WECHAT_UA = (
    "Mozilla/5.0 (Linux; Android 13; V2134A Build/TP1A.220624.014; wv) "
    "AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/116.0.0.0 "
    "Mobile Safari/537.36 XWEB/1160065 MMWEBSDK/20231202 MicroMessenger/8.0.47"
)
PHONE_UA = (
    "Mozilla/5.0 (Linux; Android 13; V2134A) AppleWebKit/537.36 (KHTML, like "
    "Gecko) Chrome/116.0.0.0 Mobile Safari/537.36"
)
SLOW_4G = {
    "offline": False,
    "latency": 150,
    "downloadThroughput": 1_600_000 / 8,
    "uploadThroughput": 750_000 / 8,
}
GOAL = {"home": {"kb": 60, "lcp_ms": 1000}}

LCP_SCRIPT = """() => new Promise(resolve => {
    let last = null;
    new PerformanceObserver(list => {
        const entries = list.getEntries();
        last = entries[entries.length - 1];
    }).observe({type: 'largest-contentful-paint', buffered: true});
    setTimeout(() => resolve(last ? {
        ms: last.startTime,
        element: last.element ? last.element.tagName.toLowerCase()
            + (last.element.className ? '.' + String(last.element.className)
                .split(' ')[0] : '') : null,
        url: last.url || null,
    } : null), 100);
})"""


def measure_page(browser, url: str, user_agent: str, lcp: bool) -> dict:
    context = browser.new_context(
        viewport={"width": 390, "height": 844},
        device_scale_factor=2,
        is_mobile=True,
        has_touch=True,
        user_agent=user_agent,
        locale="zh-CN",
    )
    try:
        page = context.new_page()
        cdp = context.new_cdp_session(page)
        cdp.send("Network.enable")
        cdp.send("Network.emulateNetworkConditions", SLOW_4G)
        sizes: dict[str, int] = {}
        urls: dict[str, str] = {}
        cdp.on(
            "Network.responseReceived",
            lambda e: urls.__setitem__(e["requestId"], e["response"]["url"]),
        )
        cdp.on(
            "Network.loadingFinished",
            lambda e: sizes.__setitem__(e["requestId"], int(e["encodedDataLength"])),
        )
        page.goto(url, wait_until="load", timeout=60_000)
        page.wait_for_load_state("networkidle", timeout=30_000)
        found = page.evaluate(LCP_SCRIPT) if lcp else None
        files = sorted(
            ((urls.get(rid, "?"), size) for rid, size in sizes.items()),
            key=lambda item: -item[1],
        )
        return {
            "bytes": sum(sizes.values()),
            "requests": len(sizes),
            "largest": [
                {"url": u.split("?")[0].split("/", 3)[-1], "bytes": s}
                for u, s in files[:3]
            ],
            # Every file of the first screen, largest first: what the bytes are.
            "files": [
                {"url": u.split("?")[0].split("/", 3)[-1], "bytes": s} for u, s in files
            ],
            "lcp_ms": round(found["ms"]) if found else None,
            "lcp_element": found["element"] if found else None,
        }
    finally:
        context.close()


def measure(base: str, targets: dict[str, str]) -> dict:
    """{page: {wechat: {...}, phone: {...}}} for every target but the feed (no
    page to paint)."""
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        raise SystemExit("缺少 Debian chromium：apt-get install chromium")
    results = {}
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--headless",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        try:
            for name, path in targets.items():
                if name == "feed":
                    continue
                results[name] = {
                    "wechat": measure_page(browser, base + path, WECHAT_UA, True),
                    "phone": measure_page(browser, base + path, PHONE_UA, False),
                }
        finally:
            browser.close()
    return results


def describe(name: str, figures: dict) -> str:
    wx, phone = figures["wechat"], figures["phone"]
    goal = GOAL.get(name)
    mark = ""
    if goal:
        met = wx["bytes"] <= goal["kb"] * 1024 and (wx["lcp_ms"] or 0) <= goal["lcp_ms"]
        mark = "  达标" if met else f"  未达标（目标 ≤ {goal['kb']} KB, LCP ≤ 1.0 秒）"
    return (
        f"微信 {wx['bytes'] / 1024:6.1f} KB / {wx['requests']:2} 个请求, "
        f"LCP {wx['lcp_ms'] or 0:5} 毫秒 ({wx['lcp_element']});  "
        f"微信外 {phone['bytes'] / 1024:6.1f} KB{mark}"
    )
