"""The Chinese calendar as elders say it: 农历十月十四, 腊月初八, 闰六月初一, 冬至, 重阳节.

All calendar arithmetic is lunar_python's (6tail's library, pure Python, kept in step with
the official almanac): we keep no month or solar-term tables of our own, only the choice of
which of its festivals are worth saying to an elder and the words to say them with.
lunar_python is imported on first use so that ``import zhtext.lunar`` stays cheap.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache
from typing import Any

__all__ = ["LunarDay", "lunar_day", "spoken_lunar", "next_special", "solar_terms_around", "SOLAR_TERMS", "FESTIVALS"]

# The 24 solar terms, as lunar_python names them (a test checks they are the same).
SOLAR_TERMS: tuple[str, ...] = (
    "立春", "雨水", "惊蛰", "春分", "清明", "谷雨", "立夏", "小满", "芒种", "夏至", "小暑", "大暑",
    "立秋", "处暑", "白露", "秋分", "寒露", "霜降", "立冬", "小雪", "大雪", "冬至", "小寒", "大寒",
)

# lunar_python's festival name → what we say. Only these are announced: the library also knows
# dozens of commemorative days (世界水日, 情人节, 万圣节…) that would only puzzle an elder.
# Lunar festivals first, so on a day with two (2020-10-01: 中秋 and 国庆) the traditional one leads.
_LUNAR_FESTIVALS = {
    "春节": "春节", "元宵节": "元宵节", "龙头节": "二月二龙抬头", "端午节": "端午节", "七夕节": "七夕",
    "中秋节": "中秋节", "重阳节": "重阳节", "腊八节": "腊八节", "除夕": "除夕",
}
# From the library's "other" lunar days, the ones Shanxi keeps: 寒食 began in 介休 (Jinzhong);
# 中元 and 寒衣 are the northern days for remembering the dead.
_OTHER_LUNAR = {"寒食节": "寒食节", "中元节": "中元节", "寒衣节": "寒衣节"}
_SOLAR_FESTIVALS = {
    "元旦节": "元旦", "妇女节": "妇女节", "劳动节": "劳动节", "儿童节": "儿童节", "建党节": "建党节",
    "建军节": "建军节", "教师节": "教师节", "国庆节": "国庆节", "母亲节": "母亲节", "父亲节": "父亲节",
}
# 农历九月初九 is by law also 老年节 (老年人权益保障法, art. 12): our users' own day, said with it.
_ALSO = {"重阳节": "老年节"}

FESTIVALS: tuple[str, ...] = tuple(
    dict.fromkeys([*_LUNAR_FESTIVALS.values(), *_OTHER_LUNAR.values(), *_SOLAR_FESTIVALS.values(), *_ALSO.values()])
)


@dataclass(frozen=True)
class LunarDay:
    """One solar day read in the Chinese calendar."""

    solar: date
    month: int                  # 1..12; 正月 is 1, 冬月 11, 腊月 12
    day: int                    # 1..30
    leap: bool                  # a 闰月 repeats the month before it (2025 had 闰六月)
    month_name: str             # "正月", "闰六月", "十月", "冬月", "腊月"
    day_name: str               # "初三", "十四", "二十", "二十一", "三十"
    solar_term: str             # "冬至", or "" on most days
    festivals: tuple[str, ...]  # spoken names, most cherished first: ("重阳节", "老年节")

    @property
    def spoken(self) -> str:
        """"农历十月十四" / "农历闰六月初一"."""
        return f"农历{self.month_name}{self.day_name}"

    @property
    def special(self) -> tuple[str, ...]:
        """Everything that makes the day worth naming: festivals, then the solar term."""
        return self.festivals + ((self.solar_term,) if self.solar_term else ())


@lru_cache(maxsize=1)
def _lib() -> tuple[Any, Any]:
    """lunar_python's Solar and LunarUtil, imported on first use."""
    from lunar_python import LunarYear, Solar
    from lunar_python.util import LunarUtil

    _keep_more_years(LunarYear)
    return Solar, LunarUtil


