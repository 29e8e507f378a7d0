"""FastAPI application: `uvicorn gateway.app:create_app --factory` (text, pages, speakers).

The gateway knows no other channel: the process that also runs the hotline (yinling.serve) hands the
phone line in as a companion, which the app starts, stops and reports in /api/health.
"""
from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Sequence
from dataclasses import asdict
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Protocol

import httpx
from fastapi import Depends, FastAPI, HTTPException, Query, Request, WebSocket
from fastapi.responses import FileResponse, JSONResponse
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel, Field

from assistant.rasa_client import RasaClient
from assistant.sessions import SessionKeeper
from assistant.turn import BadMessage, ChatReply, ChatService
from assistant.voice_settings import ServicesVoiceSettings
from common.service_key import service_key
from gateway.alerts import AlertHub
from gateway.auth import Authenticator, Principal, check_resident, requires
from gateway.headers import SecurityHeaders
from gateway.schemas import BODY, SIGNED_IN, RowId, errors
from gateway.settings import Settings
from gateway.voice_ws import CLOSE_UNAUTHORISED, voice_socket
from gateway.web_api import build_routers
from services.errors import (
    AccountDisabled,
    Conflict,
    InvalidCredentials,
    InvalidRequest,
    NotAllowed,
    NotFound,
    ServiceError,
    ServiceUnavailable,
    SessionInvalid,
    TooManyAttempts,
)
from services.facade import Services
from services.types import CallRecordView, HandoffView, HelpRequestView
from voice.satellites import SatelliteController
from voice.service import VoiceConfig, VoiceService

logger = logging.getLogger(__name__)

STATIC = Path(__file__).resolve().parent / "static"
# what each domain error means over HTTP; the order matters (subclasses first)
ERROR_STATUS: tuple[tuple[type[ServiceError], int], ...] = (
    (TooManyAttempts, 429), (InvalidCredentials, 401), (SessionInvalid, 401), (AccountDisabled, 403),
    (NotAllowed, 403), (NotFound, 404), (Conflict, 409), (InvalidRequest, 422), (ServiceUnavailable, 503),
)
SENDER_PATTERN = r"^[A-Za-z0-9_.:@+-]{1,64}$"


class ChatIn(BaseModel):
    sender: str = Field(default="r-0001", pattern=SENDER_PATTERN, description="resident id (r-0001 …)")
    message: str = Field(min_length=1, max_length=2000)
    channel: str = Field(default="text", pattern=r"^(text|speaker|phone|web)$")
    message_id: str | None = Field(default=None, pattern=r"^[A-Za-z0-9_-]{1,64}$")


async def _periodic(services: Services, settings: Settings) -> None:
    """Escalate unacknowledged help requests; replay what the outbox kept."""
    while True:
        try:
            await asyncio.to_thread(
                services.escalate_overdue, datetime.now(timezone.utc), timedelta(seconds=settings.ack_timeout_s)
            )
            await asyncio.to_thread(services.replay_outbox)
            await asyncio.to_thread(services.purge_call_audio)
        except Exception:  # keep the loop alive; the next round retries
            logger.exception("periodic safety jobs failed")
        await asyncio.sleep(settings.escalation_check_s)


class Companion(Protocol):
    """Another channel served in this process (the hotline): started after the app, stopped before it."""

    name: str

    async def start(self) -> None: ...

    async def stop(self) -> None: ...

    def status(self) -> dict[str, Any]: ...


# builds the companions from the parts they share with the gateway
Companions = Callable[[Services, ChatService, VoiceService], Sequence[Companion]]


async def _start_companion(companion: Companion) -> None:
    try:
        await companion.start()
    except Exception:  # text and speakers keep working; /api/health shows the companion is down
        logger.exception("%s could not start", companion.name)


async def _start_voice(voice: VoiceService) -> None:
    try:
        await voice.start()
    except Exception:  # text keeps working; each voice connection reports the problem
        logger.exception("voice could not start")


