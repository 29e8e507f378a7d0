"""Text for the speech synthesiser: money, clock times, distances, phone tails.

Everything is written out in Chinese characters because espeak-ng's Mandarin
voice reads "11:30" or "¥8.50" digit by digit or not at all.
"""

from __future__ import annotations

import re
from datetime import time

from .numbers import spoken_int, spoken_number

__all__ = ["spoken_money", "spoken_time", "spoken_distance", "spoken_phone_tail", "day_period"]

_DIGIT = "零一二三四五六七八九"
# Phone digits read one by one, the way people say them on the phone here.
_PHONE_DIGIT = {"0": "零", "1": "幺", "2": "两", "3": "三", "4": "四", "5": "五", "6": "六", "7": "七", "8": "八", "9": "九"}


def spoken_money(cents: int) -> str:
    """800 → 八块, 850 → 八块五, 1200 → 十二块, 105 → 一块零五分, 50 → 五毛."""
    cents = int(round(cents))
    sign = "负" if cents < 0 else ""
    cents = abs(cents)
    yuan, rest = divmod(cents, 100)
    jiao, fen = divmod(rest, 10)
    if yuan == 0:
        if rest == 0:
            return "零块"
        if jiao and fen:
            return f"{sign}{spoken_int(jiao)}毛{_DIGIT[fen]}"
        return sign + (f"{spoken_int(jiao)}毛" if jiao else f"{spoken_int(fen)}分")
    out = f"{sign}{spoken_int(yuan)}块"
    if jiao and fen:
        return f"{out}{_DIGIT[jiao]}毛{_DIGIT[fen]}"
    if jiao:
        return out + _DIGIT[jiao]  # 八块五: 毛 is left unsaid
    if fen:
        return f"{out}零{_DIGIT[fen]}分"
    return out


def day_period(hour: int) -> str:
    """The word elders put before a clock time: 早上, 上午, 中午, 下午, 晚上, 凌晨."""
    if hour < 5:
        return "凌晨"
    if hour < 9:
        return "早上"
    if hour < 11:
        return "上午"
    if hour < 13:
        return "中午"
    if hour < 18:
        return "下午"
    return "晚上"


_HHMM = re.compile(r"^\s*(\d{1,2})\s*[:：点时]\s*(\d{1,2})?")


def spoken_time(value: str | time) -> str:
    """"11:30" → 中午十一点半, "14:00" → 下午两点, "08:05" → 早上八点零五."""
    if isinstance(value, time):
        hour, minute = value.hour, value.minute
    else:
        m = _HHMM.match(str(value))
        if not m:
            raise ValueError(f"not a clock time: {value!r}")
        hour, minute = int(m.group(1)), int(m.group(2) or 0)
    if not (0 <= hour <= 24 and 0 <= minute < 60):
        raise ValueError(f"not a clock time: {value!r}")
    hour %= 24
    h12 = hour if hour <= 12 else hour - 12
    if h12 == 0:
        h12 = 12  # 凌晨十二点
    text = f"{day_period(hour)}{spoken_int(h12)}点"
    if minute == 30:
        return text + "半"
    if minute == 0:
        return text
    if minute < 10:
        return f"{text}零{_DIGIT[minute]}"
    return text + spoken_number(minute)


def spoken_distance(metres: float) -> str:
    """850 → 八百五十米, 1200 → 一点二公里, 2000 → 两公里."""
    m = max(0.0, float(metres))
    if m < 1000:
        # Round to ten metres from 100 m up: "八百四十米" is precise enough.
        v = int(round(m / 10.0) * 10) if m >= 100 else int(round(m))
        if v < 1000:
            return f"{spoken_int(v)}米" if v else "零米"
        m = 1000.0
    km = int(m / 100 + 0.5) / 10  # one decimal, half up (1.25 → 1.3)
    if km.is_integer():
        return f"{spoken_int(int(km))}公里"
    return f"{spoken_number(km)}公里"


def spoken_phone_tail(masked: str) -> str:
    """"138****5678" → 尾号五六七八; 1 is read 幺 and 2 两. Empty string if no digits."""
    digits = [c for c in str(masked or "") if c.isascii() and c.isdigit()]
    if not digits:
        return ""
    return "尾号" + "".join(_PHONE_DIGIT[c] for c in digits[-4:])
