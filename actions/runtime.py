"""Process-wide things the actions share: the services facade and 'today'."""
from __future__ import annotations

import os
from datetime import date, datetime
from functools import lru_cache
from zoneinfo import ZoneInfo

from services.facade import Services

CHINA = ZoneInfo("Asia/Shanghai")


@lru_cache(maxsize=1)
def services() -> Services:
    return Services(os.environ.get("YINLING_DATABASE_URL") or None)


def today() -> date:
    """The residents' calendar day; YINLING_TODAY pins it for tests and demos."""
    pinned = os.environ.get("YINLING_TODAY")
    if pinned:
        return date.fromisoformat(pinned)
    return datetime.now(CHINA).date()