def create_app(settings: Settings | None = None, services: Services | None = None, *,
               companions: Companions | None = None) -> FastAPI:
    settings = settings or Settings.from_env()
    services = services or Services()
    rasa = RasaClient(settings.rasa_url, settings.rasa_timeout_s)
    chat = ChatService(services, rasa, settings.max_message_chars, SessionKeeper(rasa, settings.session_turns))
    voice = VoiceService(ServicesVoiceSettings(services), chat, VoiceConfig.from_env())
    satellites = SatelliteController(voice)
    others = list(companions(services, chat, voice)) if companions is not None else []
    auth = Authenticator(services, settings.service_key or service_key())
    hub = AlertHub(services, settings.alert_poll_s)
    trusted = requires(auth, "service", "operator", "supervisor")  # devices and tools of this installation, staff

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI):
        tasks = [asyncio.create_task(_periodic(services, settings)), asyncio.create_task(hub.run())]
        if settings.voice_preload:  # load the model and speech workers now, not on the first speaker
            tasks.append(asyncio.create_task(_start_voice(voice)))
        if settings.satellites:
            tasks.append(asyncio.create_task(satellites.run()))
        tasks += [asyncio.create_task(_start_companion(c)) for c in others]
        yield
        for companion in others:
            await companion.stop()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await voice.close()
        await chat.aclose()
        await rasa.aclose()

    app = FastAPI(title="Yinling gateway", version="0.1.0", lifespan=lifespan,
                  description="银龄 Yinling: the assistant's text channel, the family page and the operator "
                              "console. Sign in at /api/auth/login; send the token as `Authorization: Bearer` "
                              "(or use the cookie and the `X-CSRF-Token` header from a page).")

    @app.exception_handler(ServiceError)
    async def domain_error(request: Request, exc: ServiceError) -> JSONResponse:
        status = next((code for kind, code in ERROR_STATUS if isinstance(exc, kind)), 400)
        headers = {}
        if isinstance(exc, TooManyAttempts):
            headers["Retry-After"] = str(max(1, int(getattr(exc, "retry_after_s", 60))))
        if status == 503:
            logger.error("service unavailable: %s", exc)
        return JSONResponse({"detail": str(exc), "code": exc.code}, status_code=status, headers=headers)

    app.add_middleware(SecurityHeaders)

    for router in build_routers(services, chat, hub, auth):
        app.include_router(router)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")

    @app.get("/", include_in_schema=False)
    async def index() -> FileResponse:
        return FileResponse(STATIC / "index.html")

    @app.get("/family", include_in_schema=False)
    async def family_page() -> FileResponse:
        return FileResponse(STATIC / "family.html")

    @app.get("/console", include_in_schema=False)
    async def console_page() -> FileResponse:
        return FileResponse(STATIC / "console.html")

    @app.post("/api/chat", response_model=ChatReply, responses={**errors(*SIGNED_IN, 422), **BODY})
    async def post_chat(body: ChatIn, principal: Principal = Depends(trusted)) -> dict[str, Any]:
        """One message in, the assistant's answers out (text, buttons, speech hints). For the devices and
        tools of this installation (service key) and staff; family members use /api/residents/{id}/chat."""
        try:
            reply = await chat.handle(body.sender, body.message, body.channel, body.message_id)
        except BadMessage as e:
            raise HTTPException(status_code=422, detail=str(e)) from e
        return asdict(reply)

    @app.get("/api/health")
    async def health() -> dict[str, Any]:
        rasa_ok = await rasa.healthy()
        try:
            async with httpx.AsyncClient(timeout=2) as client:
                actions_ok = (await client.get(f"{settings.actions_url}/health")).status_code == 200
        except httpx.HTTPError:
            actions_ok = False
        try:
            await asyncio.to_thread(services.programmes)
            db_ok = True
        except ServiceError:
            db_ok = False
        return {"status": "ok" if rasa_ok and actions_ok and db_ok else "degraded",
                "rasa": rasa_ok, "actions": actions_ok, "database": db_ok,
                "voice": {"ready": voice.ready, "language": voice.language, "note": voice.model_note or None,
                          "satellites": {d: link.connected.is_set() for d, (link, _) in satellites.links.items()}},
                "phone": None, **{c.name: c.status() for c in others}}

    @app.websocket("/api/voice")
    async def voice_stream(ws: WebSocket) -> None:
        """Speech in, answers out: see gateway.voice_ws for the protocol."""
        principal = await auth.websocket(ws)
        if principal is None or principal.kind not in ("service", "operator", "supervisor", "family"):
            await ws.close(code=CLOSE_UNAUTHORISED)
            return
        if principal.kind == "family":  # a family member's browser may speak for their own residents only
            resident = ws.query_params.get("resident")
            try:
                if not resident:
                    raise HTTPException(status_code=403)
                await check_resident(services, principal, resident)
            except HTTPException:
                await ws.close(code=CLOSE_UNAUTHORISED)
                return
        await voice_socket(ws, voice)

    @app.get("/api/handoffs", response_model=list[HandoffView], responses=errors(*SIGNED_IN))
    async def handoffs(status: str | None = None, principal: Principal = Depends(trusted)) -> list[dict[str, Any]]:
        """Conversations waiting for (or with) an operator, with transcript and summary."""
        return [asdict(h) for h in await asyncio.to_thread(services.list_handoffs, status)]

    @app.get("/api/calls", response_model=list[CallRecordView], responses=errors(*SIGNED_IN))
    async def calls(resident: str | None = None, limit: int = Query(default=50, ge=1, le=500),
                    principal: Principal = Depends(trusted)) -> list[dict[str, Any]]:
        """Hotline call records, newest first (numbers masked), with transcript and outcome."""
        return [asdict(c) for c in await asyncio.to_thread(services.calls, resident, limit)]

    @app.get("/api/calls/{call_id}", response_model=CallRecordView, responses=errors(*SIGNED_IN, 404))
    async def call(call_id: RowId, principal: Principal = Depends(trusted)) -> dict[str, Any]:
        try:
            return asdict(await asyncio.to_thread(services.get_call, call_id))
        except ServiceError as e:
            raise HTTPException(status_code=404, detail=str(e)) from e

    @app.get("/api/help-requests", response_model=list[HelpRequestView], responses=errors(*SIGNED_IN))
    async def help_requests(principal: Principal = Depends(trusted)) -> list[dict[str, Any]]:
        """Open help requests, for operators."""
        return [asdict(h) for h in await asyncio.to_thread(services.open_help_requests)]

    return app
