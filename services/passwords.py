"""Password hashing for web accounts: argon2id (argon2-cffi, RFC 9106 low-memory profile: t=3, 64 MiB, p=4).

Only the encoded hash is stored; it carries its own salt and parameters, so raising the cost later
just makes `needs_rehash` true and the next good sign-in stores a new hash.
"""

from __future__ import annotations

from functools import lru_cache

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError

from services.errors import InvalidRequest

MIN_LENGTH = 8
MAX_LENGTH = 128  # argon2 takes any length; the bound keeps a megabyte "password" from costing anything else

DEFAULT_HASHER = PasswordHasher(type=Type.ID)
_hasher = DEFAULT_HASHER


def check_policy(password: object) -> str:
    """The password, if acceptable; else InvalidRequest('weak_password')."""
    if not isinstance(password, str):
        raise InvalidRequest("weak_password", "a password must be text")
    if len(password) < MIN_LENGTH:
        raise InvalidRequest("weak_password", f"at least {MIN_LENGTH} characters")
    if len(password) > MAX_LENGTH:
        raise InvalidRequest("weak_password", f"at most {MAX_LENGTH} characters")
    if not password.strip():
        raise InvalidRequest("weak_password", "not only spaces")
    return password


def hash_password(password: str) -> str:
    """The argon2id encoded hash (salt and parameters included) of an acceptable password."""
    return _hasher.hash(check_policy(password))


def verify_password(encoded: str, password: object) -> bool:
    """True only for the right password; a malformed hash or a non-text password is simply False."""
    if not isinstance(password, str) or not password or len(password) > MAX_LENGTH:
        # Still spend the hashing time, so the answer's timing says nothing about why.
        verify_dummy("x" * MIN_LENGTH)
        return False
    try:
        return _hasher.verify(encoded, password)
    except (VerificationError, InvalidHashError):
        return False


@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    return _hasher.hash("yinling-no-such-account")


def verify_dummy(password: object) -> bool:
    """Costs what verifying a real account's password costs, and is always False: for unknown users."""
    candidate = password if isinstance(password, str) and 0 < len(password) <= MAX_LENGTH else "x" * MIN_LENGTH
    try:
        _hasher.verify(_dummy_hash(), candidate)
    except (VerificationError, InvalidHashError):
        pass
    return False


def use_hasher(hasher: PasswordHasher) -> PasswordHasher:
    """Swap the hasher (tests use cheap parameters; hashes made with others are rehashed at the next
    good sign-in). Returns the previous one, to put back."""
    global _hasher
    previous, _hasher = _hasher, hasher
    _dummy_hash.cache_clear()
    return previous


def needs_rehash(encoded: str) -> bool:
    """True when the hash was made with other parameters than today's (or is not an argon2 hash at all)."""
    try:
        return _hasher.check_needs_rehash(encoded)
    except (InvalidHashError, ValueError):
        return True
