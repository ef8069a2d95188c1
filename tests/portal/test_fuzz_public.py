"""Every public GET address of the demo site, fuzzed (hypothesis, derandomized):
each endpoint's own query parameters and the parts of its path a visitor can
change (slugs, sign-up tokens, page and image ids, file names) get valid values
mostly and anything else otherwise — numbers beyond 64 bits, Unicode digits,
NUL and broken percent-escapes, control, bidi and zero-width characters, very
long text, SQL and markup — plus parameters sent twice and unknown ones.

Whatever arrives: never a 5xx, and nothing stored (sign-ups, seat counters and
the audit log stay as they were). The page cache and fragment caches are on, as
in production, so their keys are built from the same input (a cache key a
backend would refuse is an error here too).

FUZZ_EXAMPLES (default 800) is the number of requests per database, shared out
evenly between the endpoints. How many each endpoint got, and the statuses it
answered, are written to test-output/fuzz-public-<database>.json and printed.
"""

import json
import os
import re
import time
import warnings
from collections import Counter
from urllib.parse import quote, urlencode

import pytest
from django.core.cache.backends.base import CacheKeyWarning
from django.db import connection
from django.db.models import Sum
from hypothesis import given, settings
from hypothesis import strategies as st
from wagtail.images.models import Image
from wagtail.images.views.serve import generate_image_url
from wagtail.models import ModelLogEntry, PageLogEntry

from events import registration as service
from events.models import (
    ActivityPage,
    FestivalActivityPage,
    LecturePage,
    Occurrence,
    Registration,
)
from home.models import ArticlePage, CommunityPage, HonourCategory, HonourPage
from tests.fake_wechat import APP_ID, APP_SECRET, FakeWeChat
from tests.server import ROOT

pytestmark = pytest.mark.django_db

TOTAL = int(os.environ.get("FUZZ_EXAMPLES", "800"))

BIG = ["9223372036854775807", "9223372036854775808", "-9223372036854775809"]
NASTY = [
    *BIG,
    "9" * 30,
    "-" + "9" * 30,
    "0",
    "-1",
    "1e9",
    "1.5",
    "NaN",
    "²",
    "١٢",
    "１２",
    "\x00",
    "a\x00b",
    "\u202e反向\u202c",
    "\u200b\ufeff",
    "\x1b[31m",
    "' OR 1=1 --",
    '"><script>alert(1)</script>',
    "{{ 7*7 }}{% debug %}",
    "../../etc/passwd",
    "%",
    "长" * 300,
    "x" * 3000,
]
# Raw pieces of a query string a client may send undecoded: NUL, invalid UTF-8,
# a UTF-8 encoded surrogate, broken escapes.
RAW = ["%00", "%ff%fe", "%ed%a0%80", "%", "%zz", "%e4%b8", "+", "&&", "=="]

junk = st.one_of(
    st.sampled_from(NASTY),
    st.text(max_size=20),
    st.text(min_size=100, max_size=400),
    st.integers(-(2**80), 2**80).map(str),
)


# A path segment: anything, or letters and digits only, short or long — what
# passes the page URL pattern up to a slug lookup (and the route memo's key).
segment = st.one_of(
    junk,
    st.text(st.characters(categories=["L", "N"]), min_size=1, max_size=8),
    st.text(st.characters(categories=["L", "N"]), min_size=200, max_size=400),
)


# Numbers a filter or page id must survive: beyond 64 bits, or digits to Python
# that are no ASCII digits.
numbers = st.sampled_from([*BIG, "9" * 30, "-" + "9" * 30, "²", "١٢", "１２"])


def mostly(valid):
    """Half the time a value the endpoint expects, else an odd number or
    anything. (Hypothesis folds repeated branches of ``one_of``, so the odds are
    drawn explicitly.)"""
    return st.integers(0, 3).flatmap(
        lambda n: junk if n == 0 else numbers if n == 1 else valid
    )


def ids():
    return st.one_of(st.integers(0, 400).map(str), junk)