def _keep_more_years(lunar_year_cls: Any) -> None:
    """Let lunar_python keep the last few computed years instead of one.

    LunarYear.fromYear (1.4.8) caches a single year, but a day in January or February needs two
    (the lunar year begun the winter before, and the solar year's own solar terms), so looking
    up days one after another recomputed a whole year for each: 25-50 ms a day there, against
    under a millisecond elsewhere, and seconds for "is it 春节 yet" scans. Same objects, kept.
    """
    if getattr(lunar_year_cls.fromYear, "_keeps_years", False):
        return
    years = lru_cache(maxsize=8)(lunar_year_cls)

    def from_year(lunar_year: int) -> Any:
        return years(lunar_year)

    from_year._keeps_years = True  # type: ignore[attr-defined]
    lunar_year_cls.fromYear = staticmethod(from_year)


@lru_cache(maxsize=1024)
def lunar_day(d: date) -> LunarDay:
    """The lunar month and day, solar term and festivals of the solar date `d`."""
    solar_cls, util = _lib()
    solar = solar_cls.fromYmd(d.year, d.month, d.day)
    lunar = solar.getLunar()
    month = lunar.getMonth()  # negative for a leap month
    names: list[str] = []
    names += [_LUNAR_FESTIVALS[f] for f in lunar.getFestivals() if f in _LUNAR_FESTIVALS]
    # Lunar.getOtherFestivals would also work out 春社/秋社 (two more Lunar objects, ~2 ms a day):
    # read its table and its 寒食 rule (the day before 清明) directly instead.
    others = list(util.OTHER_FESTIVAL.get(f"{month}-{lunar.getDay()}", ()))
    if lunar.getJieQiTable()["清明"].next(-1).toYmd() == solar.toYmd():
        others.append("寒食节")
    names += [_OTHER_LUNAR[f] for f in others if f in _OTHER_LUNAR]
    names += [_SOLAR_FESTIVALS[f] for f in solar.getFestivals() if f in _SOLAR_FESTIVALS]
    for name in list(names):
        if name in _ALSO:
            names.insert(names.index(name) + 1, _ALSO[name])
    return LunarDay(
        solar=d,
        month=abs(month),
        day=lunar.getDay(),
        leap=month < 0,
        # The library writes 闰六 / 冬 / 腊; we add 月.
        month_name=lunar.getMonthInChinese() + "月",
        # 廿 is how calendars print 20-29; people say 二十 (and espeak-ng reads 廿 oddly).
        day_name=lunar.getDayInChinese().replace("廿", "二十"),
        solar_term=lunar.getJieQi(),
        festivals=tuple(dict.fromkeys(names)),
    )


def spoken_lunar(d: date) -> str:
    """"农历十月十四" for the solar date `d`."""
    return lunar_day(d).spoken


def next_special(after: date, within: int = 16, name: str | None = None) -> tuple[date, str] | None:
    """The first festival or solar term in the `within` days after `after` (or the first `name`).

    Sixteen days by default because a solar term comes about every fifteen, so there is nearly
    always one to mention; a day costs about half a millisecond once its year is computed.
    """
    for k in range(1, within + 1):
        d = after + timedelta(days=k)
        special = lunar_day(d).special
        if name is None and special:
            return d, special[0]
        if name is not None and name in special:
            return d, name
    return None


def solar_terms_around(d: date) -> tuple[tuple[date, str], tuple[date, str]]:
    """The solar term on or before `d` and the next one after it: the 节气 "we are in" and the coming one.

    Elders say "现在是小雪节气" for the whole fortnight from 小雪 to 大雪.
    """
    lunar = _lib()[0].fromYmd(d.year, d.month, d.day).getLunar()
    # whole_day=True compares calendar days, not the term's exact minute.
    prev, nxt = lunar.getPrevJieQi(True), lunar.getNextJieQi(True)
    return (_as_date(prev.getSolar()), prev.getName()), (_as_date(nxt.getSolar()), nxt.getName())


def _as_date(solar: Any) -> date:
    return date(solar.getYear(), solar.getMonth(), solar.getDay())
