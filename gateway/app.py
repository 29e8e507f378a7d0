"""FastAPI application: `uvicorn gateway.app:create_app --factory` (text, pages, speakers).

Wiring only: the parts (gateway.deps), the background jobs of the app's life, the one error handler
(gateway.errors), the security headers, and the routes of each audience (gateway.routes).

The gateway knows no other channel: the process that also runs the hotline (yinling.serve) hands the
phone line in as a companion, which the app starts, stops and reports in /api/health.
"""
from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import sys
from datetime import datetime, timedelta, timezone

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from gateway import errors, routes
from gateway.deps import Companion, Companions, GatewayParts
from gateway.headers import SecurityHeaders
from gateway.routes.pages import STATIC
from gateway.settings import Settings
from services import production
from services.facade import Services
from voice.service import VoiceService

__all__ = ["Companion", "Companions", "create_app"]

logger = logging.getLogger(__name__)


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
    ours, services = services is None, services or Services()
    try:  # production mode refuses here, before anything is made (the service key file) or listens
        production.enforce(production.check(services.engine, production.gateway_listeners(
            os.environ, sys.argv, settings.rasa_url, settings.actions_url)), who="gateway", log=logger)
    except production.ProductionRefused:
        if ours:
            services.close()
        raise
    parts = GatewayParts.build(settings, services, companions)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI):
        tasks = [asyncio.create_task(_periodic(parts.services, parts.settings)),
                 asyncio.create_task(parts.hub.run())]
        if parts.settings.voice_preload:  # load the model and speech workers now, not on the first speaker
            tasks.append(asyncio.create_task(_start_voice(parts.voice)))
        if parts.settings.satellites:
            tasks.append(asyncio.create_task(parts.satellites.run()))
        tasks += [asyncio.create_task(_start_companion(c)) for c in parts.companions]
        yield
        for companion in parts.companions:
            await companion.stop()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await parts.voice.close()
        await parts.chat.aclose()
        await parts.rasa.aclose()

    app = FastAPI(title="Yinling gateway", version="0.1.0", lifespan=lifespan,
                  description="银龄 Yinling: the assistant's text channel, the family page and the operator "
                              "console. Sign in at /api/auth/login; send the token as `Authorization: Bearer` "
                              "(or use the cookie and the `X-CSRF-Token` header from a page).")
    errors.install(app)
    app.add_middleware(SecurityHeaders)
    for router in routes.routers(parts):
        app.include_router(router)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    return app
