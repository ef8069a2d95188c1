"""Hundreds of generated sign-up POSTs (hypothesis, reproducible: derandomized)
against one activity: every field mangled or missing — the occurrence id, name,
phone, party size, household, note, consent, the honeypot, extra fields, fields
sent twice — with control characters, NUL, very long text, emoji, right-to-left
marks, SQL and HTML.

Whatever arrives: never a 5xx. A POST that is not answered with a 303 to a
result page leaves every sign-up and the seat counter exactly as they were. A
POST that is accepted created exactly one row holding the cleaned input (or,
for the same name and phone again, returned the existing sign-up), and the seat
counter still equals the confirmed people.
"""

import re
from urllib.parse import urlencode

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from events.models import Occurrence, Registration
from events.registration import normalise_name
from portal.text import clean_text
from tests.factories import signup_activity, signup_form

pytestmark = pytest.mark.django_db

EXAMPLES = 300
FORM_TYPE = "application/x-www-form-urlencoded"
MAX_PARTY = 3

NASTY = [
    "",
    " ",
    "\x00",
    "a\x00b",
    "\r\n",
    "\t\x0b\x0c",
    "\u202e反向\u202c",
    "\u200b",
    "\ufeff",
    "مرحبا",
    "😀👨‍👩‍👧‍👦🏮",
    "' OR 1=1 --",
    "'; DROP TABLE events_registration; --",
    '"><script>alert(1)</script>',
    "<img src=x onerror=alert(1)>",
    "{{ request }}{% debug %}",
    "%00",
    "NaN",
    "1e308",
    "-1",
    "0",
    "9" * 40,
    "１３８００００１２３４",
    "王" * 31,
    "李" * 500,
    "x" * 10_000,
]

NAMES = ["王秀兰", " 李  建华 ", "欧阳 娜", "Ａｌｉｃｅ", "阿依古丽·买买提"]
FULL_WIDTH = str.maketrans("0123456789", "０１２３４５６７８９")

# Unicode text as clients send it: any code point a form can carry (hypothesis
# leaves out lone surrogates, which UTF-8 cannot encode).
any_text = st.one_of(
    st.text(max_size=40),
    st.text(min_size=55, max_size=260),
    st.sampled_from(NASTY),
)


def mostly(valid, junk=any_text):
    """Nine times in ten a value the form accepts, else anything. (Hypothesis
    folds repeated branches of ``one_of``, so the odds are drawn explicitly.)"""
    return st.integers(0, 9).flatmap(lambda n: junk if n == 0 else valid)


@st.composite
def phones(draw):
    """(what the resident typed, the 11 digits it must be stored as or None)."""
    if draw(st.integers(0, 9)):
        # Often one of a few numbers, so the same phone comes again: with the
        # same name (the existing sign-up comes back) or another (refused).
        digits = draw(
            mostly(
                st.from_regex(r"1[3-9][0-9]{9}", fullmatch=True),
                st.sampled_from(["13800001234", "19912345678"]),
            )
        )
        typed = draw(
            st.sampled_from(
                [
                    digits,
                    f"{digits[:3]} {digits[3:7]} {digits[7:]}",
                    f"{digits[:3]}-{digits[3:7]}-{digits[7:]}",
                    f"+86 {digits}",
                    f"0086{digits}",
                    f"86{digits}",
                    f"（{digits[:3]}）{digits[3:]}",
                    digits.translate(FULL_WIDTH),
                    f"  {digits}\t",
                ]
            )
        )
        return typed, digits
    return draw(any_text), None


# Text a resident may well type into 姓名, 所在社区/楼院 and 备注: Chinese, spaces,
# emoji, right-to-left, markup and SQL as plain text.
resident_text = st.one_of(
    st.text(alphabet=st.characters(min_codepoint=0x4E00, max_codepoint=0x9FA5)),
    st.text(alphabet=st.characters(exclude_categories=("Cc", "Cs"))),
    st.sampled_from([t for t in NASTY if "\x00" not in t]),
)


