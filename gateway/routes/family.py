"""For family members (and staff) acting for one resident: the family page's chat, overview and history.
A family member reaches only the residents linked to them who consented (gateway.auth.check_resident)."""
from __future__ import annotations

import asyncio
from dataclasses import asdict
from typing import Any, Optional

from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field

from assistant.turn import ChatReply
from gateway.auth import Principal, check_resident
from gateway.deps import GatewayParts
from gateway.schemas import BODY, MESSAGE_ID, SIGNED_IN, OverviewOut, errors, plain
from services.types import TurnView


class WebChatIn(BaseModel):
    message: str = Field(min_length=1, max_length=2000)
    message_id: Optional[str] = Field(default=None, pattern=MESSAGE_ID)


def router(parts: GatewayParts) -> APIRouter:
    services, chat, people, run = parts.services, parts.chat, parts.doors.people, asyncio.to_thread
    residents = APIRouter(prefix="/api/residents", tags=["family"], responses=errors(*SIGNED_IN, 404, 422))

    @residents.post("/{resident_id}/chat", response_model=ChatReply, responses=BODY)
    async def resident_chat(resident_id: str, body: WebChatIn, principal: Principal = Depends(people)) -> dict[str, Any]:
        """A message to the assistant on the resident's behalf: the same bot, the same confirmations."""
        await check_resident(services, principal, resident_id)
        reply = await chat.handle(resident_id, body.message, "web", body.message_id, actor=principal.actor)
        return asdict(reply)

    @residents.get("/{resident_id}/overview", response_model=OverviewOut)
    async def overview(resident_id: str, principal: Principal = Depends(people)) -> dict[str, Any]:
        """Upcoming meal orders, open home-visit tickets and recent calls for help."""
        await check_resident(services, principal, resident_id)
        resident = await run(services.get_resident, resident_id)
        orders, tickets, help_ = await asyncio.gather(
            run(services.upcoming_orders, resident_id), run(services.open_tickets, resident_id),
            run(services.recent_help, resident_id))
        return {"resident": {"id": resident.id, "name": resident.name, "honorific": resident.honorific},
                "orders": plain(orders), "tickets": plain(tickets), "help": plain(help_)}

    @residents.get("/{resident_id}/conversation", response_model=list[TurnView])
    async def resident_conversation(resident_id: str, principal: Principal = Depends(people)) -> list[dict]:
        await check_resident(services, principal, resident_id)
        return plain(await run(services.conversation, resident_id))

    return residents
