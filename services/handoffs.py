"""Handoffs to a human operator: one open per conversation, a transcript, and a take/close cycle."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Optional

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from common.words import TranscriptLine
from services.audit import audit
from services.clock import utcnow
from services.errors import HandoffAlreadyTaken, HandoffNotFound, InvalidRequest, UnknownOperator
from services.handoff_summary import summarise
from services.models import Handoff, Operator, Resident
from services.privacy import strip_id_numbers
from services.types import HandoffRequest, HandoffView, OperatorView

OPEN_STATUSES = ("queued", "taken")
# Usual roles: user/elder (the resident), bot, operator, family, system. Any short label is kept.
MAX_ROLE_LEN = 20


def handoff_view(handoff: Handoff, *, spooled: bool = False) -> HandoffView:
    return HandoffView(
        id=handoff.id,
        conversation_id=handoff.conversation_id,
        resident_id=handoff.resident_id,
        channel=handoff.channel,
        reason=handoff.reason,
        summary=handoff.summary,
        transcript=tuple(dict(entry) for entry in handoff.transcript),
        status=handoff.status,
        taken_by=handoff.taken_by,
        created_at=handoff.created_at,
        spooled=spooled,
    )


def normalise_entry(entry: dict[str, Any] | TranscriptLine, now: datetime) -> dict[str, Any]:
    """{role, text, ts}: ID numbers never reach the transcript an operator sees."""
    if isinstance(entry, TranscriptLine):
        entry = entry.to_dict()
    role = str(entry.get("role") or "user")
    text = strip_id_numbers(str(entry.get("text") or ""))
    ts = entry.get("ts") or now.isoformat()
    return {"role": role, "text": text, "ts": ts if isinstance(ts, str) else str(ts)}


def _is_duplicate(entry: dict[str, Any], given_ts: bool, existing: list[dict[str, Any]]) -> bool:
    # Replays from the outbox carry their original ts; a repeat without ts matches on role+text.
    return any(
        e.get("role") == entry["role"] and e.get("text") == entry["text"] and (not given_ts or e.get("ts") == entry["ts"])
        for e in existing
    )


def _open_for(session: Session, conversation_id: str, *, lock: bool = False) -> Optional[Handoff]:
    query = select(Handoff).where(Handoff.conversation_id == conversation_id, Handoff.status.in_(OPEN_STATUSES))
    if lock:
        # PostgreSQL queues concurrent writers on the row; SQLite (no FOR UPDATE) relies on the version check.
        query = query.with_for_update()
    return session.scalars(query).first()


def queue_handoff(
    session: Session,
    request: HandoffRequest,
    *,
    now: Optional[datetime] = None,
    summary: Optional[str] = None,
) -> HandoffView:
    """`summary`: only for outbox records spooled with their summary already written."""
    conversation_id, channel, reason, transcript = (
        request.conversation_id, request.channel, request.reason, request.transcript)
    if not conversation_id:
        raise InvalidRequest("missing_conversation_id")
    now = now or utcnow()
    resident = session.get(Resident, request.resident_id or conversation_id)
    known = resident.id if resident is not None else None
    summary = summary if summary is not None else summarise(request, (resident.name, resident.id) if resident else None)
    handoff = _open_for(session, conversation_id, lock=True)
    if handoff is None:
        handoff = Handoff(
            conversation_id=conversation_id, resident_id=known, channel=channel, reason=reason,
            summary=strip_id_numbers(summary or ""), transcript=[normalise_entry(e, now) for e in transcript or ()],
            status="queued", created_at=now, updated_at=now,
        )
        session.add(handoff)
        session.flush()  # the partial unique index stops a concurrent second open handoff here
        audit(session, f"conversation:{conversation_id}", "handoff.queue", f"handoff:{handoff.id}",
              {"reason": reason, "channel": channel, "resident": known}, now=now)
        return handoff_view(handoff)
    # Same conversation asking again: extend the one already waiting instead of queueing another.
    merged = list(handoff.transcript)
    for raw in transcript or ():
        entry = normalise_entry(raw, now)
        if not _is_duplicate(entry, bool(raw.ts if isinstance(raw, TranscriptLine) else raw.get("ts")), merged):
            merged.append(entry)
    handoff.transcript = merged
    handoff.reason = reason or handoff.reason
    if summary:
        handoff.summary = strip_id_numbers(summary)
    handoff.resident_id = handoff.resident_id or known
    handoff.updated_at = now
    session.flush()
    return handoff_view(handoff)


def open_handoff(session: Session, conversation_id: str) -> Optional[HandoffView]:
    handoff = _open_for(session, conversation_id)
    return handoff_view(handoff) if handoff else None


def append_handoff_message(
    session: Session, conversation_id: str, role: str, text: str, *, now: Optional[datetime] = None
) -> HandoffView:
    handoff = _open_for(session, conversation_id, lock=True)
    if handoff is None:
        raise HandoffNotFound(conversation_id)
    if not role or len(role) > MAX_ROLE_LEN:
        raise InvalidRequest("bad_role", repr(role))
    now = now or utcnow()
    # A new list (not in-place append) so the JSON column is seen as changed; the version
    # column turns a concurrent append into a retry instead of a lost message.
    handoff.transcript = [*handoff.transcript, normalise_entry({"role": role, "text": text}, now)]
    handoff.updated_at = now
    session.flush()
    return handoff_view(handoff)


def list_handoffs(session: Session, status: Optional[str] = None) -> list[HandoffView]:
    query = select(Handoff).order_by(Handoff.created_at, Handoff.id)
    if status is not None:
        query = query.where(Handoff.status == status)
    return [handoff_view(h) for h in session.scalars(query)]


def _load(session: Session, handoff_id: int) -> Handoff:
    handoff = session.get(Handoff, handoff_id) if isinstance(handoff_id, int) else None
    if handoff is None:
        raise HandoffNotFound(handoff_id)
    return handoff


def get_handoff(session: Session, handoff_id: int) -> HandoffView:
    return handoff_view(_load(session, handoff_id))


def _operator(session: Session, operator_id: str) -> Operator:
    operator = session.get(Operator, operator_id) if operator_id else None
    if operator is None:
        raise UnknownOperator(operator_id)
    return operator


def take_handoff(session: Session, handoff_id: int, operator_id: str, *, now: Optional[datetime] = None) -> HandoffView:
    operator = _operator(session, operator_id)
    handoff = _load(session, handoff_id)
    now = now or utcnow()
    # Conditional on 'queued': of two operators clicking at once, exactly one gets the row.
    won = session.execute(
        update(Handoff)
        .where(Handoff.id == handoff.id, Handoff.status == "queued")
        .values(status="taken", taken_by=operator.id, updated_at=now, version=Handoff.version + 1)
        .execution_options(synchronize_session=False)
    ).rowcount
    session.refresh(handoff)
    if won != 1:
        if handoff.status == "taken" and handoff.taken_by == operator.id:
            return handoff_view(handoff)  # the same operator clicking twice
        raise HandoffAlreadyTaken(handoff.id, handoff.taken_by, handoff.status)
    audit(session, f"operator:{operator.id}", "handoff.take", f"handoff:{handoff.id}",
          {"conversation": handoff.conversation_id}, now=now)
    return handoff_view(handoff)


def close_handoff(session: Session, handoff_id: int, operator_id: str, *, now: Optional[datetime] = None) -> HandoffView:
    operator = _operator(session, operator_id)
    handoff = _load(session, handoff_id)
    if handoff.status == "closed":
        return handoff_view(handoff)
    if handoff.status == "taken" and handoff.taken_by != operator.id and operator.role != "supervisor":
        raise HandoffAlreadyTaken(handoff.id, handoff.taken_by, handoff.status)
    now = now or utcnow()
    handoff.status = "closed"
    handoff.taken_by = handoff.taken_by or operator.id
    handoff.updated_at = now
    session.flush()
    audit(session, f"operator:{operator.id}", "handoff.close", f"handoff:{handoff.id}",
          {"conversation": handoff.conversation_id}, now=now)
    return handoff_view(handoff)


def operators(session: Session) -> list[OperatorView]:
    return [OperatorView(o.id, o.name, o.role) for o in session.scalars(select(Operator).order_by(Operator.id))]
