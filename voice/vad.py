"""When does an utterance start and end: a pure state machine over webrtcvad frame decisions.

Fed 16-bit mono PCM chunk by chunk (any size; it keeps whole frames of `frame_ms`), like Home Assistant's
VoiceCommandSegmenter. Elders pause mid-sentence, so speech ends only after `trailing_silence_s` (1.2 s) of
non-speech; an utterance is cut at `max_utterance_s`; no speech within `no_speech_timeout_s` ends the turn so the
pipeline can re-prompt. All times are seconds of audio fed since start or reset(), never wall-clock time; they
are counted in whole frames (integers, so they do not drift), settings rounded up (8 s of 30 ms frames is 8.01 s),
and lag the audio by the 20 ms of the high-pass in front of webrtcvad.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from enum import Enum
from typing import Literal

import numpy as np
import webrtcvad

from voice.errors import UnsupportedAudio

VAD_RATES = (8000, 16000)  # webrtcvad also takes 32 and 48 kHz; nothing here needs them
_MAX_GAP_S = 0.2  # webrtcvad misses frames inside syllables; a longer gap means the voiced run was not speech
_WORD_GAP_S = 0.1  # voiced again this soon after the last voiced frame: still the same stretch of talking
# Voiced audio that counts as talking again after a pause. webrtcvad keeps saying "speech" for a few frames
# after a loud one (its hangover), so a click after the last word makes several voiced frames; this is more.
_RESUME_S = 0.2
# webrtcvad calls loud low-frequency noise speech (the rumble of the THCHS-30 clips, up to -20 dBFS, kept their
# silences voiced), so frames are high-passed first, as WebRTC's own audio processing does before its VAD.
_HIGH_PASS_HZ = 150.0
_HIGH_PASS_TRANSITION_HZ = 100.0
# Frames quieter than this are not speech and are kept from webrtcvad: a few frames of near-digital silence
# (a device's dither) teach its noise model -90 dBFS, after which -60 dBFS room tone counts as speech for good.
_QUIET_DBFS = -70.0


@dataclass(frozen=True)
class EndpointSettings:
    trailing_silence_s: float = 1.2  # Home Assistant's "relaxed" is 1.25 s; elders pause
    max_utterance_s: float = 15.0  # from the start of speech
    no_speech_timeout_s: float = 8.0  # from the start of audio
    min_speech_s: float = 0.25  # voiced audio before speech counts as started: clicks and knocks do not
    aggressiveness: int = 2  # webrtcvad 0 (lenient) .. 3 (strict)
    frame_ms: int = 30  # webrtcvad takes 10, 20 or 30 ms frames

    def __post_init__(self) -> None:
        if self.frame_ms not in (10, 20, 30):
            raise ValueError(f"frame_ms must be 10, 20 or 30, got {self.frame_ms}")
        if self.aggressiveness not in (0, 1, 2, 3):
            raise ValueError(f"aggressiveness must be 0..3, got {self.aggressiveness}")
        for name in ("trailing_silence_s", "max_utterance_s", "no_speech_timeout_s"):
            if not getattr(self, name) > 0:
                raise ValueError(f"{name} must be positive, got {getattr(self, name)}")
        if not self.min_speech_s >= 0:
            raise ValueError(f"min_speech_s must be >= 0, got {self.min_speech_s}")


class EndpointState(Enum):
    WAITING = "waiting"
    SPEECH = "speech"
    DONE = "done"


@dataclass(frozen=True)
class EndpointResult:
    reason: Literal["silence", "max_length", "no_speech"]
    speech_start_s: float | None  # start of the first voiced frame of the utterance
    speech_end_s: float | None  # end of its last voiced frame
    audio_s: float  # audio consumed when the decision was made


class _HighPass:
    """Linear-phase FIR high-pass whose history runs across calls, so any chunking gives the same output.
    It delays the signal by 20 ms (half its length), less than a frame."""

    def __init__(self, rate: int) -> None:
        taps = int(4 * rate / _HIGH_PASS_TRANSITION_HZ) | 1  # Hamming window: transition ~ 4 / taps
        t = np.arange(taps) - (taps - 1) / 2
        low = np.sinc(2 * _HIGH_PASS_HZ / rate * t) * np.hamming(taps)
        self._taps = -low / low.sum()
        self._taps[(taps - 1) // 2] += 1.0
        self.reset()

    def reset(self) -> None:
        self._history: np.ndarray | None = None

    def __call__(self, x: np.ndarray) -> np.ndarray:
        if self._history is None:  # start from the first sample, not zero: a DC offset is no step
            self._history = np.full(len(self._taps) - 1, x[0] if len(x) else 0.0)
        buf = np.concatenate([self._history, x])
        self._history = buf[len(buf) - len(self._history) :]
        return np.convolve(buf, self._taps, "valid")


class _Frames:
    """Cuts PCM of any chunk size into whole frames, high-passes them and asks webrtcvad about each."""

    def __init__(self, rate: int, frame_ms: int, aggressiveness: int) -> None:
        if rate not in VAD_RATES:
            raise UnsupportedAudio(f"voice activity detection needs 8000 or 16000 Hz 16-bit mono, got {rate} Hz")
        self.rate = rate
        self.frame_bytes = rate * frame_ms // 1000 * 2
        self._aggressiveness = aggressiveness
        self._high_pass = _HighPass(rate)
        self._quiet = (32768 * 10 ** (_QUIET_DBFS / 20)) ** 2 * (self.frame_bytes // 2)  # sum of squares
        self._buf = bytearray()
        self.reset()

    def classify(self, pcm: bytes) -> list[bool]:
        self._buf += pcm
        whole = len(self._buf) - len(self._buf) % self.frame_bytes
        if whole == 0:
            return []
        x = self._high_pass(np.frombuffer(bytes(self._buf[:whole]), dtype="<i2").astype(np.float64))
        del self._buf[:whole]
        x = np.clip(np.rint(x), -32768, 32767)
        loud = (x.reshape(-1, self.frame_bytes // 2) ** 2).sum(axis=1) >= self._quiet
        filtered = x.astype("<i2").tobytes()
        fb = self.frame_bytes
        return [bool(is_loud) and self._vad.is_speech(filtered[i * fb : (i + 1) * fb], self.rate)
                for i, is_loud in enumerate(loud)]

    def reset(self) -> None:
        self._buf.clear()
        self._high_pass.reset()
        self._vad = webrtcvad.Vad(self._aggressiveness)  # its noise model adapts: start afresh


class _Debounce:
    """Confirms a run of voiced frames once it holds `need` of them, with gaps of at most `max_gap` frames."""

    def __init__(self, need: int, max_gap: int) -> None:
        self.need, self.max_gap = need, max_gap
        self.clear()

    def clear(self) -> None:
        self.start: int | None = None
        self._voiced = 0
        self._last = 0

    @property
    def pending(self) -> bool:
        return self.start is not None

    def step(self, index: int, voiced: bool) -> int | None:
        """The run's first frame once confirmed (the run is then cleared), else None."""
        if voiced:
            if self.start is None:
                self.start, self._voiced = index, 0
            self._voiced += 1
            self._last = index
            if self._voiced >= self.need:
                start = self.start
                self.clear()
                return start
        elif self.start is not None and index - self._last > self.max_gap:
            self.clear()
        return None


