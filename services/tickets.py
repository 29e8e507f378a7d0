"""Home-service tickets (理发, 助浴, 送药 …): a resident asks, the station dispatches."""

from __future__ import annotations

from datetime import date, datetime
from typing import Optional

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from services.audit import audit
from services.clock import local_day, utcnow
from services.errors import InvalidRequest, UnknownServiceType
from services.models import ServiceTicket, ServiceType
from services.privacy import strip_id_numbers
from services.residents import load_resident
from services.types import TicketView

OPEN_STATUSES = ("open", "assigned")


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
