"""Residents signing up at the same moment, over HTTP, for the concurrency tests.

``sign_up_burst`` runs one thread per resident; each first loads the sign-up form
(for the CSRF cookie and token), then all wait at a common start time and POST the
form together. Used from the test process (threads) and from several spawned
processes (``process_burst``)."""

import http.cookiejar
import re
import threading
import time
import urllib.error
import urllib.parse
import urllib.request

CSRF_RE = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def form_token(opener, url: str) -> str:
    with opener.open(url, timeout=30) as response:
        return CSRF_RE.search(response.read().decode()).group(1)


def load_form(opener, url: str, tries: int = 3) -> str:
    """The form's CSRF token, loading the form again (as a resident would tap
    reload) when a load fails: that is the preparation, before the start time;
    what the tests judge is the POST that follows."""
    for _ in range(tries - 1):
        try:
            return form_token(opener, url)
        except (OSError, AttributeError):
            time.sleep(0.5)
    return form_token(opener, url)


def one_resident(base_url, page_path, occurrence_id, phone, start_at, results):
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(
        urllib.request.HTTPCookieProcessor(jar), NoRedirect
    )
    try:
        token = load_form(opener, base_url + page_path + "signup/")
        data = urllib.parse.urlencode(
            {
                "csrfmiddlewaretoken": token,
                "occurrence": occurrence_id,
                "name": f"居民{phone[-4:]}",
                "phone": phone,
                "party_size": 1,
                "consent": "on",
            }
        ).encode()
        request = urllib.request.Request(
            base_url + page_path + "signup/",
            data=data,
            headers={"Referer": base_url + page_path},
        )
        time.sleep(max(0.0, start_at - time.time()))
        try:
            with opener.open(request, timeout=60) as response:
                results.append((phone, response.status, ""))
        except urllib.error.HTTPError as error:
            results.append((phone, error.code, error.headers.get("Location", "") or ""))
    except Exception as error:  # noqa: BLE001 - reported to the test as a failure
        results.append((phone, 0, repr(error)))


def sign_up_burst(base_url, page_path, occurrence_id, phones, start_at):
    results: list = []
    threads = [
        threading.Thread(
            target=one_resident,
            args=(base_url, page_path, occurrence_id, phone, start_at, results),
        )
        for phone in phones
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def process_burst(args):
    """Entry point for a spawned process: (base_url, page_path, occurrence_id,
    phones, start_at) → results."""
    return sign_up_burst(*args)
