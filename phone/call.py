"""One hotline call, from the first ring to the record it leaves.

The bot answers at once, greets the caller by who their number says they are, and then the call is
a voice session like a speaker's (recognition at the line's 8 kHz, the same end-of-speech rules, the
same assistant, answers spoken at 8 kHz, barge-in), with the keypad beside it. The SIP side is only
events in and commands out (phone.sip); everything here is about the caller.

Safety first: a help call (key 9, or said) is stored with the caller's number and address before
anything is said, then the call goes to an operator; when no operator can take it, the caller hears
reassurance until one acknowledges. A handoff is queued with the transcript and summary before the
REFER goes out, and stays queued when the transfer fails.

A call is given what it uses (`CallDeps`, made once by the line) and never reaches back into the
line. Where it is in its life is one `CallState`, changed only by `PhoneCall._enter` along the moves
in `TRANSITIONS`; what it has recorded so far is its `CallNotes`, written into the call record at the end.
"""
from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import wave
from dataclasses import dataclass, field
from datetime import timedelta
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Protocol

from common.keys import message_key
from common.words import Channel
from phone import sip
from phone.assistant import CallerAssistant
from phone.keypad import MENU, key_action
from phone.settings import PhoneConfig
from services.errors import ServiceError
from services.types import CallerView, CallRecordView, HandoffRequest, HandoffView, HelpRequestView
from voice import pipeline as p
from voice.audio import PcmFormat

if TYPE_CHECKING:  # CallDeps' annotations only
    from assistant.turn import ChatService
    from voice.service import VoiceService

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


# --- what a call is given --------------------------------------------------------------------------
class LineCommands(Protocol):
    """The SIP stack's commands a call gives (phone.sip.SipEngine has them).

    pjsua2 stays behind phone.sip as events in and commands out: the line hands the call what
    happened (`PhoneCall.deliver`) and what the caller said (`PhoneCall.heard`); the call answers with
    these commands, and plays its audio into the `sip.CallAudio` that came with `sip.MediaReady`.
    """

    def answer(self, call_id: int, code: int = 200) -> None: ...

    def hangup(self, call_id: int, code: int = 603) -> None: ...

    def transfer(self, call_id: int, target_uri: str) -> None: ...


class CallServices(Protocol):
    """The calls of the services facade (services.facade.Services) a phone call makes, and no others."""

    def identify_caller(self, number: str) -> CallerView: ...

    def start_call(self, sip_call_id: str, caller: CallerView) -> CallRecordView: ...

    def update_call(self, call_id: int, **changes: Any) -> CallRecordView: ...

    def finish_call(self, call_id: int, outcome: str, *, intents: list[str], digits: str,
                    transcript: list[dict[str, Any]], audio_path: str | None = None,
                    audio_retention: timedelta = ...) -> CallRecordView: ...

    def raise_help(self, resident_id: str | None, text: str, channel: str, idempotency_key: str,
                   conversation_id: str | None = None, phone: str | None = None,
                   location: str | None = None) -> HelpRequestView: ...

    def get_help(self, request_id: int) -> HelpRequestView: ...

    def open_handoff(self, conversation_id: str) -> HandoffView | None: ...

    def queue_handoff(self, request: HandoffRequest) -> HandoffView: ...


@dataclass(frozen=True)
class CallDeps:
    """Everything a call uses, made once by the line and shared by its calls."""

    engine: LineCommands  # commands out to the SIP stack
    config: PhoneConfig
    voice: VoiceService  # opens the call's voice session
    chat: ChatService  # the assistant turn, which the call's CallerAssistant talks to
    services: CallServices
    honorific: Callable[[str | None], str]  # resident id -> how the greeting names them ("" when unknown)


# --- where a call is -----------------------------------------------------------------------------
class CallState(Enum):
    ANSWERING = "answering"  # answered at once; the caller looked up, the record opened, the audio path awaited
    TALKING = "talking"  # the conversation: the assistant by voice, the keypad beside it
    HANDING_OFF = "handing_off"  # a person was asked for: the handoff is queued, a transfer comes next
    EMERGENCY = "emergency"  # a help call (key 9, or said): stored, the handoff queued, a transfer next
    TRANSFERRING = "transferring"  # REFER sent: what the caller says makes no new turns meanwhile
    WAITING_FOR_HELP = "waiting_for_help"  # a help call no operator took: reassurance until one acknowledges
    HANGING_UP = "hanging_up"  # we end the call (transferred, transfer failed, time up, dead line): BYE
    ENDED = "ended"  # the line is closed, whichever side closed it


