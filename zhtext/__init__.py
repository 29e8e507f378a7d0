"""zhtext: Mandarin text helpers for Yinling (银龄).

Pure Python; depends only on the standard library, cn2an and pypinyin, and
those two are imported lazily on first use so that ``import zhtext`` stays
cheap for the Rasa and action-server processes. Public functions are
reachable as ``zhtext.parse_date`` etc. through a lazy attribute lookup, or
directly from their modules (``from zhtext.dates import parse_date``).
"""

from __future__ import annotations

import importlib
from typing import Any

# name → submodule; resolved on first attribute access (PEP 562).
_EXPORTS = {
    "clean": "normalize", "strip_fillers": "normalize",
    "parse_count": "numbers", "parse_number": "numbers", "spoken_count": "numbers",
    "spoken_int": "numbers", "spoken_number": "numbers",
    "parse_date": "dates", "spoken_date": "dates", "weekday_of": "dates",
    "parse_meal": "meals", "parse_meals": "meals", "parse_mode": "meals", "MEAL_ZH": "meals", "MODE_ZH": "meals",
    "Reading": "health", "parse_reading": "health", "parse_readings": "health",
    "parse_relation": "kinds", "parse_service": "kinds", "parse_programme": "kinds", "parse_facility_kind": "kinds",
    "EmergencyMatch": "emergency", "detect_emergency": "emergency", "EMERGENCY_PHRASES": "emergency",
    "spoken_money": "spoken", "spoken_time": "spoken", "spoken_distance": "spoken", "spoken_phone_tail": "spoken",
}

__all__ = sorted(_EXPORTS) + ["warm_up"]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'zhtext' has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))


def warm_up() -> None:
    """Pay the one-off costs (cn2an and pypinyin imports) now, e.g. at process start."""
    from .emergency import detect_emergency
    from .numbers import parse_count

    parse_count("两份")
    detect_emergency("救命")
