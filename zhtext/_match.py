"""Keyword tables matched by position, with "不要X" style negation.

Several parsers share the same need: find which table entry the elder said,
prefer the earliest mention (longest at the same place), and skip a mention
that is negated ("不要午饭，要晚饭") when another one remains.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Iterable, Mapping

_NEG_BEFORE = re.compile(r"(?:不要|不是|不用|不订|不吃|不找|别|不)$")


@dataclass(frozen=True)
class Hit:
    start: int
    end: int
    code: str
    phrase: str
    negated: bool


def compile_table(table: Mapping[str, Iterable[str]]) -> tuple[re.Pattern[str], dict[str, str]]:
    """One alternation regex (longest phrase first) plus phrase → code."""
    lookup: dict[str, str] = {}
    for code, phrases in table.items():
        for p in phrases:
            lookup.setdefault(p, code)
    pattern = re.compile("|".join(re.escape(p) for p in sorted(lookup, key=len, reverse=True)))
    return pattern, lookup


def find_hits(text: str, pattern: re.Pattern[str], lookup: Mapping[str, str]) -> list[Hit]:
    hits = []
    for m in pattern.finditer(text):
        neg = bool(_NEG_BEFORE.search(text[max(0, m.start() - 2):m.start()]))
        hits.append(Hit(m.start(), m.end(), lookup[m.group()], m.group(), neg))
    return hits


def pick(hits: list[Hit]) -> Hit | None:
    """First non-negated hit; a lone negated hit still counts ("午饭不要了" → lunch)."""
    for h in hits:
        if not h.negated:
            return h
    return hits[0] if hits else None
