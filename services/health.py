"""Health readings against normal ranges; out of range alerts consenting family and the desk."""

from __future__ import annotations

import math
from datetime import datetime
from typing import Optional

from sqlalchemy import select
from sqlalchemy.orm import Session

from services.audit import audit
from services.clock import utcnow
from services.errors import InvalidRequest
from services.models import HealthReading, HealthThreshold, Notification, Resident
from services.notifications import alert_family_and_desk
from services.residents import load_resident
from services.types import HealthResultView

# Readings outside these are mis-hearings or typos, not emergencies; reject them rather than alarm.
PLAUSIBLE = {
    "bp": ((50, 260), (30, 160)),
    "glucose": ((1.0, 35.0), None),
    "heart_rate": ((25, 230), None),
    "temperature": ((33.0, 43.0), None),
    "spo2": ((50, 100), None),
}
MEASURE_NAMES = {"bp": "血压", "glucose": "血糖", "heart_rate": "心率", "temperature": "体温", "spo2": "血氧"}
UNITS = {"bp": "mmHg", "glucose": "mmol/L", "heart_rate": "次/分", "temperature": "℃", "spo2": "%"}
_ALIASES = {"血压": "bp", "blood_pressure": "bp", "血糖": "glucose", "心率": "heart_rate", "脉搏": "heart_rate",
            "体温": "temperature", "血氧": "spo2", "血氧饱和度": "spo2"}


def normalise_measure(measure: str) -> str:
    measure = _ALIASES.get(measure, measure)
    if measure not in PLAUSIBLE:
        raise InvalidRequest("unknown_measure", measure)
    return measure


def threshold_for(session: Session, resident_id: str, measure: str) -> Optional[HealthThreshold]:
    rows = session.scalars(
        select(HealthThreshold).where(
            HealthThreshold.measure == measure,
            (HealthThreshold.resident_id == resident_id) | HealthThreshold.resident_id.is_(None),
        )
    ).all()
    # The resident's own row (set by their doctor) wins over the default.
    rows.sort(key=lambda t: t.resident_id is None)
    return rows[0] if rows else None


def _outside(value: Optional[float], low: Optional[float], high: Optional[float]) -> tuple[bool, bool]:
    if value is None:
        return False, False
    return (low is not None and value < low), (high is not None and value > high)


def _check_plausible(measure: str, value1: float, value2: Optional[float]) -> None:
    first, second = PLAUSIBLE[measure]
    for value, bounds, name in ((value1, first, "value1"), (value2, second, "value2")):
        if bounds is None:
            if value is not None and name == "value2":
                raise InvalidRequest("unexpected_value2", measure)
            continue
        if value is None:
            raise InvalidRequest("missing_value", f"{measure} needs {name}")
        if not isinstance(value, (int, float)) or math.isnan(value) or not bounds[0] <= value <= bounds[1]:
            raise InvalidRequest("implausible_value", f"{measure} {name}={value!r}")


def _fmt(value: float) -> str:
    return f"{value:g}"


def _reading_text(measure: str, value1: float, value2: Optional[float]) -> str:
    values = f"{_fmt(value1)}/{_fmt(value2)}" if value2 is not None else _fmt(value1)
    return f"{MEASURE_NAMES[measure]}{values}{UNITS[measure]}"


def _alerted(session: Session, reading_id: int) -> tuple[str, ...]:
    return tuple(session.scalars(
        select(Notification.recipient_label).where(Notification.health_reading_id == reading_id).order_by(Notification.id)
    ))


def _view(session: Session, reading: HealthReading, threshold: Optional[HealthThreshold]) -> HealthResultView:
    low1, high1 = _outside(reading.value1, threshold and threshold.low1, threshold and threshold.high1)
    low2, high2 = _outside(reading.value2, threshold and threshold.low2, threshold and threshold.high2)
    return HealthResultView(
        reading_id=reading.id,
        measure=reading.measure,
        value1=reading.value1,
        value2=reading.value2,
        in_range=reading.in_range,
        low=low1 or low2,
        high=high1 or high2,
        alerted=_alerted(session, reading.id),
    )


def record_health(
    session: Session,
    resident_id: str,
    measure: str,
    value1: float,
    value2: Optional[float],
    idempotency_key: str,
    source: str,
    *,
    now: Optional[datetime] = None,
) -> HealthResultView:
    if not idempotency_key:
        raise InvalidRequest("missing_idempotency_key")
    existing = session.scalars(select(HealthReading).where(HealthReading.idempotency_key == idempotency_key)).one_or_none()
    if existing is not None:
        return _view(session, existing, threshold_for(session, existing.resident_id, existing.measure))
    now = now or utcnow()
    resident: Resident = load_resident(session, resident_id)
    measure = normalise_measure(measure)
    _check_plausible(measure, value1, value2)
    threshold = threshold_for(session, resident.id, measure)
    low1, high1 = _outside(value1, threshold and threshold.low1, threshold and threshold.high1)
    low2, high2 = _outside(value2, threshold and threshold.low2, threshold and threshold.high2)
    in_range = not (low1 or high1 or low2 or high2)
    reading = HealthReading(
        resident_id=resident.id, measure=measure, value1=float(value1),
        value2=None if value2 is None else float(value2), in_range=in_range, source=source,
        created_at=now, idempotency_key=idempotency_key,
    )
    session.add(reading)
    session.flush()
    if not in_range:
        direction = "偏低" if (low1 or low2) and not (high1 or high2) else "偏高"
        message = (f"【健康提醒】{resident.name}（{resident.village}）刚报告{_reading_text(measure, value1, value2)}，"
                   f"{direction}，超出正常范围，请尽快联系老人。")
        alert_family_and_desk(session, resident, "health", message, now=now, health_reading_id=reading.id)
        audit(session, f"source:{source}", "health.alert", f"reading:{reading.id}",
              {"resident": resident.id, "measure": measure, "value1": value1, "value2": value2}, now=now)
    return _view(session, reading, threshold)
