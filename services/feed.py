"""Where the live alert feed starts: the newest notification and conversation turn right now."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from services.models import ConversationTurn, Notification


def feed_marks(session: Session) -> tuple[int, int]:
    """(last notification id, last conversation turn id); 0 when there is none yet."""
    notification = session.scalar(select(func.max(Notification.id))) or 0
    turn = session.scalar(select(func.max(ConversationTurn.id))) or 0
    return int(notification), int(turn)
