"""A satellite link's liveness, over real sockets with satellites built from the `wyoming` package's
own server classes: reconnect soon after a satellite comes back, a frozen satellite dropped by its
unanswered pings, the transcript in the recogniser's language. (The real `wyoming-satellite`
package pins an older wyoming and needs an environment of its own: issue 15.)"""
from __future__ import annotations

import asyncio
import time

import pytest
from wyoming.event import Event
from wyoming.info import Attribution, Describe, Info, Satellite
from wyoming.server import AsyncEventHandler, AsyncTcpServer

from tests.voice.test_pipeline import Scripted
from tests.voice.test_service import Given
from voice import pipeline as p
from voice.satellites import LIVENESS_S, SatelliteLink, wyoming_events
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
    """Describes itself, then hangs: the process is alive and the socket open, nothing answers."""

    async def handle_event(self, event: Event) -> bool:
        if Describe.is_type(event.type):
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
