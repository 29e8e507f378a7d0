"""Health readings an elder reports by voice: 血压一百四十五到九十, 血糖七点八."""

from __future__ import annotations

import re
from dataclasses import dataclass

from ._numerals import NumSpan, find_numbers
from .normalize import clean

__all__ = ["Reading", "parse_reading", "parse_readings", "MEASURES", "PLAUSIBLE"]

MEASURES = ("bp", "glucose", "heart_rate", "temperature", "spo2")
_UNITS = {"bp": "mmHg", "glucose": "mmol/L", "heart_rate": "次/分", "temperature": "℃", "spo2": "%"}


@dataclass(frozen=True)
class Reading:
    measure: str  # one of MEASURES
    value1: float  # bp: systolic (高压); otherwise the value
    value2: float | None = None  # bp: diastolic (低压), else None

    @property
    def unit(self) -> str:
        return _UNITS[self.measure]


# Values outside these ranges are misrecognitions (or "一分钟八十下"'s 一),
# not readings; they are skipped rather than reported.
PLAUSIBLE: dict[str, tuple[float, float]] = {
    "bp_high": (60, 280),
    "bp_low": (30, 180),
    "glucose": (1.0, 35.0),
    "heart_rate": (25, 250),
    "temperature": (34.0, 43.0),
    "spo2": (50, 100),
}

# Keyword → measure. Single-character cues (糖, 压, 脉, 氧) only count when a
# number follows straight away, so "糖尿病" or "压力大" are not readings.
_KEYWORDS: tuple[tuple[str, str], ...] = (
    ("血氧饱和度", "spo2"), ("氧饱和度", "spo2"), ("血氧", "spo2"), ("饱和度", "spo2"),
    ("收缩压", "bp"), ("舒张压", "bp"), ("血压", "bp"), ("高压", "bp"), ("低压", "bp"), ("量压", "bp"),
    ("空腹血糖", "glucose"), ("餐后血糖", "glucose"), ("血糖", "glucose"),
    ("心跳", "heart_rate"), ("心率", "heart_rate"), ("脉搏", "heart_rate"), ("脉率", "heart_rate"), ("心律", "heart_rate"),
    ("体温", "temperature"), ("发烧", "temperature"), ("发热", "temperature"), ("烧到", "temperature"),
    ("烧了", "temperature"), ("温度", "temperature"),
)
_SHORT_CUES = (("糖", "glucose"), ("压", "bp"), ("脉", "heart_rate"), ("氧", "spo2"), ("烧", "temperature"))
_KW_RE = re.compile("|".join(re.escape(k) for k, _ in sorted(_KEYWORDS, key=lambda x: -len(x[0]))))
_KW = dict(_KEYWORDS)
_LINK = r"(?:是|有|在|才|都|就|测的|量的|测了|量了|了|到了|到|为|大概|差不多|:|：)*"
_SHORT_RE = re.compile(
    "(" + "|".join(k for k, _ in _SHORT_CUES) + ")" + _LINK + r"(?=[0-9零〇一二两三四五六七八九十幺])"
)
_SHORT = dict(_SHORT_CUES)

# 三十七度五 / 37度5 → 三十七点五 / 37.5 (the way temperatures are read out).
_DEGREE_CN = re.compile(r"([零一二两三四五六七八九十]+)度([零一二三四五六七八九])(?![十百零一二三四五六七八九])")
_DEGREE_ASCII = re.compile(r"(\d+)度(\d)(?!\d)")
# 百分之九十五 / 95% for oxygen saturation.
_PERCENT = re.compile(r"百分之")


def _prepare(text: str | None) -> str:
    t = clean(text)
    t = _DEGREE_CN.sub(r"\1点\2", t)
    t = _DEGREE_ASCII.sub(r"\1.\2", t)
    return _PERCENT.sub("", t)


def _ok(kind: str, v: float) -> bool:
    lo, hi = PLAUSIBLE[kind]
    return lo <= v <= hi


def _mentions(t: str) -> list[tuple[int, int, str, str]]:
    """(start, end, measure, keyword) for every measure cue, in order."""
    found = [(m.start(), m.end(), _KW[m.group()], m.group()) for m in _KW_RE.finditer(t)]
    taken = [(s, e) for s, e, _, _ in found]
    for m in _SHORT_RE.finditer(t):
        s = m.start(1)
        if not any(a <= s < b for a, b in taken):
            found.append((s, m.end(1), _SHORT[m.group(1)], m.group(1)))
    return sorted(found)


