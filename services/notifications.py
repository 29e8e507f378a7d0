"""Alerts for family members and the operator desk: the rows a notifier delivers and marks done."""

from __future__ import annotations

from datetime import datetime
from typing import Optional

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from services.errors import InvalidRequest
from services.models import FamilyMember, Notification, Operator, Resident
from services.privacy import scrub_text
from services.types import NotificationView

DESK_LABEL = "值班话务员"


def family_label(member: FamilyMember) -> str:
    return f"{member.relation}{member.name}"


def consenting_family(session: Session, resident_id: str) -> list[FamilyMember]:
    return list(
        session.scalars(
            select(FamilyMember)
            .where(FamilyMember.resident_id == resident_id, FamilyMember.consent.is_(True))
            .order_by(FamilyMember.id)
        )
    )


def _add(session: Session, *, recipient_kind: str, recipient_id: Optional[str], label: str,
         resident_id: Optional[str], kind: str, message: str, now: datetime,
         help_request_id: Optional[int], health_reading_id: Optional[int]) -> str:
    session.add(
        Notification(
            recipient_kind=recipient_kind,
            recipient_id=recipient_id,
            recipient_label=label,
            resident_id=resident_id,
            kind=kind,
            message=scrub_text(message),
            help_request_id=help_request_id,
            health_reading_id=health_reading_id,
            created_at=now,
        )
    )
    return label


def alert_family_and_desk(
    session: Session,
    resident: Optional[Resident],
    kind: str,
    message: str,
    *,
    now: datetime,
    help_request_id: Optional[int] = None,
    health_reading_id: Optional[int] = None,
) -> tuple[str, ...]:
    """One notification per consenting family member (only they may be told) plus the duty desk."""
    labels = []
    if resident is not None:
        for member in consenting_family(session, resident.id):
            labels.append(_add(session, recipient_kind="family", recipient_id=member.id, label=family_label(member),
                               resident_id=resident.id, kind=kind, message=message, now=now,
                               help_request_id=help_request_id, health_reading_id=health_reading_id))
    labels.append(_add(session, recipient_kind="operator", recipient_id=None, label=DESK_LABEL,
                       resident_id=resident.id if resident else None, kind=kind, message=message, now=now,
                       help_request_id=help_request_id, health_reading_id=health_reading_id))
    session.flush()
    return tuple(labels)


def alert_supervisors(session: Session, resident_id: Optional[str], message: str, *, now: datetime,
                      help_request_id: Optional[int]) -> tuple[str, ...]:
    supervisors = session.scalars(select(Operator).where(Operator.role == "supervisor").order_by(Operator.id)).all()
    labels = [
        _add(session, recipient_kind="operator", recipient_id=s.id, label=f"值班主管{s.name}",
             resident_id=resident_id, kind="escalation", message=message, now=now,
             help_request_id=help_request_id, health_reading_id=None)
        for s in supervisors
    ]
    if not labels:  # nobody on the supervisor roster: escalate to the whole desk instead
        labels.append(_add(session, recipient_kind="operator", recipient_id=None, label=DESK_LABEL,
                           resident_id=resident_id, kind="escalation", message=message, now=now,
                           help_request_id=help_request_id, health_reading_id=None))
    session.flush()
    return tuple(labels)


def labels_for_help_request(session: Session, help_request_id: int) -> tuple[str, ...]:
    labels = session.scalars(
        select(Notification.recipient_label)
        .where(Notification.help_request_id == help_request_id)
        .order_by(Notification.id)
    )
    return tuple(dict.fromkeys(labels))  # keep order, drop repeats from escalations


def notification_view(n: Notification) -> NotificationView:
    return NotificationView(
        id=n.id,
        recipient_kind=n.recipient_kind,
        recipient_id=n.recipient_id,
        recipient_label=n.recipient_label,
        resident_id=n.resident_id,
        kind=n.kind,
        message=n.message,
        help_request_id=n.help_request_id,
        created_at=n.created_at,
        delivered_at=n.delivered_at,
    )


def pending_notifications(session: Session, recipient_kind: Optional[str] = None) -> list[NotificationView]:
    query = select(Notification).where(Notification.delivered_at.is_(None)).order_by(Notification.id)
    if recipient_kind is not None:
        query = query.where(Notification.recipient_kind == recipient_kind)
    return [notification_view(n) for n in session.scalars(query)]


def mark_delivered(session: Session, notification_id: int, *, now: datetime) -> bool:
    """True if this call delivered it; False if it was already delivered (or does not exist)."""
    return session.execute(
        update(Notification)
        .where(Notification.id == notification_id, Notification.delivered_at.is_(None))
        .values(delivered_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount == 1


def notifications_after(session: Session, after_id: int, recipient_kind: Optional[str] = None,
                        limit: int = 500) -> list[NotificationView]:
    """Notifications with an id above `after_id`, delivered or not, in id order: for the live fan-out."""
    if isinstance(after_id, bool) or not isinstance(after_id, int):
        raise InvalidRequest("bad_after_id", repr(after_id))
    if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
        raise InvalidRequest("limit_out_of_range", repr(limit))
    query = select(Notification).where(Notification.id > after_id).order_by(Notification.id).limit(min(limit, 1000))
    if recipient_kind is not None:
        query = query.where(Notification.recipient_kind == recipient_kind)
    return [notification_view(n) for n in session.scalars(query)]
