"""Loneliness as a care signal: recorded, answered with one real offer, shown to the desk when it recurs.

Never an emergency: no help request, no notification, no alarm sound. The desk's care list (what a
12349 desk turns into a proactive care call) shows a resident when, within the last seven days,

    repeated     they voiced loneliness twice or more, or
    lives_alone  they live alone and voiced it once.

The offer, one per signal, is the first of these that exists (a family member named or missed goes
first when the elder spoke of family, "孩子们都不来看我"):

    activity  something at a nearby station or centre later today, else tomorrow (services.activities)
    family    a consenting family member with a phone number: the elder can say "给我儿子打电话"
    visit     a 探访关爱 visit: a 陪聊 home-service ticket for the station. Only offered here, never booked:
              the assistant asks, and files the ticket (services.tickets.create_ticket) on the elder's yes.
              When an open one exists already it is returned, and the reply says it is already arranged.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, timedelta
from typing import Optional

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from services import activities as activities_uc
from services import tickets as tickets_uc
from services.clock import CHINA_TZ, utcnow
from services.errors import InvalidRequest
from services.family import family_view
from services.models import CARE_SIGNAL_KINDS, CareSignal, Resident, ServiceTicket
from services.notifications import consenting_family
from services.privacy import strip_id_numbers
from services.residents import load_resident
from services.types import ActivityView, CareDeskView, CareOfferView, CareSignalView, LonelinessView

CUE_KINDS = ("alone", "family_away", "wants_company")  # zhtext.feelings.LONELINESS_KINDS
OFFER_KINDS = ("activity", "family", "visit")
WINDOW = timedelta(days=7)
REPEATED = 2
VISIT_SERVICE = "companionship"  # 陪聊, the home service a 探访关爱 volunteer's visit is booked as
RECENT_ON_DESK = 5
MAX_WORDS = 200
MAX_TEXT = 500


def signal_view(signal: CareSignal) -> CareSignalView:
    return CareSignalView(id=signal.id, resident_id=signal.resident_id, kind=signal.kind, words=signal.words,
                          text=signal.text, source=signal.source, offer=signal.offer, created_at=signal.created_at)


def _count_in_window(session: Session, resident_id: str, until: datetime) -> int:
    return session.scalar(
        select(func.count()).select_from(CareSignal).where(
            CareSignal.resident_id == resident_id, CareSignal.created_at > until - WINDOW,
            CareSignal.created_at <= until)
    ) or 0


def on_care_list(lives_alone: bool, times_in_window: int) -> bool:
    """The desk rule (module docstring)."""
    return times_in_window >= REPEATED or (lives_alone and times_in_window >= 1)


def _next_activity(session: Session, resident: Resident, now: datetime) -> tuple[Optional[ActivityView], Optional[date]]:
    local = now.astimezone(CHINA_TZ)
    today = local.date()
    for day in (today, today + timedelta(days=1)):
        for activity in activities_uc.activities(session, resident.id, day.weekday()):
            if day == today and activity.start <= local.strftime("%H:%M"):
                continue  # already begun or over: "今天上午九点" at eleven is no offer
            return activity, day
    return None, None


def _family_to_call(session: Session, resident: Resident, relation: Optional[str]):
    members = [m for m in consenting_family(session, resident.id) if m.phone]
    named = [m for m in members if relation and m.relation == relation]
    chosen = (named or members or [None])[0]
    return family_view(chosen) if chosen is not None else None


def _open_visit(session: Session, resident_id: str) -> Optional[ServiceTicket]:
    return session.scalars(
        select(ServiceTicket).where(ServiceTicket.resident_id == resident_id,
                                    ServiceTicket.service_code == VISIT_SERVICE,
                                    ServiceTicket.status.in_(tickets_uc.OPEN_STATUSES))
        .order_by(ServiceTicket.created_at, ServiceTicket.id).limit(1)
    ).first()


def _visit(session: Session, resident: Resident, signal_key: str) -> CareOfferView:
    """The visit offer: an open 陪聊 ticket when there is one (already arranged), else a bare offer, booked by no
    one until the elder says yes. A ticket filed under the signal's own key (as this once did at once) is still
    that signal's visit."""
    own = session.scalars(select(ServiceTicket).where(ServiceTicket.idempotency_key == f"{signal_key}:visit")
                          ).one_or_none()
    if own is not None:
        return CareOfferView("visit", ticket=tickets_uc.ticket_view(own))
    earlier = _open_visit(session, resident.id)
    if earlier is not None:
        return CareOfferView("visit", ticket=tickets_uc.ticket_view(earlier), already_arranged=True)
    return CareOfferView("visit")