_S = CallState
# Every move a call can make; ENDED is reachable from everywhere and leads nowhere. Help comes before
# everything: a help call is taken whatever the call was doing (key 9 while a handoff is queued or
# transferred, or while the last words before BYE are said).
TRANSITIONS: dict[CallState, frozenset[CallState]] = {
    _S.ANSWERING: frozenset({_S.TALKING, _S.HANGING_UP, _S.ENDED}),
    _S.TALKING: frozenset({_S.HANDING_OFF, _S.EMERGENCY, _S.HANGING_UP, _S.ENDED}),
    _S.HANDING_OFF: frozenset({_S.TRANSFERRING, _S.EMERGENCY, _S.HANGING_UP, _S.ENDED}),
    _S.EMERGENCY: frozenset({_S.TRANSFERRING, _S.WAITING_FOR_HELP, _S.HANGING_UP, _S.ENDED}),
    _S.TRANSFERRING: frozenset({_S.EMERGENCY, _S.WAITING_FOR_HELP, _S.HANGING_UP, _S.ENDED}),
    _S.WAITING_FOR_HELP: frozenset({_S.HANGING_UP, _S.ENDED}),
    _S.HANGING_UP: frozenset({_S.EMERGENCY, _S.ENDED}),
    _S.ENDED: frozenset(),
}
ONCE = frozenset({_S.HANDING_OFF, _S.EMERGENCY})  # a call asks for a person, or for help, once


# --- what a call keeps ------------------------------------------------------------------------------
@dataclass
class CallNotes:
    """What the call has recorded so far; close() writes it into the call record."""

    record_id: int | None = None  # the call record in the services database, once opened
    lines: list[dict[str, Any]] = field(default_factory=list)  # what was said on this call, both sides
    digits: str = ""  # the keys pressed, in order
    last_answer: str = ""  # the assistant's last answer (not a re-prompt): what * repeats
    help_request_id: int | None = None
    outcome: str | None = None  # set by whatever ended the call; otherwise decided at the end

    def said(self, role: str, text: str) -> None:
        self.lines.append({"role": role, "text": text, "ts": time.time()})

    def said_goodbye(self) -> bool:
        return any(line["role"] == "elder" and any(w in line["text"] for w in GOODBYE_WORDS) for line in self.lines)


@dataclass
class Liveness:
    """What the watchdog goes by (monotonic times): when the call began, when the caller was last heard."""

    started: float = field(default_factory=time.monotonic)
    heard_at: float = field(default_factory=time.monotonic)
    rx_packets: int = 0

    def silent_for(self, rx_packets: int, now: float) -> float:
        """Seconds since the caller's RTP packet count last moved, given its count now."""
        if rx_packets != self.rx_packets:
            self.rx_packets, self.heard_at = rx_packets, now
        return now - self.heard_at


