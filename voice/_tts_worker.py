"""One pyttsx3/espeak-ng engine in a process of its own; voice.tts starts a pool of these.

pyttsx3 keeps one espeak-ng instance per process and is not thread-safe, so every engine gets a process.
Protocol over the pipes: one JSON request per line on stdin; on stdout one JSON header line, then, when the
header says ``"ok": true``, exactly ``n`` bytes of 16-bit mono PCM at the requested rate.

What is wrong with pyttsx3 2.99 here, read from its drivers/espeak.py and driver.py and measured: it
initialises espeak-ng in AUDIO_OUTPUT_RETRIEVAL mode, where espeak_Synth only queues the text and a thread of
espeak-ng delivers the audio later through the driver's callback, which writes the WAV file on the
end-of-message event. On an engine's first utterance runAndWait() returns about 0.01 s after queueing (the
proxy starts out busy, so the end-loop command runAndWait queues is consumed as the loop starts), long
before the audio exists; a process that makes one utterance (as in DESIGN.md's measurements) only ever
makes first utterances, so its file is missing, header-only or cut off, the longer the text the likelier.
Later utterances do wait for the driver's end of loop, but that runs on espeak-ng's thread and overlaps the
next request. All audio does arrive before end-of-message (that event comes alone, with zero samples; the
first utterance of a process is sample-for-sample what the espeak-ng CLI writes), so the fix is to wait for
it: we wrap the driver's callback and set an event once the driver has handled end-of-message (file closed,
driver state reset), and read the file only then.
A second race of the same origin: espeak-ng also queues the rate and volume that setProperty sets, so
espeak_IsPlaying() is true right after them, and runAndWait() calls the driver's stop(), which then
espeak_Cancel()s the queue: the new rate/volume or the new utterance itself can be dropped (about one call
in ten came back flagged incomplete, some empty). Our stop() cancels only while the driver is speaking,
the one case stop() is for, and an utterance pyttsx3 still reports as not completed is a failure.
Sentence splitting in voice.tts is for early first audio and fair sharing of the workers, not for this bug.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import threading
import time
import wave

ESPEAK_RATE = 22050  # what the pyttsx3 espeak driver writes
INSTALL_HINT = "install espeak-ng: apt-get install espeak-ng"
_RENDER_TIMEOUT_S = 120.0  # the parent's own timeout is shorter; this only stops a wedged engine for good


class EngineUnavailable(Exception):
    """pyttsx3, the espeak-ng library or the voice is missing; the message says what to install."""


class EspeakRenderer:
    """pyttsx3's espeak driver with the completion wait described above. One per process."""

    def __init__(self, tmp_dir: str | None = None) -> None:
        self._tmp_dir = tmp_dir  # where pyttsx3 writes each utterance's WAV for the moment we read it
        try:
            import pyttsx3
            from pyttsx3.drivers import _espeak
        except ImportError as exc:
            raise EngineUnavailable(f"pyttsx3 is not installed ({exc})") from exc
        except RuntimeError as exc:  # raised by pyttsx3.drivers._espeak when no libespeak-ng loads
            raise EngineUnavailable(f"the espeak-ng library is missing ({INSTALL_HINT})") from exc
        self._espeak = _espeak
        self._engine = pyttsx3.init("espeak")
        self._driver = self._engine.proxy._driver
        self._done = threading.Event()
        self._errors: list[str] = []
        self._lost_samples = 0
        self._completed = True
        self._engine.connect("error", self._on_error)
        self._engine.connect("finished-utterance", self._on_finished)
        # replaces the driver's own registration; the driver's handler still does all the work
        _espeak.SetSynthCallback(self._on_synth)
        self._driver.stop = self._stop_if_speaking
        self.voices = frozenset(v.id for v in self._engine.getProperty("voices"))

    def _on_error(self, name=None, exception=None, **_kw) -> None:
        self._errors.append(repr(exception))

    def _on_finished(self, name=None, completed=True, **_kw) -> None:
        self._completed = self._completed and bool(completed)

    def _stop_if_speaking(self) -> None:
        if self._driver._speaking:
            self._driver._stopping = True
            self._espeak.Cancel()

    def _wait_idle(self) -> None:
        deadline = time.monotonic() + 10.0
        while self._espeak.IsPlaying():
            if time.monotonic() > deadline:
                raise RuntimeError("espeak-ng stays busy")
            time.sleep(0.001)

    def _on_synth(self, wav, numsamples, events) -> int:
        terminated = False
        i = 0
        while events[i].type != self._espeak.EVENT_LIST_TERMINATED:
            terminated = terminated or events[i].type == self._espeak.EVENT_MSG_TERMINATED
            i += 1
        if terminated and numsamples > 0:
            # the driver would drop these (it appends after writing the file); never seen with espeak-ng
            # 1.51, but if a version does it we fail loudly instead of returning clipped speech
            self._lost_samples += numsamples
        try:
            return self._driver._onSynth(wav, numsamples, events)
        finally:
            if terminated:
                self._done.set()

    def check_voice(self, voice: str) -> None:
        if voice not in self.voices:
            raise EngineUnavailable(f"espeak-ng has no voice {voice!r} ({INSTALL_HINT}; it brings sit/cmn)")

    def render(self, text: str, voice: str, rate_wpm: int, volume: float) -> bytes:
        """16-bit mono PCM at 22.05 kHz, via save_to_file + runAndWait."""
        self.check_voice(voice)
        fd, path = tempfile.mkstemp(prefix="yinling-tts-", suffix=".wav", dir=self._tmp_dir)  # pyttsx3 wants a file
        os.close(fd)
        try:
            self._wait_idle()
            self._done.clear()
            self._errors.clear()
            self._lost_samples = 0
            self._completed = True
            engine = self._engine
            engine.setProperty("voice", voice)
            engine.setProperty("rate", int(rate_wpm))
            engine.setProperty("volume", float(volume))
            engine.save_to_file(text, path)
            engine.runAndWait()  # may return while espeak-ng is still at it (always on the first utterance)
            if not self._done.wait(_RENDER_TIMEOUT_S):
                raise RuntimeError("espeak-ng never finished the utterance")
            if self._errors:
                raise RuntimeError("pyttsx3 reported: " + "; ".join(self._errors))
            if not self._completed:
                raise RuntimeError("pyttsx3 cancelled the utterance")
            if self._lost_samples:
                raise RuntimeError(f"espeak-ng sent {self._lost_samples} samples with end-of-message")
            with wave.open(path, "rb") as f:
                if (f.getnchannels(), f.getsampwidth(), f.getframerate()) != (1, 2, ESPEAK_RATE):
                    raise RuntimeError("pyttsx3 wrote an unexpected WAV format")
                return f.readframes(f.getnframes())
        finally:
            os.remove(path)


