"""For the devices and tools of this installation (terminal chat, speakers, benches; the service key)
and staff: the text turn, the voice stream, and the health of the parts."""
from __future__ import annotations

import asyncio
from dataclasses import asdict
from typing import Any

import httpx
from fastapi import APIRouter, Depends, HTTPException, WebSocket
from pydantic import BaseModel, Field

from assistant.turn import ChatReply
from common.words import CHANNEL_PATTERN
from gateway.auth import Principal, check_resident
from gateway.deps import GatewayParts
from gateway.schemas import BODY, MESSAGE_ID, SIGNED_IN, errors
from gateway.voice_ws import CLOSE_UNAUTHORISED, voice_socket
from services.errors import ServiceError

SENDER_PATTERN = r"^[A-Za-z0-9_.:@+-]{1,64}$"


class ChatIn(BaseModel):
    sender: str = Field(default="r-0001", pattern=SENDER_PATTERN, description="resident id (r-0001 …)")
    message: str = Field(min_length=1, max_length=2000)
    channel: str = Field(default="text", pattern=CHANNEL_PATTERN)
    message_id: str | None = Field(default=None, pattern=MESSAGE_ID)


def router(parts: GatewayParts) -> APIRouter:
    services, chat, voice = parts.services, parts.chat, parts.voice
    api = APIRouter()

    @api.post("/api/chat", response_model=ChatReply, responses={**errors(*SIGNED_IN, 422), **BODY})
    async def post_chat(body: ChatIn, principal: Principal = Depends(parts.doors.trusted)) -> dict[str, Any]:
        """One message in, the assistant's answers out (text, buttons, speech hints). For the devices and
        tools of this installation (service key) and staff; family members use /api/residents/{id}/chat."""
        reply = await chat.handle(body.sender, body.message, body.channel, body.message_id)
        return asdict(reply)

    @api.get("/api/health")
    async def health() -> dict[str, Any]:
        rasa_ok = await parts.rasa.healthy()
        try:
            async with httpx.AsyncClient(timeout=2) as client:
                actions_ok = (await client.get(f"{parts.settings.actions_url}/health")).status_code == 200
        except httpx.HTTPError:
            actions_ok = False
        try:
            await asyncio.to_thread(services.programmes)
            db_ok = True
        except ServiceError:
            db_ok = False
        satellites = {d: link.connected.is_set() for d, (link, _) in parts.satellites.links.items()}
        return {"status": "ok" if rasa_ok and actions_ok and db_ok else "degraded",
                "rasa": rasa_ok, "actions": actions_ok, "database": db_ok,
                "voice": {"ready": voice.ready, "language": voice.language, "note": voice.model_note or None,
                          "satellites": satellites},
                "phone": None, **{c.name: c.status() for c in parts.companions}}

    @api.websocket("/api/voice")
    async def voice_stream(ws: WebSocket) -> None:
        """Speech in, answers out: see gateway.voice_ws for the protocol."""
        principal = await parts.auth.websocket(ws)
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

    return api
