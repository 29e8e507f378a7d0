"""Dates as elders say them: 明儿个, 后儿个, 礼拜三, 下个星期一, 二十四号."""

from __future__ import annotations

import calendar
import re
from datetime import date, timedelta

from ._numerals import find_numbers
from .normalize import clean

__all__ = ["parse_date", "parse_dates", "spoken_date", "short_date", "weekday_of", "WEEKDAY_ZH"]

WEEKDAY_ZH = ("星期一", "星期二", "星期三", "星期四", "星期五", "星期六", "星期天")
_WD_CHAR = {"一": 0, "二": 1, "三": 2, "四": 3, "五": 4, "六": 5, "日": 6, "天": 6, "七": 6,
            "1": 0, "2": 1, "3": 2, "4": 3, "5": 4, "6": 5, "7": 6}

# Words that compound with 明 ("说明个情况", "聪明") must not read as 明个 (tomorrow).
_NOT_MING = "说证表声聪光清发文透简标英精高开失鲜分阐黎查注写讲照"
# Relative day words, longest first so 大后天 wins over 后天. Offsets from today.
_RELATIVE: tuple[tuple[str, int], ...] = (
    ("大后天", 3), ("大后儿个", 3), ("大后儿", 3),
    ("大前天", -3),
    ("今儿个", 0), ("今儿格", 0), ("今儿", 0), ("今天", 0), ("今日", 0), ("今个", 0), ("今早", 0), ("今晚", 0),
    ("明儿个", 1), ("明儿格", 1), ("明儿", 1), ("明天", 1), ("明日", 1), ("明个", 1), ("明早", 1), ("明晚", 1),
    ("后儿个", 2), ("后儿格", 2), ("后儿", 2), ("后天", 2), ("后日", 2), ("后个", 2),
    ("昨儿个", -1), ("昨儿", -1), ("昨天", -1), ("昨日", -1), ("昨个", -1),
    ("前儿个", -2), ("前天", -2),
)
_RELATIVE_RE = re.compile(
    "|".join(
        (f"(?<![{_NOT_MING}])" if w[0] == "明" else "") + re.escape(w)
        for w, _ in _RELATIVE
    )
)
_REL_OFFSET = dict(_RELATIVE)

# (下下|下|这|本|上)(个)?(周|星期|礼拜|礼拜儿)X — "每周一次" / "一周一回" are frequencies, not days.
_WEEKDAY_RE = re.compile(
    r"(?P<pre>下下个?|下个?|这个?|本|上个?)?(?:周|星期|礼拜|礼拜儿)(?P<d>[一二三四五六日天七1-7])(?![次回遍趟])"
)
_WEEKEND_RE = re.compile(r"(?P<pre>下个?|这个?|本)?(?:周末|礼拜六礼拜天)")
# 号 followed by these is a building/bus/bed number, not a date.
_NOT_DAY_AFTER = tuple("楼线门床房院车窗桌柜机位路")


def _weekday_match(t: str) -> re.Match[str] | None:
    for m in _WEEKDAY_RE.finditer(t):
        # "一周三天": a number right before 周 makes it a duration; "每周三" is a weekday.
        if m.group("pre") is None and m.start() > 0 and t[m.start() - 1] in "一二两三四五六七八九几":
            continue
        return m
    return None


def weekday_of(text: str | None) -> int | None:
    """Weekday named in the text (0 = Monday): "周三有啥活动" → 2."""
    m = _weekday_match(clean(text))
    return _WD_CHAR[m.group("d")] if m else None


def _next_weekday(today: date, wd: int) -> date:
    return today + timedelta(days=(wd - today.weekday()) % 7)


def _week_start(today: date, weeks: int) -> date:
    return today - timedelta(days=today.weekday()) + timedelta(weeks=weeks)


def _month_add(year: int, month: int, k: int) -> tuple[int, int]:
    m = month - 1 + k
    return year + m // 12, m % 12 + 1


def _valid(year: int, month: int, day: int) -> date | None:
    if not (1 <= month <= 12) or not (1 <= day <= calendar.monthrange(year, month)[1]):
        return None
    return date(year, month, day)


def _day_number(t: str, end: int) -> bool:
    """True when the number ending at `end` is followed by 号/日 used as a date."""
    if not t.startswith(("号", "日"), end):
        return False
    return not t.startswith(_NOT_DAY_AFTER, end + 1)


