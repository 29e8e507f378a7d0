"""The audit log: who did what to whom. Details pass through privacy.scrub before they are stored."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from services.models import AuditEntry
from services.privacy import scrub


def audit(session: Session, actor: str, action: str, target: str, detail: dict[str, Any], *, now: datetime) -> None:
    session.add(
        AuditEntry(ts=now, actor=actor, action=action, target=target, detail=scrub(_jsonable(detail)))
    )
    session.flush()


def _jsonable(value: Any) -> Any:
    # Dates and the like go into a JSON column; keep the detail loggable without surprises.
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value)
