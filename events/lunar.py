"""Traditional festival dates from the lunar calendar (lunar-python).

Editors choose a festival; the page suggests its Gregorian date for the coming year.
Pure functions, no database.
"""

from datetime import date

from django.db import models


class Festival(models.TextChoices):
    SPRING = "春节", "春节"
    LANTERN = "元宵节", "元宵节"
    QINGMING = "清明节", "清明节"
    DRAGON_BOAT = "端午节", "端午节"
    QIXI = "七夕节", "七夕节"
    MID_AUTUMN = "中秋节", "中秋节"
    DOUBLE_NINTH = "重阳节", "重阳节"
    WINTER_SOLSTICE = "冬至", "冬至"
    LABA = "腊八节", "腊八节"
    NEW_YEAR = "元旦", "元旦"
    LABOUR = "劳动节", "劳动节"
    PARTY = "建党节", "建党节"
    NATIONAL = "国庆节", "国庆节"


# Lunar month/day of the lunar festivals.
LUNAR_DATES = {
    Festival.SPRING: (1, 1),
    Festival.LANTERN: (1, 15),
    Festival.DRAGON_BOAT: (5, 5),
    Festival.QIXI: (7, 7),
    Festival.MID_AUTUMN: (8, 15),
    Festival.DOUBLE_NINTH: (9, 9),
    Festival.LABA: (12, 8),
}
# Solar terms (节气) and the names lunar-python gives them in its term table.
SOLAR_TERMS = {
    Festival.QINGMING: ("清明", "QING_MING"),
    Festival.WINTER_SOLSTICE: ("冬至", "DONG_ZHI"),
}
SOLAR_DATES = {
    Festival.NEW_YEAR: (1, 1),
    Festival.LABOUR: (5, 1),
    Festival.PARTY: (7, 1),
    Festival.NATIONAL: (10, 1),
}


def festival_date(festival: str, year: int) -> date:
    """The Gregorian date of ``festival`` in Gregorian ``year``.

    Lunar festivals are looked up in the lunar year that falls mostly in ``year``,
    except 腊八, which belongs to the lunar year that began the year before.
    清明 and 冬至 are solar terms. Raises ValueError for an unknown festival.
    """
    festival = Festival(festival)
    if festival in SOLAR_DATES:
        return date(year, *SOLAR_DATES[festival])
    if festival in SOLAR_TERMS:
        return _solar_term(SOLAR_TERMS[festival], year)
    from lunar_python import Lunar  # its tables cost every process 0.2 s to import

    month, day = LUNAR_DATES[festival]
    lunar_year = year - 1 if festival == Festival.LABA else year
    solar = Lunar.fromYmd(lunar_year, month, day).getSolar()
    return date(solar.getYear(), solar.getMonth(), solar.getDay())


def _solar_term(names: tuple[str, ...], year: int) -> date:
    from lunar_python import Solar

    for month in (4, 12):
        table = Solar.fromYmd(year, month, 1).getLunar().getJieQiTable()
        for name in names:
            solar = table.get(name)
            if solar is not None and solar.getYear() == year:
                return date(year, solar.getMonth(), solar.getDay())
    raise ValueError(f"no {names[0]} in {year}")


def next_festival_date(festival: str, today: date) -> date:
    """The next date (today included) on which ``festival`` falls."""
    this_year = festival_date(festival, today.year)
    if this_year >= today:
        return this_year
    return festival_date(festival, today.year + 1)


def last_festival_date(festival: str, today: date) -> date:
    """The last date before ``today`` on which ``festival`` fell."""
    this_year = festival_date(festival, today.year)
    if this_year < today:
        return this_year
    return festival_date(festival, today.year - 1)
