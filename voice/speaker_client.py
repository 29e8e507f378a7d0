"""`yinling speaker`: a home speaker in software, for people trying Yinling and for tests.

Two protocols, the two a real device would use:
- WebSocket (`/api/voice` on the gateway): the client connects and streams;
- Wyoming: the client is a satellite listening on its port (10700 by convention), and Yinling,
  the controller, connects to it once the device is registered for a resident.
Audio comes from a WAV file (any rate the gateway accepts) or, where there is one, the microphone;
the answer goes to a WAV file or the loudspeaker.
"""
from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass, field
from typing import Any

import websockets
from wyoming.audio import AudioChunk, AudioStart, AudioStop
from wyoming.event import Event
from wyoming.info import Attribution, Describe, Info, Satellite
from wyoming.ping import Ping, Pong
from wyoming.pipeline import PipelineStage, RunPipeline
from wyoming.satellite import RunSatellite
from wyoming.server import AsyncEventHandler, AsyncTcpServer
from wyoming.snd import Played

from common.service_key import auth_header
from voice.audio import PcmFormat, decode

CHUNK_S = 0.064


@dataclass
class Exchange:
    """What one utterance got back."""

    transcript: str = ""
    answer: str = ""
    events: list[dict[str, Any]] = field(default_factory=list)
    audio: bytearray = field(default_factory=bytearray)
    rate: int = 0
    sent_end_at: float = 0.0  # when the last audio went out (perf_counter)
    first_audio_at: float = 0.0  # when the first answer audio came in

    @property
    def first_audio_s(self) -> float:
        """Time from the end of the elder's audio to the first byte of the answer."""
        return self.first_audio_at - self.sent_end_at if self.first_audio_at else float("nan")


def _utterance(wav: bytes, trailing_silence_s: float) -> tuple[bytes, PcmFormat]:
    """The WAV's audio with silence after it, as a device that keeps listening would send."""
    pcm, fmt = decode(wav)
    return pcm + bytes(int(fmt.rate * trailing_silence_s) * fmt.channels * fmt.width), fmt


def _chunks(pcm: bytes, fmt: PcmFormat, seconds: float = CHUNK_S):
    step = max(fmt.channels * fmt.width, int(fmt.rate * seconds) * fmt.channels * fmt.width)
    for i in range(0, len(pcm), step):
        yield pcm[i:i + step]


async def talk_websocket(url: str, wav: bytes, *, resident: str | None = None, device: str | None = None,
                         out_rate: int = 16000, realtime: bool = False, trailing_silence_s: float = 0.0,
                         timeout_s: float = 60.0, headers: dict[str, str] | None = None) -> Exchange:
    """Streams a WAV file as one utterance and collects the answer (text and audio). `headers`: the
    gateway's service key by default (see common.service_key)."""
    pcm, fmt = _utterance(wav, trailing_silence_s)
    who = f"resident={resident}" if resident else f"device={device}"
    uri = f"{url}?{who}&rate={fmt.rate}&channels={fmt.channels}&out_rate={out_rate}"
    result = Exchange()
    async with websockets.connect(uri, max_size=None, extra_headers=headers or auth_header()) as ws:
        ready = json.loads(await ws.recv())
        result.events.append(ready)
        if ready.get("type") != "ready":
            raise ConnectionError(f"voice stream refused: {ready}")
        for chunk in _chunks(pcm, fmt):
            await ws.send(chunk)
            if realtime:
                await asyncio.sleep(CHUNK_S)
        await ws.send(json.dumps({"type": "end"}))
        result.sent_end_at = time.perf_counter()
        await asyncio.wait_for(_collect(ws, result), timeout_s)
        await ws.send(json.dumps({"type": "played"}))
    return result


async def _collect(ws, result: Exchange) -> None:
    while True:
        message = await ws.recv()
        if isinstance(message, bytes):
            if not result.first_audio_at:
                result.first_audio_at = time.perf_counter()
            result.audio += message
            continue
        event = json.loads(message)
        result.events.append(event)
        kind = event.get("type")
        if kind == "transcript":
            result.transcript = event["text"]
        elif kind == "answer":
            result.answer += event["text"]
        elif kind == "audio_start":
            result.rate = event["rate"]
        elif kind == "audio_stop":
            return
        elif kind == "error" and event.get("code") != "voice_failed":
            return


