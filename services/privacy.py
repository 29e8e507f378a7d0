"""Masking and hashing of personal data (PIPL arts. 13, 28, 29): what may be shown, logged or stored."""

from __future__ import annotations

import hashlib
import hmac
import re
from typing import Any

# 18-digit resident ID (last may be X) or the old 15-digit form, not embedded in longer digit runs.
_ID_NUMBER = re.compile(r"(?<![0-9])(?:[0-9]{17}[0-9Xx]|[0-9]{15})(?![0-9A-Za-z])")
_MOBILE = re.compile(r"(?<![0-9])1[3-9][0-9]{9}(?![0-9])")


def mask_phone(phone: str | None) -> str | None:
    """'13812345678' -> '138****5678'; short numbers keep only their last two digits."""
    if phone is None:
        return None
    digits = re.sub(r"[\s-]", "", phone)
    if len(digits) >= 7:
        return f"{digits[:3]}****{digits[-4:]}"
    if len(digits) > 2:
        return "*" * (len(digits) - 2) + digits[-2:]
    return "*" * len(digits)


def normalise_id_number(raw: str) -> str:
    return re.sub(r"\s", "", raw).upper()


def hash_id_number(raw: str, salt: str) -> str:
    """Salted SHA-256 (as HMAC) of an ID card number; the only form in which it is kept."""
    return hmac.new(salt.encode("utf-8"), normalise_id_number(raw).encode("utf-8"), hashlib.sha256).hexdigest()


def strip_id_numbers(text: str) -> str:
    """What we store from free speech: ID numbers never; other content (a son's phone) kept."""
    return _ID_NUMBER.sub("[身份证号已隐去]", text)


def scrub_text(text: str) -> str:
    """Drop ID numbers entirely and mask mobile numbers, for anything that may be logged or shown."""
    text = strip_id_numbers(text)
    return _MOBILE.sub(lambda m: mask_phone(m.group(0)) or "", text)


def scrub(value: Any) -> Any:
    """scrub_text applied through dicts, lists and tuples (audit details, transcripts)."""
    if isinstance(value, str):
        return scrub_text(value)
    if isinstance(value, dict):
        return {k: scrub(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [scrub(v) for v in value]
    return value
