"""Calls for help: stored before anyone answers, family and desk alerted, escalated if ignored."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Optional

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from common.words import ACK_TIMEOUT, CHANNELS
from services.audit import audit
from services.clock import age_on, as_utc, local_day, utcnow
from services.errors import HelpRequestNotFound, InvalidRequest, UnknownResident
from services.models import HelpRequest, Resident
from services.notifications import alert_family_and_desk, alert_supervisors, labels_for_help_request
from services.privacy import mask_phone, strip_id_numbers
from services.residents import honorific
from services.types import FamilyHelpView, HelpCall, HelpDeskView, HelpRequestView

ACTIVE = ("open", "acknowledged")
# Unacknowledged for common.words.ACK_TIMEOUT: the desk shows it as overdue, and escalate_overdue escalates it.
MAX_LIST = 1000


def help_view(session: Session, request: HelpRequest, *, spooled: bool = False) -> HelpRequestView:
    return HelpRequestView(
        id=request.id,
        resident_id=request.resident_id,
        status=request.status,
        created_at=request.created_at,
        escalation_level=request.escalation_level,
        notified=labels_for_help_request(session, request.id),
        spooled=spooled,
    )


def _who(resident: Optional[Resident], sender_id: Optional[str], now: datetime) -> str:
    if resident is None:
        return f"未登记用户（{sender_id or '未知'}）"
    age = age_on(resident.birth_date, local_day(now))
    return f"{honorific(resident.name, resident.gender, age)}（{resident.name}，{age}岁，{resident.address}）"


def _message(request: HelpRequest, resident: Optional[Resident], now: datetime) -> str:
    parts = [f"【求助】{_who(resident, request.sender_id, now)}说：“{request.text}”。"]
    if request.location:
        parts.append(f"位置：{request.location}。")
    phone = request.phone or (resident.phone if resident else None)
    if phone:
        parts.append(f"电话：{mask_phone(phone)}。")
    parts.append("请尽快联系确认。")
    return "".join(parts)


def raise_help(session: Session, call: HelpCall, *, now: Optional[datetime] = None) -> HelpRequestView:
    """Never refuses: an unknown sender is stored with resident_id None and the raw id kept."""
    resident_id, text, channel, idempotency_key = call.resident_id, call.text, call.channel, call.idempotency_key
    conversation_id, phone, location = call.conversation_id, call.phone, call.location
    if not idempotency_key:
        raise InvalidRequest("missing_idempotency_key")
    existing = session.scalars(select(HelpRequest).where(HelpRequest.idempotency_key == idempotency_key)).one_or_none()
    if existing is not None:
        return help_view(session, existing)
    now = now or utcnow()
    resident = session.get(Resident, resident_id) if resident_id else None
    request = HelpRequest(
        resident_id=resident.id if resident else None,
        sender_id=resident_id,
        conversation_id=conversation_id or resident_id,
        # An odd channel name must not lose the call; record it as text and keep going.
        channel=channel if channel in CHANNELS else "text",
        text=strip_id_numbers(text or ""),
        phone=phone,
        location=location,
        status="open",
        created_at=now,
        escalation_level=0,
        idempotency_key=idempotency_key,
    )
    session.add(request)
    session.flush()
    notified = alert_family_and_desk(session, resident, "help", _message(request, resident, now),
                                     now=now, help_request_id=request.id)
    audit(session, f"resident:{resident_id or 'unknown'}", "help.raise", f"help:{request.id}",
          {"channel": request.channel, "conversation": request.conversation_id, "known_resident": resident is not None,
           "notified": list(notified)}, now=now)
    return help_view(session, request)


def _load(session: Session, request_id: int) -> HelpRequest:
    request = session.get(HelpRequest, request_id) if isinstance(request_id, int) else None
    if request is None:
        raise HelpRequestNotFound(request_id)
    return request


def get_help(session: Session, request_id: int) -> HelpRequestView:
    return help_view(session, _load(session, request_id))


def acknowledge_help(session: Session, request_id: int, actor: str, *, now: Optional[datetime] = None) -> HelpRequestView:
    request = _load(session, request_id)
    now = now or utcnow()
    if request.status == "open":
        request.status = "acknowledged"
        request.acknowledged_at = now
        request.acknowledged_by = actor
        session.flush()
        audit(session, actor, "help.acknowledge", f"help:{request.id}", {}, now=now)
    return help_view(session, request)


def resolve_help(session: Session, request_id: int, actor: str, note: str, *, now: Optional[datetime] = None) -> HelpRequestView:
    request = _load(session, request_id)
    now = now or utcnow()
    if request.status != "resolved":
        if request.acknowledged_at is None:
            request.acknowledged_at, request.acknowledged_by = now, actor
        request.status = "resolved"
        request.resolved_at = now
        request.resolved_by = actor
        request.note = note
        session.flush()
        audit(session, actor, "help.resolve", f"help:{request.id}", {"note": note}, now=now)
    return help_view(session, request)


def open_help_requests(session: Session) -> list[HelpRequestView]:
    requests = session.scalars(
        select(HelpRequest).where(HelpRequest.status.in_(ACTIVE)).order_by(HelpRequest.created_at, HelpRequest.id)
    )
    return [help_view(session, r) for r in requests]


def escalate_overdue(
    session: Session, now: datetime, ack_timeout: timedelta = timedelta(minutes=3)
) -> list[HelpRequestView]:
    """Unacknowledged past the timeout: one level up and the supervisors told, at most once per period."""
    now = as_utc(now)
    escalated = []
    for request in session.scalars(select(HelpRequest).where(HelpRequest.status == "open").order_by(HelpRequest.id)):
        since = request.last_escalated_at or request.created_at
        if now - since < ack_timeout:
            continue
        level = request.escalation_level
        # Conditional on the level we read, so two escalator processes cannot both escalate it.
        won = session.execute(
            update(HelpRequest)
            .where(HelpRequest.id == request.id, HelpRequest.escalation_level == level, HelpRequest.status == "open")
            .values(escalation_level=level + 1, last_escalated_at=now)
            .execution_options(synchronize_session=False)
        ).rowcount
        if won != 1:
            continue
        session.refresh(request)
        resident = session.get(Resident, request.resident_id) if request.resident_id else None
        minutes = int((now - request.created_at).total_seconds() // 60)
        message = f"【升级{level + 1}级】求助已{minutes}分钟无人确认。" + _message(request, resident, now)
        notified = alert_supervisors(session, request.resident_id, message, now=now, help_request_id=request.id)
        audit(session, "system:escalator", "help.escalate", f"help:{request.id}",
              {"level": level + 1, "notified": list(notified)}, now=now)
        escalated.append(help_view(session, request))
    return escalated


# --- the operator desk and the family page ---------------------------------------------------------------


def desk_view(request: HelpRequest, resident: Optional[Resident], now: datetime,
              ack_timeout: timedelta = ACK_TIMEOUT) -> HelpDeskView:
    """For operators only: the number to ring back is shown in full."""
    return HelpDeskView(
        id=request.id,
        resident_id=request.resident_id,
        resident_name=resident.name if resident else None,
        channel=request.channel,
        text=request.text,
        phone=request.phone or (resident.phone if resident else None),
        location=request.location,
        status=request.status,
        created_at=request.created_at,
        acknowledged_at=request.acknowledged_at,
        acknowledged_by=request.acknowledged_by,
        resolved_at=request.resolved_at,
        resolved_by=request.resolved_by,
        note=request.note,
        escalation_level=request.escalation_level,
        overdue=request.status == "open" and as_utc(now) - request.created_at >= ack_timeout,
    )


def _limit(limit: int) -> int:
    if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
        raise InvalidRequest("limit_out_of_range", repr(limit))
    return min(limit, MAX_LIST)


def _with_residents():
    return select(HelpRequest, Resident).outerjoin(Resident, Resident.id == HelpRequest.resident_id)


def help_requests_for_desk(session: Session, include_resolved: bool = False, limit: int = 100, *,
                           now: Optional[datetime] = None,
                           ack_timeout: timedelta = ACK_TIMEOUT) -> list[HelpDeskView]:
    """Newest first; open and acknowledged ones only unless resolved ones are asked for too."""
    now = now or utcnow()
    query = _with_residents().order_by(HelpRequest.created_at.desc(), HelpRequest.id.desc()).limit(_limit(limit))
    if not include_resolved:
        query = query.where(HelpRequest.status.in_(ACTIVE))
    return [desk_view(r, resident, now, ack_timeout) for r, resident in session.execute(query)]


def help_changes_after(session: Session, after: datetime, *, now: Optional[datetime] = None,
                       ack_timeout: timedelta = ACK_TIMEOUT, limit: int = 500) -> list[HelpDeskView]:
    """Requests acknowledged or resolved after `after`, oldest change first: what the live fan-out sends.
    (New requests reach it as notifications.) The caller keeps max(acknowledged_at, resolved_at) as its mark."""
    if not isinstance(after, datetime) or after.tzinfo is None:
        raise InvalidRequest("naive_datetime", "after must be an aware datetime")
    now = now or utcnow()
    query = _with_residents().where(
        or_(HelpRequest.acknowledged_at > after, HelpRequest.resolved_at > after)
    ).order_by(HelpRequest.id).limit(_limit(limit))
    views = [desk_view(r, resident, now, ack_timeout) for r, resident in session.execute(query)]
    return sorted(views, key=lambda v: (max(t for t in (v.acknowledged_at, v.resolved_at) if t is not None), v.id))


def recent_help(session: Session, resident_id: str, limit: int = 10) -> list[FamilyHelpView]:
    """The resident's latest calls for help, newest first, as their family sees them."""
    resident = session.get(Resident, resident_id) if resident_id else None
    if resident is None:
        raise UnknownResident(resident_id)
    requests = session.scalars(
        select(HelpRequest)
        .where(HelpRequest.resident_id == resident.id)
        .order_by(HelpRequest.created_at.desc(), HelpRequest.id.desc())
        .limit(_limit(limit))
    )
    return [FamilyHelpView(id=r.id, status=r.status, created_at=r.created_at, acknowledged_at=r.acknowledged_at,
                           text=r.text) for r in requests]
