"""A scripted SIP caller: dials the hotline, speaks WAV files, presses keys, listens, reports.

    python -m phone.caller sip:hotline@127.0.0.1:5060 --from 13800000001 \
        --step greeting --step say:ask.wav --step answer --step dtmf:0 --step wait:5 --out heard.wav

It is PJSIP (the same stack as the line, but a separate process and endpoint, as a softphone would
be), so people can try the hotline from a terminal, and the tests and `bench/phone.py` place real
calls with it. Steps:
  greeting / answer   wait until the bot has spoken and fallen silent (1.2 s of quiet)
  say:FILE.wav        send the file's speech (any rate or channels; resampled to 8 kHz)
  dtmf:DIGITS         RFC 2833 key presses
  wait:SECONDS        listen
  hangup              end the call (also done after the last step)
It prints one JSON object: what happened, when, and the RTCP view of the line.
"""
from __future__ import annotations

import argparse
import array
import json
import math
import queue
import sys
import time
import wave
from dataclasses import dataclass, field
from pathlib import Path

from phone import sip
from voice.audio import decode, to_mono16

LOUD_RMS = 300  # 16-bit RMS above this is speech, not the line's silence
QUIET_S = 1.2


def rms(pcm: bytes) -> float:
    samples = array.array("h", pcm[: len(pcm) - len(pcm) % 2])
    return math.sqrt(sum(x * x for x in samples) / len(samples)) if samples else 0.0


def wav_to_line(path: Path) -> bytes:
    """Any WAV the project can read, as 16-bit mono 8 kHz for the line."""
    pcm, fmt = decode(path.read_bytes())
    return to_mono16(pcm, fmt, sip.RATE)


@dataclass
class CallReport:
    answered: bool = False
    codec: str = ""
    ended_code: int | None = None
    ended_reason: str = ""
    transferred_to: str | None = None
    transfer_connected: bool = False
    answers: list[dict[str, float]] = field(default_factory=list)  # speech heard: start/end seconds into the call
    eos_to_answer_ms: list[float] = field(default_factory=list)  # end of our speech -> first answer audio
    # each say/dtmf step: {"step": "say"|"dtmf", "eos_s": seconds into the call, "answer_ms": or None if unanswered}
    turns: list[dict] = field(default_factory=list)
    stats: dict[str, float] | None = None
    heard_s: float = 0.0
    events: list[str] = field(default_factory=list)