class Recording:
    """The caller's audio at the line's rate, kept with the call record when configured."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._wav = wave.open(str(path), "wb")
        self._wav.setnchannels(1)
        self._wav.setsampwidth(2)
        self._wav.setframerate(sip.RATE)

    def write(self, pcm: bytes) -> None:
        self._wav.writeframes(pcm)

    def close(self) -> None:
        self._wav.close()


class PhoneCall:
    def __init__(self, deps: CallDeps, incoming: sip.IncomingCall) -> None:
        self.deps = deps
        self.incoming = incoming
        # events in (from the line): SIP events, the caller's audio, the progress of a REFER
        self.inbox: asyncio.Queue[sip.SipEvent] = asyncio.Queue()
        self.audio_in: asyncio.Queue[bytes | None] = asyncio.Queue()
        self._transfer_status: asyncio.Queue[sip.TransferStatus] = asyncio.Queue()
        self.ended = asyncio.Event()  # set when the state becomes ENDED
        self._state = CallState.ANSWERING
        self._been: set[CallState] = {CallState.ANSWERING}  # every state the call has been in
        # what the call works with, known as it comes up
        self.caller: CallerView | None = None
        self.audio: sip.CallAudio | None = None
        self.assistant: CallerAssistant | None = None
        self.session: p.VoiceSession | None = None
        self.notes = CallNotes()
        self.liveness = Liveness()
        self._recording: Recording | None = None
        self._opening: asyncio.Future | None = None  # the record being opened (see run and close)
        self._tasks: list[asyncio.Task] = []

    @property
    def call_id(self) -> int:
        return self.incoming.call_id

    @property
    def state(self) -> CallState:
        return self._state

    @property
    def asked_for_help(self) -> bool:
        """This call has been a help call (it stays one, whatever happened after)."""
        return CallState.EMERGENCY in self._been

    # read by the handoff summary
    @property
    def lines(self) -> list[dict[str, Any]]:
        return self.notes.lines

    @property
    def digits(self) -> str:
        return self.notes.digits

    def _enter(self, new: CallState) -> bool:
        """The one place the call's state changes: only along TRANSITIONS (and ONCE), each move logged.
        Nothing moves once the line has ENDED (a task that finishes late)."""
        old = self._state
        if new is old:
            return True
        if old is CallState.ENDED:
            return False
        if new not in TRANSITIONS[old] or (new in ONCE and new in self._been):
            logger.warning("call %s: no move from %s to %s", self.call_id, old.value, new.value)
            return False
        self._state = new
        self._been.add(new)
        logger.info("call %s: %s -> %s", self.call_id, old.value, new.value)
        if new is CallState.ENDED:
            self.ended.set()
        return True

    def _hang_up(self, code: int) -> None:
        self._enter(CallState.HANGING_UP)
        self.deps.engine.hangup(self.call_id, code)

    # --- from the line ----------------------------------------------------------------------
    def deliver(self, event: sip.SipEvent) -> None:
        match event:
            case sip.MediaReady(audio=audio):
                self.audio = audio
                self.inbox.put_nowait(event)
            case sip.CallEnded():
                self._enter(CallState.ENDED)
                self.inbox.put_nowait(event)
            case sip.TransferStatus():
                self._transfer_status.put_nowait(event)
            case _:
                self.inbox.put_nowait(event)

    def heard(self, pcm: bytes) -> None:
        self.audio_in.put_nowait(pcm)

    def fail(self) -> None:
        """The call's own run broke: the caller is let go (500) and the record says so."""
        self.notes.outcome = self.notes.outcome or "failed"
        self._hang_up(500)

    # --- the call -----------------------------------------------------------------------------
    async def run(self) -> None:
        services, engine, config = self.deps.services, self.deps.engine, self.deps.config
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
            self.notes.record_id = record.id
        except ServiceError:
            logger.exception("could not open the call record")  # the caller is served anyway
        try:
            await asyncio.wait_for(self._media_ready(), config.media_timeout_s)
        except asyncio.TimeoutError:
            self.notes.outcome = "failed"
            self._hang_up(408)
            return
        if self.ended.is_set():
            return
        self.assistant = CallerAssistant(self.deps.chat, self.caller, self.incoming.sip_call_id)
        resident_id = self.assistant.resident_id  # None until a family member has said which elder
        self.session = await self.deps.voice.open_session(
            guest_id=None if resident_id else self.assistant.sender, resident_id=resident_id,
            channel=Channel.PHONE.value, out_rate=sip.RATE, assistant=self.assistant,
            conversation_id=f"call{self.notes.record_id or self.call_id}")
        self.session.set_format(PcmFormat(sip.RATE))  # the line's 8 kHz, resampled to the recogniser's rate
        await self.deps.chat.new_session(self.assistant.sender)  # a new call is a new conversation
        if config.record_audio and self.notes.record_id is not None:
            self._recording = Recording(config.audio_dir / f"call-{self.notes.record_id}.wav")
        self._enter(CallState.TALKING)
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
            return GREET_RESIDENT.format(who=self.deps.honorific(caller.resident_id) or "")
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
            self.notes.said("bot", text)
        await self.session.speak(text)

    async def _played(self, timeout_s: float = 60.0) -> None:
        """Until what was queued has gone down the line (or the caller hung up)."""
        deadline = time.monotonic() + timeout_s
        while self.audio is not None and not self.audio.drained.is_set() and not self.ended.is_set():
            if time.monotonic() > deadline:
                return
            await asyncio.sleep(0.05)

    # --- audio in and voice events -------------------------------------------------------------
    async def _feed(self) -> None:
        while True:
            pcm = await self.audio_in.get()
            if pcm is None:
                return
            if self._recording is not None:
                self._recording.write(pcm)
            if self._state is CallState.TRANSFERRING:
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
                    self.notes.said("elder", text)
                case p.Answered() as answer:
                    await self._answered(answer)

    async def _answered(self, answer: p.Answered) -> None:
        notes = self.notes
        if answer.text:
            notes.said("bot", answer.text)
            if not answer.reprompt:
                notes.last_answer = answer.text
        if answer.help_request_id is not None and isinstance(answer.help_request_id, int):
            notes.help_request_id = notes.help_request_id or answer.help_request_id
        if answer.emergency and not self.asked_for_help:
            if self._enter(CallState.EMERGENCY):
                self._tasks.append(asyncio.create_task(self._after_help()))  # held: the loop keeps only weak references
        elif answer.handed_off and self._state is CallState.TALKING:
            self._enter(CallState.HANDING_OFF)
            self._tasks.append(asyncio.create_task(self._hand_over("handoff")))

    # --- keypad -------------------------------------------------------------------------------
    async def _key(self, digit: str) -> None:
        self.notes.digits += digit
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
            await self.say(self.notes.last_answer or MENU, log=False)
        elif action.kind == "menu":
            self.audio.clear()
            await self.say(MENU)
        else:  # say / operator: the same turn as if the caller had said it
            await self.session.submit_text(action.text)

    async def _help_by_key(self) -> None:
        """Key 9: the help request is stored before a word is said."""
        if self.asked_for_help:
            self.audio.clear()
            await self.say(REASSURE)
            return
        self._enter(CallState.EMERGENCY)  # stored below whatever the state: a help call is never refused
        caller, services, assistant = self.caller, self.deps.services, self.assistant
        self.audio.clear()
        try:
            view = await asyncio.to_thread(
                services.raise_help, assistant.sender, "电话按键9紧急求助", Channel.PHONE.value,
                message_key("help", assistant.sender, f"{self.incoming.sip_call_id}-key9"),
                conversation_id=assistant.sender, phone=caller.number or None,
                location=assistant.address)
            self.notes.help_request_id = view.id if isinstance(view.id, int) else None
        except Exception:
            logger.exception("help request by key could not be stored")
        self.notes.said("elder", "（按键9：紧急求助）")
        await self.say(HELP_FIRST)
        await self._after_help()

    async def _after_help(self) -> None:
        await self._queue_handoff("emergency")
        if not await self._transfer(otherwise=CallState.WAITING_FOR_HELP):
            await self._reassure_until_acknowledged()

    async def _reassure_until_acknowledged(self) -> None:
        config, services = self.deps.config, self.deps.services
        acknowledged = False
        next_word = time.monotonic() + config.reassure_every_s
        while not self.ended.is_set():
            if not acknowledged and self.notes.help_request_id is not None:
                try:
                    view = await asyncio.to_thread(services.get_help, self.notes.help_request_id)
                    if view.status != "open":
                        acknowledged = True
                        await self.say(ACKNOWLEDGED)
                        next_word = time.monotonic() + config.reassure_every_s
                except ServiceError:
                    pass
            if time.monotonic() >= next_word and self.audio is not None and self.audio.drained.is_set():
                await self.say(ACKNOWLEDGED if acknowledged else REASSURE, log=False)
                next_word = time.monotonic() + config.reassure_every_s
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self.ended.wait(), 1.0)

    # --- handoff and transfer --------------------------------------------------------------------
    async def _hand_over(self, reason: str) -> None:
        await self._queue_handoff(reason)
        if await self._transfer(otherwise=CallState.HANGING_UP):
            return
        await self.say(TRANSFER_FAILED)
        await self._played()
        if self.asked_for_help:  # help was asked for while those words played: that call stays on the line
            return
        self.notes.outcome = "transfer_failed"
        self._hang_up(200)

    async def _queue_handoff(self, reason: str) -> None:
        """The operator gets the transcript and a summary before the call reaches them."""
        services, sender = self.deps.services, self.assistant.sender
        try:
            handoff = await asyncio.to_thread(services.open_handoff, sender)
            if handoff is None:
                request = HandoffRequest(sender, Channel.PHONE.value, reason, tuple(self.lines),
                                         self.caller.resident_id, emergency=reason == "emergency",
                                         caller=self.caller.name or self.caller.number or None, keys=self.digits)
                handoff = await asyncio.to_thread(services.queue_handoff, request)
            if self.notes.record_id is not None and isinstance(handoff.id, int):
                await asyncio.to_thread(services.update_call, self.notes.record_id, handoff_id=handoff.id,
                                        help_request_id=self.notes.help_request_id)
        except ServiceError:
            logger.exception("could not queue the handoff of call %s", self.call_id)

    async def _transfer(self, otherwise: CallState) -> bool:
        """To the operator's line: True once they have the call; otherwise the call goes on as `otherwise`
        (a help call waits for help, a handoff says it failed and ends)."""
        target = self.deps.config.operator_uri
        if not target or self.ended.is_set():
            self._enter(otherwise)
            return False
        self._enter(CallState.TRANSFERRING)
        transferred = False
        try:
            transferred = await self._refer(target)
            return transferred
        finally:
            if not transferred:
                self._enter(otherwise)

    async def _refer(self, target: str) -> bool:
        engine, notes = self.deps.engine, self.notes
        await self.say(TRANSFERRING)
        await self._played()
        if self.ended.is_set():
            return False
        while not self._transfer_status.empty():
            self._transfer_status.get_nowait()
        engine.transfer(self.call_id, target)
        deadline = time.monotonic() + self.deps.config.transfer_timeout_s
        code = 0
        while time.monotonic() < deadline and not self.ended.is_set():
            try:
                status = await asyncio.wait_for(self._transfer_status.get(), max(0.1, deadline - time.monotonic()))
            except asyncio.TimeoutError:
                break
            code = status.code
            if status.final or code >= 300:
                break
        if notes.record_id is not None:
            with contextlib.suppress(ServiceError):
                await asyncio.to_thread(self.deps.services.update_call, notes.record_id, transfer_target=target)
        if 200 <= code < 300:
            notes.outcome = "transferred"
            notes.said("bot", f"（已转接 {target}）")
            self._hang_up(200)  # the caller now talks to the operator
            return True
        logger.warning("transfer of call %s to %s failed (%s)", self.call_id, target, code or "no answer")
        notes.said("bot", f"（转接失败 {code or '无应答'}）")
        return False

    # --- limits --------------------------------------------------------------------------------
    async def _watchdog(self) -> None:
        config, notes = self.deps.config, self.notes
        while not self.ended.is_set():
            await asyncio.sleep(1.0)
            now = time.monotonic()
            # RTP packets the stream took from the caller (RTCP's count), not frames handed to us: the
            # conference bridge hands a frame every 20 ms even when no packet came at all, so a dead
            # line was never noticed (found by tests/e2e/test_phone_sip_robustness.py). Packets from
            # a stranger's address are dropped before they are counted.
            received = self.audio.rx_packets if self.audio is not None else 0
            if self.liveness.silent_for(received, now) > config.rtp_timeout_s:
                logger.warning("call %s: no audio for %.0f s, hanging up", self.call_id, config.rtp_timeout_s)
                notes.outcome = notes.outcome or "timed_out"
                self._hang_up(408)
                return
            if now - self.liveness.started > config.max_call_s:
                notes.outcome = notes.outcome or "timed_out"
                self._enter(CallState.HANGING_UP)
                self.audio.clear()
                await self.say(TIME_UP)
                await self._played(10)
                self._hang_up(200)
                return

    # --- the end -------------------------------------------------------------------------------
    async def close(self) -> None:
        """After the call ended for any reason: nothing of it is left running, and its record is closed."""
        notes, config = self.notes, self.deps.config
        self.audio_in.put_nowait(None)
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self.session is not None:
            with contextlib.suppress(Exception):
                await self.session.close()
        if self._recording is not None:
            self._recording.close()
        if notes.record_id is None and self._opening is not None:
            with contextlib.suppress(Exception):  # opened while the call was already ending
                notes.record_id = (await self._opening).id
        if notes.record_id is None:
            return
        intents: list[str] = []
        if self.assistant is not None:
            with contextlib.suppress(Exception):
                since = (notes.lines[0]["ts"] - 1 if notes.lines
                         else time.time() - (time.monotonic() - self.liveness.started))
                intents = [line.intent for line in await self.assistant.transcript()
                           if line.role == "elder" and float(line.ts or 0) >= since and line.intent]
        outcome = notes.outcome or ("emergency" if self.asked_for_help else "completed"
                                    if notes.said_goodbye() else "caller_hung_up")
        try:
            await asyncio.to_thread(
                self.deps.services.finish_call, notes.record_id, outcome, intents=intents, digits=notes.digits,
                transcript=notes.lines, audio_path=str(self._recording.path) if self._recording else None,
                audio_retention=timedelta(days=config.audio_retention_days))
        except ServiceError:
            logger.exception("could not close the record of call %s", self.call_id)
