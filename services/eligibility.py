"""Interpreter for subsidy eligibility rules stored as JSON data on each programme.

Rule keys (all optional, all must hold):
  min_age: int                       -> else 'too_young'
  requires: ["special_hardship" | "lives_alone"]   -> else 'not_hardship' / 'not_living_alone'
  min_disability: int (0..3)         -> else 'not_disabled'
  any_of: [rule, ...]                -> at least one sub-rule holds, else 'not_target_group'
  bands: [{min_age?, max_age?, min_disability?, amount_cents}, ...]  first match sets the amount
                                     ('age_band' when the band is by age, else 'disability_band')
  amount_cents: int                  fixed monthly amount when there are no bands
  assessment: true                   eligible on paper, an on-site assessment decides ('needs_assessment')
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Optional

_FLAG_REASONS = {"special_hardship": "not_hardship", "lives_alone": "not_living_alone"}


@dataclass(frozen=True)
class Facts:
    age: int
    special_hardship: bool
    lives_alone: bool
    disability_level: int

    def flag(self, name: str) -> bool:
        if name not in _FLAG_REASONS:
            raise ValueError(f"eligibility rule requires unknown flag {name!r}")
        return bool(getattr(self, name))


@dataclass(frozen=True)
class Outcome:
    eligible: bool
    reason_code: str
    amount_cents_per_month: Optional[int] = None


def _band_matches(band: dict[str, Any], facts: Facts) -> bool:
    if "min_age" in band and facts.age < band["min_age"]:
        return False
    if "max_age" in band and band["max_age"] is not None and facts.age > band["max_age"]:
        return False
    if "min_disability" in band and facts.disability_level < band["min_disability"]:
        return False
    return True


def evaluate(rules: dict[str, Any], facts: Facts) -> Outcome:
    min_age = rules.get("min_age")
    if min_age is not None and facts.age < min_age:
        return Outcome(False, "too_young")
    for flag in rules.get("requires", ()):
        if not facts.flag(flag):
            return Outcome(False, _FLAG_REASONS[flag])
    min_disability = rules.get("min_disability")
    if min_disability is not None and facts.disability_level < min_disability:
        return Outcome(False, "not_disabled")
    alternatives = rules.get("any_of")
    if alternatives and not any(evaluate(sub, facts).eligible for sub in alternatives):
        return Outcome(False, "not_target_group")
    reason, amount = "eligible", rules.get("amount_cents")
    bands = rules.get("bands")
    if bands:
        band = next((b for b in bands if _band_matches(b, facts)), None)
        if band is None:
            by_age = any("min_age" in b for b in bands)
            return Outcome(False, "too_young" if by_age else "not_disabled")
        amount = band["amount_cents"]
        reason = "age_band" if ("min_age" in band or "max_age" in band) else "disability_band"
    if rules.get("assessment"):
        reason = "needs_assessment"
    return Outcome(True, reason, amount)
