"""For operators and supervisors (the console): help requests, handoffs, conversations, tickets, the care
list, canteens, call records, accounts. The lists of handoffs and call records, and the open help
requests, also answer the devices and tools of this installation (service key): benches and tests read
them there."""
from __future__ import annotations

import asyncio
from dataclasses import asdict
from datetime import date, datetime, timedelta, timezone
from typing import Any, Optional

from fastapi import APIRouter, Depends, HTTPException, Query
from pydantic import BaseModel, Field

from common.words import CHANNEL_PATTERN, Channel
from gateway.auth import Principal
from gateway.deps import GatewayParts
from gateway.schemas import (
    BODY,
    SIGNED_IN,
    AccountOut,
    HandoffReplyOut,
    HandoffResumeOut,
    ResetCodeOut,
    RowId,
    account_json,
    errors,
    plain,
)
from services.clock import service_day
from services.types import (
    CallRecordView,
    CanteenOrderView,
    CareDeskView,
    ConversationSummary,
    FacilityView,
    HandoffView,
    HelpDeskView,
    HelpRequestView,
    ObservationView,
    TicketView,
    TurnView,
)

TICKET_STATUS = r"^(open|assigned|done|cancelled)$"
HANDOFF_STATUS = r"^(queued|taken|closed)$"


class NoteIn(BaseModel):
    note: str = Field(default="", max_length=500)


class ReplyIn(BaseModel):
    text: str = Field(min_length=1, max_length=1000)


class AssignIn(BaseModel):
    assignee: str = Field(min_length=1, max_length=60)


class TicketUpdateIn(BaseModel):
    status: str = Field(pattern=TICKET_STATUS)
    note: str = Field(default="", max_length=500)


