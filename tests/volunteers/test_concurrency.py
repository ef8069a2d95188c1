"""Never overfilled, never negative, for real: the services run from many
threads, and from several processes, at the same moment, on a database of their
own (a copy of the demo on SQLite or PostgreSQL, as ``DATABASE_URL`` says).

- 40 volunteers take places in a post of 10 (threads; then four processes):
  exactly 10 confirmed, ``taken`` == 10, 30 told 岗位已满, no other error.
- 30 withdrawals of 1 hour from a balance of 10 (threads; then processes):
  exactly 10 go through, the balance is 0 and the ledger's lines add up.

The controls make the same decisions without the lock: many more than 10
decide there is room, and only the check constraints (``post_never_overfilled``,
``account_balance_not_negative``) refuse the excess."""

import json
import time
from decimal import Decimal

import pytest

from tests.server import DemoServer

PLACES = 10
VOLUNTEERS = 40
BALANCE = 10
WITHDRAWALS = 30
# The controls open one connection per thread at once: 25 leave PostgreSQL room.
CONTROL_THREADS = 25
PROCESSES = 4

SETUP = """
import json
from django.contrib.auth import get_user_model
from events.models import EventIndexPage, Occurrence
from tests.factories import ActivityPageFactory
from volunteers import bank, roster
from volunteers.models import VolunteerPost
staff = get_user_model().objects.get(username="admin")
page = ActivityPageFactory(parent=EventIndexPage.objects.get(slug="activities"),
    title="志愿岗位并发", slug="{slug}", registration_required=True, capacity=50)
occurrence = Occurrence.objects.get(page_id=page.pk)
post = VolunteerPost.objects.create(occurrence=occurrence, title="引导",
    capacity={places})
people = [roster.add(name=f"志愿者{{n}}", phone=f"{prefix}{{n:04d}}", user=staff)
    for n in range({volunteers})]
saver = people[0]
bank.record_service(saver.pk, hours={balance}, description="每天民事调解", user=staff)
print(json.dumps({{"post": post.pk, "saver": saver.pk,
    "people": [[p.phone, p.code] for p in people]}}))
"""

POST_THREADS = """
import json, threading
from django.db import connection
from volunteers import posts
from volunteers.errors import BusyError, PostFullError
people = json.loads('''{people}''')
outcomes, errors = [], []
barrier = threading.Barrier(len(people))
def volunteer(phone, code):
    try:
        barrier.wait()
        for attempt in range(20):
            try:
                posts.sign_up({post}, phone=phone, code=code)
                outcomes.append("confirmed")
                return
            except BusyError:
                continue
            except PostFullError:
                outcomes.append("full")
                return
        errors.append("busy 20 times")
    except Exception as error:
        errors.append(repr(error))
    finally:
        connection.close()
threads = [threading.Thread(target=volunteer, args=p) for p in people]
[t.start() for t in threads]
[t.join() for t in threads]
print(json.dumps({{"confirmed": outcomes.count("confirmed"),
    "full": outcomes.count("full"), "errors": errors}}))
"""

# The processes start together: each waits until all have loaded Django (a
# fixed delay was not enough on a busy machine: one process was done before
# the others began).
BARRIER = """
import pathlib, time
barrier = pathlib.Path("{barrier}")
(barrier / "{me}").touch()
while len(list(barrier.iterdir())) < {processes}:
    time.sleep(0.01)
"""

POST_PROCESS = """
import json, time
from volunteers import posts
from volunteers.errors import BusyError, PostFullError
people = json.loads('''{people}''')
outcomes, errors = [], []
{barrier}
for phone, code in people:
    for attempt in range(20):
        try:
            posts.sign_up({post}, phone=phone, code=code)
            outcomes.append("confirmed")
            break
        except BusyError:
            continue
        except PostFullError:
            outcomes.append("full")
            break
        except Exception as error:
            errors.append(repr(error))
            break
print(json.dumps({{"confirmed": outcomes.count("confirmed"),
    "full": outcomes.count("full"), "errors": errors}}))
"""

POST_COUNT = """
import json
from volunteers.models import PostSignup, VolunteerPost
print(json.dumps({{"taken": VolunteerPost.objects.get(pk={post}).taken,
    "rows": PostSignup.objects.filter(post_id={post}, status="confirmed").count()}}))
"""

