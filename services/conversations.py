"""The conversation log: every turn on every channel, for the operator console's live view and search
and the family page's chat history. ID numbers are stripped before anything is stored."""

from __future__ import annotations

from datetime import datetime
from typing import Optional, Sequence

from sqlalchemy import Select, and_, func, select
from sqlalchemy.orm import Session, aliased

from services.clock import as_utc, utcnow
from services.errors import InvalidRequest
from services.models import TURN_CHANNELS, TURN_ROLES, ConversationTurn, Handoff, Resident
from services.privacy import strip_id_numbers
from services.types import ConversationSummary, TurnView

MAX_CONVERSATION_ID_LEN = 120
MAX_ACTOR_LEN = 60
MAX_INTENT_LEN = 60
MAX_TEXT_LEN = 4000  # far beyond a spoken or typed turn; refuses pasted documents
MAX_QUERY_LEN = 100
MAX_LIMIT = 1000
OPEN_HANDOFF = ("queued", "taken")


def turn_view(turn: ConversationTurn) -> TurnView:
    return TurnView(
        id=turn.id,
        conversation_id=turn.conversation_id,
        resident_id=turn.resident_id,
        channel=turn.channel,
        role=turn.role,
        actor=turn.actor,
        text=turn.text,
        intent=turn.intent,
        created_at=turn.created_at,
    )


def _limit(limit: int) -> int:
    if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
        raise InvalidRequest("limit_out_of_range", repr(limit))
    return min(limit, MAX_LIMIT)


def _aware(moment: Optional[datetime], name: str) -> Optional[datetime]:
    if moment is None:
        return None
    if not isinstance(moment, datetime) or moment.tzinfo is None:
        raise InvalidRequest("naive_datetime", f"{name} must be an aware datetime")
    return as_utc(moment)


def _channel(channel: str) -> str:
    if channel not in TURN_CHANNELS:
        raise InvalidRequest("unknown_channel", repr(channel))
    return channel


def log_turn(
    session: Session,
    conversation_id: str,
    resident_id: Optional[str],
    channel: str,
    role: str,
    text: str,
    *,
    actor: Optional[str] = None,
    intent: Optional[str] = None,
    now: Optional[datetime] = None,
) -> TurnView:
    """Stores one turn. A resident id that names nobody (an unknown chat sender) is logged with
    resident_id None, like a call for help: the conversation id still says who it was."""
    if not conversation_id or not isinstance(conversation_id, str) or len(conversation_id) > MAX_CONVERSATION_ID_LEN:
        raise InvalidRequest("bad_conversation_id", repr(conversation_id)[:40])
    _channel(channel)
    if role not in TURN_ROLES:
        raise InvalidRequest("unknown_role", repr(role))
    text = text or ""
    if len(text) > MAX_TEXT_LEN:
        raise InvalidRequest("text_too_long", f"{len(text)} > {MAX_TEXT_LEN} characters")
    if actor is not None and len(actor) > MAX_ACTOR_LEN:
        raise InvalidRequest("actor_too_long", actor[:40])
    known = resident_id if resident_id and session.get(Resident, resident_id) is not None else None
    turn = ConversationTurn(
        conversation_id=conversation_id,
        resident_id=known,
        channel=channel,
        role=role,
        actor=actor or None,
        text=strip_id_numbers(text),
        intent=(intent or None) and intent[:MAX_INTENT_LEN],
        created_at=now or utcnow(),
    )
    session.add(turn)
    session.flush()
    return turn_view(turn)


def log_exchange(
    session: Session,
    conversation_id: str,
    resident_id: Optional[str],
    channel: str,
    turns: Sequence[tuple[str, str, Optional[str]]],
    *,
    now: Optional[datetime] = None,
) -> list[TurnView]:
    """One message and its answers, as (role, text, actor) in order, in one transaction: a chat
    turn costs one commit, not one per line."""
    return [log_turn(session, conversation_id, resident_id, channel, role, text, actor=actor, now=now)
            for role, text, actor in turns]


def log_exchanges(
    session: Session,
    exchanges: Sequence[tuple[str, Optional[str], str, Sequence[tuple[str, str, Optional[str]]]]],
    *,
    now: Optional[datetime] = None,
) -> list[list[TurnView]]:
    """Several conversations' exchanges, (conversation id, resident id, channel, turns) each, in one
    transaction: chats that end at the same moment share one commit (one disk flush)."""
    return [log_exchange(session, conversation_id, resident_id, channel, turns, now=now)
            for conversation_id, resident_id, channel, turns in exchanges]