def _bp(t: str, spans: list[NumSpan], lo: int = 0, hi: int | None = None) -> Reading | None:
    """Blood pressure from the number spans of t[lo:hi] (spans carry absolute offsets)."""
    hi = len(t) if hi is None else hi
    high = low = None
    # Labelled values win: 高压145低压90 / 低压九十高压一百四.
    for label in ("高压", "收缩压", "低压", "舒张压"):
        i = t.find(label, lo, hi)
        if i < 0:
            continue
        after = [s for s in spans if s.start >= i + len(label)]
        if after:
            v = after[0].value
            if label in ("高压", "收缩压") and _ok("bp_high", v):
                high = v
            elif label in ("低压", "舒张压") and _ok("bp_low", v):
                low = v
    if high is not None:
        if low is None:
            rest = [s.value for s in spans if _ok("bp_low", s.value) and s.value < high and s.value != high]
            low = rest[0] if rest and "低压" not in t[lo:hi] else None
        return Reading("bp", high, low)
    vals = [s.value for s in spans if _ok("bp_high", s.value) or _ok("bp_low", s.value)]
    if len(vals) >= 2:
        a, b = max(vals[0], vals[1]), min(vals[0], vals[1])  # "九十到一百四十五"
        if _ok("bp_high", a) and _ok("bp_low", b):
            return Reading("bp", a, b)
    resplit = _resplit_joined(t, spans)
    if resplit:
        return Reading("bp", *resplit)
    if vals and _ok("bp_high", vals[0]):
        return Reading("bp", vals[0], None)
    return None


def _resplit_joined(t: str, spans: list[NumSpan]) -> tuple[float, float] | None:
    """Re-cut two Chinese numerals Vosk ran together when the greedy cut is implausible.

    "一百三十八十五" scans as 138 + 15; read as 130 + 85 it is a blood pressure.
    """
    for a, b in zip(spans, spans[1:], strict=False):
        if a.kind != "cn" or b.kind != "cn" or a.end != b.start:
            continue
        joined = t[a.start:b.end]
        for cut in range(1, len(joined)):
            left, right = find_numbers(joined[:cut]), find_numbers(joined[cut:])
            if len(left) != 1 or len(right) != 1:
                continue
            if left[0].end != cut or right[0].end != len(joined) - cut:
                continue
            hi, lo = left[0].value, right[0].value
            if _ok("bp_high", hi) and _ok("bp_low", lo) and hi > lo:
                return hi, lo
    return None


def _single(measure: str, spans: list[NumSpan]) -> Reading | None:
    for s in spans:
        if _ok(measure, s.value):
            return Reading(measure, s.value, None)
    return None


def _reading(measure: str, t: str, spans: list[NumSpan], lo: int = 0, hi: int | None = None) -> Reading | None:
    return _bp(t, spans, lo, hi) if measure == "bp" else _single(measure, spans)


def parse_readings(text: str | None, expect: str | None = None) -> list[Reading]:
    """Every reading in the text, in the order the measures were named."""
    t = _prepare(text)
    if not t:
        return []
    spans = find_numbers(t)
    ments = _mentions(t)
    out: list[Reading] = []
    if not ments:
        # No cue word: use the caller's context (the bot just asked for blood
        # pressure), or the unmistakable "145/90" shape.
        if expect is None and re.search(r"\d{2,3}/\d{2,3}", t):
            expect = "bp"
        if expect in MEASURES:
            r = _reading(expect, t, spans)
            if r:
                out.append(r)
        return out
    for k, (start, end, measure, _) in enumerate(ments):
        if any(r.measure == measure for r in out):
            continue
        # Numbers between this cue and the next cue of a *different* measure.
        stop = len(t)
        for s2, _, m2, _ in ments[k + 1:]:
            if m2 != measure:
                stop = s2
                break
        seg = [s for s in spans if end <= s.start < stop]
        r = _reading(measure, t, seg, start, stop)
        if r is None and k == 0:
            # "一百四十五九十的血压": the numbers came before the cue.
            r = _reading(measure, t, [s for s in spans if s.end <= start], 0, start)
        if r:
            out.append(r)
    return out


def parse_reading(text: str | None, expect: str | None = None) -> Reading | None:
    """The first reading in the text, or None.

    `expect` is the measure the bot asked about; it lets a bare answer like
    "一百四十五、九十" count as blood pressure.
    """
    got = parse_readings(text, expect)
    return got[0] if got else None
