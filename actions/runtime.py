"""Process-wide things the actions share: the services facade and 'today'."""
from __future__ import annotations

import os
from datetime import date
from functools import lru_cache

from services.clock import today_local
from services.facade import Services


@lru_cache(maxsize=1)
def services() -> Services:
    return Services(os.environ.get("YINLING_DATABASE_URL") or None)


def today() -> date:
    """The residents' calendar day; YINLING_TODAY pins it for tests and demos."""
    pinned = os.environ.get("YINLING_TODAY")
    if pinned:
        return date.fromisoformat(pinned)
    return today_local()
