"""Care facilities: nearest by distance, and lookup by a spoken, possibly partial, name."""

from __future__ import annotations

import re
from typing import Optional

from rapidfuzz import fuzz
from sqlalchemy import select
from sqlalchemy.orm import Session

from services.errors import InvalidRequest, UnknownFacility
from services.geo import haversine_m
from services.models import FACILITY_KINDS, Facility
from services.residents import load_resident
from services.types import FacilityHit, FacilityView

# What people call each kind; used both to accept Chinese kind words and to build short aliases.
KIND_WORDS = {
    "station": "驿站",
    "community_centre": "养老服务中心",
    "day_care": "日间照料中心",
    "happiness_yard": "幸福小院",
    "canteen": "食堂",
    "health_station": "卫生室",
}
_KIND_ALIASES = {
    "驿站": "station", "养老驿站": "station", "服务驿站": "station",
    "养老服务中心": "community_centre", "社区养老服务中心": "community_centre", "服务中心": "community_centre",
    "日间照料中心": "day_care", "日间照料": "day_care", "照料中心": "day_care",
    "幸福小院": "happiness_yard", "小院": "happiness_yard",
    "食堂": "canteen", "助餐点": "canteen", "老年餐桌": "canteen", "饭堂": "canteen",
    "卫生室": "health_station", "卫生站": "health_station", "卫生服务站": "health_station", "诊所": "health_station",
}
# Words around a place name in speech ("赵王村的驿站在哪儿") that only dilute the match.
_FILLER = re.compile(r"在哪儿|在哪里|在哪|怎么走|怎么去|我想去|我要去|带我去|请问|告诉我|那个|的|呢|吗|啊|呀|吧|[，。？！?!,.\s]")
FIND_CUTOFF = 75


def facility_view(facility: Facility) -> FacilityView:
    return FacilityView(
        id=facility.id,
        kind=facility.kind,
        name=facility.name,
        county=facility.county,
        township=facility.township,
        village=facility.village,
        address=facility.address,
        lat=facility.lat,
        lon=facility.lon,
        hours=facility.hours,
        phone=facility.phone,
        services=tuple(facility.services or ()),
    )


def normalise_kind(kind: Optional[str]) -> Optional[str]:
    if kind is None:
        return None
    kind = kind.strip()
    kind = _KIND_ALIASES.get(kind, kind)
    if kind not in FACILITY_KINDS:
        raise InvalidRequest("unknown_facility_kind", kind)
    return kind


def get_facility(session: Session, facility_id: str) -> FacilityView:
    facility = session.get(Facility, facility_id)
    if facility is None:
        raise UnknownFacility(facility_id)
    return facility_view(facility)


def facilities(session: Session, kind: Optional[str] = None) -> list[FacilityView]:
    """Every facility (of one kind, when given), by id."""
    query = select(Facility).order_by(Facility.id)
    kind = normalise_kind(kind)
    if kind is not None:
        query = query.where(Facility.kind == kind)
    return [facility_view(f) for f in session.scalars(query)]


def _offers(facility: Facility, service: str) -> bool:
    return any(service in offered or offered in service for offered in facility.services or ())


def nearest_facilities(
    session: Session,
    resident_id: str,
    kind: Optional[str] = None,
    service: Optional[str] = None,
    limit: int = 3,
) -> list[FacilityHit]:
    resident = load_resident(session, resident_id)
    query = select(Facility)
    kind = normalise_kind(kind)
    if kind is not None:
        query = query.where(Facility.kind == kind)
    hits = [
        FacilityHit(facility_view(f), round(haversine_m(resident.lat, resident.lon, f.lat, f.lon)))
        for f in session.scalars(query)
        if service is None or _offers(f, service)
    ]
    hits.sort(key=lambda h: (h.distance_m, h.facility.id))
    return hits[: max(0, limit)]


def _aliases(facility: Facility) -> list[str]:
    kind_word = KIND_WORDS[facility.kind]
    names = [facility.name, facility.name.removeprefix(facility.county)]
    place = facility.village or facility.township
    names += [place + kind_word, facility.township + place + kind_word]
    names += [place + offered for offered in facility.services or ()]  # "康乐社区老年大学"
    return names


# When the words fit several facilities in one place, the centre or station is the likelier
# meaning than its canteen or clinic, unless the kind is named ("赵王村的食堂").
_KIND_PREFERENCE = {"canteen": 0, "health_station": 1}


def _kind_named(query: str, kind: str) -> bool:
    return KIND_WORDS[kind] in query or any(word in query for word, k in _KIND_ALIASES.items() if k == kind)


def find_facility(session: Session, text: str) -> Optional[FacilityView]:
    """Best fuzzy match of a spoken name against facility names and village aliases, or None."""
    query = _FILLER.sub("", text or "")
    if len(query) < 2:
        return None
    best_key: tuple | None = None
    best_facility: Optional[Facility] = None
    for facility in session.scalars(select(Facility).order_by(Facility.id)):
        aliases = _aliases(facility)
        score = max(fuzz.partial_ratio(query, alias) for alias in aliases)
        if score < FIND_CUTOFF:
            continue
        key = (
            score,
            _kind_named(query, facility.kind),
            _KIND_PREFERENCE.get(facility.kind, 2),
            max(fuzz.ratio(query, alias) for alias in aliases),
        )
        if best_key is None or key > best_key:
            best_key, best_facility = key, facility
    return facility_view(best_facility) if best_facility else None