def _offer(session: Session, resident: Resident, cue_kind: str, relation: Optional[str], signal_key: str,
           now: datetime, replay: Optional[str] = None) -> CareOfferView:
    """The first offer that exists, in the order the cue asks for; none of them books anything. `replay`: the
    offer recorded with the signal, worked out again at the signal's own time (so the same activity)."""
    order = ("family", "activity", "visit") if cue_kind == "family_away" else OFFER_KINDS
    for kind in (replay,) if replay else order:
        if kind == "activity":
            activity, day = _next_activity(session, resident, now)
            if activity is not None:
                return CareOfferView("activity", activity=activity, activity_day=day)
        elif kind == "family":
            member = _family_to_call(session, resident, relation)
            if member is not None:
                return CareOfferView("family", family=member)
        else:  # the visit always exists: the station can always send someone
            return _visit(session, resident, signal_key)
    return _visit(session, resident, signal_key)  # a replayed offer gone since


def _check(kind: str, cue_kind: str, words: str, idempotency_key: str) -> None:
    if not idempotency_key:
        raise InvalidRequest("missing_idempotency_key")
    if kind not in CARE_SIGNAL_KINDS:
        raise InvalidRequest("unknown_care_signal", repr(kind))
    if cue_kind not in CUE_KINDS:
        raise InvalidRequest("unknown_cue", repr(cue_kind))
    if not isinstance(words, str) or not words.strip():
        raise InvalidRequest("missing_words")


def record_loneliness(
    session: Session,
    resident_id: str,
    words: str,
    *,
    text: str = "",
    cue_kind: str = "alone",
    relation: Optional[str] = None,
    source: str,
    idempotency_key: str,
    now: Optional[datetime] = None,
) -> LonelinessView:
    """Store the signal and choose the offer (module docstring); nothing is booked. The same key returns the same
    signal and offer without storing anything again."""
    _check("lonely", cue_kind, words, idempotency_key)
    existing = session.scalars(select(CareSignal).where(CareSignal.idempotency_key == idempotency_key)).one_or_none()
    if existing is not None:
        resident = load_resident(session, existing.resident_id)
        offer = _offer(session, resident, cue_kind, relation, idempotency_key, existing.created_at,
                       replay=existing.offer)
        times = _count_in_window(session, resident.id, existing.created_at)
        return LonelinessView(signal_view(existing), offer, times, on_care_list(resident.lives_alone, times))
    now = now or utcnow()
    resident = load_resident(session, resident_id)
    text = strip_id_numbers(text or "")[:MAX_TEXT]
    signal = CareSignal(resident_id=resident.id, kind="lonely", words=strip_id_numbers(words.strip())[:MAX_WORDS],
                        text=text, source=(source or "text")[:40], created_at=now, idempotency_key=idempotency_key)
    session.add(signal)
    session.flush()
    offer = _offer(session, resident, cue_kind, relation, idempotency_key, now)
    signal.offer = offer.kind
    session.flush()
    times = _count_in_window(session, resident.id, now)
    return LonelinessView(signal_view(signal), offer, times, on_care_list(resident.lives_alone, times))


def care_signals_for_desk(session: Session, *, now: datetime, days: int = 7, limit: int = 100) -> list[CareDeskView]:
    """Residents on the care list (module docstring), the most often lonely first, then the latest.
    `days` widens or narrows the window for looking back; the rule's counts use the same window."""
    if isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= 90:
        raise InvalidRequest("days_out_of_range", repr(days))
    if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
        raise InvalidRequest("limit_out_of_range", repr(limit))
    rows = session.execute(
        select(CareSignal, Resident).join(Resident, Resident.id == CareSignal.resident_id)
        .where(CareSignal.created_at > now - timedelta(days=days))
        .order_by(CareSignal.created_at.desc(), CareSignal.id.desc())
    ).all()
    by_resident: dict[str, list[CareSignal]] = defaultdict(list)
    residents: dict[str, Resident] = {}
    for signal, resident in rows:
        by_resident[resident.id].append(signal)
        residents[resident.id] = resident
    out = []
    for rid, signals in by_resident.items():
        resident = residents[rid]
        if not on_care_list(resident.lives_alone, len(signals)):
            continue
        visit = _open_visit(session, rid)
        out.append(CareDeskView(
            resident_id=rid, resident_name=resident.name, village=resident.village, lives_alone=resident.lives_alone,
            phone=resident.phone, reason="repeated" if len(signals) >= REPEATED else "lives_alone",
            times=len(signals), first_at=signals[-1].created_at, last_at=signals[0].created_at,
            recent=tuple(signal_view(s) for s in signals[:RECENT_ON_DESK]),
            open_visit_ticket_id=visit.id if visit is not None else None,
        ))
    out.sort(key=lambda v: (-v.times, -v.last_at.timestamp()))
    return out[:min(limit, 1000)]
