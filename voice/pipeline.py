"""One spoken conversation with one speaker: audio chunks in, events out.

The session resamples whatever the device sends to 16 kHz, runs the end-of-speech state machine and
the recogniser side by side, hands each utterance to the text assistant (the same ChatService as the
text channel, so safety nets and dialogue are shared, never forked), and speaks the answer sentence by
sentence. Transports (WebSocket, Wyoming satellites, the phone line) only translate these events.

Elders are served on their terms: silence gets a gentle re-prompt, an utterance nobody could hear gets
"请再说一遍", speech over the answer stops it (barge-in), and a help call cuts through everything: it
ends the utterance as soon as a partial result shows it and jumps the queue of pending turns.

Keep it this way: the events are the small typed dataclasses below (VoiceEvent), and there is this one
VoiceSession for every channel. A new transport translates these events; it does not get a session or
an event vocabulary of its own. What a session is told about its speaker (endpointing, voice, the
domain words its Normalizer corrects towards) it is given by voice.service, never looked up here.
"""
from __future__ import annotations

import asyncio
import collections
import itertools
import logging
import uuid
from dataclasses import dataclass, field
from typing import Any, Protocol, Union

from common import apologies
from voice.asr import RecognitionStream, Recognizer, Transcript
from voice.audio import PcmFormat, Resampler, duration_s
from voice.errors import VoiceError
from voice.grammar import Expectation, expectation_from_buttons
from voice.postprocess import Normalizer
from voice.tts import Synthesizer, VoiceSettings
from voice.vad import Endpointer, EndpointSettings, SpeechDetector
from zhtext.emergency import detect_emergency

logger = logging.getLogger(__name__)

ASR_RATE = 16000
NO_SPEECH_PROMPT = "您请说，我在听呢。"
UNCLEAR_PROMPT = apologies.NOT_HEARD
PRE_ROLL_S = 0.6  # speech kept from before a barge-in was recognised, so its first word is not lost


class Assistant(Protocol):
    """The text assistant (assistant.turn.ChatService)."""

    async def handle(self, sender: str, text: str, channel: str = "text", message_id: str | None = None) -> Any: ...


@dataclass(frozen=True)
class SessionSettings:
    endpoint: EndpointSettings = field(default_factory=EndpointSettings)
    out_rate: int = 16000  # 16 kHz for speakers, 8 kHz for the phone line
    barge_in: bool = True
    max_reprompts: int = 2  # consecutive silent turns answered with a re-prompt before going quiet


# --- events -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class SpeechStarted:
    at_s: float


@dataclass(frozen=True)
class SpeechStopped:
    at_s: float
    reason: str  # silence / max_length / end_of_audio / emergency


@dataclass(frozen=True)
class Partial:
    text: str


@dataclass(frozen=True)
class Transcribed:
    text: str  # what goes to the assistant
    raw: str  # what the recogniser heard
    grammar: bool = False


@dataclass(frozen=True)
class Answered:
    text: str
    buttons: tuple[dict[str, Any], ...] = ()
    handed_off: bool = False
    emergency: str | None = None
    reprompt: str | None = None  # no_speech / unclear / failure when this is our own prompt
    help_request_id: int | str | None = None


@dataclass(frozen=True)
class AudioStart:
    rate: int


@dataclass(frozen=True)
class AudioChunk:
    pcm: bytes  # 16-bit mono at AudioStart.rate


@dataclass(frozen=True)
class AudioStop:
    interrupted: bool = False


@dataclass(frozen=True)
class BargeIn:
    pass


@dataclass(frozen=True)
class Failed:
    message: str


@dataclass(frozen=True)
class NothingHeard:
    """Listening ended with nothing said and no re-prompt follows: nobody is talking to us (a quiet room
    after an answer, or the re-prompts were used up). A transport that listens for a wake word goes back to it."""


