"""No full mobile number leaks: a scan of every page a resident or a staff member
without 查看报名人姓名和手机号 can reach.

The demo site gets sign-ups with real-looking mobile numbers (1[3-9] + 9 digits,
some also typed into 楼院 and 备注) on upcoming, past, recurring and cancelled
activities, with check-ins, cancellations and promotions, so the audit log has
entries too. Then:

- public: a crawl from the home page and every live page with its sub-routes
  (sign-up form, feeds, month views, posters, QR codes, search for a name, a
  phone and a code, sitemap), following every link on the site, with the shared
  page cache on, after the residents have opened their result pages;
- staff without the permission: 报名管理 (all, per activity, searched, filtered,
  the results fragment), its CSV and XLSX exports (cell values), every sign-up's
  door page (by code and by the phone's last four digits), cancel confirmation,
  操作记录 and session roster (签到表), 站点历史 and the admin search;
- the resident's own result page shows the phone masked;
- a staff member with the permission does see full numbers on those pages (so the
  scan can fail), and every response that shows one wrote an audit entry;
- the audit log those views wrote holds no full number and no name (search terms
  are kept masked), and once the sign-ups are purged, no masked number either.
"""

import io
import json
import random
import re
from datetime import timedelta
from html import escape
from urllib.parse import parse_qs, quote_plus, urlencode, urlsplit

import openpyxl
import pytest
from django.contrib.auth.models import Permission
from django.core.cache import cache
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone
from wagtail.models import ModelLogEntry, Page

from events import registration as service
from events.models import EVENT_MODELS, Occurrence, Registration
from events.staff import audit

pytestmark = pytest.mark.django_db

FULL_PHONE = re.compile(r"(?<![0-9A-Za-z])1[3-9]\d{9}(?![0-9A-Za-z])")
MASKED_PHONE = re.compile(r"1[3-9]\d\*{4}\d{4}")
HREF = re.compile(r"""(?:href|src)=["']([^"'#]+)""")
TEXT_TYPES = ("text/", "application/xml", "application/json", "image/svg")
SKIP_PREFIXES = ("/admin/", "/media/", "/images/", "/static/", "/documents/")
SKIP_SUFFIXES = (".png", ".jpg", ".jpeg", ".webp", ".gif", ".ico", ".css", ".js")
CRAWL_LIMIT = 4000
# The 长辈模式 switch's ?next= carries the page's own address, query and all
# (portal/elder.py switch_url): "q%3D" and the query encoded twice.
ECHOES = ("q={}", "q%3D{}", 'value="{}"', "搜索：{}", "与“{}”", "符合<em>{}</em>")
# Unmistakable names (2–4 characters): none may appear on a public page.
NAMES = ["欧阳明月", "司马青云", "诸葛秋菊", "上官春燕", "慕容海涛", "东方晓梅"]


def text_of(response) -> str | None:
    content_type = response.get("Content-Type", "")
    if not content_type.startswith(TEXT_TYPES):
        return None
    body = (
        b"".join(response.streaming_content) if response.streaming else response.content
    )
    return body.decode("utf-8-sig")


def xlsx_cells(response) -> list[str]:
    body = b"".join(response.streaming_content)
    sheet = openpyxl.load_workbook(io.BytesIO(body)).active
    return [str(c) for row in sheet.iter_rows(values_only=True) for c in row]


def mobile(rng: random.Random) -> str:
    return f"1{rng.choice('3456789')}{rng.randrange(10**9):09d}"


# ---------------------------------------------------------------------------
# The data
# ---------------------------------------------------------------------------


@pytest.fixture
def residents(django_user_model):
    """Sign-ups with real-looking numbers on every demo activity that takes them
    and is still open, plus the demo's own (139 0000 xxxx, also real-looking) on
    past ones; staff actions for the audit log. Returns the new sign-ups."""
    rng = random.Random(6)
    staff = django_user_model.objects.create_user("desk", password="x")
    made = []
    now = timezone.now()
    for model in EVENT_MODELS:
        for page in model.objects.live().filter(registration_required=True):
            occurrences = [
                o
                for o in Occurrence.objects.filter(page_id=page.pk, cancelled=False)
                if not service.closed_reason(page, o, now)
            ][:2]
            for occurrence in occurrences:
                for i in range(3):
                    phone = mobile(rng)
                    made.append(
                        service.sign_up(
                            page,
                            occurrence.pk,
                            name=NAMES[len(made) % len(NAMES)],
                            phone=phone,
                            household=f"甲院 {i} 号楼 电话{mobile(rng)}",
                            note=f"家长电话 {mobile(rng)}",
                        ).registration
                    )
    assert len(made) >= 30
    # Staff actions leave audit entries (check-in, cancel + promotion).
    confirmed = [r for r in made if r.is_confirmed]
    service.check_in(confirmed[0].pk, user=staff)
    audit.log_registration(
        Registration.objects.get(pk=confirmed[0].pk), audit.CHECK_IN, staff
    )
    service.cancel(confirmed[1].pk, erase=False)  # by the resident
    # A full activity with a waitlist (the demo's 义诊): staff cancel, one promoted.
    waiting = Registration.objects.filter(status="waitlisted").first()
    seat = Registration.objects.filter(
        occurrence_id=waiting.occurrence_id, status="confirmed"
    ).first()
    assert service.cancel(seat.pk, user=staff)
    return made


