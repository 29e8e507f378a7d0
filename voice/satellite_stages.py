"""The pipeline stages a Wyoming satellite asks for, run the way Home Assistant runs them.

A satellite says where its pipeline starts and ends (`run-pipeline`): from `wake` when Yinling is to
listen for the wake word itself (an always-streaming satellite, or one that streams when its own VAD
hears sound), from `asr` when the satellite heard its wake word or button already (our own speaker
client, button devices). Audio of a run that starts at `wake` goes to a wake detector (voice.wake: Vosk
in grammar mode on the shared recogniser pool) and not to the conversation, so the television,
visitors and coughing never become turns; after the wake phrase the elder's words go to the
VoiceSession and the satellite is told each stage as Home Assistant tells it: `detect`, `detection`,
`transcribe`, `voice-started`, `voice-stopped`, `transcript`, `synthesize`, the answer audio.

After an answer has played, Yinling listens on for a follow-up without the wake word (a reply to a
question, "再说一遍") for the device's no-speech time: re-prompting only when the answer asked
something; when nothing is said it goes back to the wake word quietly.

wyoming-satellite 1.0.0 in `--vad` mode ends its stream `--vad-wake-word-timeout` seconds (5) after it
began, whether or not the wake word was heard, and starts a new run with two seconds of digital
silence in front when the elder is still talking. So in a run that started at `wake`, the satellite's
`audio-stop` only pauses: a new `run-pipeline` within RESUME_S continues the same stage and utterance
(its leading exact zeros dropped), and a 13 s sentence stays one turn. A run that started at `asr`
ends its utterance at `audio-stop`, as a button released.
"""
from __future__ import annotations

import asyncio
import collections
import contextlib
import enum
import logging
from collections.abc import Callable
from typing import Any

from wyoming.asr import Transcribe
from wyoming.audio import AudioChunk
from wyoming.error import Error
from wyoming.pipeline import PipelineStage, RunPipeline
from wyoming.wake import Detect, Detection

from voice import pipeline as p
from voice.audio import PcmFormat, Resampler

logger = logging.getLogger(__name__)

RATE = p.ASR_RATE
RESUME_S = 1.5  # a satellite that stopped streaming mid-run may start again this soon and continue it
KEPT_S = 4.0  # audio kept in the wake stage: what follows the wake phrase goes on to the recogniser
WATCH_S = 0.2


class Stage(enum.Enum):
    IDLE = "idle"  # no run: audio is dropped, as Home Assistant drops it
    WAKE = "wake"  # listening for the wake phrase only
    ASR = "asr"  # the elder's words go to the conversation (and its answers come back)


