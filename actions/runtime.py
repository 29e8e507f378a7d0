"""Process-wide things the actions share: the services facade, 'today' and 'now'."""
from __future__ import annotations

import os
from datetime import date, datetime
from functools import lru_cache

from services.clock import CHINA_TZ, service_day, utcnow
from services.facade import Services


@lru_cache(maxsize=1)
def services() -> Services:
    return Services(os.environ.get("YINLING_DATABASE_URL") or None)


def today() -> date:
    """The residents' calendar day; YINLING_TODAY pins it for tests and demos (the same day the pages get)."""
    return service_day()


def now() -> datetime:
    """The residents' wall clock (aware, Asia/Shanghai).

    When YINLING_TODAY pins the day, the time of day stays the real one on that day: a pinned demo
    still answers "现在几点了" truthfully, and a test can fix the day without freezing the clock.
    """
    real = utcnow().astimezone(CHINA_TZ)
    pinned = os.environ.get("YINLING_TODAY")
    if pinned:
        day = date.fromisoformat(pinned)
        return real.replace(year=day.year, month=day.month, day=day.day)
    return real
