"""Residents: lookup, the view the assistant speaks from, and how to address them politely."""

from __future__ import annotations

from datetime import date

from sqlalchemy.orm import Session

from services.clock import age_on, local_day, utcnow
from services.errors import UnknownResident
from services.models import Resident
from services.privacy import mask_phone
from services.types import ResidentView

_COMPOUND_SURNAMES = frozenset(
    "欧阳 司马 上官 诸葛 东方 皇甫 尉迟 公孙 令狐 慕容 长孙 宇文 司徒 夏侯 南宫 独孤 端木 西门".split()
)
# The subsidised meal price applies from this age, or to special-hardship residents at any age.
MEAL_SUBSIDY_AGE = 80


def load_resident(session: Session, resident_id: str) -> Resident:
    resident = session.get(Resident, resident_id) if resident_id else None
    if resident is None:
        raise UnknownResident(resident_id)
    return resident


def surname(name: str) -> str:
    return name[:2] if name[:2] in _COMPOUND_SURNAMES else name[:1]


def honorific(name: str, gender: str, age: int) -> str:
    """How a volunteer would greet them: 王奶奶 / 李大爷 from 70, else 赵阿姨 / 张叔."""
    if age >= 70:
        title = "大爷" if gender == "男" else "奶奶"
    else:
        title = "叔" if gender == "男" else "阿姨"
    return surname(name) + title


def meal_subsidy_applies(resident: Resident, today: date) -> bool:
    return resident.special_hardship or age_on(resident.birth_date, today) >= MEAL_SUBSIDY_AGE


def resident_view(resident: Resident, today: date) -> ResidentView:
    age = age_on(resident.birth_date, today)
    return ResidentView(
        id=resident.id,
        name=resident.name,
        gender=resident.gender,
        age=age,
        county=resident.county,
        township=resident.township,
        village=resident.village,
        address=resident.address,
        lat=resident.lat,
        lon=resident.lon,
        home_canteen_id=resident.home_canteen_id,
        home_canteen_name=resident.home_canteen.name if resident.home_canteen else None,
        home_station_id=resident.home_station_id,
        home_station_name=resident.home_station.name if resident.home_station else None,
        phone_masked=mask_phone(resident.phone),
        lives_alone=resident.lives_alone,
        disability_level=resident.disability_level,
        special_hardship=resident.special_hardship,
        honorific=honorific(resident.name, resident.gender, age),
        tts_rate=resident.tts_rate,
        tts_volume=resident.tts_volume,
    )


def get_resident(session: Session, resident_id: str, today: date | None = None) -> ResidentView:
    return resident_view(load_resident(session, resident_id), today or local_day(utcnow()))