class Caller:
    def __init__(self, target: str, number: str, *, port: int, rtp_port: int, log_level: int = 0) -> None:
        self.target = target
        self.number = number
        self.events: queue.Queue[sip.SipEvent] = queue.Queue()
        self.chunks: queue.Queue[tuple[float, bytes]] = queue.Queue()
        settings = sip.SipSettings(port=port, rtp_port=rtp_port, user=number, log_level=log_level, deliver_frames=1,
                                   max_calls=4)
        self.engine = sip.SipEngine(settings, self.events.put, lambda _cid, pcm: self.chunks.put((time.monotonic(), pcm)))
        self.report = CallReport()
        self.heard = bytearray()
        self.call_id: int | None = None
        self.audio: sip.CallAudio | None = None
        self.t0 = 0.0
        self._loud = False
        self._last_loud = 0.0
        self._eos: float | None = None
        self._answers_at_eos: int | None = None  # answers heard when our last speech or key press ended

    # --- events and audio ----------------------------------------------------------------------
    def _poll(self, timeout_s: float) -> None:
        deadline = time.monotonic() + timeout_s
        while True:
            while True:
                try:
                    at, pcm = self.chunks.get_nowait()
                except queue.Empty:
                    break
                self._hear(at, pcm)
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return
            try:
                event = self.events.get(timeout=min(remaining, 0.02))
            except queue.Empty:
                continue
            self._event(event)

    def _event(self, event: sip.SipEvent) -> None:
        r = self.report
        match event:
            case sip.Dialled(call_id=cid):
                self.call_id = cid
            case sip.MediaReady(call_id=cid, audio=audio, codec=codec):
                if cid == self.call_id:
                    self.audio, r.answered, r.codec = audio, True, codec
                    self.t0 = time.monotonic()
                else:
                    r.transfer_connected = True
                r.events.append(f"media {cid} {codec}")
            case sip.TransferRequested(new_call_id=new_id, target=target):
                r.transferred_to = target
                r.events.append(f"refer -> {target} as call {new_id}")
            case sip.CallEnded(call_id=cid, code=code, reason=reason):
                r.events.append(f"ended {cid} {code} {reason}")
                if cid == self.call_id:
                    r.ended_code, r.ended_reason = code, reason
            case sip.DtmfDigit(digit=digit):
                r.events.append(f"dtmf-in {digit}")
            case _:
                r.events.append(type(event).__name__)

    def _hear(self, at: float, pcm: bytes) -> None:
        self.heard += pcm
        loud = rms(pcm) > LOUD_RMS
        if loud:
            if not self._loud:
                self.report.answers.append({"start_s": round(at - self.t0, 3), "end_s": round(at - self.t0, 3)})
                if self._eos is not None:
                    waited = round((at - self._eos) * 1000, 1)
                    self.report.eos_to_answer_ms.append(waited)
                    if self.report.turns:
                        self.report.turns[-1]["answer_ms"] = waited
                    self._eos = None
            self._loud, self._last_loud = True, at
            self.report.answers[-1]["end_s"] = round(at - self.t0, 3)
        elif self._loud and at - self._last_loud > QUIET_S:
            self._loud = False

    @property
    def live(self) -> bool:
        return self.report.ended_code is None

    # --- steps ---------------------------------------------------------------------------------
    def dial(self, timeout_s: float = 10.0) -> None:
        self.engine.start()
        self.engine.dial(self.target, self.number)
        deadline = time.monotonic() + timeout_s
        while self.audio is None and self.live and time.monotonic() < deadline:
            self._poll(0.05)

    def wait_answer(self, timeout_s: float = 30.0) -> None:
        """Until the bot has said something and then been quiet for QUIET_S."""
        # after a say/dtmf step, an answer that began before this step was reached counts (a key's answer
        # can start within the 0.3 s dtmf() listens for)
        heard_before = self._answers_at_eos if self._answers_at_eos is not None else len(self.report.answers)
        self._answers_at_eos = None
        deadline = time.monotonic() + timeout_s
        while self.live and time.monotonic() < deadline:
            self._poll(0.05)
            if len(self.report.answers) > heard_before and not self._loud:
                return

    def say(self, path: Path) -> None:
        pcm = wav_to_line(path)
        self.audio.play(pcm)
        self._poll(len(pcm) / (sip.RATE * 2) + 0.1)
        while self.live and not self.audio.drained.is_set():
            self._poll(0.02)
        self._eos = self.audio.drained_at or time.monotonic()
        self._turn("say")
        self._loud = False  # what we hear from now on is the answer to this

    def dtmf(self, digits: str) -> None:
        self.engine.send_dtmf(self.call_id, digits)
        self._eos = time.monotonic()
        self._turn("dtmf")
        self._loud = False
        self._poll(0.3)

    def _turn(self, step: str) -> None:
        self._answers_at_eos = len(self.report.answers)
        self.report.turns.append({"step": step, "eos_s": round(self._eos - self.t0, 3), "answer_ms": None})

    def hangup(self) -> None:
        if self.call_id is not None and self.live:
            self.report.stats = self.engine.stream_stats(self.call_id)
            self.engine.hangup(self.call_id, 200)
            deadline = time.monotonic() + 3
            while self.live and time.monotonic() < deadline:
                self._poll(0.05)

    def run(self, steps: list[str]) -> CallReport:
        try:
            self.dial()
            if not self.report.answered:
                return self.report
            for step in steps:
                if not self.live:
                    break
                kind, _, arg = step.partition(":")
                if kind in ("greeting", "answer"):
                    self.wait_answer(float(arg or 30))
                elif kind == "say":
                    self.say(Path(arg))
                elif kind == "dtmf":
                    self.dtmf(arg)
                elif kind == "wait":
                    self._poll(float(arg))
                elif kind == "hangup":
                    break
                else:
                    raise SystemExit(f"unknown step {step!r}")
                self.report.events.append(f"step {step} done at {time.monotonic() - self.t0:.2f}s")
            self.hangup()
            return self.report
        finally:
            self.report.heard_s = round(len(self.heard) / (sip.RATE * 2), 2)
            self.engine.stop()

    def write_heard(self, path: Path) -> None:
        with wave.open(str(path), "wb") as w:
            w.setnchannels(1)
            w.setsampwidth(2)
            w.setframerate(sip.RATE)
            w.writeframes(bytes(self.heard))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m phone.caller", description=__doc__.split("\n")[0])
    ap.add_argument("target", help="sip:hotline@127.0.0.1:5060")
    ap.add_argument("--from", dest="number", default="13800000001", help="the caller's number (caller ID)")
    ap.add_argument("--port", type=int, default=5062, help="our SIP port")
    ap.add_argument("--rtp-port", type=int, default=14000)
    ap.add_argument("--step", action="append", default=[], help="greeting, say:FILE, dtmf:D, wait:S, answer, hangup")
    ap.add_argument("--out", type=Path, help="write what we heard to this WAV (8 kHz)")
    ap.add_argument("--log-level", type=int, default=0)
    args = ap.parse_args(argv)
    caller = Caller(args.target, args.number, port=args.port, rtp_port=args.rtp_port, log_level=args.log_level)
    report = caller.run(args.step or ["greeting"])
    if args.out:
        caller.write_heard(args.out)
    json.dump(report.__dict__, sys.stdout, ensure_ascii=False)
    print()
    return 0 if report.answered else 1


if __name__ == "__main__":
    raise SystemExit(main())