def conversation(session: Session, conversation_id: str, limit: int = 200) -> list[TurnView]:
    """The conversation's latest `limit` turns, oldest first (as a chat window shows them)."""
    latest = session.scalars(
        select(ConversationTurn)
        .where(ConversationTurn.conversation_id == conversation_id)
        .order_by(ConversationTurn.id.desc())
        .limit(_limit(limit))
    ).all()
    return [turn_view(t) for t in reversed(latest)]


def turns_after(session: Session, after_id: int, limit: int = 500) -> list[TurnView]:
    """Turns with an id above `after_id`, in id order: what the live fan-out has not sent yet."""
    if isinstance(after_id, bool) or not isinstance(after_id, int):
        raise InvalidRequest("bad_after_id", repr(after_id))
    turns = session.scalars(
        select(ConversationTurn).where(ConversationTurn.id > after_id).order_by(ConversationTurn.id).limit(_limit(limit))
    )
    return [turn_view(t) for t in turns]


def _summaries(session: Session, groups: Select, limit: int) -> list[ConversationSummary]:
    """One summary per conversation in `groups` (conversation_id, last_id, turns, any resident_id),
    from its last turn, newest first."""
    grouped = groups.subquery("grouped")
    last = aliased(ConversationTurn, name="last_turn")
    resident_id = func.coalesce(last.resident_id, grouped.c.any_resident_id)
    rows = session.execute(
        select(
            last.conversation_id,
            resident_id.label("resident_id"),
            Resident.name,
            last.channel,
            last.text,
            last.role,
            last.created_at,
            grouped.c.turns,
            Handoff.status,
        )
        .select_from(grouped)
        .join(last, last.id == grouped.c.last_id)
        .outerjoin(Resident, Resident.id == resident_id)
        # At most one open handoff per conversation (the partial unique index on handoffs).
        .outerjoin(Handoff, and_(Handoff.conversation_id == last.conversation_id, Handoff.status.in_(OPEN_HANDOFF)))
        .order_by(last.created_at.desc(), last.id.desc())
        .limit(limit)
    ).all()
    return [
        ConversationSummary(
            conversation_id=conversation_id,
            resident_id=rid,
            resident_name=name,
            channel=channel,
            last_text=text,
            last_role=role,
            last_at=as_utc(created_at),
            turns=turns,
            handoff_status=handoff_status,
        )
        for conversation_id, rid, name, channel, text, role, created_at, turns, handoff_status in rows
    ]


def _groups() -> Select:
    return select(
        ConversationTurn.conversation_id,
        func.max(ConversationTurn.id).label("last_id"),
        func.count(ConversationTurn.id).label("turns"),
        func.max(ConversationTurn.resident_id).label("any_resident_id"),
    ).group_by(ConversationTurn.conversation_id)


def live_conversations(session: Session, since: datetime, limit: int = 100) -> list[ConversationSummary]:
    """Conversations with a turn at or after `since`, the most recently active first."""
    since = _aware(since, "since")
    if since is None:
        raise InvalidRequest("naive_datetime", "since is required")
    groups = _groups().having(func.max(ConversationTurn.created_at) >= since)
    return _summaries(session, groups, _limit(limit))


def _like_pattern(q: str) -> str:
    escaped = q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def search_conversations(
    session: Session,
    q: Optional[str] = None,
    resident_id: Optional[str] = None,
    channel: Optional[str] = None,
    since: Optional[datetime] = None,
    until: Optional[datetime] = None,
    limit: int = 50,
) -> list[ConversationSummary]:
    """Conversations with at least one turn that meets every filter given (text containing `q`, case
    folded; that resident; that channel; created in [since, until)), summarised over all their turns,
    the most recently active first."""
    since, until = _aware(since, "since"), _aware(until, "until")
    matching = select(ConversationTurn.conversation_id)
    q = (q or "").strip()
    if q:
        if len(q) > MAX_QUERY_LEN:
            raise InvalidRequest("query_too_long", f"{len(q)} > {MAX_QUERY_LEN} characters")
        # LIKE with the wildcards escaped: '50%' and 'a_b' mean themselves. ILIKE on PostgreSQL,
        # lower() LIKE lower() on SQLite (Chinese has no case; Latin letters fold on both).
        matching = matching.where(ConversationTurn.text.ilike(_like_pattern(q), escape="\\"))
    if resident_id:
        matching = matching.where(ConversationTurn.resident_id == resident_id)
    if channel:
        matching = matching.where(ConversationTurn.channel == _channel(channel))
    if since is not None:
        matching = matching.where(ConversationTurn.created_at >= since)
    if until is not None:
        matching = matching.where(ConversationTurn.created_at < until)
    groups = _groups().where(ConversationTurn.conversation_id.in_(matching.distinct()))
    return _summaries(session, groups, _limit(limit))
