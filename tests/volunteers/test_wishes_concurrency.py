"""One claim per wish, for real: 40 volunteers claim the same wish at the same
moment from 40 threads, and then from four processes, on a database of their
own (a copy of the demo on SQLite or PostgreSQL, as ``DATABASE_URL`` says):
exactly one claim, the wish 已认领 with that claim, 39 told 已经被认领, no
other error.

The control makes the same decision without the lock: many decide the wish is
still open, and only the partial unique constraint ``wish_one_active_claim``
refuses every claim after the first."""

import json
import time

import pytest

from tests.server import DemoServer
from tests.volunteers.test_concurrency import barrier, in_processes, total

VOLUNTEERS = 40
CONTROL_THREADS = 25
PROCESSES = 4

SETUP = """
import datetime, json
from django.contrib.auth import get_user_model
from django.utils import timezone
from volunteers import roster, wishes
staff = get_user_model().objects.get(username="admin")
wish = wishes.publish(user=staff, title="{title}", recipient_name="李桂兰",
    recipient_label="独居老人",
    due_date=timezone.localdate() + datetime.timedelta(days=9))
people = [roster.add(name=f"志愿者{{n}}", phone=f"{prefix}{{n:04d}}", user=staff)
    for n in range({volunteers})]
print(json.dumps({{"wish": wish.pk, "people": [[p.phone, p.code] for p in people]}}))
"""

THREADS = """
import json, threading
from django.db import connection
from volunteers import wishes
from volunteers.errors import BusyError, WishTakenError
people = json.loads('''{people}''')
outcomes, errors = [], []
barrier = threading.Barrier(len(people))
def volunteer(phone, code):
    try:
        barrier.wait()
        for attempt in range(20):
            try:
                wishes.claim_by_volunteer({wish}, phone=phone, code=code)
                outcomes.append("claimed")
                return
            except BusyError:
                continue
            except WishTakenError:
                outcomes.append("taken")
                return
        errors.append("busy 20 times")
    except Exception as error:
        errors.append(repr(error))
    finally:
        connection.close()
threads = [threading.Thread(target=volunteer, args=p) for p in people]
[t.start() for t in threads]
[t.join() for t in threads]
print(json.dumps({{"claimed": outcomes.count("claimed"),
    "taken": outcomes.count("taken"), "errors": errors}}))
"""

PROCESS = """
import json
from volunteers import wishes
from volunteers.errors import BusyError, WishTakenError
people = json.loads('''{people}''')
outcomes, errors = [], []
{barrier}
for phone, code in people:
    for attempt in range(20):
        try:
            wishes.claim_by_volunteer({wish}, phone=phone, code=code)
            outcomes.append("claimed")
            break
        except BusyError:
            continue
        except WishTakenError:
            outcomes.append("taken")
            break
        except Exception as error:
            errors.append(repr(error))
            break
print(json.dumps({{"claimed": outcomes.count("claimed"),
    "taken": outcomes.count("taken"), "errors": errors}}))
"""

COUNT = """
import json
from volunteers.models import Wish, WishClaim
wish = Wish.objects.get(pk={wish})
live = WishClaim.objects.filter(wish=wish, cancelled_at__isnull=True)
print(json.dumps({{"state": wish.state, "claims": WishClaim.objects.filter(
    wish=wish).count(), "live": live.count(),
    "matches": wish.live_claim_id == (live.first().pk if live else None)}}))
"""

CONTROL = """
import json, threading
from django.db import IntegrityError, connection
from volunteers.models import Volunteer
from tests.volunteers.unlocked_wishes import claim_without_lock
people = list(Volunteer.objects.filter(code__in={codes}))
decided, refused, errors = [], [], []
barrier = threading.Barrier(len(people))
def volunteer(person):
    try:
        barrier.wait()
        decided.append(claim_without_lock({wish}, person, pause=0.2))
    except IntegrityError:
        decided.append("claimed")
        refused.append(person.pk)
    except Exception as error:
        errors.append(repr(error))
    finally:
        connection.close()
threads = [threading.Thread(target=volunteer, args=(p,)) for p in people]
[t.start() for t in threads]
[t.join() for t in threads]
print(json.dumps({{"decided_claimed": decided.count("claimed"),
    "refused_by_constraint": len(refused), "errors": errors}}))
"""


@pytest.fixture(scope="module")
def race_db(tmp_path_factory):
    server = DemoServer(tmp_path_factory.mktemp("wish-race"), suffix="wrace")
    server.prepare_database()
    return server


def setup(server, title, prefix):
    return server.python(
        SETUP.format(title=title, prefix=prefix, volunteers=VOLUNTEERS)
    )


def assert_one_claim(server, wish):
    assert server.python(COUNT.format(wish=wish)) == {
        "state": "claimed",
        "claims": 1,
        "live": 1,
        "matches": True,
    }


def test_forty_threads_claim_one_wish(race_db):
    made = setup(race_db, "并发认领（线程）", "1397000")
    started = time.monotonic()
    found = race_db.python(
        THREADS.format(wish=made["wish"], people=json.dumps(made["people"]))
    )
    print(f"wish, threads: {found} in {time.monotonic() - started:.1f}s")
    assert found["errors"] == []
    assert found["claimed"] == 1
    assert found["taken"] == VOLUNTEERS - 1
    assert_one_claim(race_db, made["wish"])


def test_four_processes_claim_one_wish(race_db):
    made = setup(race_db, "并发认领（进程）", "1398000")
    outputs = in_processes(
        race_db,
        [
            PROCESS.format(
                wish=made["wish"],
                people=json.dumps(made["people"][i::PROCESSES]),
                barrier=barrier(race_db, "wishes", i),
            )
            for i in range(PROCESSES)
        ],
    )
    print(f"wish, processes: {outputs}")
    assert [o["errors"] for o in outputs] == [[]] * PROCESSES
    assert total(outputs, "claimed") == 1
    assert total(outputs, "taken") == VOLUNTEERS - 1
    assert_one_claim(race_db, made["wish"])


def test_control_without_the_lock_the_race_happens(race_db):
    made = setup(race_db, "并发认领（对照）", "1399000")
    codes = [code for _phone, code in made["people"][:CONTROL_THREADS]]
    outcome = race_db.python(CONTROL.format(wish=made["wish"], codes=json.dumps(codes)))
    print(f"wish, control: {outcome}")
    assert outcome["errors"] == []
    assert outcome["decided_claimed"] > 1  # the race
    assert outcome["refused_by_constraint"] == outcome["decided_claimed"] - 1
    assert_one_claim(race_db, made["wish"])