def resample(pcm: bytes, out_rate: int) -> bytes:
    from voice.audio import PcmFormat, to_mono16

    return to_mono16(pcm, PcmFormat(ESPEAK_RATE), out_rate) if pcm else b""


def _serve(renderer: EspeakRenderer, requests, out) -> None:
    def send(header: dict, payload: bytes = b"") -> None:
        out.write(json.dumps(header).encode() + b"\n" + payload)
        out.flush()

    for line in requests:
        try:
            req = json.loads(line)
            started = time.perf_counter()
            pcm = resample(renderer.render(req["text"], req["voice"], req["rate_wpm"], req["volume"]),
                           int(req["out_rate"]))
        except EngineUnavailable as exc:
            send({"ok": False, "error": str(exc)})
        except Exception as exc:  # the engine may be in any state now: report, then let the pool replace us
            send({"ok": False, "error": f"{type(exc).__name__}: {exc}", "fatal": True})
            return
        else:
            send({"ok": True, "n": len(pcm), "ms": round((time.perf_counter() - started) * 1000, 1)}, pcm)


def main(argv: list[str]) -> int:
    # the protocol owns the real stdout; whatever else prints (the driver prints "Audio saved to ...") is dropped
    out = os.fdopen(os.dup(1), "wb")
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    sys.stdout = open(1, "w", closefd=False)  # noqa: SIM115 - fd 1 lives as long as the process

    voice = argv[argv.index("--voice") + 1] if "--voice" in argv else "sit/cmn"
    tmp_dir = argv[argv.index("--tmp-dir") + 1] if "--tmp-dir" in argv else None  # the pool removes it after us
    started = time.perf_counter()
    try:
        renderer = EspeakRenderer(tmp_dir)
        renderer.check_voice(voice)
    except EngineUnavailable as exc:
        out.write(json.dumps({"ready": False, "error": str(exc)}).encode() + b"\n")
        out.flush()
        return 2
    if "--check" in argv:
        out.write(json.dumps({"ready": True, "voices": sorted(renderer.voices)}).encode() + b"\n")
        out.flush()
        return 0
    resample(renderer.render("你好。", voice, 130, 1.0), 16000)  # loads the dictionary and soxr before any request
    out.write(json.dumps({"ready": True, "pid": os.getpid(),
                          "startup_ms": round((time.perf_counter() - started) * 1000, 1)}).encode() + b"\n")
    out.flush()
    _serve(renderer, sys.stdin.buffer, out)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
