"""Find numbers in cleaned text: ASCII digits and Chinese numerals.

Vosk joins words without separators once spaces are stripped, so a blood
pressure read out as "一百四十五 九十" reaches us as "一百四十五九十". The
scanner therefore splits Chinese numerals at the point where a well-formed
numeral must end (a digit right after a digit that followed a unit), and only
then hands each span to cn2an for the value.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

DIGITS = {"零": 0, "〇": 0, "一": 1, "幺": 1, "二": 2, "两": 2, "三": 3, "四": 4,
          "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
UNITS = {"十": 10, "百": 100, "千": 1000, "万": 10000}
_APPROX_AFTER = ("几", "多", "来", "余", "左右", "出头")
_ASCII_NUM = re.compile(r"\d+(?:\.\d+)?")


@dataclass(frozen=True)
class NumSpan:
    start: int
    end: int
    value: float
    # "ascii" (145), "cn" (一百四十五, 七点八, 三) or "digits": two or more
    # bare digits without units (五六七八, 两三) — a phone tail, a year or a
    # spoken range ("两三份" = two or three), never a plain quantity.
    kind: str
    approx: bool = False  # 十几, 八十多, 几十

    @property
    def is_int(self) -> bool:
        return float(self.value).is_integer()


@lru_cache(maxsize=1)
def _cn2an():
    # Imported on first use: cn2an costs ~150 ms to import and zhtext must be
    # cheap to import.
    import cn2an

    return cn2an


def cn_value(span: str) -> float | None:
    """Value of one well-formed Chinese numeral span via cn2an (None if it refuses)."""
    if not span:
        return None
    try:
        value = _cn2an().cn2an(span.replace("〇", "零"), "smart")
    except (ValueError, KeyError, IndexError, TypeError):
        return None
    return float(value)


def _scan_cn(text: str, i: int) -> int:
    """End index of the well-formed Chinese numeral starting at text[i]."""
    n = len(text)
    j = i
    last_unit = 10**9
    has_unit = False
    wan_used = False
    prev = ""  # "d" digit, "u" unit, "z" 零 after a unit
    run = 0  # bare digits since the last unit
    while j < n:
        ch = text[j]
        if ch in DIGITS:
            if prev == "d" and has_unit:
                break  # 一百四十五|九十
            if prev == "u" and ch in "零〇":
                prev = "z"
                j += 1
                continue
            prev, run = "d", run + 1
            j += 1
            continue
        if ch in UNITS:
            u = UNITS[ch]
            if run >= 2:
                break  # 五六|十 — a digit string never takes a unit
            if prev == "" and u != 10:
                break  # only 十 may begin a numeral
            if prev == "z":
                break
            if u == 10000 and not wan_used:
                last_unit, wan_used = 10000, True
            elif u < last_unit and not (prev == "u" and u != 10000):
                last_unit = u
            else:
                break
            prev, run, has_unit = "u", 0, True
            j += 1
            continue
        break
    if prev == "z":
        j -= 1  # a trailing 零 belongs to nothing
    return j


def find_numbers(text: str) -> list[NumSpan]:
    """All number spans in cleaned text, left to right."""
    out: list[NumSpan] = []
    n = len(text)
    i = 0
    while i < n:
        ch = text[i]
        if ch.isdigit() and ch.isascii():
            m = _ASCII_NUM.match(text, i)
            assert m is not None
            end = m.end()
            out.append(NumSpan(i, end, float(m.group()), "ascii", _approx(text, i, end)))
            i = end
            continue
        if ch in DIGITS or ch == "十":
            end = _scan_cn(text, i)
            if end == i:
                i += 1
                continue
            body = text[i:end]
            bare = all(c in DIGITS for c in body)
            kind = "digits" if bare and len(body) >= 2 else "cn"
            # Decimal part: 七点八, 三十七点五; 三点半 (a time) stays 3.
            if kind == "cn" and end + 1 < n and text[end] == "点" and text[end + 1] in DIGITS:
                k = end + 1
                while k < n and text[k] in DIGITS:
                    k += 1
                body, end = text[i:k], k
            value = cn_value(body)
            if value is not None:
                out.append(NumSpan(i, end, value, kind, _approx(text, i, end)))
            i = end
            continue
        i += 1
    return out


def _approx(text: str, start: int, end: int) -> bool:
    if start > 0 and text[start - 1] == "几":
        return True
    return text.startswith(_APPROX_AFTER, end)
