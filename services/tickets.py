"""Home-service tickets (理发, 助浴, 送药 …): a resident asks, the station dispatches."""

from __future__ import annotations

from datetime import date, datetime
from typing import Optional

from sqlalchemy import select, update
from sqlalchemy.orm import Session, selectinload
from sqlalchemy.orm.exc import StaleDataError

from services.audit import audit
from services.clock import local_day, utcnow
from services.errors import InvalidRequest, TicketClosed, TicketNotFound, UnknownServiceType
from services.models import ServiceTicket, ServiceType
from services.privacy import strip_id_numbers
from services.residents import load_resident
from services.types import TicketView

OPEN_STATUSES = ("open", "assigned")
STATUSES = ("open", "assigned", "done", "cancelled")
CLOSED_STATUSES = ("done", "cancelled")
MAX_ASSIGNEE_LEN = 60
MAX_NOTE_LEN = 1000


def service_types(session: Session) -> list[tuple[str, str]]:
    return [(t.code, t.name) for t in session.scalars(select(ServiceType).order_by(ServiceType.code))]


def load_service_type(session: Session, code_or_name: str) -> ServiceType:
    """By code ('haircut') or Chinese name ('理发')."""
    found = session.get(ServiceType, code_or_name) or session.scalars(
        select(ServiceType).where(ServiceType.name == code_or_name)
    ).first()
    if found is None:
        raise UnknownServiceType(code_or_name)
    return found


def ticket_view(ticket: ServiceTicket) -> TicketView:
    return TicketView(
        id=ticket.id,
        resident_id=ticket.resident_id,
        service_code=ticket.service_code,
        service_name=ticket.service_type.name,
        preferred_date=ticket.preferred_date,
        status=ticket.status,
        created_at=ticket.created_at,
        assignee=ticket.assignee,
        note=ticket.note or "",
        resident_name=ticket.resident.name,
    )


def create_ticket(
    session: Session,
    resident_id: str,
    service_code: str,
    preferred_date: Optional[date],
    note: str,
    idempotency_key: str,
    actor: str,
    *,
    now: Optional[datetime] = None,
) -> TicketView:
    if not idempotency_key:
        raise InvalidRequest("missing_idempotency_key")
    existing = session.scalars(
        select(ServiceTicket).where(ServiceTicket.idempotency_key == idempotency_key)
    ).one_or_none()
    if existing is not None:
        return ticket_view(existing)
    now = now or utcnow()
    resident = load_resident(session, resident_id)
    service_type = load_service_type(session, service_code)
    if preferred_date is not None and preferred_date < local_day(now):
        raise InvalidRequest("date_in_past", preferred_date.isoformat())
    ticket = ServiceTicket(
        resident_id=resident.id,
        service_code=service_type.code,
        preferred_date=preferred_date,
        note=strip_id_numbers(note or ""),
        status="open",
        idempotency_key=idempotency_key,
        created_by=actor,
        created_at=now,
        updated_at=now,
    )
    session.add(ticket)
    session.flush()
    audit(session, actor, "ticket.create", f"ticket:{ticket.id}",
          {"resident": resident.id, "service": service_type.code, "preferred_date": preferred_date}, now=now)
    return ticket_view(ticket)


def open_tickets(session: Session, resident_id: str) -> list[TicketView]:
    load_resident(session, resident_id)
    tickets = session.scalars(
        select(ServiceTicket)
        .where(ServiceTicket.resident_id == resident_id, ServiceTicket.status.in_(OPEN_STATUSES))
        .options(selectinload(ServiceTicket.service_type))
        .order_by(ServiceTicket.created_at, ServiceTicket.id)
    )
    return [ticket_view(t) for t in tickets]


# --- the operator desk --------------------------------------------------------------------------------------


def list_tickets(session: Session, status: Optional[str] = None, limit: int = 100) -> list[TicketView]:
    """All residents' tickets, newest first; one status, or every status when None."""
    if status is not None and status not in STATUSES:
        raise InvalidRequest("unknown_status", repr(status))
    if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
        raise InvalidRequest("limit_out_of_range", repr(limit))
    query = (
        select(ServiceTicket)
        .options(selectinload(ServiceTicket.service_type), selectinload(ServiceTicket.resident))
        .order_by(ServiceTicket.created_at.desc(), ServiceTicket.id.desc())
        .limit(min(limit, 1000))
    )
    if status is not None:
        query = query.where(ServiceTicket.status == status)
    return [ticket_view(t) for t in session.scalars(query)]