def _frames_for(seconds: float, frame_ms: int) -> float:
    """Seconds as a frame count, rounded up (float so that math.inf passes through)."""
    return seconds if math.isinf(seconds) else math.ceil(seconds * 1000 / frame_ms - 1e-9)


class Endpointer:
    """One utterance: WAITING -> SPEECH -> DONE. process() returns the result once, then None until reset()."""

    def __init__(self, settings: EndpointSettings = EndpointSettings(), rate: int = 16000) -> None:
        self.settings = settings
        self.rate = rate
        self.frame_s = settings.frame_ms / 1000
        self._frames = _Frames(rate, settings.frame_ms, settings.aggressiveness)
        gap = int(_frames_for(_MAX_GAP_S, settings.frame_ms))
        self._word_gap = int(_frames_for(_WORD_GAP_S, settings.frame_ms))
        self._start = _Debounce(max(1, int(_frames_for(settings.min_speech_s, settings.frame_ms))), gap)
        self._resume = _Debounce(max(1, int(_frames_for(_RESUME_S, settings.frame_ms))), gap)
        self._trailing = _frames_for(settings.trailing_silence_s, settings.frame_ms)
        self._max_utterance = _frames_for(settings.max_utterance_s, settings.frame_ms)
        self._no_speech = _frames_for(settings.no_speech_timeout_s, settings.frame_ms)
        self.reset()

    def reset(self) -> None:
        """Back to WAITING with the clock at zero."""
        self._frames.reset()
        self._index = 0  # frames seen
        self._rearm()

    def _rearm(self) -> None:
        self._state = EndpointState.WAITING
        self._start.clear()
        self._resume.clear()
        self._speech_start: int | None = None
        self._speech_end = 0  # exclusive frame index of the last voiced frame
        self._result: EndpointResult | None = None

    @property
    def state(self) -> EndpointState:
        return self._state

    @property
    def in_speech(self) -> bool:
        return self._state is EndpointState.SPEECH

    @property
    def speech_started_s(self) -> float | None:
        return None if self._speech_start is None else self._speech_start * self.frame_s

    @property
    def result(self) -> EndpointResult | None:
        return self._result

    @property
    def audio_s(self) -> float:
        """Audio consumed so far (whole frames)."""
        return self._index * self.frame_s

    def process(self, pcm: bytes) -> EndpointResult | None:
        """Feed 16-bit mono PCM at `rate`; the result when the utterance is over (audio after that frame is
        ignored), else None."""
        if self._state is EndpointState.DONE:
            return None
        for voiced in self._frames.classify(pcm):
            result = self._step(voiced)
            if result is not None:
                return result
        return None

    def _step(self, voiced: bool) -> EndpointResult | None:
        index = self._index
        self._index += 1
        end = index + 1
        if self._state is EndpointState.WAITING:
            start = self._start.step(index, voiced)
            if start is not None:
                self._state = EndpointState.SPEECH
                self._speech_start, self._speech_end = start, end
            elif not self._start.pending and end >= self._no_speech:
                return self._finish("no_speech", end)
            return None
        if voiced and index - self._speech_end <= self._word_gap:
            self._speech_end = end  # still talking: webrtcvad drops a few frames inside words
            self._resume.clear()
        elif self._resume.step(index, voiced) is not None:
            self._speech_end = end  # talking again after a pause
        if end - self._speech_end >= self._trailing and not self._resume.pending:
            return self._finish("silence", end)  # a pending run was judged first: the pause may be over
        if end - self._speech_start >= self._max_utterance:
            return self._finish("max_length", end)
        return None

    def _finish(self, reason: str, end: int) -> EndpointResult:
        started = self._speech_start is not None
        self._state = EndpointState.DONE
        self._result = EndpointResult(
            reason=reason,  # type: ignore[arg-type]
            speech_start_s=self._speech_start * self.frame_s if started else None,
            speech_end_s=self._speech_end * self.frame_s if started else None,
            audio_s=end * self.frame_s,
        )
        return self._result


