"""For both pages (family members and staff): the live alert stream, each seeing only what they may."""
from __future__ import annotations

import asyncio
import json

from fastapi import APIRouter, Depends, Request
from sse_starlette.sse import EventSourceResponse

from gateway.auth import Principal
from gateway.deps import GatewayParts
from gateway.schemas import SIGNED_IN, errors


def router(parts: GatewayParts) -> APIRouter:
    services, hub = parts.services, parts.hub
    alerts = APIRouter(prefix="/api/alerts", tags=["alerts"], responses=errors(*SIGNED_IN))

    @alerts.get("/stream", response_class=EventSourceResponse,
                responses={200: {"content": {"text/event-stream": {}},
                                 "description": "events help, health, turn; a ping comment every 15 s"}})
    async def alert_stream(request: Request, principal: Principal = Depends(parts.doors.people)):
        """Server-sent events: help requests (new and acknowledged), out-of-range health readings and
        conversation turns of the residents this account may see."""
        if principal.is_staff:
            allowed = None
        else:  # consent is read again at each connection: a withdrawn consent stops the alerts
            account = await asyncio.to_thread(services.account, principal.account.id)
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

    return alerts