VoiceEvent = Union[SpeechStarted, SpeechStopped, Partial, Transcribed, Answered, AudioStart, AudioChunk, AudioStop,
                   BargeIn, Failed, NothingHeard]


@dataclass
class _Utterance:
    stream: RecognitionStream
    endpointer: Endpointer
    expectation: Expectation | None
    started: bool = False


class VoiceSession:
    def __init__(self, *, resident_id: str, recognizer: Recognizer, synthesizer: Synthesizer, assistant: Assistant,
                 settings: SessionSettings | None = None, voice: VoiceSettings | None = None, channel: str = "speaker",
                 language: str = "zh", conversation_id: str | None = None,
                 normalizer: Normalizer | None = None) -> None:
        self.resident_id = resident_id
        self.channel = channel
        self.conversation_id = conversation_id or uuid.uuid4().hex[:12]
        self.settings = settings or SessionSettings()
        self.voice = voice or VoiceSettings()
        self.language = language
        self._normalizer = normalizer or Normalizer()  # for partial results (help calls); finals come normalised
        self.events: asyncio.Queue[VoiceEvent] = asyncio.Queue()
        self._recognizer = recognizer
        self._synth = synthesizer
        self._assistant = assistant
        self._format: PcmFormat | None = None
        self._resampler: Resampler | None = None
        self._utterance: _Utterance | None = None
        self._expectation: Expectation | None = None
        # (priority, order, text): a help call jumps ahead of turns still waiting
        self._turns: asyncio.PriorityQueue[tuple[int, int, str]] = asyncio.PriorityQueue()
        self._order = itertools.count()
        self._turn_no = itertools.count(1)
        self._busy = 0  # turns taken off the queue and not yet answered
        self._speak_task: asyncio.Task | None = None
        self._speaking_until = 0.0
        self._detector: SpeechDetector | None = None
        self._pre_roll: collections.deque[bytes] = collections.deque()
        self._reprompts = 0
        self._prompt_on_silence = True  # see listen()
        self.awaiting_reply = False  # the last answer asked something (a question, or choices to pick from)
        self._worker = asyncio.create_task(self._answer_turns(), name=f"voice-{self.conversation_id}")
        self._closed = False

    # --- input ----------------------------------------------------------------------------------
    def set_format(self, fmt: PcmFormat) -> None:
        """The device's audio format; raises UnsupportedAudio for what cannot be used."""
        fmt.validate()
        if fmt != self._format:
            self._format, self._resampler = fmt, Resampler(fmt, ASR_RATE)

    async def feed(self, data: bytes) -> None:
        if self._closed:
            raise VoiceError("the voice session is closed")
        if self._resampler is None:
            self.set_format(PcmFormat(ASR_RATE))
        pcm = self._resampler.process(data)
        if pcm:
            await self._take(pcm)

    async def end_of_audio(self) -> None:
        """The device stopped sending (button released, file ended): finish what was said."""
        if self._resampler is not None:
            rest = self._resampler.flush()
            if rest:
                await self._take(rest)
        if self._utterance is not None:
            await self._finish("end_of_audio" if self._utterance.started else "no_speech")

    async def submit_text(self, text: str) -> None:
        """A choice tapped or typed on the device: a turn like a spoken one, minus the recogniser."""
        text = text.strip()
        if not text:
            return
        if self.speaking:
            await self._barge_in()
        self._emit(Transcribed(text, "", grammar=False))
        self._queue_turn(text)

    async def speak(self, text: str) -> None:
        """A prompt of the transport's own (a phone greeting): spoken like an answer, so the elder
        can talk over it and silence is not counted against them while it plays."""
        await self._start_speaking(text)

    async def listen(self, *, prompt_on_silence: bool = True) -> None:
        """Listen afresh from the next audio: the transport just heard its wake word, or opens a window for a
        follow-up after an answer. An utterance in which nobody has spoken yet is dropped (one already in speech
        goes on). `prompt_on_silence`: whether nothing said is answered with a re-prompt (the elder started
        talking to us) or ends quietly with NothingHeard (a follow-up nobody took up: never nag an empty room)."""
        self._prompt_on_silence = prompt_on_silence
        if prompt_on_silence:
            self._reprompts = 0
        if self._utterance is not None and not self._utterance.started:
            stream, self._utterance = self._utterance.stream, None
            await asyncio.to_thread(stream.final)  # gives the recogniser back to the pool

    @property
    def hearing_speech(self) -> bool:
        """The elder is in the middle of an utterance."""
        return self._utterance is not None and self._utterance.started

    def playback_done(self) -> None:
        """The device says it finished playing the answer."""
        self._speaking_until = 0.0

    async def _take(self, pcm: bytes) -> None:
        if self.speaking:
            if not self.settings.barge_in or not self._heard_over_answer(pcm):
                return
            await self._barge_in()
            pcm, self._pre_roll = b"".join(self._pre_roll), collections.deque()
        if self._utterance is None:
            self._utterance = self._new_utterance()
        utterance = self._utterance
        partial = await asyncio.to_thread(utterance.stream.accept, pcm)
        result = utterance.endpointer.process(pcm)
        if utterance.endpointer.in_speech and not utterance.started:
            utterance.started = True
            self._emit(SpeechStarted(utterance.endpointer.speech_started_s or 0.0))
        reason = result.reason if result is not None else None
        if partial:
            self._emit(Partial(partial))
            if reason is None and detect_emergency(self._normalizer.normalize(partial)) is not None:
                reason = "emergency"  # do not wait for the elder to fall silent
        if reason is not None:
            await self._finish(reason)

    def _heard_over_answer(self, pcm: bytes) -> bool:
        if self._detector is None:
            self._detector = SpeechDetector(rate=ASR_RATE)
        self._pre_roll.append(pcm)
        while sum(map(len, self._pre_roll)) > PRE_ROLL_S * ASR_RATE * 2 and len(self._pre_roll) > 1:
            self._pre_roll.popleft()
        return self._detector.process(pcm)

    def _new_utterance(self) -> _Utterance:
        expectation = self._expectation
        stream = self._recognizer.stream(ASR_RATE, grammar=expectation.phrases if expectation else None)
        return _Utterance(stream, Endpointer(self.settings.endpoint, ASR_RATE), expectation)

    async def _finish(self, reason: str) -> None:
        utterance, self._utterance = self._utterance, None
        if utterance is None:
            return
        transcript: Transcript = await asyncio.to_thread(utterance.stream.final)
        if reason == "no_speech":
            if self._prompt_on_silence:
                await self._reprompt("no_speech", NO_SPEECH_PROMPT)
            else:
                self._emit(NothingHeard())
            return
        self._emit(SpeechStopped(transcript.audio_s, reason))
        text = transcript.text
        heard = utterance.expectation.interpret(text) if utterance.expectation and transcript.grammar else None
        self._emit(Transcribed(heard or text, transcript.raw, grammar=heard is not None))
        text = heard or text
        if not text.strip():
            await self._reprompt("unclear", UNCLEAR_PROMPT)
            return
        self._reprompts = 0
        self._queue_turn(text)

    def _queue_turn(self, text: str) -> None:
        urgent = detect_emergency(text) is not None
        if urgent and self._speak_task is not None:
            self._speak_task.cancel()  # stop talking: the help call is answered next
        self._turns.put_nowait((0 if urgent else 1, next(self._order), text))

    async def _reprompt(self, kind: str, text: str) -> None:
        self._reprompts += 1
        if self._reprompts > self.settings.max_reprompts:
            self._emit(NothingHeard())
            return  # stay quiet until the elder speaks; a room is not nagged all day
        self._emit(Answered(text, reprompt=kind))
        await self._start_speaking(text)

    async def _barge_in(self) -> None:
        self._emit(BargeIn())
        self._speaking_until = 0.0
        if self._speak_task is not None and not self._speak_task.done():
            self._speak_task.cancel()
            await asyncio.wait([self._speak_task])
        self._detector = None

    # --- answers --------------------------------------------------------------------------------
    async def _answer_turns(self) -> None:
        while True:
            _, _, text = await self._turns.get()
            self._busy += 1
            try:
                await self._answer(text)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # never leave the elder in silence
                logger.exception("voice turn failed for %s", self.resident_id)
                self._emit(Failed("the assistant could not answer"))
                said = apologies.apology_for(exc)
                self._emit(Answered(said, reprompt="failure"))
                await self._start_speaking(said)
            finally:
                self._busy -= 1

    async def _answer(self, text: str) -> None:
        message_id = f"{self.conversation_id}-{next(self._turn_no)}"
        reply = await self._assistant.handle(self.resident_id, text, self.channel, message_id)
        texts = [m.text for m in reply.messages if m.text]
        buttons: tuple[dict[str, Any], ...] = ()
        for m in reply.messages:
            buttons = tuple(m.buttons) or buttons
        answer = "".join(texts)
        self._expectation = expectation_from_buttons(buttons, self.language)
        self.awaiting_reply = bool(buttons) or answer.rstrip().endswith(("？", "?"))
        self._emit(Answered(answer, buttons, bool(reply.handed_off), reply.emergency, None,
                              getattr(reply, "help_request_id", None)))
        if answer:
            await self._start_speaking(answer)

    async def _start_speaking(self, text: str) -> None:
        if self._speak_task is not None and not self._speak_task.done():
            await asyncio.wait([self._speak_task])  # one answer at a time, in order
        self._speak_task = asyncio.create_task(self._speak(text))
        await asyncio.wait([self._speak_task])

    async def _speak(self, text: str) -> None:
        loop = asyncio.get_running_loop()
        rate = self.settings.out_rate
        started_at = None
        played_s = 0.0
        interrupted = False
        try:
            async for pcm in self._synth.sentences(text, out_rate=rate, settings=self.voice):
                if not pcm:
                    continue
                if started_at is None:
                    started_at = loop.time()
                    self._emit(AudioStart(rate))
                self._emit(AudioChunk(pcm))
                played_s += duration_s(pcm, rate)
                # the device plays in real time from the first chunk: until then, speech is barge-in
                self._speaking_until = started_at + played_s
        except asyncio.CancelledError:
            interrupted = True
            raise
        except VoiceError as exc:
            logger.warning("speech synthesis failed: %s", exc)
            self._emit(Failed(f"speech synthesis failed: {exc}"))
        finally:
            if started_at is not None:
                self._emit(AudioStop(interrupted=interrupted))
            if interrupted:
                self._speaking_until = 0.0

    # --- state ----------------------------------------------------------------------------------
    @property
    def speaking(self) -> bool:
        return asyncio.get_running_loop().time() < self._speaking_until or (
            self._speak_task is not None and not self._speak_task.done())

    @property
    def idle(self) -> bool:
        """Nothing heard is waiting for an answer and nothing is being said."""
        return self._turns.empty() and not self._busy and (self._speak_task is None or self._speak_task.done())

    async def wait_idle(self, timeout_s: float = 60.0) -> None:
        async def poll() -> None:
            while not self.idle:
                await asyncio.sleep(0.01)
        await asyncio.wait_for(poll(), timeout_s)

    def _emit(self, event: VoiceEvent) -> None:
        self.events.put_nowait(event)

    async def close(self) -> None:
        self._closed = True
        for task in (self._worker, self._speak_task):
            if task is not None and not task.done():
                task.cancel()
                await asyncio.wait([task])
        if self._utterance is not None:
            stream, self._utterance = self._utterance.stream, None
            await asyncio.to_thread(stream.final)