WITHDRAW_THREADS = """
import json, threading
from django.db import connection
from volunteers import bank
from volunteers.errors import BusyError, InsufficientBalanceError
outcomes, errors = [], []
barrier = threading.Barrier({n})
def withdraw(n):
    try:
        barrier.wait()
        for attempt in range(20):
            try:
                bank.withdraw({saver}, hours=1, kind="gift", note=f"兑换{{n}}",
                    user=None)
                outcomes.append("withdrawn")
                return
            except BusyError:
                continue
            except InsufficientBalanceError:
                outcomes.append("refused")
                return
        errors.append("busy 20 times")
    except Exception as error:
        errors.append(repr(error))
    finally:
        connection.close()
threads = [threading.Thread(target=withdraw, args=(n,)) for n in range({n})]
[t.start() for t in threads]
[t.join() for t in threads]
print(json.dumps({{"withdrawn": outcomes.count("withdrawn"),
    "refused": outcomes.count("refused"), "errors": errors}}))
"""

WITHDRAW_PROCESS = """
import json, time
from volunteers import bank
from volunteers.errors import BusyError, InsufficientBalanceError
outcomes, errors = [], []
{barrier}
for n in range({n}):
    for attempt in range(20):
        try:
            bank.withdraw({saver}, hours=1, kind="gift", note="兑换", user=None)
            outcomes.append("withdrawn")
            break
        except BusyError:
            continue
        except InsufficientBalanceError:
            outcomes.append("refused")
            break
        except Exception as error:
            errors.append(repr(error))
            break
print(json.dumps({{"withdrawn": outcomes.count("withdrawn"),
    "refused": outcomes.count("refused"), "errors": errors}}))
"""

LEDGER = """
import json
from django.db.models import Sum
from volunteers.models import TimeBankAccount, TimeBankEntry
account = TimeBankAccount.objects.get(pk={saver})
entries = TimeBankEntry.objects.filter(account=account)
print(json.dumps({{"balance": str(account.balance),
    "sum": str(entries.aggregate(n=Sum("hours"))["n"]),
    "lowest_after": str(min(entries.values_list("balance_after", flat=True))),
    "withdrawals": entries.filter(hours__lt=0).count()}}))
"""

POST_CONTROL = """
import json, threading
from django.db import IntegrityError, connection
from volunteers.models import Volunteer
from tests.volunteers.unlocked import sign_up_without_lock
people = list(Volunteer.objects.filter(code__in={codes}))
decided, refused, errors = [], [], []
barrier = threading.Barrier(len(people))
def volunteer(person):
    try:
        barrier.wait()
        decided.append(sign_up_without_lock({post}, person, pause=0.2))
    except IntegrityError:
        decided.append("confirmed")
        refused.append(person.pk)
    except Exception as error:
        errors.append(repr(error))
    finally:
        connection.close()
threads = [threading.Thread(target=volunteer, args=(p,)) for p in people]
[t.start() for t in threads]
[t.join() for t in threads]
print(json.dumps({{"decided_confirmed": decided.count("confirmed"),
    "refused_by_constraint": len(refused), "errors": errors}}))
"""

WITHDRAW_CONTROL = """
import json, threading
from decimal import Decimal
from django.db import IntegrityError, connection
from tests.volunteers.unlocked import withdraw_without_lock
decided, refused, errors = [], [], []
barrier = threading.Barrier({n})
def withdraw(n):
    try:
        barrier.wait()
        decided.append(withdraw_without_lock({saver}, Decimal(1), pause=0.2))
    except IntegrityError:
        decided.append("withdrawn")
        refused.append(n)
    except Exception as error:
        errors.append(repr(error))
    finally:
        connection.close()
threads = [threading.Thread(target=withdraw, args=(n,)) for n in range({n})]
[t.start() for t in threads]
[t.join() for t in threads]
print(json.dumps({{"decided_withdrawn": decided.count("withdrawn"),
    "refused_by_constraint": len(refused), "errors": errors}}))
"""


@pytest.fixture(scope="module")
def race_db(tmp_path_factory):
    server = DemoServer(tmp_path_factory.mktemp("volunteer-race"), suffix="vrace")
    server.prepare_database()
    return server


def setup(server, slug, prefix):
    return server.python(
        SETUP.format(
            slug=slug,
            prefix=prefix,
            places=PLACES,
            volunteers=VOLUNTEERS,
            balance=BALANCE,
        )
    )


def barrier(server, name: str, me: int) -> str:
    folder = server.workdir / f"barrier-{name}"
    folder.mkdir(exist_ok=True)
    return BARRIER.format(barrier=folder, me=me, processes=PROCESSES)


def in_processes(server, scripts):
    """Run each script in a process of its own, all at once; their outputs."""
    running = [server.manage_popen("shell", "--no-imports", "-c", s) for s in scripts]
    outputs = []
    for process in running:
        stdout, stderr = process.communicate(timeout=300)
        assert process.returncode == 0, stderr
        outputs.append(json.loads(stdout.strip().splitlines()[-1]))
    return outputs