def _load(session: Session, ticket_id: int) -> ServiceTicket:
    ticket = session.get(ServiceTicket, ticket_id) if isinstance(ticket_id, int) and not isinstance(ticket_id, bool) else None
    if ticket is None:
        raise TicketNotFound(ticket_id)
    return ticket


def _save(session: Session, ticket: ServiceTicket, *, status: str, assignee: Optional[str], note: str,
          now: datetime) -> None:
    """Writes only if nobody changed the ticket since it was read (compare and set on what we read);
    otherwise StaleDataError, which Services._run answers by running the whole use-case again."""
    changed = session.execute(
        update(ServiceTicket)
        .where(
            ServiceTicket.id == ticket.id,
            ServiceTicket.status == ticket.status,
            ServiceTicket.assignee.is_not_distinct_from(ticket.assignee),
            ServiceTicket.note == ticket.note,
        )
        .values(status=status, assignee=assignee, note=note, updated_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount
    if changed != 1:
        raise StaleDataError(f"ticket {ticket.id} changed concurrently")
    session.refresh(ticket)


def _with_note(existing: str, note: str) -> str:
    note = strip_id_numbers((note or "").strip())
    if len(note) > MAX_NOTE_LEN:
        raise InvalidRequest("note_too_long", f"{len(note)} > {MAX_NOTE_LEN} characters")
    if not note:
        return existing or ""
    return f"{existing}\n{note}" if existing else note


def assign_ticket(session: Session, ticket_id: int, assignee: str, actor: str, *,
                  now: Optional[datetime] = None) -> TicketView:
    """Who does it (a name or team, free text). An open ticket becomes assigned; reassigning is allowed
    until the ticket is done or cancelled."""
    assignee = (assignee or "").strip()
    if not assignee:
        raise InvalidRequest("missing_assignee")
    if len(assignee) > MAX_ASSIGNEE_LEN:
        raise InvalidRequest("assignee_too_long", assignee[:40])
    now = now or utcnow()
    ticket = _load(session, ticket_id)
    if ticket.status in CLOSED_STATUSES:
        raise TicketClosed(ticket.id, ticket.status)
    if ticket.status == "assigned" and ticket.assignee == assignee:
        return ticket_view(ticket)  # the same assignment twice: nothing changes, nothing to audit
    before = ticket.assignee
    _save(session, ticket, status="assigned", assignee=assignee, note=ticket.note, now=now)
    audit(session, actor, "ticket.assign", f"ticket:{ticket.id}", {"assignee": assignee, "before": before}, now=now)
    return ticket_view(ticket)


def update_ticket(session: Session, ticket_id: int, status: str, note: str, actor: str, *,
                  now: Optional[datetime] = None) -> TicketView:
    """Sets the status (open / assigned / done / cancelled) and adds the desk's note as a new line under
    the request's. 'assigned' needs an assignee (assign_ticket); back to 'open' clears it. A done or
    cancelled ticket is closed for good (TicketClosed), except that repeating its status is a no-op."""
    if status not in STATUSES:
        raise InvalidRequest("unknown_status", repr(status))
    now = now or utcnow()
    ticket = _load(session, ticket_id)
    new_note = _with_note(ticket.note, note)
    if ticket.status in CLOSED_STATUSES:
        if status == ticket.status and new_note == (ticket.note or ""):
            return ticket_view(ticket)
        raise TicketClosed(ticket.id, ticket.status)
    if status == "assigned" and not ticket.assignee:
        raise InvalidRequest("assignee_required", "assign the ticket to someone first")
    assignee = None if status == "open" else ticket.assignee
    if (status, assignee, new_note) == (ticket.status, ticket.assignee, ticket.note or ""):
        return ticket_view(ticket)
    before = ticket.status
    _save(session, ticket, status=status, assignee=assignee, note=new_note, now=now)
    audit(session, actor, "ticket.update", f"ticket:{ticket.id}",
          {"status": status, "before": before, "note": strip_id_numbers((note or "").strip())}, now=now)
    return ticket_view(ticket)