@st.composite
def posts(draw, occurrence_id):
    data = {
        "occurrence": draw(
            mostly(
                st.just(str(occurrence_id)),
                st.one_of(st.integers(-(2**70), 2**70).map(str), any_text),
            )
        ),
        "name": draw(
            mostly(
                st.one_of(
                    st.sampled_from(NAMES),
                    resident_text.map(lambda t: t[:30]).filter(str.strip),
                )
            )
        ),
        "party_size": draw(
            mostly(
                st.sampled_from([str(n) for n in range(1, MAX_PARTY + 1)]),
                st.one_of(st.integers(-(2**40), 2**40).map(str), any_text),
            )
        ),
        "household": draw(mostly(resident_text.map(lambda t: t[:60]))),
        "note": draw(mostly(resident_text.map(lambda t: t[:200]))),
        "consent": draw(
            mostly(st.just("on"), st.sampled_from(["", "false", "0", "关"]))
        ),
        "website": draw(mostly(st.just(""), any_text)),
    }
    data["phone"], digits = draw(phones())
    # Now and then a field is not sent at all, or sent twice.
    data = {k: v for k, v in data.items() if draw(st.integers(0, 49))}
    twice = st.lists(st.sampled_from(sorted(data) or ["name"]), max_size=2, unique=True)
    for key in draw(twice):
        data[key] = [draw(any_text), data.get(key, "")]
    extra = draw(
        st.dictionaries(
            st.text(min_size=1, max_size=20).filter(lambda k: k not in data),
            any_text,
            max_size=3,
        )
    )
    # Browsers send forms urlencoded; the test client's default is multipart.
    return {**data, **extra}, digits, draw(st.booleans())


def snapshot(occurrence):
    rows = list(
        Registration.objects.filter(occurrence=occurrence)
        .order_by("pk")
        .values_list(
            "pk", "name", "phone", "party_size", "household", "note", "status", "code"
        )
    )
    occurrence.refresh_from_db(fields=["taken"])
    return rows, occurrence.taken


def last(value):
    return value[-1] if isinstance(value, list) else value


def expected_row(data, digits) -> dict:
    """What a sign-up must store, worked out from what was sent (the form keeps
    the last of repeated values, strips; the service cleans the text: see
    tests/events/test_text_cleaning.py)."""
    return {
        "name": normalise_name(last(data["name"])),
        "phone": digits,
        "party_size": int(last(data["party_size"])),
        "household": clean_text(last(data.get("household", "")))[:60],
        "note": clean_text(last(data.get("note", "")), multiline=True)[:200],
    }


@pytest.fixture
def activity(db):
    return signup_activity(
        title="模糊测试活动",
        capacity=8,
        max_party_size=MAX_PARTY,
        waitlist_enabled=True,
        ask_household=True,
        ask_note=True,
    )


def test_generated_sign_ups_never_fail_and_never_corrupt(client, activity):
    occurrence = Occurrence.objects.get(page_id=activity.pk)
    url = activity.url + "signup/"
    seen = {"accepted": 0, "rejected": 0, "statuses": set()}

    @settings(settings.get_profile("fuzz"), max_examples=EXAMPLES)
    @given(posts(occurrence.pk))
    def one_post(post):
        data, digits, urlencoded = post
        rows, taken = snapshot(occurrence)
        if urlencoded:
            body = urlencode(data, doseq=True)
            response = client.post(url, body, content_type=FORM_TYPE)
        else:
            response = client.post(url, data)
        status = response.status_code
        seen["statuses"].add(status)
        assert status < 500, (status, data)
        location = response.get("Location", "")
        after, taken_after = snapshot(occurrence)
        if status != 303 or "/r/" not in location:
            seen["rejected"] += 1
            assert (after, taken_after) == (rows, taken), data
            return
        seen["accepted"] += 1
        token = location.rstrip("/").rsplit("/", 1)[1]
        stored = Registration.objects.get(token=token)
        got = {k: getattr(stored, k) for k in expected_row(data, digits)}
        if digits is None:  # junk that still reads as a mobile number
            assert re.fullmatch(r"1[3-9]\d{9}", stored.phone)
            digits = stored.phone
        want = expected_row(data, digits)
        new = [row for row in after if row not in rows]
        if new:
            assert [row[0] for row in new] == [stored.pk]
            assert len(after) == len(rows) + 1
            assert got == want, data
        else:  # the same name and phone again: the existing sign-up
            assert after == rows and stored.pk in [row[0] for row in rows]
            assert (stored.name, stored.phone) == (want["name"], want["phone"])
        confirmed = sum(row[3] for row in after if row[6] == "confirmed")
        assert taken_after == confirmed <= occurrence.capacity

    one_post()
    # The generator reached both outcomes, often.
    assert seen["accepted"] >= 40 and seen["rejected"] >= 100, seen
    assert {303, 400, 409} <= seen["statuses"], seen
    print(f"sign-up fuzz: {seen}")


def test_a_nul_character_gets_a_message_a_resident_can_act_on(client, activity):
    """Found by the fuzzing: Django's own Chinese message for NUL reads "empty
    strings are not allowed"."""
    occurrence = Occurrence.objects.get(page_id=activity.pk)
    data = signup_form(activity, name="王\x00秀兰")
    response = client.post(activity.url + "signup/", data)
    html = response.content.decode()
    assert response.status_code == 400
    assert "内容里有无法识别的特殊字符，请删去后重新填写。" in html
    assert "空字符串" not in html
    assert not Registration.objects.filter(occurrence=occurrence).exists()