def total(outputs, key):
    return sum(output[key] for output in outputs)


def test_post_places_from_forty_threads(race_db):
    made = setup(race_db, "vrace-threads", "1391000")
    started = time.monotonic()
    found = race_db.python(
        POST_THREADS.format(post=made["post"], people=json.dumps(made["people"]))
    )
    print(f"post, threads: {found} in {time.monotonic() - started:.1f}s")
    assert found["errors"] == []
    assert found["confirmed"] == PLACES
    assert found["full"] == VOLUNTEERS - PLACES
    assert race_db.python(POST_COUNT.format(post=made["post"])) == {
        "taken": PLACES,
        "rows": PLACES,
    }


def test_post_places_from_four_processes(race_db):
    made = setup(race_db, "vrace-processes", "1392000")
    outputs = in_processes(
        race_db,
        [
            POST_PROCESS.format(
                post=made["post"],
                people=json.dumps(made["people"][i::PROCESSES]),
                barrier=barrier(race_db, "posts", i),
            )
            for i in range(PROCESSES)
        ],
    )
    print(f"post, processes: {outputs}")
    assert [o["errors"] for o in outputs] == [[]] * PROCESSES
    assert total(outputs, "confirmed") == PLACES
    assert total(outputs, "full") == VOLUNTEERS - PLACES
    assert race_db.python(POST_COUNT.format(post=made["post"])) == {
        "taken": PLACES,
        "rows": PLACES,
    }


def assert_ledger_holds(server, saver):
    ledger = server.python(LEDGER.format(saver=saver))
    # Decimal: SQLite gives "0", PostgreSQL "0.00".
    assert Decimal(ledger["balance"]) == 0
    assert Decimal(ledger["sum"]) == 0
    assert Decimal(ledger["lowest_after"]) == 0
    assert ledger["withdrawals"] == BALANCE
    return ledger


def test_simultaneous_withdrawals_from_threads(race_db):
    made = setup(race_db, "vrace-bank-threads", "1393000")
    found = race_db.python(WITHDRAW_THREADS.format(saver=made["saver"], n=WITHDRAWALS))
    print(f"withdrawals, threads: {found}")
    assert found["errors"] == []
    assert found["withdrawn"] == BALANCE
    assert found["refused"] == WITHDRAWALS - BALANCE
    assert_ledger_holds(race_db, made["saver"])


def test_simultaneous_withdrawals_from_processes(race_db):
    made = setup(race_db, "vrace-bank-processes", "1394000")
    each = WITHDRAWALS // PROCESSES + 1  # 4 × 8 = 32 attempts
    outputs = in_processes(
        race_db,
        [
            WITHDRAW_PROCESS.format(
                saver=made["saver"], n=each, barrier=barrier(race_db, "bank", i)
            )
            for i in range(PROCESSES)
        ],
    )
    print(f"withdrawals, processes: {outputs}")
    assert [o["errors"] for o in outputs] == [[]] * PROCESSES
    assert total(outputs, "withdrawn") == BALANCE
    assert total(outputs, "refused") == each * PROCESSES - BALANCE
    assert_ledger_holds(race_db, made["saver"])


def test_control_post_without_the_lock_the_race_happens(race_db):
    made = setup(race_db, "vrace-control", "1395000")
    codes = [code for _phone, code in made["people"][:CONTROL_THREADS]]
    outcome = race_db.python(
        POST_CONTROL.format(post=made["post"], codes=json.dumps(codes))
    )
    print(f"post, control: {outcome}")
    assert outcome["errors"] == []
    assert outcome["decided_confirmed"] > PLACES  # the race
    assert outcome["refused_by_constraint"] == outcome["decided_confirmed"] - PLACES
    assert race_db.python(POST_COUNT.format(post=made["post"]))["taken"] == PLACES


def test_control_withdrawals_without_the_lock_the_race_happens(race_db):
    made = setup(race_db, "vrace-control-bank", "1396000")
    outcome = race_db.python(
        WITHDRAW_CONTROL.format(saver=made["saver"], n=CONTROL_THREADS)
    )
    print(f"withdrawals, control: {outcome}")
    assert outcome["errors"] == []
    assert outcome["decided_withdrawn"] > BALANCE  # the race
    assert outcome["refused_by_constraint"] == outcome["decided_withdrawn"] - BALANCE
    ledger = race_db.python(LEDGER.format(saver=made["saver"]))
    assert Decimal(ledger["balance"]) == 0  # the back-up held