def stored_phones() -> set[str]:
    phones = set(Registration.objects.exclude(phone="").values_list("phone", flat=True))
    assert phones and all(FULL_PHONE.fullmatch(p) for p in phones)
    return phones


# ---------------------------------------------------------------------------
# Public
# ---------------------------------------------------------------------------


def month_window() -> set[str]:
    """Months the month view may be crawled in: from the first to the last
    occurrence (its previous/next links go on forever)."""
    starts = Occurrence.objects.order_by("start").values_list("start", flat=True)
    first, last = (
        timezone.localtime(starts.first()),
        timezone.localtime(starts.last()),
    )
    months, year, month = set(), first.year, first.month
    while (year, month) <= (last.year, last.month):
        months.add(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return months


def seed_urls(made) -> list[str]:
    urls = ["/", "/sitemap.xml", "/robots.txt", "/search/"]
    for page in Page.objects.live().specific().filter(depth__gt=1):
        url = page.url
        urls += [
            url,
            f"/share/{page.pk}/poster/",
            f"/share/{page.pk}/qr.svg",
        ]
        if isinstance(page, EVENT_MODELS):
            urls += [url + "signup/", url + "calendar.ics"]
        if page.specific_class.__name__ == "EventIndexPage":
            urls += [url + "calendar.ics", url + "?when=past"]
            urls += [f"{url}month/?m={m}" for m in sorted(month_window())]
    for registration in made[:3]:
        for q in (
            registration.name,
            registration.phone,
            registration.masked_phone,
            registration.code,
        ):
            urls.append("/search/?" + urlencode({"q": q}))
    return urls


def crawl(client, seeds, months) -> tuple[dict[str, str], int]:
    """GET every seed and every site link found on the way. {url: text} of the
    text responses, and the number of others (pictures, skipped)."""
    texts, binary, queue, seen = {}, 0, list(seeds), set(seeds)
    while queue:
        url = queue.pop(0)
        response = client.get(url)
        assert response.status_code in (200, 301, 302, 304, 404), (url, response)
        if response.status_code in (301, 302):
            found = [response["Location"]]
        else:
            text = text_of(response)
            if text is None:
                binary += 1
                continue
            texts[url] = text
            found = HREF.findall(text)
        for link in found:
            link = link.replace("&amp;", "&")
            parts = urlsplit(link)
            if parts.scheme and (
                parts.scheme not in ("http", "https")
                or parts.hostname not in ("localhost", "testserver")
            ):
                continue
            path = parts.path
            if not path.startswith("/") or path.startswith(SKIP_PREFIXES):
                continue
            if path.endswith(SKIP_SUFFIXES):  # posters are pictures of the title
                continue
            month = parse_qs(parts.query).get("m")
            if path.endswith("/month/") and month and month[0] not in months:
                continue
            target = path + (f"?{parts.query}" if parts.query else "")
            if target not in seen:
                seen.add(target)
                queue.append(target)
        assert len(seen) < CRAWL_LIMIT, "the crawl does not end"
    return texts, binary


@override_settings(PAGE_CACHE_SECONDS=300)
def test_no_public_page_shows_a_full_phone_number(client, residents):
    cache.clear()
    phones = stored_phones()
    # Residents open their own pages first: nothing of theirs may stick in the
    # shared page cache for the crawl to find.
    for registration in residents:
        page = Page.objects.get(pk=registration.page_id)
        result = client.get(f"{page.url}r/{registration.token}/")
        text = result.content.decode()
        assert registration.masked_phone in text, "the result page shows it masked"
        assert not FULL_PHONE.search(text), "… and never in full"
        for suffix in ("cancel/", "qr.svg"):
            own = client.get(f"{page.url}r/{registration.token}/{suffix}")
            assert not FULL_PHONE.search(own.content.decode(errors="replace"))

    texts, binary = crawl(client, seed_urls(residents), month_window())
    leaks = {}
    for url, text in texts.items():
        text = without_echo(text, url)
        found = FULL_PHONE.findall(text)
        found += [p for p in phones if p in text]
        found += [name for name in NAMES if name in text]
        if found:
            leaks[url] = found
    assert not leaks
    print(f"\npublic scan: {len(texts)} text responses ({binary} pictures)")
    assert len(texts) > 200


def without_echo(text: str, url: str) -> str:
    """A search page repeats what was typed into it — in its links (the mode
    switch's too), its search box, its title and its "nothing found for …" —
    which is no leak. Only those places are blanked; the typed number anywhere
    else still counts."""
    for typed in (v for vs in parse_qs(urlsplit(url).query).values() for v in vs):
        shown = (escape(typed), quote_plus(typed), quote_plus(quote_plus(typed)))
        for form in ECHOES:
            for echo in shown:
                text = text.replace(form.format(echo), form.format(""))
    return text


# ---------------------------------------------------------------------------
# Staff
# ---------------------------------------------------------------------------


def grant(user, *codenames):
    for codename in ("access_admin", *codenames):
        user.user_permissions.add(Permission.objects.get(codename=codename))


def staff_urls(made) -> list[str]:
    index = reverse("events_registrations:index")
    pages = sorted({r.page_id for r in Registration.objects.all()})
    urls = [
        reverse("wagtailadmin_home"),
        index,
        reverse("events_registrations:index_results"),
        index + "?status=waitlisted",
        index + "?status=cancelled",
        index + "?checked_in=true",
        reverse("events_checkin"),
        reverse("wagtailadmin_reports:site_history"),
        reverse("wagtailadmin_reports:site_history") + "?action=" + audit.CHECK_IN,
    ]
    urls += [f"{index}?page={pk}" for pk in pages]
    for registration in made[:4]:
        for q in (registration.phone, registration.name, registration.code):
            urls.append(index + "?" + urlencode({"q": q}))
            urls.append(
                reverse("wagtailadmin_pages:search") + "?" + urlencode({"q": q})
            )
    for registration in sample(made):
        urls += [
            reverse("events_checkin") + "?" + urlencode({"code": registration.code}),
            reverse("events_registrations:history", args=[registration.pk]),
            reverse("events_registrations:cancel", args=[registration.pk]),
            # The session's printed 签到表 (phones always masked on paper).
            reverse("events_registrations:roster", args=[registration.occurrence_id]),
        ]
        if registration.is_active and registration.phone:
            # The door page's lookup by the phone's last four digits.
            lookup = {
                "occurrence": registration.occurrence_id,
                "last4": registration.phone[-4:],
            }
            urls.append(reverse("events_checkin") + "?" + urlencode(lookup))
    return urls


def sample(made) -> list[Registration]:
    """Sign-ups whose own pages (door, 操作记录, cancel) are scanned: ten new ones
    and one of every kind — confirmed, waitlisted, cancelled (by staff and by the
    resident), promoted, checked in — including the demo's."""
    chosen = {r.pk: r for r in made[:10]}
    everyone = Registration.objects.order_by("pk")
    kinds = [
        {"status": "confirmed", "checked_in_at__isnull": True},
        {"status": "confirmed", "checked_in_at__isnull": False},
        {"status": "confirmed", "promoted_at__isnull": False},
        {"status": "waitlisted"},
        {"status": "cancelled", "cancelled_by__isnull": False},
        {"status": "cancelled", "cancelled_by__isnull": True},
    ]
    for kind in kinds:
        of_kind = everyone.filter(**kind)
        assert of_kind.exists(), kind
        for registration in (of_kind.first(), of_kind.last()):
            chosen[registration.pk] = registration
    return list(chosen.values())


def export_urls() -> list[str]:
    index = reverse("events_registrations:index")
    pages = sorted({r.page_id for r in Registration.objects.all()})
    urls = [f"{index}?export={fmt}" for fmt in ("csv", "xlsx")]
    urls += [
        f"{index}?page={pk}&export={fmt}" for pk in pages for fmt in ("csv", "xlsx")
    ]
    return urls


def scan_staff(client, urls, allowed=(200, 302)) -> dict[str, list[str]]:
    """{url: full numbers found} for every staff URL answered 200 (XLSX by cell
    values); other statuses in ``allowed`` (302: the admin's page search sends
    a user without page permissions home) are scanned too but left out."""
    found = {}
    for url in urls:
        response = client.get(url)
        assert response.status_code in allowed, (url, response.status_code)
        if response.status_code != 200:
            assert not FULL_PHONE.search(text_of(response) or ""), url
            continue
        if "export=xlsx" in url:
            text = "\n".join(xlsx_cells(response))
        else:
            text = text_of(response)
        found[url] = FULL_PHONE.findall(without_echo(text, url))
    return found


def test_staff_without_the_permission_never_see_a_full_number(
    client, django_user_model, residents
):
    phones = stored_phones()
    desk = django_user_model.objects.create_user("viewer", password="x")
    grant(desk, "view_registration", "change_registration")
    # A community's own 宣传员 (demo account): page editor, sign-ups of their
    # community only, no personal data.
    jiayuan = django_user_model.objects.get(username="jiayuan")
    assert not jiayuan.has_perm("events.view_personal_data")
    urls = staff_urls(residents) + export_urls()
    for user, allowed, least in (
        (desk, (200, 302), 100),
        (jiayuan, (200, 302, 404), 50),
    ):
        # Other communities' sign-ups are 404 to a community's 宣传员.
        client.force_login(user)
        found = scan_staff(client, urls, allowed)
        assert not {url: hits for url, hits in found.items() if hits}, user
        print(f"\nstaff scan as {user.username}: {len(found)} pages answered")
        assert len(found) > least
    # Sanity: the pages scanned did list the sign-ups (masked).
    client.force_login(desk)
    listing = client.get(reverse("events_registrations:index")).content.decode()
    assert residents[-1].masked_phone in listing
    assert phones  # and those numbers exist in the database


def test_staff_with_the_permission_see_full_numbers_and_each_view_is_logged(
    client, django_user_model, residents
):
    boss = django_user_model.objects.create_user("boss", password="x")
    grant(boss, "view_registration", "change_registration", "view_personal_data")
    client.force_login(boss)
    logged = ModelLogEntry.objects.filter(
        user=boss, action__in=[audit.VIEW_PERSONAL_DATA, audit.EXPORT]
    )
    revealed = 0
    for url in staff_urls(residents) + export_urls():
        before = logged.count()
        hits = scan_staff(client, [url]).get(url)
        if hits:
            revealed += 1
            assert logged.count() > before, f"{url} showed {hits[0]} unlogged"
    # The scan finds numbers where they are shown: listing, search, door page,
    # cancel confirmation, exports.
    print(f"\nstaff scan with the permission: {revealed} pages showed full numbers")
    # (each sampled sign-up's door page at least, and the listings)
    assert revealed > len(sample(residents)) + 10
    assert logged.filter(action=audit.EXPORT).count() == len(export_urls())


def test_the_audit_log_keeps_no_number_or_name_and_forgets_purged_sign_ups(
    client, django_user_model, residents
):
    boss = django_user_model.objects.create_user("auditor", password="x")
    grant(boss, "view_registration", "change_registration", "view_personal_data")
    client.force_login(boss)
    # Searches for each phone and name, every door page, cancel confirmation,
    # listing and export: all logged.
    scan_staff(client, staff_urls(residents) + export_urls())
    entries = ModelLogEntry.objects.filter(
        content_type__app_label="events", content_type__model="registration"
    )
    logged = [
        (e.object_id, e.label, json.dumps(e.data, ensure_ascii=False)) for e in entries
    ]
    searches = [data for object_id, _, data in logged if '"q": ' in data]
    assert len(searches) >= 8, "the searches were logged"
    text = "\n".join(label + data for _, label, data in logged)
    assert not FULL_PHONE.search(text)
    assert not [name for name in NAMES if name in text]
    assert MASKED_PHONE.search(text), "sign-ups with their data keep a masked label"

    # Ten years on, every session has ended: the purge takes everyone's data.
    later = timezone.now() + timedelta(days=3650)
    assert service.purge_personal_data(days=1, now=later).purged
    assert not Registration.objects.exclude(phone="").exists()
    left = [
        (e.object_id, e.label, json.dumps(e.data, ensure_ascii=False))
        for e in entries.all()
    ]
    codes = set(Registration.objects.values_list("code", flat=True))
    for object_id, label, data in left:
        if object_id == str(audit.LIST_OBJECT_ID):
            continue  # a list's filters: masked search terms, no sign-up
        assert not MASKED_PHONE.search(label + data), (label, data)
        assert not [code for code in codes if code in label + data], (label, data)
