"""How our patches replace Rasa's code: only on the Rasa version they were written
against, and recorded, so tests can run Rasa's own code beside ours.

Keep it this way: every patch is pinned (SUPPORTED_RASA), recorded here and reversible, and
tests/rasa/test_patches_exact.py compares each with the Rasa code it replaces.
"""
from __future__ import annotations

from contextlib import contextmanager
from typing import Any, Iterator, List, Tuple

SUPPORTED_RASA = ("3.6.21",)

_MISSING = object()  # the attribute was inherited, not set on the owner itself
# (owner, name, what the owner itself held before, what we put there)
_REPLACED: List[Tuple[Any, str, Any, Any]] = []


class UnsupportedRasaVersion(RuntimeError):
    pass


def require_supported_rasa() -> None:
    import rasa

    if rasa.__version__ not in SUPPORTED_RASA:
        raise UnsupportedRasaVersion(
            f"rasa_ext.patches was written for Rasa {SUPPORTED_RASA}, found {rasa.__version__}"
        )


def replace(owner: Any, name: str, value: Any) -> None:
    """Set `owner.name` (a class or module attribute) to our version of it."""
    require_supported_rasa()
    _REPLACED.append((owner, name, vars(owner).get(name, _MISSING), value))
    setattr(owner, name, value)


def _put(owner: Any, name: str, value: Any) -> None:
    if value is _MISSING:
        delattr(owner, name)
    else:
        setattr(owner, name, value)


@contextmanager
def unpatched() -> Iterator[None]:
    """Rasa's own code inside the block (for tests comparing the two; not thread-safe)."""
    for owner, name, original, _ in reversed(_REPLACED):
        _put(owner, name, original)
    try:
        yield
    finally:
        for owner, name, _, ours in _REPLACED:
            _put(owner, name, ours)