def router(parts: GatewayParts) -> APIRouter:
    services, chat, run = parts.services, parts.chat, asyncio.to_thread
    trusted, staff, supervisor = parts.doors.trusted, parts.doors.staff, parts.doors.supervisor
    api = APIRouter()
    desk = APIRouter(prefix="/api/desk", tags=["desk"], responses=errors(*SIGNED_IN, 404, 409, 422))

    # --- help requests -------------------------------------------------------------------------
    @api.get("/api/help-requests", response_model=list[HelpRequestView], responses=errors(*SIGNED_IN))
    async def help_requests(principal: Principal = Depends(trusted)) -> list[dict[str, Any]]:
        """Open help requests, for operators."""
        return plain(await run(services.open_help_requests))

    @desk.get("/help", response_model=list[HelpDeskView])
    async def desk_help(include_resolved: bool = False, principal: Principal = Depends(staff)) -> list[dict]:
        """Help requests, open ones first and newest on top, with the unmasked phone number."""
        return plain(await run(services.help_requests_for_desk, include_resolved, 200))

    @desk.post("/help/{request_id}/ack", response_model=HelpRequestView)
    async def desk_ack(request_id: RowId, principal: Principal = Depends(staff)) -> dict[str, Any]:
        return asdict(await run(services.acknowledge_help, request_id, principal.actor))

    @desk.post("/help/{request_id}/resolve", response_model=HelpRequestView, responses=BODY)
    async def desk_resolve(request_id: RowId, body: NoteIn, principal: Principal = Depends(staff)) -> dict[str, Any]:
        return asdict(await run(services.resolve_help, request_id, principal.actor, body.note))

    # --- handoffs ------------------------------------------------------------------------------
    @desk.get("/handoffs", response_model=list[HandoffView])
    async def desk_handoffs(status: Optional[str] = Query(default=None, pattern=HANDOFF_STATUS),
                            principal: Principal = Depends(trusted)) -> list[dict]:
        """Conversations waiting for (or with) an operator, with transcript and summary, newest first."""
        handoffs = await run(services.list_handoffs, status)
        return plain(sorted(handoffs, key=lambda h: h.created_at, reverse=True))

    @desk.post("/handoffs/{handoff_id}/take", response_model=HandoffView)
    async def desk_take(handoff_id: RowId, principal: Principal = Depends(staff)) -> dict[str, Any]:
        """The operator takes the conversation; the bot stays quiet in it. 409 when another has it."""
        handoff = await run(services.take_handoff, handoff_id, principal.account.operator_id)
        await run(services.log_turn, handoff.conversation_id, handoff.resident_id, _turn_channel(handoff.channel),
                  "system", f"工作人员{principal.account.display_name}已接手", actor=principal.actor)
        return asdict(handoff)

    @desk.post("/handoffs/{handoff_id}/reply", response_model=HandoffReplyOut, responses=BODY)
    async def desk_reply(handoff_id: RowId, body: ReplyIn, principal: Principal = Depends(staff)) -> dict[str, Any]:
        """The operator writes in the conversation, as a person; the family page shows it at once."""
        handoff = await run(services.get_handoff, handoff_id)
        if handoff.status != "taken" or (handoff.taken_by != principal.account.operator_id
                                         and principal.kind != "supervisor"):
            raise HTTPException(status_code=409, detail="请先接手这个对话")
        text = body.text.strip()
        if not text:
            raise HTTPException(status_code=422, detail="回复是空的")
        handoff = await run(services.append_handoff_message, handoff.conversation_id, "operator", text)
        turn = await run(services.log_turn, handoff.conversation_id, handoff.resident_id,
                         _turn_channel(handoff.channel), "operator", text, actor=principal.actor)
        await run(services.audit, principal.actor, "handoff.reply", f"handoff:{handoff.id}",
                  {"conversation": handoff.conversation_id, "chars": len(text)})
        return {"handoff": asdict(handoff), "turn": asdict(turn)}

    @desk.post("/handoffs/{handoff_id}/resume", response_model=HandoffResumeOut)
    async def desk_resume(handoff_id: RowId, principal: Principal = Depends(staff)) -> dict[str, Any]:
        """Hands the conversation back to the bot (Rasa's ConversationResumed)."""
        handoff = await run(services.close_handoff, handoff_id, principal.account.operator_id)
        resumed = await chat.resume(handoff.conversation_id)
        await run(services.log_turn, handoff.conversation_id, handoff.resident_id, _turn_channel(handoff.channel),
                  "system", "已交还智能助手", actor=principal.actor)
        return {"handoff": asdict(handoff), "bot_resumed": resumed}

    # --- conversations -------------------------------------------------------------------------
    @desk.get("/conversations/live", response_model=list[ConversationSummary])
    async def desk_live(minutes: int = Query(default=15, ge=1, le=24 * 60),
                        principal: Principal = Depends(staff)) -> list[dict]:
        """Conversations on any channel (text, web, speaker, phone) with a turn in the last minutes."""
        since = services.now() - timedelta(minutes=minutes)
        return plain(await run(services.live_conversations, since))

    @desk.get("/conversations/search", response_model=list[ConversationSummary])
    async def desk_search(q: Optional[str] = Query(default=None, max_length=100),
                          resident: Optional[str] = Query(default=None, max_length=20),
                          channel: Optional[str] = Query(default=None, pattern=CHANNEL_PATTERN),
                          since: Optional[datetime] = None, until: Optional[datetime] = None,
                          principal: Principal = Depends(staff)) -> list[dict]:
        return plain(await run(services.search_conversations, q or None, resident or None, channel,
                               _aware(since), _aware(until)))

    @desk.get("/conversations/{conversation_id}", response_model=list[TurnView])
    async def desk_conversation(conversation_id: str, principal: Principal = Depends(staff)) -> list[dict]:
        return plain(await run(services.conversation, conversation_id))

    # --- home-visit tickets --------------------------------------------------------------------
    @desk.get("/tickets", response_model=list[TicketView])
    async def desk_tickets(status: Optional[str] = Query(default=None, pattern=TICKET_STATUS),
                           principal: Principal = Depends(staff)) -> list[dict]:
        return plain(await run(services.list_tickets, status))

    @desk.post("/tickets/{ticket_id}/assign", response_model=TicketView, responses=BODY)
    async def desk_assign(ticket_id: RowId, body: AssignIn, principal: Principal = Depends(staff)) -> dict[str, Any]:
        return asdict(await run(services.assign_ticket, ticket_id, body.assignee, principal.actor))

    @desk.post("/tickets/{ticket_id}/update", response_model=TicketView, responses=BODY)
    async def desk_ticket_update(ticket_id: RowId, body: TicketUpdateIn,
                                 principal: Principal = Depends(staff)) -> dict[str, Any]:
        return asdict(await run(services.update_ticket, ticket_id, body.status, body.note, principal.actor))

    # --- care ----------------------------------------------------------------------------------
    @desk.get("/care-signals", response_model=list[CareDeskView])
    async def desk_care_signals(days: int = Query(default=7, ge=1, le=90),
                                principal: Principal = Depends(staff)) -> list[dict]:
        """Residents on the care list: loneliness voiced twice or more in the window, or once by someone living
        alone; who, what they said, how often, when, and whether a 陪聊 visit is already on its way. For a care
        call, not an alarm. Phone numbers unmasked, to ring back."""
        return plain(await run(services.care_signals_for_desk, days))

    @desk.get("/observations", response_model=list[ObservationView])
    async def desk_observations(days: int = Query(default=7, ge=1, le=90), alerted_only: bool = True,
                                principal: Principal = Depends(staff)) -> list[dict]:
        """Complaints residents told (腿肿了好几天了), newest first; by default only those that alerted family
        and the desk (services.observations has the rules)."""
        return plain(await run(services.observations_for_desk, days, alerted_only))

    # --- canteens ------------------------------------------------------------------------------
    @desk.get("/canteens", response_model=list[FacilityView])
    async def desk_canteens(principal: Principal = Depends(staff)) -> list[dict]:
        return plain(await run(services.canteens))

    @desk.get("/canteens/{canteen_id}/orders", response_model=list[CanteenOrderView])
    async def desk_canteen_orders(canteen_id: str, day: Optional[date] = None,
                                  principal: Principal = Depends(staff)) -> list[dict]:
        """The day's orders of one canteen, for its kitchen and its delivery round (by default the service's
        day, /api/me's `today`)."""
        return plain(await run(services.canteen_orders, canteen_id, day or service_day(services.now())))

    # --- hotline call records ------------------------------------------------------------------
    @desk.get("/calls", response_model=list[CallRecordView])
    async def desk_calls(resident: Optional[str] = Query(default=None, max_length=20),
                         limit: int = Query(default=50, ge=1, le=500),
                         principal: Principal = Depends(trusted)) -> list[dict]:
        """Hotline call records, newest first, with transcript and outcome; phone numbers unmasked for
        staff, masked for the service key."""
        return plain(await run(services.calls, resident, limit, principal.is_staff))

    @desk.get("/calls/{call_id}", response_model=CallRecordView)
    async def desk_call(call_id: RowId, principal: Principal = Depends(trusted)) -> dict[str, Any]:
        """One call record (numbers unmasked for staff, masked for the service key)."""
        return asdict(await run(services.get_call, call_id, principal.is_staff))

    # --- accounts ------------------------------------------------------------------------------
    @desk.get("/accounts", response_model=list[AccountOut])
    async def desk_accounts(principal: Principal = Depends(supervisor)) -> list[dict]:
        return [account_json(a) for a in await run(services.accounts)]

    @desk.post("/accounts/{username}/reset", response_model=ResetCodeOut)
    async def desk_reset(username: str, principal: Principal = Depends(staff)) -> dict[str, str]:
        """A one-time code (24 h) for the account holder to set a new password; their sessions end."""
        code = await run(services.issue_password_reset, username, principal.account.operator_id)
        return {"username": username, "code": code}

    api.include_router(desk)
    return api


def _turn_channel(channel: str) -> str:
    """A handoff's channel as the conversation log keeps it (text for one it does not know)."""
    return Channel.of(channel).value


def _aware(value: Optional[datetime]) -> Optional[datetime]:
    """A time without a zone from a query string is taken as UTC."""
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=timezone.utc)
    return value
