"""Yinling services layer: the domain model, its database and the use-cases the assistant calls.

The public entry point is :class:`services.facade.Services`; everything it returns is a frozen
dataclass from :mod:`services.types`, never an ORM object.
"""

from __future__ import annotations

from typing import Any

__all__ = ["Services"]


def __getattr__(name: str) -> Any:
    # Lazy, so `import services.models` (Alembic's env.py) does not pull in the whole facade.
    if name == "Services":
        from services.facade import Services

        return Services
    raise AttributeError(name)
