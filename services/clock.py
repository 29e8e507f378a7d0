"""Time helpers: storage is UTC; 'today' for residents is the China calendar day (UTC+8, no DST)."""

from __future__ import annotations

import os
from datetime import date, datetime, timedelta, timezone

CHINA_TZ = timezone(timedelta(hours=8), "Asia/Shanghai")


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def as_utc(moment: datetime) -> datetime:
    """Aware UTC; a naive value is taken to be UTC already (that is how SQLite hands them back)."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc)


def local_day(moment: datetime) -> date:
    return as_utc(moment).astimezone(CHINA_TZ).date()


def age_on(birth: date, day: date) -> int:
    before_birthday = (day.month, day.day) < (birth.month, birth.day)
    return day.year - birth.year - (1 if before_birthday else 0)


def today_local() -> date:
    return local_day(utcnow())


def service_day(moment: datetime | None = None) -> date:
    """'Today' for the whole service, whatever the clock of the machine or browser says: YINLING_TODAY
    when tests or demos pin it, else the China day of `moment` (default now). Pages take their default
    day from this, not from the browser's clock: at 01:45 in Shanxi a browser set to UTC is still on the
    day before."""
    pinned = os.environ.get("YINLING_TODAY")
    if pinned:
        return date.fromisoformat(pinned)
    return local_day(moment or utcnow())
