"""Counts ("两份", "俩", "三个人的") and numbers read aloud ("一百四十五")."""

from __future__ import annotations

import re

from ._numerals import NumSpan, _cn2an, find_numbers
from .normalize import clean, strip_fillers

__all__ = ["parse_count", "parse_number", "spoken_count", "spoken_int", "spoken_number", "MAX_COUNT"]

# A canteen portion count above this is a misrecognition, not an order.
MAX_COUNT = 99

# Measure words a portion/head count attaches to; 大/小 may sit in between ("两大碗").
_MEASURE = re.compile(r"[大小]?(?:份|个人|个|人|碗|位|口人|口|盒|套|饭盒)")
# "三个月", "两个星期" are durations, not counts.
_NOT_COUNT_AFTER_GE = ("月", "星期", "礼拜", "小时", "钟头", "钟", "多月", "号", "点", "半")
_SLANG = {"俩": 2, "仨": 3}
# Someone correcting themselves: the count after the last marker wins.
_CORRECTION = re.compile(r"不对|不是|改成|改为|换成|还是|算了")
# What may surround a bare number that is the whole answer ("就三吧", "要俩").
_ANSWER = re.compile(
    r"^(?:我|俺|咱|我们|俺们|咱们)?(?:就|那就|那|还是|先|一共|总共|共)?"
    r"(?:要|来|订|定|点|拿|整|给我|给俺|给|弄)?(?:个)?"
    r"(?P<num>.+?)"
    r"(?:吧|啊|呀|哈|嘛|呢|了|的|就行|就行了|就够了|就好|就可以|可以|能行|行|够了|好了|好|吧我|个)*$"
)
_PUNCT = re.compile(r"[，。？！；、~\s]")


def _count_at(text: str, span: NumSpan) -> int | None:
    """The count a numeral span gives when a measure word follows it."""
    rest = text[span.end:]
    m = _MEASURE.match(rest)
    if not m:
        return None
    if span.start > 0 and text[span.start - 1] == "第":
        return None  # 第三个 is an ordinal
    after = rest[m.end():]
    if m.group().endswith("个") and after.startswith(_NOT_COUNT_AFTER_GE):
        return None
    if after.startswith("半") or span.kind == "digits" or span.approx or not span.is_int:
        return -1  # 一份半, 两三份, 十几份: not a whole count — refuse, don't guess
    return int(span.value)


def _count_in(text: str) -> int | None:
    for span in find_numbers(text):
        c = _count_at(text, span)
        if c is not None:
            return c
    for ch in text:
        if ch in _SLANG:
            # "俩半" is not a thing people say; "一个半" is handled above.
            return _SLANG[ch]
    return None


def _bare_answer(text: str) -> int | None:
    body = _PUNCT.sub("", strip_fillers(text))
    m = _ANSWER.match(body)
    if not m:
        return None
    num = m.group("num")
    if num in _SLANG:
        return _SLANG[num]
    spans = find_numbers(num)
    if len(spans) != 1 or spans[0].start != 0 or spans[0].end != len(num):
        return None
    s = spans[0]
    if s.kind == "digits" or s.approx or not s.is_int:
        return -1
    return int(s.value)


def parse_count(text: str | None) -> int | None:
    """How many portions/people the elder asked for, or None when unclear.

    Counts must hang on a measure word (份/个/人/碗/位/口…) or be 俩/仨, or the
    whole answer must be just a number ("三", "两份吧", "就俩"). Halves,
    ranges (两三份) and approximations (十几份) give None so the bot asks again.
    """
    t = clean(text)
    if not t:
        return None
    parts = _CORRECTION.split(t)
    # Self-corrections: look at the last part that holds a count.
    for part in reversed(parts):
        c = _count_in(part)
        if c is None:
            c = _bare_answer(part)
        if c is not None:
            return c if 0 < c <= MAX_COUNT else None
    return None


def parse_number(text: str | None) -> float | None:
    """The first number in the text (ASCII or Chinese, decimals allowed)."""
    spans = find_numbers(clean(text))
    return spans[0].value if spans else None


def spoken_number(n: int | float) -> str:
    """Chinese reading of a number: 145 → 一百四十五, 1.2 → 一点二, 2 → 二."""
    if isinstance(n, float) and n.is_integer():
        n = int(n)
    return _cn2an().an2cn(n, "low")


def spoken_int(n: int) -> str:
    """The form used before a measure word: 2 → 两, 200 → 两百, 22 → 二十二."""
    s = spoken_number(int(n))
    if s == "二":
        return "两"
    # 两百 / 两千 / 两万 when 2 leads a bigger unit; 二十 stays.
    if len(s) >= 2 and s[0] == "二" and s[1] in "百千万":
        return "两" + s[1:]
    return s


def spoken_count(n: int, measure: str = "份") -> str:
    """2 → 两份, 1 → 一份, 12 → 十二份."""
    return spoken_int(n) + measure
