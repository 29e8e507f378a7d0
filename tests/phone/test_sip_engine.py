"""Our wrapper around PJSIP with real SIP and RTP on loopback: this process is the line (an echo
that plays back what it hears), the caller is phone.caller (another PJSIP endpoint, its own process)."""
from __future__ import annotations

import os
import queue
import subprocess
import sys
import threading
import time
import wave

import pytest

from common.paths import ROOT
from phone import sip
from tests.e2e.phone_calls import report_of

PORT = 27000 + os.getpid() % 1000


class EchoLine:
    def __init__(self, max_calls: int) -> None:
        self.events: queue.Queue = queue.Queue()
        self.audio: dict[int, sip.CallAudio] = {}
        self.engine = sip.SipEngine(sip.SipSettings(port=PORT, rtp_port=PORT + 100, max_calls=max_calls),
                                    self._event, self._heard)
        self.lock = threading.Lock()
        self.max_calls = max_calls

    def _event(self, event):
        if isinstance(event, sip.IncomingCall):
            self.engine.answer(event.call_id, 486 if len(self.audio) >= self.max_calls else 200)
        if isinstance(event, sip.MediaReady):
            self.audio[event.call_id] = event.audio
        if isinstance(event, sip.CallEnded):
            self.audio.pop(event.call_id, None)
        self.events.put(event)

    def _heard(self, call_id, pcm):
        audio = self.audio.get(call_id)
        if audio is not None:
            audio.play(pcm)

    def drain(self) -> list:
        out = []
        while True:
            try:
                out.append(self.events.get_nowait())
            except queue.Empty:
                return out


@pytest.fixture(scope="module")
def line():
    echo = EchoLine(max_calls=1)
    echo.engine.start()
    yield echo
    echo.engine.stop()


def call(number: str, steps: list[str], slot: int = 0, out=None) -> subprocess.Popen:
    argv = [sys.executable, "-m", "phone.caller", f"sip:line@127.0.0.1:{PORT}", "--from", number,
            "--port", str(PORT + 1 + slot), "--rtp-port", str(PORT + 200 + slot * 10)]
    for step in steps:
        argv += ["--step", step]
    if out:
        argv += ["--out", str(out)]
    return subprocess.Popen(argv, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                            env={**os.environ, "PYTHONPATH": str(ROOT)})


def tone_wav(path, seconds=1.0, rate=16000):
    import math
    import struct
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(b"".join(struct.pack("<h", int(8000 * math.sin(2 * math.pi * 440 * i / rate)))
                               for i in range(int(seconds * rate))))


def test_a_call_carries_audio_both_ways_and_keys(line, tmp_path):
    line.drain()
    tone = tmp_path / "tone.wav"
    tone_wav(tone)
    heard = tmp_path / "heard.wav"
    proc = call("13835410001", [f"say:{tone}", "wait:1", "dtmf:19*#", "wait:1"], out=heard)
    report = report_of(proc.communicate(timeout=60)[0])
    events = line.drain()
    incoming = next(e for e in events if isinstance(e, sip.IncomingCall))
    assert incoming.caller == "13835410001" and incoming.sip_call_id
    assert next(e for e in events if isinstance(e, sip.MediaReady)).codec == "PCMU"
    assert "".join(e.digit for e in events if isinstance(e, sip.DtmfDigit)) == "19*#"
    assert any(isinstance(e, sip.CallEnded) for e in events)
    # the echo came back: about a second of tone, after a round trip well under half a second
    assert report["answers"] and 0.7 < report["answers"][0]["end_s"] - report["answers"][0]["start_s"] < 1.5
    stats = report["stats"]
    assert stats["rx_lost"] == 0 and stats["rx_jitter_ms"] < 20 and stats["tx_packets"] > 100
    with wave.open(str(heard)) as w:
        assert w.getframerate() == 8000 and w.getnframes() > 8000


def test_a_second_concurrent_call_is_turned_away_busy(line):
    line.drain()
    first = call("13835410001", ["wait:4"], slot=0)
    time.sleep(1.5)
    second = call("13935420002", ["wait:1"], slot=1)
    busy = report_of(second.communicate(timeout=30)[0])
    ok = report_of(first.communicate(timeout=30)[0])
    assert ok["answered"]
    assert not busy["answered"] and busy["ended_code"] == 486
