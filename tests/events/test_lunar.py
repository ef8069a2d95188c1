from datetime import date

import pytest

from events.lunar import (
    Festival,
    festival_date,
    last_festival_date,
    next_festival_date,
)

KNOWN = [
    ("春节", 2026, date(2026, 2, 17)),
    ("春节", 2027, date(2027, 2, 6)),
    ("元宵节", 2027, date(2027, 2, 20)),
    ("清明节", 2025, date(2025, 4, 4)),
    ("端午节", 2026, date(2026, 6, 19)),
    ("中秋节", 2026, date(2026, 9, 25)),
    ("中秋节", 2027, date(2027, 9, 15)),
    ("重阳节", 2026, date(2026, 10, 18)),
    ("冬至", 2025, date(2025, 12, 21)),
    ("冬至", 2026, date(2026, 12, 22)),
    ("腊八节", 2026, date(2026, 1, 26)),
    ("腊八节", 2027, date(2027, 1, 15)),
    ("国庆节", 2026, date(2026, 10, 1)),
]


@pytest.mark.parametrize(("festival", "year", "expected"), KNOWN)
def test_festival_dates_match_the_calendar(festival, year, expected):
    assert festival_date(festival, year) == expected


def test_next_festival_date_rolls_over_to_next_year():
    assert next_festival_date("重阳节", date(2026, 11, 21)) == date(2027, 10, 8)
    assert next_festival_date("冬至", date(2026, 11, 21)) == date(2026, 12, 22)
    assert next_festival_date("冬至", date(2026, 12, 22)) == date(2026, 12, 22)


def test_last_festival_date_is_before_the_day():
    """The demo's past festival activities (回顾) use it, so they are past on any
    day, the festival's own day included."""
    assert last_festival_date("重阳节", date(2026, 11, 21)) == date(2026, 10, 18)
    assert last_festival_date("中秋节", date(2026, 3, 1)) == date(2025, 10, 6)
    assert last_festival_date("冬至", date(2026, 12, 22)) == date(2025, 12, 21)
    assert last_festival_date("冬至", date(2026, 12, 23)) == date(2026, 12, 22)


def test_every_festival_has_a_date_every_year():
    for year in range(2024, 2036):
        for festival in Festival:
            assert festival_date(festival, year).year == year


def test_unknown_festival_is_an_error():
    with pytest.raises(ValueError):
        festival_date("圣诞节", 2026)
