"""One hotline call, from the first ring to the record it leaves.

The bot answers at once, greets the caller by who their number says they are, and then the call is
a voice session like a speaker's (recognition at the line's 8 kHz, the same end-of-speech rules, the
same assistant, answers spoken at 8 kHz, barge-in), with the keypad beside it. The SIP side is only
events in and commands out (phone.sip); everything here is about the caller.

Safety first: a help call (key 9, or said) is stored with the caller's number and address before
anything is said, then the call goes to an operator; when no operator can take it, the caller hears
reassurance until one acknowledges. A handoff is queued with the transcript and summary before the
REFER goes out, and stays queued when the transfer fails.
"""
from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import wave
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from common.keys import message_key
from common.words import Channel
from phone import sip
from phone.assistant import CallerAssistant
from phone.keypad import MENU, key_action
from services.errors import ServiceError
from services.types import CallerView, HandoffRequest
from voice import pipeline as p
from voice.audio import PcmFormat

if TYPE_CHECKING:
    from phone.line import PhoneLine

logger = logging.getLogger(__name__)


# short: at the elders' pace every character is a third of a second; the keypad menu is one key away (*)
GREET_RESIDENT = "{who}您好，这里是银龄热线。您要办什么事？"
GREET_UNKNOWN = "您好，这里是银龄热线。您的号码没有登记，我可以帮您查询。找人工请按0。"
GREET_FAMILY_ONE = "{who}您好，这里是银龄热线。现在为{elder}办理，您请说。"
GREET_FAMILY_NONE = "{who}您好，这里是银龄热线。老人还没有授权您代办，我可以帮您查询。找人工请按0。"
HELP_FIRST = "我已经叫人了，工作人员马上联系您。您别着急，别挂电话。"
TRANSFERRING = "正在为您转接工作人员，请稍等。"
TRANSFER_FAILED = "对不起，现在没能接通工作人员。您的事我已经记下了，工作人员会尽快给您回电话。"
REASSURE = "别着急，我已经叫人了，工作人员马上就来。请您别挂电话。"
ACKNOWLEDGED = "工作人员已经收到您的求助，正在安排，请您别挂电话。"
TIME_UP = "通话时间到了。有事请再打过来，再见。"
GOODBYE_WORDS = ("再见", "拜拜")

PHONE_PROMPTS = (GREET_UNKNOWN, HELP_FIRST, TRANSFERRING, TRANSFER_FAILED, REASSURE, ACKNOWLEDGED,
                 TIME_UP, MENU)