class SpeechDetector:
    """Barge-in: has the person started talking while the answer plays? Latches True once about `min_speech_s`
    of voiced frames arrive, until reset(). Strict by default (aggressiveness 3) so that the echo of our own
    answer and room noise interrupt less often."""

    def __init__(self, rate: int = 16000, *, min_speech_s: float = 0.2, aggressiveness: int = 3,
                 frame_ms: int = 30) -> None:
        EndpointSettings(min_speech_s=min_speech_s, aggressiveness=aggressiveness, frame_ms=frame_ms)  # checks
        self.frame_s = frame_ms / 1000
        self._frames = _Frames(rate, frame_ms, aggressiveness)
        need = max(1, int(_frames_for(min_speech_s, frame_ms)))
        self._debounce = _Debounce(need, int(_frames_for(_MAX_GAP_S, frame_ms)))
        self.reset()

    def reset(self) -> None:
        self._frames.reset()
        self._debounce.clear()
        self._index = 0
        self._started: int | None = None

    @property
    def started_s(self) -> float | None:
        """Where the speech began, in seconds of audio fed since start or reset()."""
        return None if self._started is None else self._started * self.frame_s

    def speech_frames(self, pcm: bytes) -> bool:
        """Feed mic PCM (16-bit mono at `rate`, any chunk size); True once speech has started."""
        if self._started is not None:
            return True
        for voiced in self._frames.classify(pcm):
            self._started = self._debounce.step(self._index, voiced)
            self._index += 1
            if self._started is not None:
                return True
        return False

    process = speech_frames  # the name the other state machines use


def speech_spans(pcm: bytes, rate: int, settings: EndpointSettings = EndpointSettings()) -> list[tuple[float, float]]:
    """Offline (start_s, end_s) of each utterance in a whole buffer, with the Endpointer's rules: pauses shorter
    than trailing_silence_s stay inside a span. Neither max_utterance_s nor no_speech_timeout_s applies here."""
    endpointer = Endpointer(replace(settings, max_utterance_s=math.inf, no_speech_timeout_s=math.inf), rate)
    spans: list[tuple[float, float]] = []
    for voiced in endpointer._frames.classify(pcm):
        result = endpointer._step(voiced)
        if result is not None:
            spans.append((result.speech_start_s, result.speech_end_s))
            endpointer._rearm()  # the clock keeps running
    if endpointer.in_speech:
        spans.append((endpointer._speech_start * endpointer.frame_s, endpointer._speech_end * endpointer.frame_s))
    return spans
