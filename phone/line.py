"""The hotline: the SIP stack's thread on one side, one PhoneCall per caller on the asyncio side.

Calls beyond `max_calls` are turned away with 486 Busy Here at once (a PBX then queues or retries
them) rather than answered and left waiting; the stack's own ceiling bounds calls in any state.
"""
from __future__ import annotations

import asyncio
import logging
from typing import Any

from assistant.turn import ChatService
from phone import sip
from phone.call import PHONE_PROMPTS, CallDeps, PhoneCall
from phone.settings import PhoneConfig
from services.errors import ServiceError
from services.facade import Services
from voice.service import VoiceService

logger = logging.getLogger(__name__)


class PhoneLine:
    name = "phone"  # as the gateway's companion (gateway.app.Companion)

    def __init__(self, config: PhoneConfig, voice: VoiceService, chat: ChatService, services: Services) -> None:
        self.config = config
        self.voice = voice
        self.chat = chat
        self.services = services
        self.engine = sip.SipEngine(config.sip, self._from_stack, self._audio_from_stack)
        # what each call is given; a call never reaches back into the line
        self.call_deps = CallDeps(engine=self.engine, config=config, voice=voice, chat=chat, services=services,
                                  honorific=self.honorific)
        self.calls: dict[int, PhoneCall] = {}
        self.turned_away = 0
        self.handled = 0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._tasks: set[asyncio.Task] = set()
        self._honorifics: dict[str, str] = {}
        self.listening = False

    async def start(self) -> None:
        """Voice first (a caller must not wait for the model), then the SIP port."""
        self._loop = asyncio.get_running_loop()
        await self.voice.start()
        await self.voice.synthesizer.prewarm(PHONE_PROMPTS, out_rates=(sip.RATE,))
        await asyncio.to_thread(self.engine.start)
        self.listening = True
        logger.info("hotline listening on sip:%s", self.engine.address)

    async def stop(self) -> None:
        for call in list(self.calls.values()):
            self.engine.hangup(call.call_id, 503)
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await asyncio.to_thread(self.engine.stop)
        self.listening = False

    def status(self) -> dict[str, Any]:
        return {"listening": f"sip:{self.engine.address}" if self.listening else None,
                "active_calls": len(self.calls), "max_calls": self.max_calls,
                "handled": self.handled, "turned_away": self.turned_away,
                "operator": self.config.operator_uri}

    @property
    def max_calls(self) -> int:
        """Calls served at once: the configured number, unless the SIP stack holds fewer."""
        return min(self.config.sip.max_calls, self.engine.capacity)

    def honorific(self, resident_id: str | None) -> str:
        if not resident_id:
            return ""
        if resident_id not in self._honorifics:
            try:
                self._honorifics[resident_id] = self.services.get_resident(resident_id).honorific
            except ServiceError:
                return ""
        return self._honorifics[resident_id]

    # --- from the SIP thread ----------------------------------------------------------------
    def _from_stack(self, event: sip.SipEvent) -> None:
        self._loop.call_soon_threadsafe(self._dispatch, event)

    def _audio_from_stack(self, call_id: int, pcm: bytes) -> None:
        self._loop.call_soon_threadsafe(self._heard, call_id, pcm)

    # --- on the loop --------------------------------------------------------------------------
    def _heard(self, call_id: int, pcm: bytes) -> None:
        call = self.calls.get(call_id)
        if call is not None:
            call.heard(pcm)

    def _dispatch(self, event: sip.SipEvent) -> None:
        if isinstance(event, sip.CallRejected):  # the stack was full and said 486 itself
            if event.code in (486, 503):
                self.turned_away += 1
            return
        if isinstance(event, sip.IncomingCall):
            if len(self.calls) >= self.max_calls:
                self.turned_away += 1
                self.engine.answer(event.call_id, 486)
                return
            call = PhoneCall(self.call_deps, event)
            self.calls[event.call_id] = call
            task = asyncio.create_task(self._serve(call), name=f"call{event.call_id}")
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
            return
        call = self.calls.get(event.call_id)
        if call is not None:
            call.deliver(event)

    async def _serve(self, call: PhoneCall) -> None:
        runner = asyncio.create_task(call.run())
        ended = asyncio.create_task(call.ended.wait())
        try:
            await asyncio.wait({runner, ended}, return_when=asyncio.FIRST_COMPLETED)
            if runner.done() and runner.exception() is not None:
                logger.error("call %s failed", call.call_id, exc_info=runner.exception())
                call.fail()
            await call.ended.wait()  # the run may finish before the caller hangs up (a timeout's BYE)
        finally:
            for task in (runner, ended):
                task.cancel()
            await asyncio.gather(runner, ended, return_exceptions=True)
            await call.close()
            # pjsua gives a freed call id to the next INVITE at once, so while this call was closing
            # the id may have become a new call's: leave that one be (popping it lost its events and
            # left it open for good, found by tests/e2e/test_phone_sip_robustness.py's flood)
            if self.calls.get(call.call_id) is call:
                del self.calls[call.call_id]
            self.handled += 1