class PhoneCall:
    def __init__(self, line: "PhoneLine", incoming: sip.IncomingCall) -> None:
        self.line = line
        self.incoming = incoming
        self.call_id = incoming.call_id
        self.inbox: asyncio.Queue[sip.SipEvent] = asyncio.Queue()
        self.audio_in: asyncio.Queue[bytes | None] = asyncio.Queue()
        self.audio: sip.CallAudio | None = None
        self.session: p.VoiceSession | None = None
        self.assistant: CallerAssistant | None = None
        self.caller: CallerView | None = None
        self.record_id: int | None = None
        self._opening: asyncio.Future | None = None  # the record being opened (see run and close)
        self.outcome: str | None = None
        self.digits = ""
        self.lines: list[dict[str, Any]] = []  # what was said on this call, both sides
        self.last_answer = ""
        self.started = time.monotonic()
        self.help_request_id: int | None = None
        self.ended = asyncio.Event()
        self._transfer_status: asyncio.Queue[sip.TransferStatus] = asyncio.Queue()
        self._emergency = False
        self._handing_off = False
        self._transferring = False
        self._tasks: list[asyncio.Task] = []
        self._recording: wave.Wave_write | None = None
        self._recording_path: Path | None = None
        self._last_rx_packets = 0
        self._last_audio_at = time.monotonic()

    # --- from the line ----------------------------------------------------------------------
    def deliver(self, event: sip.SipEvent) -> None:
        match event:
            case sip.MediaReady(audio=audio):
                self.audio = audio
                self.inbox.put_nowait(event)
            case sip.CallEnded():
                self.ended.set()
                self.inbox.put_nowait(event)
            case sip.TransferStatus():
                self._transfer_status.put_nowait(event)
            case _:
                self.inbox.put_nowait(event)

    def heard(self, pcm: bytes) -> None:
        self.audio_in.put_nowait(pcm)

    # --- the call -----------------------------------------------------------------------------
    async def run(self) -> None:
        services, engine, config = self.line.services, self.line.engine, self.line.config
        try:
            self.caller = await asyncio.to_thread(services.identify_caller, self.incoming.caller)
        except ServiceError:
            logger.exception("caller lookup failed; serving as unknown")
            self.caller = CallerView("unknown", self.incoming.caller)
        engine.answer(self.call_id, 200)  # at once: nobody waits on a ringing line
        # The record opens in a future of its own: a caller who hangs up or CANCELs right now cancels
        # run(), but the record is written all the same, and close() must still get its id to close it
        # (found by tests/e2e/test_phone_sip_robustness.py: cancelled calls left records open for good).
        self._opening = asyncio.ensure_future(
            asyncio.to_thread(services.start_call, self.incoming.sip_call_id, self.caller))
        try:
            record = await asyncio.shield(self._opening)
            self.record_id = record.id
        except ServiceError:
            logger.exception("could not open the call record")  # the caller is served anyway
        try:
            await asyncio.wait_for(self._media_ready(), config.media_timeout_s)
        except asyncio.TimeoutError:
            self.outcome = "failed"
            engine.hangup(self.call_id, 408)
            return
        if self.ended.is_set():
            return
        self.assistant = CallerAssistant(self.line.chat, self.caller, self.incoming.sip_call_id)
        resident_id = self.assistant.resident_id  # None until a family member has said which elder
        self.session = await self.line.voice.open_session(
            guest_id=None if resident_id else self.assistant.sender, resident_id=resident_id,
            channel="phone", out_rate=sip.RATE, assistant=self.assistant,
            conversation_id=f"call{self.record_id or self.call_id}")
        self.session.set_format(PcmFormat(sip.RATE))  # the line's 8 kHz, resampled to the recogniser's rate
        await self.line.chat.new_session(self.assistant.sender)  # a new call is a new conversation
        if config.record_audio and self.record_id is not None:
            self._open_recording()
        self._tasks = [asyncio.create_task(self._feed(), name=f"call{self.call_id}-feed"),
                       asyncio.create_task(self._pump(), name=f"call{self.call_id}-pump"),
                       asyncio.create_task(self._watchdog(), name=f"call{self.call_id}-watch")]
        await self.say(self._greeting())
        while not self.ended.is_set():
            event = await self.inbox.get()
            if isinstance(event, sip.DtmfDigit):
                await self._key(event.digit)

    async def _media_ready(self) -> None:
        while self.audio is None and not self.ended.is_set():
            event = await self.inbox.get()
            if isinstance(event, sip.CallEnded):
                return

    def _greeting(self) -> str:
        caller, assistant = self.caller, self.assistant
        if caller.kind == "resident":
            return GREET_RESIDENT.format(who=self.line.honorific(caller.resident_id) or "")
        if caller.kind == "family":
            who = caller.name or ""
            if assistant.choosing:
                return f"{who}您好，这里是银龄养老服务热线。" + assistant.prompt()
            if caller.residents:
                return GREET_FAMILY_ONE.format(who=who, elder=caller.residents[0][1])
            return GREET_FAMILY_NONE.format(who=who)
        return GREET_UNKNOWN

    # --- speaking ----------------------------------------------------------------------------
    async def say(self, text: str, log: bool = True) -> None:
        """One of our own prompts (not the assistant's), spoken through the session after whatever
        is playing, so the caller can talk over it."""
        if self.session is None or self.ended.is_set():
            return
        if log:
            self._line("bot", text)
        await self.session.speak(text)

    async def _played(self, timeout_s: float = 60.0) -> None:
        """Until what was queued has gone down the line (or the caller hung up)."""
        deadline = time.monotonic() + timeout_s
        while self.audio is not None and not self.audio.drained.is_set() and not self.ended.is_set():
            if time.monotonic() > deadline:
                return
            await asyncio.sleep(0.05)

    def _line(self, role: str, text: str) -> None:
        self.lines.append({"role": role, "text": text, "ts": time.time()})

    # --- audio in and voice events -------------------------------------------------------------
    async def _feed(self) -> None:
        while True:
            pcm = await self.audio_in.get()
            if pcm is None:
                return
            if self._recording is not None:
                self._recording.writeframes(pcm)
            if self._transferring:
                continue  # the call is on its way to an operator: no re-prompts, no new turns meanwhile
            await self.session.feed(pcm)

    async def _pump(self) -> None:
        session = self.session
        while True:
            event = await session.events.get()
            match event:
                case p.AudioChunk(pcm=pcm):
                    self.audio.play(pcm)
                case p.BargeIn():
                    self.audio.clear()  # the caller talks over us: stop at once
                case p.Transcribed(text=text):
                    self._line("elder", text)
                case p.Answered() as answer:
                    await self._answered(answer)

    async def _answered(self, answer: p.Answered) -> None:
        if answer.text:
            self._line("bot", answer.text)
            if not answer.reprompt:
                self.last_answer = answer.text
        if answer.help_request_id is not None and isinstance(answer.help_request_id, int):
            self.help_request_id = self.help_request_id or answer.help_request_id
        if answer.emergency and not self._emergency:
            self._emergency = True
            self._tasks.append(asyncio.create_task(self._after_help()))  # held: the loop keeps only weak references
        elif answer.handed_off and not self._handing_off and not self._emergency:
            self._handing_off = True
            self._tasks.append(asyncio.create_task(self._hand_over("handoff")))

    # --- keypad -------------------------------------------------------------------------------
    async def _key(self, digit: str) -> None:
        self.digits += digit
        assistant = self.assistant
        if assistant.choosing and digit.isdigit() and digit not in "09":
            name = assistant.choose(int(digit))
            text = f"好的，现在为{name}办理。请说您要办的事。" if name else assistant.prompt()
            self.audio.clear()
            await self.say(text)
            return
        action = key_action(digit)
        if action.kind == "emergency":
            await self._help_by_key()
        elif action.kind == "repeat":
            self.audio.clear()
            await self.say(self.last_answer or MENU, log=False)
        elif action.kind == "menu":
            self.audio.clear()
            await self.say(MENU)
        else:  # say / operator: the same turn as if the caller had said it
            await self.session.submit_text(action.text)

    async def _help_by_key(self) -> None:
        """Key 9: the help request is stored before a word is said."""
        if self._emergency:
            self.audio.clear()
            await self.say(REASSURE)
            return
        self._emergency = True
        caller, services = self.caller, self.line.services
        self.audio.clear()
        try:
            view = await asyncio.to_thread(
                services.raise_help, self.assistant.sender, "电话按键9紧急求助", "phone",
                message_key("help", self.assistant.sender, f"{self.incoming.sip_call_id}-key9"),
                conversation_id=self.assistant.sender, phone=caller.number or None,
                location=self.assistant.address)
            self.help_request_id = view.id if isinstance(view.id, int) else None
        except Exception:
            logger.exception("help request by key could not be stored")
        self._line("elder", "（按键9：紧急求助）")
        await self.say(HELP_FIRST)
        await self._after_help()

    async def _after_help(self) -> None:
        await self._queue_handoff("emergency")
        if not await self._transfer():
            await self._reassure_until_acknowledged()

    async def _reassure_until_acknowledged(self) -> None:
        acknowledged = False
        next_word = time.monotonic() + self.line.config.reassure_every_s
        while not self.ended.is_set():
            if not acknowledged and self.help_request_id is not None:
                try:
                    view = await asyncio.to_thread(self.line.services.get_help, self.help_request_id)
                    if view.status != "open":
                        acknowledged = True
                        await self.say(ACKNOWLEDGED)
                        next_word = time.monotonic() + self.line.config.reassure_every_s
                except ServiceError:
                    pass
            if time.monotonic() >= next_word and self.audio is not None and self.audio.drained.is_set():
                await self.say(ACKNOWLEDGED if acknowledged else REASSURE, log=False)
                next_word = time.monotonic() + self.line.config.reassure_every_s
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self.ended.wait(), 1.0)

    # --- handoff and transfer --------------------------------------------------------------------
    async def _hand_over(self, reason: str) -> None:
        await self._queue_handoff(reason)
        if await self._transfer():
            return
        await self.say(TRANSFER_FAILED)
        await self._played()
        self.outcome = "transfer_failed"
        self.line.engine.hangup(self.call_id, 200)

    async def _queue_handoff(self, reason: str) -> None:
        """The operator gets the transcript and a summary before the call reaches them."""
        services, sender = self.line.services, self.assistant.sender
        try:
            handoff = await asyncio.to_thread(services.open_handoff, sender)
            if handoff is None:
                request = HandoffRequest(sender, Channel.PHONE.value, reason, tuple(self.lines),
                                         self.caller.resident_id, emergency=reason == "emergency",
                                         caller=self.caller.name or self.caller.number or None, keys=self.digits)
                handoff = await asyncio.to_thread(services.queue_handoff, request)
            if self.record_id is not None and isinstance(handoff.id, int):
                await asyncio.to_thread(services.update_call, self.record_id, handoff_id=handoff.id,
                                        help_request_id=self.help_request_id)
        except ServiceError:
            logger.exception("could not queue the handoff of call %s", self.call_id)

    async def _transfer(self) -> bool:
        target = self.line.config.operator_uri
        if not target or self.ended.is_set():
            return False
        self._transferring = True
        try:
            return await self._refer(target)
        finally:
            self._transferring = False

    async def _refer(self, target: str) -> bool:
        await self.say(TRANSFERRING)
        await self._played()
        if self.ended.is_set():
            return False
        while not self._transfer_status.empty():
            self._transfer_status.get_nowait()
        self.line.engine.transfer(self.call_id, target)
        deadline = time.monotonic() + self.line.config.transfer_timeout_s
        code = 0
        while time.monotonic() < deadline and not self.ended.is_set():
            try:
                status = await asyncio.wait_for(self._transfer_status.get(), max(0.1, deadline - time.monotonic()))
            except asyncio.TimeoutError:
                break
            code = status.code
            if status.final or code >= 300:
                break
        if self.record_id is not None:
            with contextlib.suppress(ServiceError):
                await asyncio.to_thread(self.line.services.update_call, self.record_id, transfer_target=target)
        if 200 <= code < 300:
            self.outcome = "transferred"
            self._line("bot", f"（已转接 {target}）")
            self.line.engine.hangup(self.call_id, 200)  # the caller now talks to the operator
            return True
        logger.warning("transfer of call %s to %s failed (%s)", self.call_id, target, code or "no answer")
        self._line("bot", f"（转接失败 {code or '无应答'}）")
        return False

    # --- limits --------------------------------------------------------------------------------
    async def _watchdog(self) -> None:
        config = self.line.config
        while not self.ended.is_set():
            await asyncio.sleep(1.0)
            now = time.monotonic()
            # RTP packets the stream took from the caller (RTCP's count), not frames handed to us: the
            # conference bridge hands a frame every 20 ms even when no packet came at all, so a dead
            # line was never noticed (found by tests/e2e/test_phone_sip_robustness.py). Packets from
            # a stranger's address are dropped before they are counted.
            received = self.audio.rx_packets if self.audio is not None else 0
            if received != self._last_rx_packets:
                self._last_rx_packets, self._last_audio_at = received, now
            if now - self._last_audio_at > config.rtp_timeout_s:
                logger.warning("call %s: no audio for %.0f s, hanging up", self.call_id, config.rtp_timeout_s)
                self.outcome = self.outcome or "timed_out"
                self.line.engine.hangup(self.call_id, 408)
                return
            if now - self.started > config.max_call_s:
                self.outcome = self.outcome or "timed_out"
                self.audio.clear()
                await self.say(TIME_UP)
                await self._played(10)
                self.line.engine.hangup(self.call_id, 200)
                return

    # --- the end -------------------------------------------------------------------------------
    def _open_recording(self) -> None:
        config = self.line.config
        config.audio_dir.mkdir(parents=True, exist_ok=True)
        self._recording_path = config.audio_dir / f"call-{self.record_id}.wav"
        self._recording = wave.open(str(self._recording_path), "wb")
        self._recording.setnchannels(1)
        self._recording.setsampwidth(2)
        self._recording.setframerate(sip.RATE)

    async def close(self) -> None:
        """After the call ended for any reason: nothing of it is left running, and its record is closed."""
        self.audio_in.put_nowait(None)
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self.session is not None:
            with contextlib.suppress(Exception):
                await self.session.close()
        if self._recording is not None:
            self._recording.close()
        if self.record_id is None and self._opening is not None:
            with contextlib.suppress(Exception):  # opened while the call was already ending
                self.record_id = (await self._opening).id
        if self.record_id is None:
            return
        intents: list[str] = []
        if self.assistant is not None:
            with contextlib.suppress(Exception):
                since = self.lines[0]["ts"] - 1 if self.lines else time.time() - (time.monotonic() - self.started)
                intents = [line.get("intent") for line in await self.assistant.transcript()
                           if line.get("role") == "elder" and (line.get("ts") or 0) >= since and line.get("intent")]
        outcome = self.outcome or ("emergency" if self._emergency else "completed"
                                   if self._said_goodbye() else "caller_hung_up")
        try:
            await asyncio.to_thread(
                self.line.services.finish_call, self.record_id, outcome, intents=intents, digits=self.digits,
                transcript=self.lines, audio_path=str(self._recording_path) if self._recording_path else None,
                audio_retention=timedelta(days=self.line.config.audio_retention_days))
        except ServiceError:
            logger.exception("could not close the record of call %s", self.call_id)

    def _said_goodbye(self) -> bool:
        return any(line["role"] == "elder" and any(w in line["text"] for w in GOODBYE_WORDS) for line in self.lines)
