"""Which meal (早饭/午饭/晚饭) and how it reaches the elder (送/去吃)."""

from __future__ import annotations

import re

from ._match import compile_table, find_hits, pick
from .normalize import clean

__all__ = ["parse_meal", "parse_meals", "parse_mode", "MEAL_ZH", "MODE_ZH", "MEALS", "MODES"]

MEALS = ("breakfast", "lunch", "dinner")
MODES = ("delivery", "dine_in")
MEAL_ZH = {"breakfast": "早饭", "lunch": "午饭", "dinner": "晚饭"}
MODE_ZH = {"delivery": "送餐上门", "dine_in": "到食堂吃"}

_MEAL_WORDS = {
    "breakfast": ("早饭", "早餐", "早点", "早上", "早起", "早晨", "明早", "今早", "早起饭", "早晌"),
    # 响午 is a common recogniser error for 晌午.
    "lunch": ("午饭", "午餐", "中午", "中午饭", "中饭", "晌午", "晌午饭", "响午", "响午饭", "晌饭", "晌火"),
    # Jin: 黑夜 = evening, 后晌饭 = the evening meal.
    "dinner": ("晚饭", "晚餐", "晚上", "黑夜饭", "黑夜", "夜饭", "后晌饭", "今晚", "明晚", "傍晚", "晚些饭"),
}
_MEAL_RE, _MEAL_LOOKUP = compile_table(_MEAL_WORDS)
# Greetings, and 早点 meaning "earlier" ("早点送来"), are not meals.
_NOT_MEAL = re.compile(r"早上好|晚上好|早点儿?[送来去到走睡回休给打起过弄做]")

_MODE_WORDS = {
    "delivery": ("送", "送来", "送过来", "送到家", "送家里", "送上门", "上门", "外送", "送餐", "送饭",
                 "在家吃", "家里吃", "到家里", "拿过来", "带过来", "端过来", "走不动", "下不了楼", "外卖"),
    "dine_in": ("去吃", "过去吃", "堂食", "到食堂", "去食堂", "上食堂", "在食堂吃", "食堂吃", "自己去",
                "自己过去", "我过去", "我去吃", "到那吃", "到那儿吃", "在那吃", "在那儿吃", "现场吃", "过去",
                "去餐厅", "到餐厅", "餐厅吃", "在餐厅", "去饭堂", "饭堂吃", "去驿站吃", "驿站吃", "去小院吃"),
}
_MODE_RE, _MODE_LOOKUP = compile_table(_MODE_WORDS)
# "不用送", "别送了" mean the elder comes over.
_NO_DELIVERY = re.compile(r"(?:(?<!要)不用|(?<!要)不要|别|甭|(?<![要还])不)(?:给我|给俺)?送")


def parse_meals(text: str | None) -> tuple[str, ...]:
    """Every meal mentioned, in order, without repeats ("午饭和晚饭" → lunch, dinner)."""
    t = _NOT_MEAL.sub("", clean(text))
    seen: list[str] = []
    for h in find_hits(t, _MEAL_RE, _MEAL_LOOKUP):
        if h.code not in seen:
            seen.append(h.code)
    return tuple(seen)


def parse_meal(text: str | None) -> str | None:
    """'breakfast' | 'lunch' | 'dinner' | None; "不要午饭，要晚饭" → dinner."""
    t = _NOT_MEAL.sub("", clean(text))
    h = pick(find_hits(t, _MEAL_RE, _MEAL_LOOKUP))
    return h.code if h else None


def parse_mode(text: str | None) -> str | None:
    """'delivery' | 'dine_in' | None."""
    t = clean(text)
    if _NO_DELIVERY.search(t):
        return "dine_in"
    h = pick(find_hits(t, _MODE_RE, _MODE_LOOKUP))
    return h.code if h else None
