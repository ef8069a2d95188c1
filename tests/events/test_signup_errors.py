"""The sign-up service's one exception (events/errors.py): every refusal has a
code and a Chinese message from the catalogue, and a lock that cannot be had is
recognised where it is taken, by the driver's error type and code — not by the
words of the database's message."""

import contextlib
import sqlite3

import pytest
from django.db import OperationalError, connection

from events import errors
from events import registration as service
from events.errors import (
    MESSAGES,
    AlreadySignedUpError,
    BusyError,
    CheckInRefusedError,
    EventFullError,
    InvalidSignupError,
    RegistrationNotFoundError,
    SignupClosedError,
    SignupError,
)
from events.models import EventIndexPage, Occurrence, Registration
from tests.factories import ActivityPageFactory

pytestmark = pytest.mark.django_db

LOCK_SQL = 'FROM "events_occurrence" WHERE "events_occurrence"."id" ='


@pytest.fixture
def page(db):
    index = EventIndexPage.objects.get(slug="activities")
    return ActivityPageFactory(
        parent=index, registration_required=True, capacity=1, max_party_size=2
    )


def occurrence_of(page) -> Occurrence:
    return Occurrence.objects.get(page_id=page.pk)


def sign(page, phone="13900001111", name="王秀兰", **kwargs):
    return service.sign_up(
        page, occurrence_of(page).pk, name=name, phone=phone, **kwargs
    ).registration


# ---------------------------------------------------------------------------
# The catalogue
# ---------------------------------------------------------------------------


def test_every_code_has_a_chinese_message():
    for code, text in MESSAGES.items():
        assert text and any("\u4e00" <= ch <= "\u9fff" for ch in text), code
    for cls in (AlreadySignedUpError, EventFullError, RegistrationNotFoundError):
        assert cls.code in MESSAGES
    assert BusyError().message == MESSAGES["busy"] == "系统繁忙，请稍后再试。"


def test_an_unknown_code_is_a_programming_error():
    with pytest.raises(ValueError):
        SignupError("no-such-code")


def test_message_placeholders_and_fields():
    error = InvalidSignupError("party_size_too_large", max_party_size=3)
    assert error.message == "每份报名最多 3 人，人多请分开报名。"
    assert error.field == "party_size" and str(error) == error.message
    assert InvalidSignupError("phone_invalid").field == "phone"
    assert SignupClosedError("closed").field is None
    full = EventFullError(left=0).message
    assert full == "名额已满（剩余 0 个名额），本活动不设候补。"
    assert errors.message("closed") == "报名已截止。"


def test_service_refusals_carry_their_codes(page, django_user_model):
    with pytest.raises(InvalidSignupError) as error:
        sign(page, name="  ")
    assert error.value.code == "name_missing" and error.value.field == "name"
    with pytest.raises(InvalidSignupError) as error:
        sign(page, phone="123")
    assert error.value.code == "phone_invalid"
    first = sign(page)
    with pytest.raises(AlreadySignedUpError) as error:
        sign(page, name="李建华")
    assert error.value.code == "already_signed_up" and error.value.field == "phone"
    waiting = sign(page, phone="13900002222")
    staff = django_user_model.objects.get(username="xuanchuan")
    with pytest.raises(CheckInRefusedError) as error:
        service.check_in(waiting.pk, user=staff)
    assert error.value.code == "checkin_waitlisted"
    with pytest.raises(RegistrationNotFoundError):
        service.cancel(987654321)
    with pytest.raises(RegistrationNotFoundError):
        service.check_in(987654321, user=staff)
    assert Registration.objects.get(pk=first.pk).is_confirmed


def test_full_without_waitlist(page):
    page.waitlist_enabled = False
    page.save()
    sign(page)
    with pytest.raises(EventFullError) as error:
        sign(page, phone="13900002222")
    assert error.value.code == "full" and error.value.params == {"left": 0}


# ---------------------------------------------------------------------------
# A lock that cannot be had
# ---------------------------------------------------------------------------


def sqlite_busy():
    error = sqlite3.OperationalError("database is locked")
    error.sqlite_errorcode = sqlite3.SQLITE_BUSY
    return error


def postgres_lock_not_available():
    from psycopg.errors import LockNotAvailable

    return LockNotAvailable("canceling statement due to lock timeout")


@contextlib.contextmanager
def taking_the_lock_fails(cause):
    """The statement that takes the occurrence's lock fails as Django reports a
    driver error: its OperationalError, caused by the driver's (or by nothing)."""

    def fail(execute, sql, params, many, context):
        if LOCK_SQL in sql:
            if cause is None:
                raise OperationalError("database is locked")
            try:
                raise cause
            except Exception as driver_error:
                raise OperationalError(str(driver_error)) from driver_error
        return execute(sql, params, many, context)

    with connection.execute_wrapper(fail):
        yield


@pytest.mark.parametrize("cause", [sqlite_busy, postgres_lock_not_available])
def test_the_lock_not_had_is_a_busy_error_and_stores_nothing(page, cause):
    with taking_the_lock_fails(cause()):
        with pytest.raises(BusyError) as error:
            sign(page)
    assert error.value.code == "busy"
    assert isinstance(error.value, SignupError)  # what callers catch
    assert isinstance(error.value.__cause__, OperationalError)
    assert not Registration.objects.filter(page_id=page.pk).exists()
    assert occurrence_of(page).taken == 0


@pytest.mark.parametrize("operation", ["cancel", "check_in"])
def test_cancel_and_check_in_report_the_lock_the_same_way(
    page, operation, django_user_model
):
    registration = sign(page)
    staff = django_user_model.objects.get(username="xuanchuan")
    kwargs = {"user": staff}
    with taking_the_lock_fails(sqlite_busy()):
        with pytest.raises(BusyError):
            getattr(service, operation)(registration.pk, **kwargs)
    registration.refresh_from_db()
    assert registration.is_confirmed and registration.checked_in_at is None


def test_the_words_of_a_message_do_not_make_a_busy_error(page):
    """ "database is locked" with no driver error behind it (or another SQLite
    error) is not recognised as the lock: it stays the database's error, which
    the page answers as an outage."""
    with taking_the_lock_fails(None):
        with pytest.raises(OperationalError) as error:
            sign(page)
    assert not isinstance(error.value, SignupError)
    other = sqlite3.OperationalError("database is locked (but really: disk I/O)")
    other.sqlite_errorcode = sqlite3.SQLITE_IOERR
    with taking_the_lock_fails(other):
        with pytest.raises(OperationalError) as error:
            sign(page)
    assert not isinstance(error.value, SignupError)
    assert not Registration.objects.filter(page_id=page.pk).exists()
