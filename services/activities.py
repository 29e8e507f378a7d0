"""Activities and courses at facilities near a resident (the "15-minute care circle")."""

from __future__ import annotations

from typing import Optional

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from services.errors import InvalidRequest, UnknownFacility
from services.geo import haversine_m
from services.models import Activity, Facility
from services.residents import load_resident
from services.types import ActivityView

NEARBY_M = 5_000


def activities(
    session: Session,
    resident_id: Optional[str],
    weekday: Optional[int] = None,
    facility_id: Optional[str] = None,
    radius_m: int = NEARBY_M,
) -> list[ActivityView]:
    # At a named place an unknown caller may ask too ("康乐社区礼拜三有啥活动"); near-me needs the resident.
    resident = None if resident_id is None and facility_id is not None else load_resident(session, resident_id)
    if weekday is not None and not (isinstance(weekday, int) and 0 <= weekday <= 6):
        raise InvalidRequest("weekday_out_of_range", repr(weekday))
    query = select(Activity).options(selectinload(Activity.facility))
    if facility_id is not None:
        if session.get(Facility, facility_id) is None:
            raise UnknownFacility(facility_id)
        query = query.where(Activity.facility_id == facility_id)
    if weekday is not None:
        query = query.where(Activity.weekday == weekday)
    own = {resident.home_station_id, resident.home_canteen_id} - {None} if resident else set()
    chosen = []
    for activity in session.scalars(query):
        facility = activity.facility
        distance = haversine_m(resident.lat, resident.lon, facility.lat, facility.lon) if resident else 0.0
        if facility_id is None and distance > radius_m and facility.id not in own:
            continue
        chosen.append((activity.weekday, activity.start_time, distance, activity.id, activity))
    chosen.sort(key=lambda row: row[:4])
    return [
        ActivityView(
            facility_id=a.facility_id,
            facility_name=a.facility.name,
            title=a.title,
            weekday=a.weekday,
            start=a.start_time,
            end=a.end_time,
            description=a.description,
        )
        for *_, a in chosen
    ]
