"""Hotline calls: who a caller's number belongs to, and the record every call leaves."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Optional

from sqlalchemy import select
from sqlalchemy.orm import Session

from services.audit import audit
from services.errors import InvalidRequest, NotFound
from services.models import CallRecord, FamilyMember, Resident
from services.privacy import mask_phone, strip_id_numbers
from services.types import CallerView, CallRecordView

OUTCOMES = ("completed", "caller_hung_up", "transferred", "transfer_failed", "emergency", "timed_out", "rejected",
            "failed")
MAX_TRANSCRIPT_LINES = 400  # a call held open for an hour must not grow a record without bound


class UnknownCall(NotFound):
    code = "unknown_call"

    def __init__(self, call_id: Any) -> None:
        super().__init__(f"no call record {call_id!r}")
        self.call_id = call_id


def normalise_number(raw: str | None) -> str:
    """'+86 138-0000-0001', 'tel:13800000001', '008613800000001' -> '13800000001'."""
    digits = re.sub(r"\D", "", raw or "")
    for prefix in ("0086", "86"):
        if digits.startswith(prefix) and len(digits) - len(prefix) == 11:
            return digits[len(prefix):]
    return digits


def identify_caller(session: Session, number: str) -> CallerView:
    """A resident's own number first (an elder's line is theirs); then a family member's."""
    digits = normalise_number(number)
    if len(digits) < 5:  # anonymous, or an extension that names nobody
        return CallerView("unknown", digits)
    for resident in session.scalars(select(Resident).where(Resident.phone.is_not(None)).order_by(Resident.id)):
        if normalise_number(resident.phone) == digits:
            return CallerView("resident", digits, resident_id=resident.id, name=resident.name,
                              address=resident.address)
    members = [m for m in session.scalars(select(FamilyMember).where(FamilyMember.phone.is_not(None))
                                          .order_by(FamilyMember.id))
               if normalise_number(m.phone) == digits]
    if members:
        consenting = [m for m in members if m.consent]
        residents = tuple((m.resident_id, session.get(Resident, m.resident_id).name) for m in consenting)
        first = members[0]
        return CallerView("family", digits, family_member_id=first.id, name=first.name, relation=first.relation,
                          residents=residents)
    return CallerView("unknown", digits)


def _view(record: CallRecord, unmasked: bool = False) -> CallRecordView:
    return CallRecordView(
        id=record.id, sip_call_id=record.sip_call_id,
        caller_number=record.caller_number if unmasked else mask_phone(record.caller_number),
        caller_kind=record.caller_kind, resident_id=record.resident_id, family_member_id=record.family_member_id,
        started_at=record.started_at, ended_at=record.ended_at, outcome=record.outcome,
        intents=tuple(record.intents or ()), digits=record.digits, transcript=tuple(record.transcript or ()),
        help_request_id=record.help_request_id, handoff_id=record.handoff_id,
        transfer_target=record.transfer_target, audio_path=record.audio_path)


def start_call(session: Session, sip_call_id: str, caller: CallerView, *, now: datetime) -> CallRecordView:
    """Idempotent on the SIP Call-ID: a retransmitted INVITE does not open a second record."""
    existing = session.scalars(select(CallRecord).where(CallRecord.sip_call_id == sip_call_id)).one_or_none()
    if existing is not None:
        return _view(existing)
    record = CallRecord(sip_call_id=sip_call_id[:120], caller_number=caller.number or None, caller_kind=caller.kind,
                        resident_id=caller.resident_id, family_member_id=caller.family_member_id, started_at=now,
                        intents=[], digits="", transcript=[])
    session.add(record)
    session.flush()
    audit(session, "phone", "call.start", f"call:{record.id}",
          {"caller": mask_phone(caller.number), "kind": caller.kind, "resident_id": caller.resident_id}, now=now)
    return _view(record)


def _load(session: Session, call_id: int) -> CallRecord:
    record = session.get(CallRecord, call_id) if isinstance(call_id, int) else None
    if record is None:
        raise UnknownCall(call_id)
    return record


def update_call(session: Session, call_id: int, *, resident_id: Optional[str] = None,
                help_request_id: Optional[int] = None, handoff_id: Optional[int] = None,
                transfer_target: Optional[str] = None) -> CallRecordView:
    """What became known during the call (the elder a family member chose, a help request)."""
    record = _load(session, call_id)
    if resident_id is not None:
        if session.get(Resident, resident_id) is None:
            raise InvalidRequest("unknown_resident", resident_id)
        record.resident_id = resident_id
    if help_request_id is not None:
        record.help_request_id = help_request_id
    if handoff_id is not None:
        record.handoff_id = handoff_id
    if transfer_target is not None:
        record.transfer_target = transfer_target[:200]
    return _view(record)


def finish_call(session: Session, call_id: int, outcome: str, *, intents: list[str], digits: str,
                transcript: list[dict[str, Any]], audio_path: Optional[str], audio_retention: timedelta,
                now: datetime) -> CallRecordView:
    """Closes the record once; a second finish (a late BYE after a timeout) changes nothing."""
    if outcome not in OUTCOMES:
        raise InvalidRequest("unknown_call_outcome", outcome)
    record = _load(session, call_id)
    if record.ended_at is not None:
        return _view(record)
    lines = [{"role": line.get("role"), "text": strip_id_numbers(str(line.get("text") or "")), "ts": line.get("ts")}
             for line in transcript[-MAX_TRANSCRIPT_LINES:]]
    record.ended_at, record.outcome = now, outcome
    record.intents = [i for i in intents if i][:MAX_TRANSCRIPT_LINES]
    record.digits = digits[-40:]
    record.transcript = lines
    if audio_path:
        record.audio_path, record.audio_expires_at = audio_path, now + audio_retention
    audit(session, "phone", "call.end", f"call:{record.id}", {"outcome": outcome, "lines": len(lines)}, now=now)
    return _view(record)


def list_calls(session: Session, resident_id: Optional[str] = None, limit: int = 50,
               unmasked: bool = False) -> list[CallRecordView]:
    query = select(CallRecord).order_by(CallRecord.started_at.desc(), CallRecord.id.desc()).limit(max(1, min(limit, 500)))
    if resident_id:
        query = query.where(CallRecord.resident_id == resident_id)
    return [_view(r, unmasked) for r in session.scalars(query)]


def get_call(session: Session, call_id: int, unmasked: bool = False) -> CallRecordView:
    return _view(_load(session, call_id), unmasked)


def purge_expired_audio(session: Session, *, now: datetime) -> int:
    """Deletes recordings past their retention; the record itself (and its transcript) stays."""
    expired = session.scalars(select(CallRecord).where(CallRecord.audio_expires_at.is_not(None),
                                                       CallRecord.audio_expires_at <= now)).all()
    for record in expired:
        if record.audio_path:
            Path(record.audio_path).unlink(missing_ok=True)
        record.audio_path, record.audio_expires_at = None, None
        audit(session, "system", "call.audio_purged", f"call:{record.id}", {}, now=now)
    return len(expired)