# name → (path, its variable part or None, {parameter: values})
def endpoints(demo) -> dict:
    occurrence = demo["occurrence"]
    ints = st.integers(-5, 40).map(str)
    months = st.builds(
        lambda y, m: f"{y}-{m:02d}", st.integers(1990, 2110), st.integers(0, 13)
    )
    kinds = st.sampled_from(["", "activity", "lecture", "festival", "x"])
    communities = st.sampled_from([str(pk) for pk in demo["communities"]] + [""])
    return {
        "home": ("/", None, {}),
        "activities": (
            "/activities/",
            None,
            {
                "community": communities,
                "type": kinds,
                "when": st.just("past"),
                "page": ints,
            },
        ),
        "activities month": (
            "/activities/month/",
            None,
            {"m": months, "community": communities, "type": kinds},
        ),
        "activities feed": (
            "/activities/calendar.ics",
            None,
            {"community": communities, "type": kinds},
        ),
        "activity": ("{activity}", "slug", {}),
        "activity sign-up form": ("{activity}signup/", "slug", {}),
        "activity feed": (
            "{activity}calendar.ics",
            "slug",
            {"occurrence": st.just(str(occurrence))},
        ),
        "sign-up result": ("{activity}r/{token}/", "token", {}),
        "sign-up cancel": ("{activity}r/{token}/cancel/", "token", {}),
        "sign-up QR": ("{activity}r/{token}/qr.svg", "token", {}),
        "lecture": ("{lecture}", None, {}),
        "festival activity": ("{festival}", None, {}),
        "news": ("/news/", None, {"tag": st.sampled_from(demo["tags"]), "page": ints}),
        "article": ("{article}", "slug", {}),
        "honours": (
            "/honours/",
            None,
            {
                "year": st.integers(2015, 2030).map(str),
                "category": st.sampled_from(demo["categories"]),
                "page": ints,
            },
        ),
        "honour": ("{honour}", "slug", {}),
        "communities": ("/communities/", None, {}),
        "community": ("{community}", "slug", {}),
        "standard page": ("/about/", None, {}),
        "search": (
            "/search/",
            None,
            {
                "q": st.sampled_from(["讲堂", "重阳节", "jiayuan", "榜样"]),
                "type": st.sampled_from(["", "activity", "news", "honour"]),
                "page": ints,
            },
        ),
        "share QR svg": ("/share/{id}/qr.svg", "id", {}),
        "share QR png": ("/share/{id}/qr.png", "id", {}),
        "share poster page": ("/share/{id}/poster/", "id", {}),
        "WeChat config": (
            "/share/wechat/config/",
            None,
            {"url": st.just("http://testserver/activities/")},
        ),
        "image rendition": ("/images/{sig}/{image}/{spec}/x.jpg", "image", {}),
        "sitemap": ("/sitemap.xml", None, {}),
        "robots": ("/robots.txt", None, {}),
        "any path": ("/{any}/", "any", {}),
    }


@pytest.fixture
def demo(db, client):
    """Addresses and values of the demo site the endpoints start from."""
    page = next(p for p in ActivityPage.objects.live() if p.registration_required)
    occurrence = Occurrence.objects.filter(page_id=page.pk).order_by("start").first()
    registration = Registration.objects.filter(page_id=page.pk).first()
    if registration is None:
        registration = service.sign_up(
            page, occurrence.pk, name="模糊测试", phone="13800009999"
        ).registration
    image = Image.objects.order_by("pk").first()
    rendition = re.fullmatch(
        r"/images/([^/]+)/(\d+)/([^/]+)/[^/]*", generate_image_url(image, "width-200")
    )
    return {
        "activity": page.url,
        "token": registration.token,
        "occurrence": occurrence.pk,
        "lecture": LecturePage.objects.live().first().url,
        "festival": FestivalActivityPage.objects.live().first().url,
        "article": ArticlePage.objects.live().first().url,
        "honour": HonourPage.objects.live().first().url,
        "community": CommunityPage.objects.live().first().url,
        "communities": list(CommunityPage.objects.values_list("pk", flat=True)[:5]),
        "tags": ["", *ArticlePage.tags.all().values_list("name", flat=True)[:5]],
        "categories": ["", *HonourCategory.values],
        "page_id": page.pk,
        "rendition": rendition.groups() if rendition else None,
    }


def _segment(value: str) -> str:
    return quote(value, safe="")


