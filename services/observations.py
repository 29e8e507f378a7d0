"""Complaints a resident tells (health observations): every one recorded, some told to family and the desk.

A complaint is not a reading and not an emergency (those go through services.health and services.help).
Most are everyday ("这几天睡不好"): recorded, so the desk and a doctor can see the history, and answered
with one next step. A complaint alerts the resident's consenting family and the duty desk (through
services.notifications.alert_family_and_desk, kind "health", as an out-of-range reading does) when one
of these rules holds, checked in this order (the first names the reason):

    after_medicine  it began or got worse after a medicine (吃了降压药以后就恶心): maybe the medicine's doing
    walking         a pain, swelling, numbness or weakness stops them walking (膝盖疼得走不动道)
    swelling_days   swelling for two days or more (两条腿肿了好几天了)
    appetite        not eating for two days or more, or said twice within three days
    fever_days      fever for two days or more
    worse_lasting   said to be getting worse, and going on for two days or more
    repeated        the same kind of complaint the third time within seven days

and only if the same kind has not already alerted for this resident in the last 24 hours: the family was
just told, and a fourth "还是咳嗽" that afternoon should not ring them again. Someone else's complaint
("我老伴一直咳嗽") is not recorded here: it is not this resident's.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, Optional

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from services.audit import audit
from services.clock import utcnow
from services.errors import InvalidRequest
from services.geo import haversine_m
from services.models import Facility, FamilyMember, HealthObservation, Resident
from services.notifications import alert_family_and_desk, consenting_family, family_label
from services.privacy import strip_id_numbers
from services.residents import load_resident
from services.types import ObservationView

# The kinds zhtext.symptoms.SYMPTOM_KINDS produces (a test keeps the two the same; services does not
# import zhtext, which belongs to the assistant's side).
OBSERVATION_KINDS = (
    "sleep", "swelling", "nausea", "appetite", "pain", "cough", "dizziness", "constipation", "diarrhea",
    "fatigue", "palpitation", "breathless", "fever", "itch", "urination", "memory", "numbness", "mobility",
    "stomach", "vision", "unwell",
)
KIND_ZH = {
    "sleep": "睡不好", "swelling": "肿", "nausea": "恶心", "appetite": "不想吃饭", "pain": "疼",
    "cough": "咳嗽", "dizziness": "头晕", "constipation": "大便不通", "diarrhea": "拉肚子", "fatigue": "没劲",
    "palpitation": "心慌", "breathless": "气短", "fever": "发烧", "itch": "身上痒", "urination": "小便不顺",
    "memory": "老忘事", "numbness": "发麻", "mobility": "走路费劲", "stomach": "胃不舒服", "vision": "眼睛看不清",
    "unwell": "身上不舒服",
}
ALERT_REASONS = ("after_medicine", "walking", "swelling_days", "appetite", "fever_days", "worse_lasting", "repeated")
REASON_ZH = {
    "after_medicine": "是吃药以后出现或加重的，可能是药的反应",
    "walking": "已经影响走路",
    "swelling_days": "已经肿了{days}天",
    "appetite": "吃不下饭{days_or_times}",
    "fever_days": "发烧已经{days}天",
    "worse_lasting": "{days}天了，还在加重",
    "repeated": "七天里说了{times}次",
}
LASTING_DAYS = 2  # "for two days or more": swelling, appetite, fever, getting worse
APPETITE_AGAIN_WITHIN = timedelta(days=3)
REPEAT_WINDOW = timedelta(days=7)
REPEAT_TIMES = 3
REALERT_AFTER = timedelta(hours=24)
CLINIC_WITHIN_M = 5_000  # a 卫生室 further than this is not "去卫生室看看" for an elder on foot
MAX_WORDS = 200
MAX_TEXT = 500
MAX_DAYS = 3650


def _count_since(session: Session, resident_id: str, kind: str, since: datetime, until: datetime) -> int:
    return session.scalar(
        select(func.count()).select_from(HealthObservation).where(
            HealthObservation.resident_id == resident_id, HealthObservation.kind == kind,
            HealthObservation.created_at > since, HealthObservation.created_at <= until)
    ) or 0


def _recently_alerted(session: Session, resident_id: str, kind: str, now: datetime) -> bool:
    return session.scalar(
        select(HealthObservation.id).where(
            HealthObservation.resident_id == resident_id, HealthObservation.kind == kind,
            HealthObservation.alerted.is_(True), HealthObservation.created_at > now - REALERT_AFTER).limit(1)
    ) is not None


def alert_reason(session: Session, obs: HealthObservation, now: datetime) -> Optional[str]:
    """Which rule (module docstring) makes this observation an alert, or None. `obs` is flushed already,
    so the counts include it."""
    days = obs.days or 0
    if obs.after_medicine:
        return "after_medicine"
    if obs.limits_walking:
        return "walking"
    if obs.kind == "swelling" and days >= LASTING_DAYS:
        return "swelling_days"
    if obs.kind == "appetite" and (
            days >= LASTING_DAYS
            or _count_since(session, obs.resident_id, "appetite", now - APPETITE_AGAIN_WITHIN, now) >= 2):
        return "appetite"
    if obs.kind == "fever" and days >= LASTING_DAYS:
        return "fever_days"
    if obs.worse and days >= LASTING_DAYS:
        return "worse_lasting"
    if _count_since(session, obs.resident_id, obs.kind, now - REPEAT_WINDOW, now) >= REPEAT_TIMES:
        return "repeated"
    return None


def _what(obs: HealthObservation) -> str:
    """"腿肿" / "膝盖疼" / "咳嗽": the complaint in a few words for the alert."""
    if obs.body_part and obs.kind in ("pain", "swelling", "numbness", "itch"):
        return f"{obs.body_part}{KIND_ZH[obs.kind]}"
    return KIND_ZH[obs.kind]


def _message(resident: Resident, obs: HealthObservation, reason: str, times: int) -> str:
    detail = REASON_ZH[reason].format(
        days=obs.days or LASTING_DAYS, times=times,
        days_or_times=f"已经{obs.days}天" if (obs.days or 0) >= LASTING_DAYS else "，三天里说了两次")
    said = (obs.text or obs.words)[:60]
    return (f"【健康关注】{resident.name}（{resident.village}）说：「{said}」。{_what(obs)}，{detail}。"
            f"请联系老人，需要时请卫生室医生电话回访。")


def _clinic_name(session: Session, resident: Resident) -> Optional[str]:
    best: tuple[float, str] | None = None
    for f in session.scalars(select(Facility).where(Facility.kind == "health_station")):
        d = haversine_m(resident.lat, resident.lon, f.lat, f.lon)
        if d <= CLINIC_WITHIN_M and (best is None or d < best[0]):
            best = (d, f.name)
    return best[1] if best else None


def _told(notified: list[Any]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    labels = tuple(n["label"] for n in notified or ())
    relations = tuple(n["relation"] for n in notified or () if n.get("relation"))
    return labels, relations


def observation_view(session: Session, obs: HealthObservation, resident: Optional[Resident] = None,
                     *, clinic: bool = False) -> ObservationView:
    resident = resident or session.get(Resident, obs.resident_id)
    labels, relations = _told(obs.notified)
    return ObservationView(
        id=obs.id, resident_id=obs.resident_id, resident_name=resident.name if resident else obs.resident_id,
        kind=obs.kind, words=obs.words, text=obs.text, body_part=obs.body_part, days=obs.days,
        after_medicine=obs.after_medicine, worse=obs.worse, limits_walking=obs.limits_walking, source=obs.source,
        created_at=obs.created_at, alerted=obs.alerted, alert_reason=obs.alert_reason, notified=labels,
        family_told=relations,
        times_in_week=_count_since(session, obs.resident_id, obs.kind, obs.created_at - REPEAT_WINDOW, obs.created_at),
        clinic_name=_clinic_name(session, resident) if clinic and resident else None,
    )


def _check(kind: str, words: str, days: Optional[int], idempotency_key: str) -> None:
    if not idempotency_key:
        raise InvalidRequest("missing_idempotency_key")
    if kind not in OBSERVATION_KINDS:
        raise InvalidRequest("unknown_symptom", repr(kind))
    if not isinstance(words, str) or not words.strip():
        raise InvalidRequest("missing_words")
    if days is not None and (isinstance(days, bool) or not isinstance(days, int) or not 0 <= days <= MAX_DAYS):
        raise InvalidRequest("days_out_of_range", repr(days))


def record_symptom(
    session: Session,
    resident_id: str,
    kind: str,
    words: str,
    *,
    text: str = "",
    body_part: Optional[str] = None,
    days: Optional[int] = None,
    after_medicine: bool = False,
    worse: bool = False,
    limits_walking: bool = False,
    source: str,
    idempotency_key: str,
    now: Optional[datetime] = None,
) -> ObservationView:
    """Store the complaint, alert by the module's rules, and return it (with the nearest 卫生室 for the reply).
    The same idempotency key returns the stored observation and alerts nobody again."""
    _check(kind, words, days, idempotency_key)
    existing = session.scalars(
        select(HealthObservation).where(HealthObservation.idempotency_key == idempotency_key)).one_or_none()
    if existing is not None:
        return observation_view(session, existing, clinic=True)
    now = now or utcnow()
    resident = load_resident(session, resident_id)
    obs = HealthObservation(
        resident_id=resident.id, kind=kind, words=strip_id_numbers(words.strip())[:MAX_WORDS],
        text=strip_id_numbers(text or "")[:MAX_TEXT], body_part=(body_part or None) and body_part[:10], days=days,
        after_medicine=bool(after_medicine), worse=bool(worse), limits_walking=bool(limits_walking),
        source=(source or "text")[:40], created_at=now, alerted=False, notified=[], idempotency_key=idempotency_key,
    )
    session.add(obs)
    session.flush()
    reason = alert_reason(session, obs, now)
    if reason is not None and not _recently_alerted(session, resident.id, kind, now):
        times = _count_since(session, resident.id, kind, now - REPEAT_WINDOW, now)
        family = {family_label(m): m for m in consenting_family(session, resident.id)}
        labels = alert_family_and_desk(session, resident, "health", _message(resident, obs, reason, times), now=now)
        obs.alerted, obs.alert_reason = True, reason
        obs.notified = [{"label": label, "relation": _relation(family.get(label))} for label in labels]
        session.flush()
        audit(session, f"source:{obs.source}", "symptom.alert", f"observation:{obs.id}",
              {"resident": resident.id, "kind": kind, "reason": reason}, now=now)
    return observation_view(session, obs, resident, clinic=True)


def _relation(member: Optional[FamilyMember]) -> Optional[str]:
    return member.relation if member is not None else None


def _limit(limit: int) -> int:
    if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
        raise InvalidRequest("limit_out_of_range", repr(limit))
    return min(limit, 1000)


def observations_for_desk(session: Session, *, now: datetime, days: int = 7, alerted_only: bool = True,
                          limit: int = 100) -> list[ObservationView]:
    """Complaints of the last `days` days, newest first: by default only those that alerted someone."""
    if isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= 90:
        raise InvalidRequest("days_out_of_range", repr(days))
    query = (select(HealthObservation, Resident).join(Resident, Resident.id == HealthObservation.resident_id)
             .where(HealthObservation.created_at > now - timedelta(days=days))
             .order_by(HealthObservation.created_at.desc(), HealthObservation.id.desc()).limit(_limit(limit)))
    if alerted_only:
        query = query.where(HealthObservation.alerted.is_(True))
    return [observation_view(session, obs, resident) for obs, resident in session.execute(query)]


def resident_observations(session: Session, resident_id: str, *, limit: int = 50) -> list[ObservationView]:
    """One resident's complaints, newest first (all of them, alerted or not)."""
    resident = load_resident(session, resident_id)
    rows = session.scalars(
        select(HealthObservation).where(HealthObservation.resident_id == resident.id)
        .order_by(HealthObservation.created_at.desc(), HealthObservation.id.desc()).limit(_limit(limit)))
    return [observation_view(session, obs, resident) for obs in rows]
