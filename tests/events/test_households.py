"""Households (issue 18, point 3): a party up to the activity's maximum (default
4), explained on the form, and the waitlist rule for parties
(``registration.WAITLIST_RULE``): freed seats go to the waitlist in sign-up
order, a party is promoted whole, and a party bigger than the seats still free
is passed over for now but keeps its place, so it is promoted first once enough
seats are free. Shown on a waitlisted party's result page.

The thread test runs the service from many threads at once on a database of its
own (SQLite file or PostgreSQL, as ``DATABASE_URL`` says): cancellations (which
promote) and new sign-ups of mixed party sizes, and checks that the seats are
never oversold and that no waiting party fits in the seats left free."""

import pytest

from events import registration as service
from events.errors import InvalidSignupError
from events.forms import SignUpForm
from events.models import ActivityPage, Occurrence, Registration
from events.views import result_url
from tests.factories import signup_activity
from tests.server import DemoServer


def only_occurrence(page) -> Occurrence:
    return Occurrence.objects.get(page_id=page.pk)


def sign(page, n, size=1):
    return service.sign_up(
        page,
        only_occurrence(page).pk,
        name=f"居民{n}",
        phone=f"1390000{n:04d}",
        party_size=size,
    ).registration


def refreshed(*registrations):
    for registration in registrations:
        registration.refresh_from_db()
    return registrations


# ---------------------------------------------------------------------------
# The party size: default, limit, explanation
# ---------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_new_activity_takes_a_household_of_four():
    page = signup_activity(capacity=20)
    assert ActivityPage._meta.get_field("max_party_size").default == 4
    assert page.max_party_size == 4
    form = SignUpForm(page=page, occurrences=[only_occurrence(page)])
    assert [value for value, _ in form.fields["party_size"].choices] == [1, 2, 3, 4]
    assert "一份报名最多 4 人（含您本人）" in form.fields["party_size"].help_text
    assert "一起递补" in form.fields["party_size"].help_text


@pytest.mark.django_db
def test_the_form_never_offers_more_people_than_a_session_has_seats():
    page = signup_activity(capacity=3, max_party_size=6)
    form = SignUpForm(page=page, occurrences=[only_occurrence(page)])
    assert [value for value, _ in form.fields["party_size"].choices] == [1, 2, 3]
    assert "最多 3 人" in form.fields["party_size"].help_text


@pytest.mark.django_db
def test_a_party_of_one_is_explained():
    page = signup_activity(capacity=10, max_party_size=1)
    form = SignUpForm(page=page, occurrences=[only_occurrence(page)])
    assert form.fields["party_size"].choices == [(1, "1 人")]
    assert "限 1 人" in form.fields["party_size"].help_text
    assert "分别" in form.fields["party_size"].help_text


@pytest.mark.django_db
def test_the_signup_page_shows_the_household_limit(client):
    page = signup_activity(capacity=30)
    html = client.get(page.url + "signup/").content.decode()
    assert "一份报名最多 4 人（含您本人）" in html
    assert '<option value="4">4 人</option>' in html


@pytest.mark.django_db
def test_a_party_bigger_than_the_seats_is_refused_and_nothing_stored():
    page = signup_activity(capacity=2, max_party_size=4)
    with pytest.raises(InvalidSignupError) as error:
        sign(page, 1, size=3)
    assert error.value.code == "party_size_over_capacity"
    assert error.value.field == "party_size"
    assert "每场只有 2 个名额" in error.value.message
    assert not Registration.objects.filter(page_id=page.pk).exists()


# ---------------------------------------------------------------------------
# The waitlist rule for parties
# ---------------------------------------------------------------------------


@pytest.mark.django_db
def test_freed_seats_go_to_the_first_party_that_fits_the_head_keeping_its_place():
    page = signup_activity(capacity=4, max_party_size=4)
    a, b = sign(page, 1, size=2), sign(page, 2, size=2)
    head, single, pair = sign(page, 3, size=3), sign(page, 4), sign(page, 5, size=2)
    assert all(r.is_waitlisted for r in (head, single, pair))

    # Two seats free: the party of 3 does not fit; the single behind it does,
    # the pair then no longer does (one seat left).
    promoted = service.cancel(b.pk)
    assert [r.pk for r in promoted] == [single.pk]
    head, single, pair = refreshed(head, single, pair)
    assert head.is_waitlisted and single.is_confirmed and pair.is_waitlisted
    assert service.waitlist_position(head) == 1  # still first in line
    assert only_occurrence(page).taken == 3

    # Two more seats (three free): the party of 3 at the head goes first, whole,
    # before the pair behind it.
    promoted = service.cancel(a.pk)
    assert [r.pk for r in promoted] == [head.pk]
    head, pair = refreshed(head, pair)
    assert head.is_confirmed and pair.is_waitlisted
    assert only_occurrence(page).taken == 4
    assert service.waitlist_position(pair) == 1


