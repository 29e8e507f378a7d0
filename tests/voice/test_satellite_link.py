"""A satellite link's liveness, over real sockets with satellites built from the `wyoming` package's
own server classes: reconnect soon after a satellite comes back, a frozen satellite dropped by its
unanswered pings, the transcript in the recogniser's language. (The real `wyoming-satellite` 1.0.0,
which pins an older wyoming and runs from an environment of its own, is driven in test_real_satellite.py.)"""
from __future__ import annotations

import asyncio
import time

import pytest
from wyoming.client import AsyncTcpClient
from wyoming.event import Event
from wyoming.info import Attribution, Describe, Info, Satellite
from wyoming.server import AsyncEventHandler, AsyncTcpServer

from tests.voice.test_pipeline import Scripted
from tests.voice.test_service import Given
from voice import pipeline as p
from voice.satellites import LIVENESS_S, PacedSender, SatelliteLink, wyoming_events
from voice.service import VoiceService
from voice.settings import DeviceSettings
from voice.speaker_client import WavSatellite

pytestmark = pytest.mark.asyncio


def _link(port: int) -> SatelliteLink:
    device = DeviceSettings("sat-1", "r-0001", uri=f"tcp://127.0.0.1:{port}")
    return SatelliteLink(device, VoiceService(Given(devices={"sat-1": device}), Scripted()))


async def _until(check, timeout_s: float) -> float:
    """Seconds until check() holds."""
    started = time.monotonic()
    while not check():
        assert time.monotonic() - started < timeout_s, "timed out"
        await asyncio.sleep(0.02)
    return time.monotonic() - started


async def test_a_satellite_that_comes_back_is_reconnected_within_2_s(unused_tcp_port):
    satellite = WavSatellite("127.0.0.1", unused_tcp_port)
    await satellite.start()
    link = _link(unused_tcp_port)
    task = asyncio.create_task(link.run())
    try:
        await _until(link.connected.is_set, 5)
        await satellite.stop()  # unplugged; the link notices at the latest by its pings
        await _until(lambda: not link.connected.is_set(), LIVENESS_S + 3)
        await asyncio.sleep(3)  # away for a while: the link keeps trying
        back = WavSatellite("127.0.0.1", unused_tcp_port)
        await back.start()
        reconnect_s = await _until(lambda: link.connected.is_set() and link.connections == 2, 10)
        assert reconnect_s < 2.0
        await back.stop()
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


class _Frozen(AsyncEventHandler):
    """Describes itself once, then hangs: the process is alive and the socket open, nothing answers
    (neither the pings nor the describe probes of a satellite that never answered a ping)."""

    described = False

    async def handle_event(self, event: Event) -> bool:
        if Describe.is_type(event.type) and not self.described:
            self.described = True
            await self.write_event(Info(satellite=Satellite(
                name="frozen", attribution=Attribution(name="test", url="https://example.invalid"),
                installed=True, description="frozen", version="1")).event())
        return True


async def test_a_frozen_satellite_is_dropped_when_its_pings_go_unanswered(unused_tcp_port):
    server = AsyncTcpServer("127.0.0.1", unused_tcp_port)
    await server.start(_Frozen)
    link = _link(unused_tcp_port)
    task = asyncio.create_task(link.run())
    try:
        await _until(link.connected.is_set, 5)
        down_s = await _until(lambda: not link.connected.is_set(), LIVENESS_S + 3)
        assert LIVENESS_S - 0.5 < down_s < LIVENESS_S + 2
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await server.stop()


async def test_the_transcript_says_the_recognisers_language():
    [event] = wyoming_events(p.Transcribed("안녕하세요", "안녕하세요"), language="ko")
    assert event.type == "transcript" and event.data["language"] == "ko"


class _Recorder(AsyncEventHandler):
    """A satellite's side of the socket: when each event arrived."""

    heard: list[tuple[float, str, int]] = []

    async def handle_event(self, event: Event) -> bool:
        _Recorder.heard.append((time.monotonic(), event.type, len(event.payload or b"")))
        return True


async def _paced(unused_tcp_port, events: list, cut_after_s: float | None = None) -> PacedSender:
    _Recorder.heard = []
    server = AsyncTcpServer("127.0.0.1", unused_tcp_port)
    await server.start(_Recorder)
    client = AsyncTcpClient("127.0.0.1", unused_tcp_port)
    await client.connect()
    queue: asyncio.Queue = asyncio.Queue()
    for event in events:
        queue.put_nowait(event)
    sender = PacedSender(client, "zh", lead_s=0.3)
    task = asyncio.create_task(sender.run(queue))
    try:
        if cut_after_s is not None:
            await asyncio.sleep(cut_after_s)
            queue.put_nowait(p.BargeIn())  # the elder spoke over the answer, synthesised in full already
        await _until(lambda: any(kind == "audio-stop" for _, kind, _ in _Recorder.heard), 10)
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await client.disconnect()
        await server.stop()
    return sender


async def test_answer_audio_goes_out_near_real_time_not_in_one_burst(unused_tcp_port):
    three_s = bytes(2 * 16000 * 3)
    await _paced(unused_tcp_port, [p.AudioStart(16000), p.AudioChunk(three_s), p.AudioStop()])
    chunks = [(at, size) for at, kind, size in _Recorder.heard if kind == "audio-chunk"]
    assert sum(size for _, size in chunks) == len(three_s)
    spread = chunks[-1][0] - chunks[0][0]
    assert 2.3 < spread < 3.2, f"3 s of audio went out over {spread:.2f} s"


async def test_a_barge_in_stops_what_has_not_gone_out(unused_tcp_port):
    ten_s = bytes(2 * 16000 * 10)
    sender = await _paced(unused_tcp_port, [p.AudioStart(16000), p.AudioChunk(ten_s), p.AudioStop()], cut_after_s=1.0)
    sent = sum(size for _, kind, size in _Recorder.heard if kind == "audio-chunk") / 2 / 16000
    assert sent < 2.0, f"{sent:.1f} s of the 10 s answer went out after a barge-in at 1 s"
    assert sender.dropped_s > 7.0
    stops = [kind for _, kind, _ in _Recorder.heard if kind == "audio-stop"]
    assert stops == ["audio-stop"]


@pytest.mark.parametrize("garbage", [
    b"this is not a wyoming event\n",  # not JSON
    b'{"type": "audio-chunk", "payload_length": 1000000000000}\n' + b"\0" * 4096,  # a terabyte promised
    b'{"type": "info", "data_length": 99999999999}\n',  # then the satellite hangs up
    b"\xff\xfe" * 40000,  # a line longer than any header, with no newline
])
async def test_a_satellite_sending_garbage_is_dropped_and_tried_again(unused_tcp_port, garbage):
    """Whatever a broken (or hostile) satellite sends, the link drops that connection, says so and keeps
    trying; it neither crashes nor buffers what it was promised."""
    connections = []

    async def broken(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        connections.append(time.monotonic())
        await reader.readline()  # the link's describe
        writer.write(garbage)
        await writer.drain()
        await asyncio.sleep(0.3)
        writer.close()

    server = await asyncio.start_server(broken, "127.0.0.1", unused_tcp_port)
    link = _link(unused_tcp_port)
    task = asyncio.create_task(link.run())
    try:
        await _until(lambda: len(connections) >= 3, 10)  # tried again, each time
        assert not link.connected.is_set() and not task.done()
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        server.close()
        await server.wait_closed()