def _path(template: str, part: str | None, value: str | None, demo) -> str:
    fill = {
        "activity": demo["activity"],
        "lecture": demo["lecture"],
        "festival": demo["festival"],
        "article": demo["article"],
        "honour": demo["honour"],
        "community": demo["community"],
        "token": demo["token"],
        "id": str(demo["page_id"]),
        "sig": "x",
        "image": "1",
        "spec": "original",
        "any": "news",
    }
    if demo["rendition"]:
        fill["sig"], fill["image"], fill["spec"] = demo["rendition"]
    if part == "slug":
        key = template[1 : template.index("}")]
        parent, _, _slug = fill[key].rstrip("/").rpartition("/")
        fill[key] = f"{parent}/{_segment(value)}/" if value is not None else fill[key]
    elif part == "image" and value is not None:
        fill["image"] = _segment(value)
    elif part is not None and value is not None:
        fill[part] = _segment(value)
    return template.format(**fill)


@st.composite
def requests(draw, endpoint, demo):
    template, part, params = endpoint
    value = None
    if part is not None and draw(st.integers(0, 2)) == 0:
        value = draw(st.one_of(segment, numbers))
    pairs = []
    for key, valid in params.items():
        if draw(st.integers(0, 3)):
            pairs.append((key, draw(mostly(valid))))
    if pairs and draw(st.integers(0, 4)) == 0:  # a parameter twice
        pairs.append((draw(st.sampled_from([k for k, _ in pairs])), draw(junk)))
    extra = draw(st.lists(st.tuples(st.text(max_size=8), junk), max_size=2))
    query = urlencode(pairs + extra)
    if draw(st.integers(0, 5)) == 0:
        query += "&" + draw(st.sampled_from(list(params) or ["x"])) + "="
        query += draw(st.sampled_from(RAW))
    path = _path(template, part, value, demo)
    return path + ("?" + query if query else "")


def stored():
    """What a GET must never change."""
    return (
        Registration.objects.count(),
        Occurrence.objects.aggregate(n=Sum("taken"))["n"],
        ModelLogEntry.objects.count(),
        PageLogEntry.objects.count(),
    )


REPORT: dict = {}


@pytest.fixture(scope="module", autouse=True)
def report():
    started = time.monotonic()
    yield
    if not REPORT:
        return
    vendor = REPORT.pop("_vendor", "sqlite")
    total = sum(entry["inputs"] for entry in REPORT.values())
    out = ROOT / "test-output" / f"fuzz-public-{vendor}.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(
        json.dumps(
            {
                "database": vendor,
                "endpoints": len(REPORT),
                "inputs": total,
                "seconds": round(time.monotonic() - started, 1),
                "per_endpoint": REPORT,
            },
            ensure_ascii=False,
            indent=2,
        )
    )
    print(f"\npublic fuzz ({vendor}): {total} inputs over {len(REPORT)} endpoints")
    for name, entry in REPORT.items():
        print(f"  {name}: {entry['inputs']} inputs, statuses {entry['statuses']}")


NAMES = list(
    endpoints({"occurrence": 0, "communities": [], "tags": [""], "categories": [""]})
)


@pytest.mark.parametrize("name", NAMES)
def test_public_endpoint_never_fails(client, demo, name, caches_on, request):
    endpoint = endpoints(demo)[name]
    if name == "WeChat config":  # configured, against a fake WeChat API
        request.getfixturevalue("wechat")
    examples = max(1, TOTAL // len(NAMES))
    before = stored()
    statuses = Counter()

    @settings(settings.get_profile("fuzz"), max_examples=examples)
    @given(requests(endpoint, demo))
    def one_request(url):
        with warnings.catch_warnings():
            warnings.simplefilter("error", CacheKeyWarning)
            response = client.get(url)
        statuses[response.status_code] += 1
        assert response.status_code < 500, url
        assert stored() == before, url

    one_request()
    REPORT["_vendor"] = connection.vendor
    REPORT[name] = {
        "inputs": sum(statuses.values()),
        "statuses": dict(sorted(statuses.items())),
    }
    # The valid requests got through: the endpoint was really exercised.
    assert any(200 <= status < 400 for status in statuses), statuses


@pytest.fixture
def caches_on(settings):
    """The caches on, as in production (the test settings turn them off)."""
    settings.PAGE_CACHE_SECONDS = 300
    settings.FRAGMENT_CACHE_SECONDS = 300
    return settings


@pytest.fixture
def wechat(settings):
    with FakeWeChat() as fake:
        settings.WECHAT_APP_ID = APP_ID
        settings.WECHAT_APP_SECRET = APP_SECRET
        settings.WECHAT_API_BASE = fake.url
        settings.WECHAT_TIMEOUT = 2
        settings.WECHAT_JSSDK_URL = "https://res.wx.qq.com/open/js/jweixin-1.6.0.js"
        yield fake