class WavSatellite:
    """A Wyoming satellite that speaks WAV files instead of a microphone.

    Built from the `wyoming` package's own server classes. Each time the controller says
    `run-satellite`, or `speak()` is called, it runs one pipeline with the next utterance and
    records the answer audio it is sent.
    """

    def __init__(self, host: str = "127.0.0.1", port: int = 10700, name: str = "yinling-wav-satellite") -> None:
        self.host, self.port, self.name = host, port, name
        self.server = AsyncTcpServer(host, port)
        self.exchanges: asyncio.Queue[Exchange] = asyncio.Queue()
        self.connected = asyncio.Event()
        self.controller_events: list[str] = []
        self._handler: _SatelliteHandler | None = None

    async def start(self) -> None:
        await self.server.start(self._make_handler)

    async def stop(self) -> None:
        await self.server.stop()

    def _make_handler(self, reader, writer) -> "_SatelliteHandler":
        self._handler = _SatelliteHandler(self, reader, writer)
        return self._handler

    async def speak(self, wav: bytes, *, realtime: bool = False, trailing_silence_s: float = 0.0,
                    timeout_s: float = 60.0) -> Exchange:
        """Sends one utterance through the connected controller and waits for the answer."""
        await asyncio.wait_for(self.connected.wait(), timeout_s)
        assert self._handler is not None
        await self._handler.send_utterance(wav, realtime=realtime, trailing_silence_s=trailing_silence_s)
        return await asyncio.wait_for(self.exchanges.get(), timeout_s)


class _SatelliteHandler(AsyncEventHandler):
    def __init__(self, satellite: WavSatellite, reader, writer) -> None:
        super().__init__(reader, writer)
        self.satellite = satellite
        self.current = Exchange()
        self.in_answer = False

    async def handle_event(self, event: Event) -> bool:
        sat = self.satellite
        sat.controller_events.append(event.type)
        if Describe.is_type(event.type):
            attribution = Attribution(name="Yinling", url="https://example.invalid/yinling")
            await self.write_event(Info(satellite=Satellite(
                name=sat.name, attribution=attribution, installed=True, description="WAV-file satellite",
                version="1")).event())
        elif RunSatellite.is_type(event.type):
            sat.connected.set()
        elif Ping.is_type(event.type):
            await self.write_event(Pong().event())
        elif event.type == "transcript":
            self.current.transcript = event.data.get("text", "")
        elif event.type == "synthesize":
            self.current.answer += event.data.get("text", "")
        elif event.type in ("voice-started", "voice-stopped", "error"):
            self.current.events.append({"type": event.type, **(event.data or {})})
        elif AudioStart.is_type(event.type):
            self.current.rate = AudioStart.from_event(event).rate
            self.in_answer = True
        elif AudioChunk.is_type(event.type) and self.in_answer:
            if not self.current.first_audio_at:
                self.current.first_audio_at = time.perf_counter()
            self.current.audio += AudioChunk.from_event(event).audio
        elif AudioStop.is_type(event.type) and self.in_answer:
            self.in_answer = False
            await self.write_event(Played().event())
            done, self.current = self.current, Exchange()
            sat.exchanges.put_nowait(done)
        return True

    async def send_utterance(self, wav: bytes, *, realtime: bool, trailing_silence_s: float) -> None:
        pcm, fmt = _utterance(wav, trailing_silence_s)
        await self.write_event(RunPipeline(start_stage=PipelineStage.ASR, end_stage=PipelineStage.TTS).event())
        await self.write_event(AudioStart(rate=fmt.rate, width=fmt.width, channels=fmt.channels).event())
        for chunk in _chunks(pcm, fmt):
            await self.write_event(AudioChunk(rate=fmt.rate, width=fmt.width, channels=fmt.channels,
                                              audio=chunk).event())
            if realtime:
                await asyncio.sleep(CHUNK_S)
        await self.write_event(AudioStop().event())
        self.current.sent_end_at = time.perf_counter()
