"""The REST API behind the family page and the operator console (and for any client of theirs).

Thin routes over the services layer: each checks who asks (gateway.auth), then runs one use-case.
Family members reach only the residents linked to them who consented; operators reach everyone;
an anonymous caller reaches nothing here but sign-in and password reset.
"""
from __future__ import annotations

import asyncio
import json
from dataclasses import asdict
from datetime import date, datetime, timedelta, timezone
from typing import Any, Optional

from fastapi import APIRouter, Depends, HTTPException, Query, Request, Response
from pydantic import BaseModel, Field
from sse_starlette.sse import EventSourceResponse

from assistant.turn import BadMessage, ChatReply, ChatService
from gateway.alerts import AlertHub
from gateway.auth import COOKIE, Authenticator, Principal, check_resident, requires
from gateway.schemas import (
    BODY,
    SIGNED_IN,
    AccountOut,
    HandoffReplyOut,
    HandoffResumeOut,
    LoginOut,
    MeOut,
    OverviewOut,
    ResetCodeOut,
    RowId,
    errors,
)
from services.clock import service_day
from services.errors import InvalidCredentials
from services.facade import Services
from services.types import (
    AccountView,
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

MESSAGE_ID = r"^[A-Za-z0-9_-]{1,64}$"
TICKET_STATUS = r"^(open|assigned|done|cancelled)$"
SESSION_MAX_AGE_S = 12 * 3600  # the cookie never outlives the session's absolute limit


class LoginIn(BaseModel):
    username: str = Field(min_length=1, max_length=40)
    password: str = Field(min_length=1, max_length=128)


class PasswordIn(BaseModel):
    old_password: str = Field(min_length=1, max_length=128)
    new_password: str = Field(min_length=1, max_length=128)


class ResetIn(BaseModel):
    username: str = Field(min_length=1, max_length=40)
    code: str = Field(min_length=1, max_length=20)
    new_password: str = Field(min_length=1, max_length=128)


class WebChatIn(BaseModel):
    message: str = Field(min_length=1, max_length=2000)
    message_id: Optional[str] = Field(default=None, pattern=MESSAGE_ID)


class NoteIn(BaseModel):
    note: str = Field(default="", max_length=500)


class ReplyIn(BaseModel):
    text: str = Field(min_length=1, max_length=1000)


class AssignIn(BaseModel):
    assignee: str = Field(min_length=1, max_length=60)


class TicketUpdateIn(BaseModel):
    status: str = Field(pattern=TICKET_STATUS)
    note: str = Field(default="", max_length=500)


def _plain(value: Any) -> Any:
    """Dataclass views to JSON-able dicts (FastAPI's encoder does dates)."""
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return asdict(value)


def account_json(account: AccountView) -> dict[str, Any]:
    return {"id": account.id, "username": account.username, "display_name": account.display_name,
            "kind": account.kind, "role": account.role, "operator_id": account.operator_id,
            "residents": [asdict(r) for r in account.residents]}


def _client_ip(request: Request) -> str:
    return (request.client.host if request.client else "") or "unknown"


def build_routers(services: Services, chat: ChatService, hub: AlertHub, auth: Authenticator) -> list[APIRouter]:
    run = asyncio.to_thread
    family_or_staff = requires(auth, "family", "operator", "supervisor")
    staff = requires(auth, "operator", "supervisor")
    supervisor = requires(auth, "supervisor")

    # --- signing in and out ------------------------------------------------------------------
    accounts = APIRouter(prefix="/api/auth", tags=["auth"], responses=errors(401, 403, 422, 429, 503))

    @accounts.post("/login", response_model=LoginOut, responses=BODY)
    async def login(body: LoginIn, request: Request, response: Response) -> dict[str, Any]:
        """Sign in with a user name and password. Sets the session cookie for pages and returns the
        token for API clients. Repeated failures are refused for a while (429, Retry-After)."""
        account = await run(services.authenticate, body.username, body.password, _client_ip(request))
        token, session = await run(services.start_web_session, account.id, _client_ip(request),
                                   (request.headers.get("user-agent") or "")[:200])
        response.set_cookie(COOKIE, token, max_age=SESSION_MAX_AGE_S, httponly=True, samesite="strict",
                            secure=request.url.scheme == "https", path="/")
        return {"account": account_json(session.account), "csrf_token": session.csrf_token, "token": token,
                "expires_at": session.expires_at, "today": service_day(services.now())}

    @accounts.post("/logout", status_code=204)
    async def logout(response: Response, principal: Principal = Depends(family_or_staff)) -> Response:
        if principal.account is not None and principal.token:
            await run(services.end_web_session, principal.token)
        response.delete_cookie(COOKIE, path="/")
        response.status_code = 204
        return response

    @accounts.post("/password", status_code=204, responses=errors(400))
    async def change_password(body: PasswordIn, principal: Principal = Depends(family_or_staff)) -> Response:
        try:
            # the other sessions of the account end; this one goes on
            await run(lambda: services.change_password(principal.account.id, body.old_password, body.new_password,
                                                       keep_token=principal.token))
        except InvalidCredentials:  # 400, not 401: the session is fine, the old password is not
            raise HTTPException(status_code=400, detail="原密码不对") from None
        return Response(status_code=204)

    @accounts.post("/reset", status_code=204, responses=BODY)
    async def reset_password(body: ResetIn) -> Response:
        """A new password with the one-time code an operator gave (by phone, in person)."""
        await run(services.reset_password, body.username, body.code, body.new_password)
        return Response(status_code=204)

    me = APIRouter(prefix="/api", tags=["auth"], responses=errors(*SIGNED_IN))

    @me.get("/me", response_model=MeOut)
    async def whoami(principal: Principal = Depends(family_or_staff)) -> dict[str, Any]:
        return {"account": account_json(principal.account), "csrf_token": principal.csrf_token,
                "today": service_day(services.now())}

    # --- acting for a resident ---------------------------------------------------------------
    residents = APIRouter(prefix="/api/residents", tags=["family"], responses=errors(*SIGNED_IN, 404, 422))

    async def for_resident(resident_id: str, principal: Principal) -> None:
        await check_resident(services, principal, resident_id)

    @residents.post("/{resident_id}/chat", response_model=ChatReply, responses=BODY)
    async def resident_chat(resident_id: str, body: WebChatIn,
                            principal: Principal = Depends(family_or_staff)) -> dict[str, Any]:
        """A message to the assistant on the resident's behalf: the same bot, the same confirmations."""
        await for_resident(resident_id, principal)
        try:
            reply = await chat.handle(resident_id, body.message, "web", body.message_id, actor=principal.actor)
        except BadMessage as e:
            raise HTTPException(status_code=422, detail=str(e)) from e
        return asdict(reply)

    @residents.get("/{resident_id}/overview", response_model=OverviewOut)
    async def overview(resident_id: str, principal: Principal = Depends(family_or_staff)) -> dict[str, Any]:
        """Upcoming meal orders, open home-visit tickets and recent calls for help."""
        await for_resident(resident_id, principal)
        resident = await run(services.get_resident, resident_id)
        orders, tickets, help_ = await asyncio.gather(
            run(services.upcoming_orders, resident_id), run(services.open_tickets, resident_id),
            run(services.recent_help, resident_id))
        return {"resident": {"id": resident.id, "name": resident.name, "honorific": resident.honorific},
                "orders": _plain(orders), "tickets": _plain(tickets), "help": _plain(help_)}

    @residents.get("/{resident_id}/conversation", response_model=list[TurnView])
    async def resident_conversation(resident_id: str, principal: Principal = Depends(family_or_staff)) -> list[dict]:
        await for_resident(resident_id, principal)
        return _plain(await run(services.conversation, resident_id))

    # --- live alerts -------------------------------------------------------------------------
    alerts = APIRouter(prefix="/api/alerts", tags=["alerts"], responses=errors(*SIGNED_IN))

    @alerts.get("/stream", response_class=EventSourceResponse,
                responses={200: {"content": {"text/event-stream": {}},
                                 "description": "events help, health, turn; a ping comment every 15 s"}})
    async def alert_stream(request: Request, principal: Principal = Depends(family_or_staff)):
        """Server-sent events: help requests (new and acknowledged), out-of-range health readings and
        conversation turns of the residents this account may see."""
        if principal.is_staff:
            allowed = None
        else:  # consent is read again at each connection: a withdrawn consent stops the alerts
            account = await run(services.account, principal.account.id)
            allowed = frozenset(r.resident_id for r in account.residents if r.consent)
        subscriber = hub.subscribe(allowed)

        async def events():
            try:
                await hub.ready.wait()  # the poller has its starting point: from here on nothing is missed
                yield {"event": "ready", "data": json.dumps({"subscribers": hub.subscribers})}
                while not subscriber.dropped:
                    try:
                        kind, data = await asyncio.wait_for(subscriber.queue.get(), 5.0)
                    except asyncio.TimeoutError:
                        if await request.is_disconnected():
                            return
                        continue
                    yield {"event": kind, "data": json.dumps(data, ensure_ascii=False)}
            finally:
                hub.unsubscribe(subscriber)

        return EventSourceResponse(events(), ping=15, headers={"Cache-Control": "no-store"})

    # --- the operator desk -------------------------------------------------------------------
    desk = APIRouter(prefix="/api/desk", tags=["desk"], responses=errors(*SIGNED_IN, 404, 409, 422))

    @desk.get("/help", response_model=list[HelpDeskView])
    async def desk_help(include_resolved: bool = False, principal: Principal = Depends(staff)) -> list[dict]:
        """Help requests, open ones first and newest on top, with the unmasked phone number."""
        return _plain(await run(services.help_requests_for_desk, include_resolved, 200))

    @desk.post("/help/{request_id}/ack", response_model=HelpRequestView)
    async def desk_ack(request_id: RowId, principal: Principal = Depends(staff)) -> dict[str, Any]:
        return asdict(await run(services.acknowledge_help, request_id, principal.actor))

    @desk.post("/help/{request_id}/resolve", response_model=HelpRequestView, responses=BODY)
    async def desk_resolve(request_id: RowId, body: NoteIn, principal: Principal = Depends(staff)) -> dict[str, Any]:
        return asdict(await run(services.resolve_help, request_id, principal.actor, body.note))

    @desk.get("/handoffs", response_model=list[HandoffView])
    async def desk_handoffs(status: Optional[str] = Query(default=None, pattern=r"^(queued|taken|closed)$"),
                            principal: Principal = Depends(staff)) -> list[dict]:
        handoffs = await run(services.list_handoffs, status)
        return _plain(sorted(handoffs, key=lambda h: h.created_at, reverse=True))

    async def _handoff(handoff_id: int):
        return await run(services.get_handoff, handoff_id)

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
        handoff = await _handoff(handoff_id)
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

    @desk.get("/conversations/live", response_model=list[ConversationSummary])
    async def desk_live(minutes: int = Query(default=15, ge=1, le=24 * 60),
                        principal: Principal = Depends(staff)) -> list[dict]:
        """Conversations on any channel (text, web, speaker, phone) with a turn in the last minutes."""
        since = services.now() - timedelta(minutes=minutes)
        return _plain(await run(services.live_conversations, since))

    @desk.get("/conversations/search", response_model=list[ConversationSummary])
    async def desk_search(q: Optional[str] = Query(default=None, max_length=100),
                          resident: Optional[str] = Query(default=None, max_length=20),
                          channel: Optional[str] = Query(default=None, pattern=r"^(text|speaker|phone|web)$"),
                          since: Optional[datetime] = None, until: Optional[datetime] = None,
                          principal: Principal = Depends(staff)) -> list[dict]:
        return _plain(await run(services.search_conversations, q or None, resident or None, channel,
                                _aware(since), _aware(until)))

    @desk.get("/conversations/{conversation_id}", response_model=list[TurnView])
    async def desk_conversation(conversation_id: str, principal: Principal = Depends(staff)) -> list[dict]:
        return _plain(await run(services.conversation, conversation_id))

    @desk.get("/tickets", response_model=list[TicketView])
    async def desk_tickets(status: Optional[str] = Query(default=None, pattern=TICKET_STATUS),
                           principal: Principal = Depends(staff)) -> list[dict]:
        return _plain(await run(services.list_tickets, status))

    @desk.post("/tickets/{ticket_id}/assign", response_model=TicketView, responses=BODY)
    async def desk_assign(ticket_id: RowId, body: AssignIn, principal: Principal = Depends(staff)) -> dict[str, Any]:
        return asdict(await run(services.assign_ticket, ticket_id, body.assignee, principal.actor))

    @desk.post("/tickets/{ticket_id}/update", response_model=TicketView, responses=BODY)
    async def desk_ticket_update(ticket_id: RowId, body: TicketUpdateIn,
                                 principal: Principal = Depends(staff)) -> dict[str, Any]:
        return asdict(await run(services.update_ticket, ticket_id, body.status, body.note, principal.actor))

    @desk.get("/care-signals", response_model=list[CareDeskView])
    async def desk_care_signals(days: int = Query(default=7, ge=1, le=90),
                                principal: Principal = Depends(staff)) -> list[dict]:
        """Residents on the care list: loneliness voiced twice or more in the window, or once by someone living
        alone; who, what they said, how often, when, and whether a 陪聊 visit is already on its way. For a care
        call, not an alarm. Phone numbers unmasked, to ring back."""
        return _plain(await run(services.care_signals_for_desk, days))

    @desk.get("/observations", response_model=list[ObservationView])
    async def desk_observations(days: int = Query(default=7, ge=1, le=90), alerted_only: bool = True,
                                principal: Principal = Depends(staff)) -> list[dict]:
        """Complaints residents told (腿肿了好几天了), newest first; by default only those that alerted family
        and the desk (services.observations has the rules)."""
        return _plain(await run(services.observations_for_desk, days, alerted_only))

    @desk.get("/canteens", response_model=list[FacilityView])
    async def desk_canteens(principal: Principal = Depends(staff)) -> list[dict]:
        return _plain(await run(services.canteens))

    @desk.get("/canteens/{canteen_id}/orders", response_model=list[CanteenOrderView])
    async def desk_canteen_orders(canteen_id: str, day: Optional[date] = None,
                                  principal: Principal = Depends(staff)) -> list[dict]:
        """The day's orders of one canteen, for its kitchen and its delivery round (by default the service's
        day, /api/me's `today`)."""
        return _plain(await run(services.canteen_orders, canteen_id, day or service_day(services.now())))

    @desk.get("/calls", response_model=list[CallRecordView])
    async def desk_calls(resident: Optional[str] = Query(default=None, max_length=20),
                         limit: int = Query(default=50, ge=1, le=500),
                         principal: Principal = Depends(staff)) -> list[dict]:
        return _plain(await run(services.calls, resident, limit, True))

    @desk.get("/calls/{call_id}", response_model=CallRecordView)
    async def desk_call(call_id: RowId, principal: Principal = Depends(staff)) -> dict[str, Any]:
        return asdict(await run(services.get_call, call_id, True))

    @desk.get("/accounts", response_model=list[AccountOut])
    async def desk_accounts(principal: Principal = Depends(supervisor)) -> list[dict]:
        return [account_json(a) for a in await run(services.accounts)]

    @desk.post("/accounts/{username}/reset", response_model=ResetCodeOut)
    async def desk_reset(username: str, principal: Principal = Depends(staff)) -> dict[str, str]:
        """A one-time code (24 h) for the account holder to set a new password; their sessions end."""
        code = await run(services.issue_password_reset, username, principal.account.operator_id)
        return {"username": username, "code": code}

    return [accounts, me, residents, alerts, desk]


def _turn_channel(channel: str) -> str:
    return channel if channel in ("text", "speaker", "phone", "web") else "text"


def _aware(value: Optional[datetime]) -> Optional[datetime]:
    """A time without a zone from a query string is taken as UTC."""
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=timezone.utc)
    return value