def _month_day(t: str, today: date) -> date | None:
    spans = find_numbers(t)
    for i, s in enumerate(spans):
        if not s.is_int or s.approx:
            continue
        v = int(s.value)
        # 11月24号 / 十一月二十四日
        if t.startswith("月", s.end) and i + 1 < len(spans) and spans[i + 1].start == s.end + 1:
            d = spans[i + 1]
            if d.is_int and (_day_number(t, d.end) or t[d.end:d.end + 1] in ("", "，", "。")):
                for year in (today.year, today.year + 1):
                    got = _valid(year, v, int(d.value))
                    if got and got >= today:
                        return got
                got = _valid(today.year, v, int(d.value))
                if got:
                    return got
        # 3号 / 二十四号, with 下个月 / 这个月 before it
        if _day_number(t, s.end):
            before = t[:s.start]
            if i > 0 and spans[i - 1].end == s.start - 1 and before.endswith("月"):
                continue  # "13月5号" and the like: the month-day branch refused it
            if re.search(r"下个?月$", before):
                y, m = _month_add(today.year, today.month, 1)
                return _valid(y, m, v)
            if re.search(r"(?:这个?|本)月$", before):
                return _valid(today.year, today.month, v)
            # This month unless already past, else the next month that has the day.
            for k in range(0, 13):
                y, m = _month_add(today.year, today.month, k)
                got = _valid(y, m, v)
                if got and got >= today:
                    return got
            return None
    return None


def parse_date(text: str | None, today: date) -> date | None:
    """The calendar day the elder means, relative to `today`; None if none said.

    Precedence: explicit month-day, then a day-of-month, then relative words
    (明儿个), then weekdays. Lunar dates (初八, 腊月) are not handled.
    """
    t = clean(text)
    if not t:
        return None
    got = _month_day(t, today)
    if got:
        return got
    m = _RELATIVE_RE.search(t)
    if m:
        return today + timedelta(days=_REL_OFFSET[m.group()])
    w = _weekday_match(t)
    if w:
        wd = _WD_CHAR[w.group("d")]
        pre = (w.group("pre") or "").replace("个", "")
        if pre == "下下":
            return _week_start(today, 2) + timedelta(days=wd)
        if pre == "下":
            return _week_start(today, 1) + timedelta(days=wd)
        if pre == "上":
            return _week_start(today, -1) + timedelta(days=wd)
        if pre in ("这", "本"):
            return _week_start(today, 0) + timedelta(days=wd)
        return _next_weekday(today, wd)
    we = _WEEKEND_RE.search(t)
    if we:
        pre = (we.group("pre") or "").replace("个", "")
        if pre == "下":
            return _week_start(today, 1) + timedelta(days=5)
        return today if today.weekday() >= 5 else _next_weekday(today, 5)
    return None


def spoken_date(d: date, today: date) -> str:
    """"明天，十一月二十四号，星期二": relative word when close, then month-day, then weekday."""
    from .numbers import spoken_number

    parts: list[str] = []
    rel = {0: "今天", 1: "明天", 2: "后天"}.get((d - today).days)
    if rel:
        parts.append(rel)
    md = f"{spoken_number(d.month)}月{spoken_number(d.day)}号"
    # Say the year only when it is not the obvious one (past, or far ahead).
    if d.year != today.year and not (0 <= (d - today).days <= 180):
        year = "".join("零一二三四五六七八九"[int(c)] for c in str(d.year))
        md = f"{year}年{md}"
    parts.append(md)
    parts.append(WEEKDAY_ZH[d.weekday()])
    return "，".join(parts)


# Words that join several days in one breath: "明天中午的饭和后天中午的饭", "今天、明天".
_JOINS = re.compile(r"和|跟|还有|以及|再加上|再加|、|，|也要|也")


def parse_dates(text: str | None, today: date) -> list[date]:
    """Every day the text names, in order, without repeats: "明天和后天的午饭" → [明天, 后天]."""
    seen: list[date] = []
    for part in _JOINS.split(clean(text)):
        # "明天后天的晚饭": day words side by side, with nothing between them
        pieces = [m.group() for m in _RELATIVE_RE.finditer(part)] if len(_RELATIVE_RE.findall(part)) > 1 else [part]
        for piece in pieces:
            got = parse_date(piece, today) if piece else None
            if got is not None and got not in seen:
                seen.append(got)
    return seen


def short_date(d: date, today: date) -> str:
    """The day as said in a quick answer back: 今天 / 明天 / 后天, else 十二月五号."""
    from .numbers import spoken_number

    rel = {0: "今天", 1: "明天", 2: "后天"}.get((d - today).days)
    return rel or f"{spoken_number(d.month)}月{spoken_number(d.day)}号"