class SatellitePipeline:
    """One satellite connection's runs: which stage the audio is in, and what the satellite is told.

    `out` receives what goes to the satellite, in order: the session's VoiceEvents and Wyoming events of
    the stages (voice.satellites.PacedSender sends both). `make_wake` builds the wake detector (blocking;
    it is called in a thread the first time a run starts at `wake`).
    """

    def __init__(self, session: p.VoiceSession, out: asyncio.Queue, make_wake: Callable[[], Any], *,
                 emergencies: dict[str, str] | None = None, device_id: str = "") -> None:
        """`emergencies`: phrases the wake detector also listens for (its grammar holds them), each with the
        words that go to the assistant when heard: a cry for help needs no wake word."""
        self.session = session
        self._emergencies = emergencies or {}
        self.stage = Stage.IDLE
        self.detections = 0
        self._out = out
        self._make_wake = make_wake
        self._device_id = device_id
        self._wake: Any = None
        self._wake_failed = False
        self._start = PipelineStage.ASR  # where the current run started
        self._end = PipelineStage.TTS
        self._format: PcmFormat | None = None
        self._resampler: Resampler | None = None
        self._kept: collections.deque[tuple[float, bytes]] = collections.deque()  # (stream time, pcm) in WAKE
        self._wake_s = 0.0  # seconds of audio the wake detector has heard
        self._paused_at: float | None = None  # the satellite stopped streaming mid-run (loop time)
        self._strip_zeros = False
        self._listening_since: float | None = None  # ASR stage: when listening for the elder began
        self._last_audio = 0.0
        self._answer_playing = False
        self._reprompt_playing = False
        self._loop = asyncio.get_running_loop()
        self._events = asyncio.create_task(self._relay(), name=f"satellite-events-{device_id}")
        self._watch = asyncio.create_task(self._watchdog(), name=f"satellite-watch-{device_id}")

    # --- from the satellite ---------------------------------------------------------------------
    async def run_pipeline(self, run: RunPipeline) -> None:
        start, end = PipelineStage(run.start_stage), PipelineStage(run.end_stage)
        if self._paused_at is not None and start == PipelineStage.WAKE and self._start == PipelineStage.WAKE:
            # the satellite streams again after stopping mid-run: the same run goes on
            self._paused_at, self._strip_zeros = None, True
            return
        if start == PipelineStage.WAKE and self.stage == Stage.ASR and (
                self._listening_since is not None or self._answer_playing or self._reprompt_playing
                or self.session.hearing_speech):
            # a VAD satellite heard the elder while we listen for a follow-up, or over the answer (a
            # barge-in): no wake word needed
            self._paused_at, self._strip_zeros = None, True
            return
        self._paused_at = None
        self._start, self._end = start, end
        if start == PipelineStage.WAKE:
            await self._enter_wake()
        elif start == PipelineStage.ASR:
            await self._enter_asr(prompt_on_silence=True)
        else:  # nothing to listen to: text stages are not offered to satellites
            self._send(Error(text=f"Yinling runs pipelines from wake or asr, not {start.value}",
                             code="unsupported-stage").event())

    async def audio(self, chunk: AudioChunk) -> None:
        if self.stage == Stage.IDLE or self._paused_at is not None:
            return
        data = chunk.audio
        if self._strip_zeros:
            data = _without_leading_zeros(data, chunk.width * chunk.channels)
            if not data:
                return
            self._strip_zeros = False
        fmt = PcmFormat(chunk.rate, chunk.channels, chunk.width)
        if fmt != self._format:
            fmt.validate()  # raises UnsupportedAudio: the link tells the satellite
            self._format, self._resampler = fmt, Resampler(fmt, RATE)
        pcm = self._resampler.process(data)
        if not pcm:
            return
        self._last_audio = self._loop.time()
        if self.stage == Stage.WAKE:
            await self._hear_wake(pcm)
        else:
            await self.session.feed(pcm)

    async def audio_stop(self) -> None:
        if self.stage == Stage.IDLE:
            return
        if self._start == PipelineStage.WAKE:
            self._paused_at = self._loop.time()  # perhaps only paused (see the module's docstring)
            return
        await self.session.end_of_audio()  # a button released: what was said is the utterance

    def played(self) -> None:
        self.session.playback_done()

    async def close(self) -> None:
        for task in (self._events, self._watch):
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._close_wake()

    # --- stages ---------------------------------------------------------------------------------
    async def _enter_wake(self) -> None:
        self._listening_since = None
        await self.session.listen(prompt_on_silence=False)
        if self.stage == Stage.WAKE and self._wake is not None:
            return  # already listening for it: what was heard so far stays
        self._close_wake()  # a fresh detector, its clock at 0 (a pooled recogniser: cheap)
        self._kept.clear()
        self._wake_s = 0.0
        if not self._wake_failed:
            try:
                self._wake = await asyncio.to_thread(self._make_wake)
            except Exception as exc:  # WakePhraseUnusable, or a recogniser that cannot do grammars
                self._wake_failed = True
                logger.error("satellite %s: cannot listen for a wake word: %s", self._device_id, exc)
        if self._wake is None:
            self.stage = Stage.IDLE
            self._send(Error(text="Yinling cannot listen for the wake word here", code="no-wake").event())
            return
        self.stage = Stage.WAKE
        self._send(Detect(names=list(self._wake.phrases)).event())

    async def _enter_asr(self, *, prompt_on_silence: bool) -> None:
        self.stage = Stage.ASR
        self._listening_since = self._loop.time()
        await self.session.listen(prompt_on_silence=prompt_on_silence)

    async def _hear_wake(self, pcm: bytes) -> None:
        start_s = self._wake_s
        self._wake_s += len(pcm) / 2 / RATE
        self._kept.append((start_s, pcm))
        while self._kept and self._kept[0][0] < self._wake_s - KEPT_S:
            self._kept.popleft()
        hit = await asyncio.to_thread(self._wake.accept, pcm)
        if hit is None:
            return
        self.detections += 1
        logger.info("satellite %s: wake phrase %s heard", self._device_id, hit.phrase)
        after = b"".join(_after(chunk_start, chunk, hit.end_s) for chunk_start, chunk in self._kept)
        self._kept.clear()
        self._close_wake()
        self._send(Detection(name=hit.phrase, timestamp=int(hit.end_s * 1000)).event())
        self._send(Transcribe(language=self.session.language).event())
        await self._enter_asr(prompt_on_silence=True)
        cry = self._emergencies.get(hit.phrase)
        if cry is not None:
            logger.warning("satellite %s: a cry for help (%s) heard without the wake word", self._device_id,
                           hit.phrase)
            await self.session.submit_text(cry)  # answered at once; the elder can go on speaking
        if after:
            await self.session.feed(after)

    async def _back_to_start(self) -> None:
        """The exchange is over: a run that started at `wake` listens for it again; one that started at
        `asr` waits for the satellite's next run."""
        if self._start == PipelineStage.WAKE and self._paused_at is None:
            await self._enter_wake()
        else:
            self.stage, self._listening_since, self._paused_at = Stage.IDLE, None, None
            await self.session.listen(prompt_on_silence=False)

    # --- from the session -----------------------------------------------------------------------
    async def _relay(self) -> None:
        while True:
            event = await self.session.events.get()
            if isinstance(event, (p.SpeechStarted, p.Transcribed)):
                self._listening_since = None  # the elder is talking to us
            if isinstance(event, (p.AudioStart, p.AudioChunk, p.AudioStop)) and self._end != PipelineStage.TTS:
                continue  # the satellite has no speaker
            if isinstance(event, p.Answered):
                if event.reprompt in ("no_speech", "unclear"):
                    self._reprompt_playing = True  # the session counts its re-prompts; listening goes on
                else:
                    self._answer_playing = True
            if isinstance(event, p.NothingHeard):
                if self.stage == Stage.ASR:
                    await self._back_to_start()
                continue
            self._send(event)

    async def _watchdog(self) -> None:
        """What no event tells: an answer finished playing; a satellite that stopped streaming for good;
        a follow-up window on a satellite that sends nothing while the room is quiet."""
        while True:
            await asyncio.sleep(WATCH_S)
            try:
                await self._check()
            except Exception:
                logger.exception("satellite %s: stage check failed", self._device_id)

    async def _check(self) -> None:
        now = self._loop.time()
        session = self.session
        if self._reprompt_playing and session.idle and not session.speaking:
            self._reprompt_playing = False
            if self.stage == Stage.ASR and not session.hearing_speech:
                self._listening_since = now
            return
        if self._answer_playing and session.idle and not session.speaking:
            self._answer_playing = False
            if self.stage == Stage.ASR and not session.hearing_speech:
                # a follow-up may come without the wake word; re-prompted only when the answer asked something
                await self._enter_asr(prompt_on_silence=session.awaiting_reply)
            return
        if self._paused_at is not None and now - self._paused_at > RESUME_S:
            self._paused_at = None  # the satellite stopped streaming for good
            if self.stage == Stage.ASR and session.hearing_speech:
                await session.end_of_audio()
            elif not self._answer_playing and session.idle:
                self.stage, self._listening_since = Stage.IDLE, None
                await session.listen(prompt_on_silence=False)
            return
        timeout = session.settings.endpoint.no_speech_timeout_s
        quiet = (self.stage == Stage.ASR and self._listening_since is not None and session.idle
                 and not (self._answer_playing or self._reprompt_playing or session.hearing_speech))
        if quiet and now - self._listening_since > timeout + 1.0 and now - self._last_audio > 1.0:
            await self._back_to_start()  # nothing streamed, nothing said: the room is quiet

    # --- helpers --------------------------------------------------------------------------------
    def _send(self, event: Any) -> None:
        self._out.put_nowait(event)

    def _close_wake(self) -> None:
        if self._wake is not None:
            with contextlib.suppress(Exception):
                self._wake.close()
            self._wake = None


def _after(chunk_start_s: float, chunk: bytes, at_s: float) -> bytes:
    """The part of a 16 kHz mono chunk that starts at chunk_start_s which lies after at_s."""
    skip = int(round((at_s - chunk_start_s) * RATE)) * 2
    if skip <= 0:
        return chunk
    return chunk[skip:] if skip < len(chunk) else b""


def _without_leading_zeros(data: bytes, frame: int) -> bytes:
    """`data` from its first frame that is not digital silence (a real microphone is never exactly 0)."""
    stripped = data.lstrip(b"\0")
    if not stripped:
        return b""
    start = len(data) - len(stripped)
    return data[start - start % max(1, frame):]


__all__ = ["SatellitePipeline", "Stage", "RESUME_S"]
