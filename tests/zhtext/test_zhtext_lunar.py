"""The lunar calendar through lunar_python, checked against dates published in the almanac."""

from datetime import date

import pytest

from zhtext.lunar import FESTIVALS, SOLAR_TERMS, lunar_day, next_special, solar_terms_around, spoken_lunar


@pytest.mark.parametrize(
    "day, spoken, special",
    [
        (date(2025, 1, 29), "农历正月初一", ("春节",)),
        (date(2025, 1, 28), "农历腊月二十九", ("除夕",)),  # the 腊月 before 乙巳 had 29 days: no 三十
        (date(2026, 2, 16), "农历腊月二十九", ("除夕",)),
        (date(2026, 2, 17), "农历正月初一", ("春节",)),
        (date(2025, 2, 12), "农历正月十五", ("元宵节",)),
        (date(2025, 3, 1), "农历二月初二", ("二月二龙抬头",)),
        (date(2025, 4, 3), "农历三月初六", ("寒食节",)),  # the day before 清明; born in 介休
        (date(2025, 4, 4), "农历三月初七", ("清明",)),
        (date(2025, 5, 31), "农历五月初五", ("端午节",)),
        (date(2025, 8, 29), "农历七月初七", ("七夕",)),
        (date(2025, 9, 6), "农历七月十五", ("中元节",)),
        (date(2025, 10, 6), "农历八月十五", ("中秋节",)),
        (date(2025, 10, 29), "农历九月初九", ("重阳节", "老年节")),
        (date(2025, 11, 20), "农历十月初一", ("寒衣节",)),
        (date(2025, 12, 3), "农历十月十四", ()),
        (date(2025, 12, 21), "农历冬月初二", ("冬至",)),
        (date(2026, 12, 22), "农历冬月十四", ("冬至",)),
        (date(2026, 1, 26), "农历腊月初八", ("腊八节",)),
        (date(2020, 10, 1), "农历八月十五", ("中秋节", "国庆节")),  # traditional first
        (date(2026, 1, 1), "农历冬月十三", ("元旦",)),
        (date(2025, 5, 11), "农历四月十四", ("母亲节",)),  # second Sunday of May
        (date(2025, 8, 23), "农历七月初一", ("处暑",)),
    ],
)
def test_known_days(day, spoken, special):
    ld = lunar_day(day)
    assert ld.spoken == spoken
    assert spoken_lunar(day) == spoken
    assert ld.special == special


def test_fields_of_a_plain_day():
    ld = lunar_day(date(2025, 12, 3))
    assert (ld.solar, ld.month, ld.day, ld.leap) == (date(2025, 12, 3), 10, 14, False)
    assert (ld.month_name, ld.day_name, ld.solar_term, ld.festivals) == ("十月", "十四", "", ())


@pytest.mark.parametrize(
    "day, spoken",
    [
        (date(2025, 7, 25), "农历闰六月初一"),  # 2025's 闰六月: 7-25 to 8-22
        (date(2025, 8, 22), "农历闰六月二十九"),
        (date(2023, 3, 22), "农历闰二月初一"),
        (date(2033, 12, 22), "农历闰冬月初一"),  # the "2033 problem": settled as 闰十一月
    ],
)
def test_leap_months(day, spoken):
    ld = lunar_day(day)
    assert ld.leap and ld.spoken == spoken


def test_the_month_before_the_leap_one_is_not_leap():
    ld = lunar_day(date(2025, 7, 24))
    assert (ld.month, ld.leap, ld.month_name, ld.day_name) == (6, False, "六月", "三十")
    assert lunar_day(date(2025, 8, 23)).month_name == "七月"


def test_day_names_are_said_not_printed():
    # Calendars print 廿一; people (and espeak-ng) say 二十一.
    names = {lunar_day(date(2025, 12, d)).day_name for d in range(1, 32)}
    assert not any("廿" in n for n in names)
    assert {"初一", "初十", "十一", "二十", "二十一", "二十九"} <= names


def test_commemorative_days_are_not_announced():
    # The library knows 世界残疾人日 (12-03), 圣诞节, 情人节 … an elder is not told those.
    assert lunar_day(date(2025, 12, 3)).festivals == ()
    assert lunar_day(date(2025, 12, 25)).festivals == ()
    assert lunar_day(date(2025, 2, 14)).festivals == ()


def test_solar_terms_match_the_library():
    from lunar_python import Lunar

    assert sorted(SOLAR_TERMS) == sorted(Lunar.JIE_QI)
    assert len(set(SOLAR_TERMS)) == 24


def test_every_festival_name_is_reachable_in_a_year():
    seen = set()
    for k in range(366):
        seen |= set(lunar_day(date.fromordinal(date(2025, 1, 1).toordinal() + k)).festivals)
    assert seen == set(FESTIVALS)


def test_next_special():
    assert next_special(date(2025, 12, 3)) == (date(2025, 12, 7), "大雪")
    assert next_special(date(2025, 12, 3), within=3) is None
    assert next_special(date(2025, 12, 3), within=30, name="冬至") == (date(2025, 12, 21), "冬至")
    assert next_special(date(2025, 10, 1), within=40, name="重阳节") == (date(2025, 10, 29), "重阳节")
    assert next_special(date(2025, 10, 29), within=3, name="重阳节") is None  # strictly after


def test_solar_terms_around():
    assert solar_terms_around(date(2025, 12, 3)) == ((date(2025, 11, 22), "小雪"), (date(2025, 12, 7), "大雪"))
    # On the day itself the term is the current one.
    assert solar_terms_around(date(2025, 12, 21)) == ((date(2025, 12, 21), "冬至"), (date(2026, 1, 5), "小寒"))


def test_other_lunar_days_agree_with_the_library():
    # lunar_day reads 中元/寒衣 from the library's table and 寒食 by its rule instead of calling
    # Lunar.getOtherFestivals (which also works out 春社/秋社): both must name the same days.
    from lunar_python import Solar

    from zhtext.lunar import _OTHER_LUNAR

    start = date(2025, 3, 1).toordinal()
    for k in range(402):  # two 寒食 (2025-04-03, 2026-04-04), one 中元, one 寒衣, a New Year
        d = date.fromordinal(start + k)
        theirs = [_OTHER_LUNAR[f] for f in Solar.fromYmd(d.year, d.month, d.day).getLunar().getOtherFestivals()
                  if f in _OTHER_LUNAR]
        ours = [f for f in lunar_day(d).festivals if f in _OTHER_LUNAR.values()]
        assert sorted(ours) == sorted(theirs), d


def test_years_stay_computed():
    # lunar_python caches one LunarYear; a January day needs two, so we keep a few (see _keep_more_years).
    from lunar_python import LunarYear

    lunar_day(date(2026, 1, 10))
    first = LunarYear.fromYear(2025)
    assert LunarYear.fromYear(2026).getYear() == 2026
    assert LunarYear.fromYear(2025) is first