@pytest.mark.django_db
def test_seats_shown_free_are_the_seats_a_new_signup_gets():
    # With the rule, free seats beside a waitlist are seats no waiting party
    # fits: a newcomer who fits is confirmed (as the card's 余 N 个名额 says),
    # one who does not waits behind the others.
    page = signup_activity(capacity=3, max_party_size=3)
    a = sign(page, 1, size=2)
    sign(page, 2, size=1)
    head = sign(page, 3, size=3)
    service.cancel(a.pk)  # two free; the party of 3 waits
    occurrence = only_occurrence(page)
    assert occurrence.seats_left == 2 and refreshed(head)[0].is_waitlisted
    newcomer = sign(page, 4, size=2)
    assert newcomer.is_confirmed
    late = sign(page, 5, size=3)
    assert late.is_waitlisted
    assert service.waitlist_position(late) == 2


@pytest.mark.django_db
def test_a_waitlisted_partys_result_page_states_the_rule(client):
    page = signup_activity(capacity=2, max_party_size=2)
    sign(page, 1, size=2)
    waiting = sign(page, 2, size=2)
    html = client.get(result_url(page, waiting)).content.decode()
    assert "候补第 1 位" in html
    assert "您这一份报名共 <strong>2 人</strong>，会一起递补" in html
    assert service.WAITLIST_RULE in html
    confirmed = Registration.objects.filter(page_id=page.pk, status="confirmed")[0]
    assert (
        service.WAITLIST_RULE
        not in client.get(result_url(page, confirmed)).content.decode()
    )


# ---------------------------------------------------------------------------
# Threads: promotions and sign-ups at once never oversell, and leave no
# waiting party that fits
# ---------------------------------------------------------------------------

SEATS = 6
RACE = """
import json, threading
from django.db import connection
from django.db.models import Sum
from events import registration as service
from events.models import EventIndexPage, Occurrence, Registration
from tests.factories import ActivityPageFactory
page = ActivityPageFactory(parent=EventIndexPage.objects.get(slug="activities"),
    title="家庭候补并发", slug="household-race", registration_required=True,
    capacity={seats}, max_party_size=3, waitlist_enabled=True)
occurrence = Occurrence.objects.get(page_id=page.pk)
def sign(n, size):
    return service.sign_up(page, occurrence.pk, name=f"居民{{n}}",
        phone=f"1360000{{n:04d}}", party_size=size).registration
sizes = [3, 1, 2, 3, 2, 1, 3, 1, 2, 2]
confirmed = [sign(n, 1) for n in range({seats})]
waiting = [sign(100 + n, size) for n, size in enumerate(sizes)]
assert all(r.is_confirmed for r in confirmed) and all(r.is_waitlisted for r in waiting)
errors = []
barrier = threading.Barrier(len(confirmed) + 8)
def run(action):
    try:
        barrier.wait()
        for attempt in range(20):
            try:
                return action()
            except service.BusyError:
                continue
    except Exception as error:
        errors.append(repr(error))
    finally:
        connection.close()
actions = [lambda r=r: service.cancel(r.pk) for r in confirmed]
actions += [lambda n=n: sign(200 + n, 1 + n % 3) for n in range(8)]
threads = [threading.Thread(target=run, args=(a,)) for a in actions]
[t.start() for t in threads]
[t.join() for t in threads]
rows = Registration.objects.filter(occurrence=occurrence)
taken = rows.filter(status="confirmed").aggregate(n=Sum("party_size"))["n"] or 0
free = {seats} - taken
print(json.dumps({{
    "errors": errors,
    "confirmed_people": taken,
    "counter": Occurrence.objects.get(pk=occurrence.pk).taken,
    "waiting_sizes": list(rows.filter(status="waitlisted")
        .order_by("created_at", "pk").values_list("party_size", flat=True)),
    "free": free,
    "promoted": rows.filter(promoted_at__isnull=False).count(),
}}))
"""


@pytest.fixture(scope="module")
def race_db(tmp_path_factory):
    server = DemoServer(tmp_path_factory.mktemp("households"), suffix="house")
    server.prepare_database()
    return server


def test_threads_cancelling_and_signing_up_never_oversell(race_db):
    found = race_db.python(RACE.format(seats=SEATS))
    print(found)
    assert found["errors"] == []
    assert 0 <= found["confirmed_people"] <= SEATS
    assert found["counter"] == found["confirmed_people"]
    assert found["promoted"] >= 1
    # The rule holds at rest: no waiting party would fit in the free seats.
    assert all(size > found["free"] for size in found["waiting_sizes"])


def test_the_rule_is_written_for_residents():
    assert "不拆开" in service.WAITLIST_RULE
    assert "位置不变" in service.WAITLIST_RULE
