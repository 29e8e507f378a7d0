"""Yinling as the controller of Wyoming satellites, the way Home Assistant drives them.

A satellite (wyoming-satellite, a Home Assistant Voice device) listens on its port, 10700 by
convention. For every satellite the voice service's settings provider lists (the enabled `wyoming`
devices of the services database, through assistant.voice_settings), a link connects, asks the
satellite to describe itself, tells it to run (`run-satellite`), and then serves the pipeline runs the
satellite asks for, from the stage it names (voice.satellite_stages: the wake word, the elder's words,
the answer audio, paced so that a barge-in can stop it).
A satellite that goes away is tried again every second or two for a while (an elder who unplugs
and replugs the speaker is back at once), then with a growing pause up to Home Assistant's 10 s.
A link pings its satellite every PING_EVERY_S (and asks one that never answered a ping to describe
itself) and drops it when nothing at all has come back for LIVENESS_S, so a frozen satellite does not
show as connected. A satellite added to the list is picked up at the next refresh.
"""
from __future__ import annotations

import asyncio
import collections
import contextlib
import logging
import os
from urllib.parse import urlsplit

from wyoming.asr import Transcript
from wyoming.audio import AudioChunk, AudioStart, AudioStop
from wyoming.client import AsyncTcpClient
from wyoming.error import Error
from wyoming.event import Event
from wyoming.info import Describe, Info
from wyoming.ping import Ping, Pong
from wyoming.pipeline import RunPipeline
from wyoming.satellite import RunSatellite
from wyoming.snd import Played
from wyoming.tts import Synthesize
from wyoming.vad import VoiceStarted, VoiceStopped

from voice import pipeline as p
from voice.errors import AudioError
from voice.grammar import EMERGENCY_PHRASES
from voice.satellite_stages import SatellitePipeline
from voice.service import VoiceService
from voice.settings import DeviceSettings

logger = logging.getLogger(__name__)

# pauses before each reconnect attempt after a drop: about 12 s of quick tries at most 1.5 s apart (a
# satellite back is reconnected within 2 s, handshake included), then Home Assistant's 10 s
BACKOFF_S = (0.5, 1.0, 1.0, 1.5, 1.5, 1.5, 1.5, 1.5, 1.5, 5.0, 10.0)
PING_EVERY_S = 2.0  # as Home Assistant does
LIVENESS_S = 5.0  # nothing heard for this long, pongs and info included: the satellite is frozen or gone
LEAD_S = 0.5  # answer audio is sent at most this far ahead of its playback: a barge-in can still stop it
DESCRIBE_TIMEOUT_S = 10.0
SAMPLES_PER_CHUNK = 1024  # what Home Assistant sends: 64 ms at 16 kHz


def wyoming_events(event: p.VoiceEvent, language: str = "zh") -> list[Event]:
    """A pipeline event as the Wyoming events a satellite understands; `language`: the recogniser's."""
    match event:
        case p.SpeechStarted(at_s=at):
            return [VoiceStarted(timestamp=int(at * 1000)).event()]
        case p.SpeechStopped(at_s=at):
            return [VoiceStopped(timestamp=int(at * 1000)).event()]
        case p.Transcribed(text=text):
            return [Transcript(text=text, language=language).event()]
        case p.Answered(text=text):
            return [Synthesize(text=text).event()] if text else []
        case p.AudioStart(rate=rate):
            return [AudioStart(rate=rate, width=2, channels=1).event()]
        case p.AudioChunk(pcm=pcm):
            step = SAMPLES_PER_CHUNK * 2
            return [AudioChunk(rate=0, width=2, channels=1, audio=pcm[i:i + step]).event()
                    for i in range(0, len(pcm), step)]
        case p.AudioStop():
            return [AudioStop().event()]
        case p.Failed(message=message):
            return [Error(text=message, code="yinling-voice").event()]
    return []


def _cancel_requested() -> bool:
    """A cancel that lands just as the connection fails is lost inside the Wyoming client's
    asyncio.wait_for (Python 3.11 returns the connection error instead), and the link would go on
    reconnecting after its satellite was taken off the list or the gateway stopped. The task still
    knows it was asked to stop (Task.cancelling, 3.11+)."""
    task = asyncio.current_task()
    cancelling = getattr(task, "cancelling", None)
    return bool(cancelling is not None and cancelling())


class SatelliteLink:
    """One satellite: connect, serve, reconnect."""

    def __init__(self, device: DeviceSettings, voice: VoiceService, backoff_s: tuple[float, ...] = BACKOFF_S) -> None:
        parts = urlsplit(device.uri or "")
        self.device = device
        self.host, self.port = parts.hostname or "", parts.port or 10700
        self._voice = voice
        self._backoff = backoff_s
        self.connected = asyncio.Event()
        self.connections = 0
        self.answers_pings = False  # the satellite answered a ping on this connection
        self.stages: SatellitePipeline | None = None  # the current connection's runs

    async def run(self) -> None:
        failures = 0
        while True:
            try:
                await self._serve_once()
            except (OSError, asyncio.IncompleteReadError, TimeoutError, ConnectionError) as exc:
                if self.connected.is_set():
                    logger.warning("satellite %s (%s:%s) dropped: %s", self.device.id, self.host, self.port,
                                   exc or type(exc).__name__)
                elif failures in (0, len(self._backoff) - 1):  # the first miss, and when the pause is longest
                    logger.warning("satellite %s (%s:%s) unreachable: %s", self.device.id, self.host, self.port,
                                   exc or type(exc).__name__)
            except ValueError as exc:  # a header that is not JSON, or a line longer than any header
                if self.connected.is_set() or failures in (0, len(self._backoff) - 1):
                    logger.warning("satellite %s (%s:%s) sent what is not a Wyoming event (%s); dropped",
                                   self.device.id, self.host, self.port, str(exc)[:200])
            except Exception:
                logger.exception("satellite %s: unexpected failure", self.device.id)
            if _cancel_requested():
                raise asyncio.CancelledError()
            if self.connected.is_set():
                failures = 0  # it was up: the next attempts start with the short pauses again
                self.connected.clear()
            await asyncio.sleep(self._backoff[min(failures, len(self._backoff) - 1)])
            failures += 1

    async def _serve_once(self) -> None:
        client = AsyncTcpClient(self.host, self.port, connect_timeout=5)
        await client.connect()
        try:
            await client.write_event(Describe().event())
            await asyncio.wait_for(self._until_info(client), DESCRIBE_TIMEOUT_S)
            await client.write_event(RunSatellite().event())
            self.answers_pings = False
            self.connections += 1
            self.connected.set()
            logger.warning("satellite %s (%s:%s) connected, speaking for resident %s", self.device.id, self.host,
                           self.port, self.device.resident_id)
            await self._serve(client)
        finally:
            await client.disconnect()

    @staticmethod
    async def _until_info(client: AsyncTcpClient) -> None:
        while True:
            event = await client.read_event()
            if event is None:
                raise ConnectionError("satellite closed the connection")
            if Info.is_type(event.type):
                return

    async def _serve(self, client: AsyncTcpClient) -> None:
        session: p.VoiceSession | None = None
        stages: SatellitePipeline | None = None
        out: asyncio.Queue = asyncio.Queue()
        sender = asyncio.create_task(PacedSender(client, self._voice.language).run(out))
        pinger = asyncio.create_task(self._ping(client))
        loop = asyncio.get_running_loop()
        heard = loop.time()
        try:
            while True:
                try:
                    event = await asyncio.wait_for(client.read_event(), max(0.0, heard + LIVENESS_S - loop.time()))
                except asyncio.TimeoutError:
                    raise TimeoutError(f"no answer for {LIVENESS_S:.0f} s (pings unanswered)") from None
                if event is None:
                    raise ConnectionError("satellite closed the connection")
                if _cancel_requested():  # 3.11's wait_for returns a read that finished as the cancel landed
                    raise asyncio.CancelledError()
                if sender.done():
                    sender.result()  # the connection failed while answer audio went out
                if RunPipeline.is_type(event.type):
                    if stages is None:
                        session = await self._voice.open_session(device_id=self.device.id, channel="speaker",
                                                                 max_reprompts=1)
                        stages = SatellitePipeline(session, out, self._make_wake, emergencies=self._emergencies(),
                                                   device_id=self.device.id)
                        self.stages = stages
                    await stages.run_pipeline(RunPipeline.from_event(event))
                elif AudioChunk.is_type(event.type) and stages is not None:
                    try:
                        await stages.audio(AudioChunk.from_event(event))
                    except AudioError as exc:
                        await client.write_event(Error(text=str(exc), code="bad-audio").event())
                elif AudioStop.is_type(event.type) and stages is not None:
                    await stages.audio_stop()
                elif Played.is_type(event.type) and stages is not None:
                    stages.played()
                elif Ping.is_type(event.type):
                    await client.write_event(Pong(text=Ping.from_event(event).text).event())
                elif Pong.is_type(event.type):
                    self.answers_pings = True
                heard = loop.time()  # after handling: our own time (opening a session) is not the satellite's silence
        finally:
            for task in (pinger, sender):
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
            self.stages = None
            if stages is not None:
                await stages.close()
            if session is not None:
                await session.close()

    def _make_wake(self):
        return self._voice.wake_detector(self.device.wake_phrase)

    def _emergencies(self) -> dict[str, str]:
        return dict(EMERGENCY_PHRASES.get(self._voice.language, {}))

    async def _ping(self, client: AsyncTcpClient) -> None:
        """Every PING_EVERY_S: the satellite's pong (or anything else it sends) keeps the link alive.
        Satellites on wyoming before 1.5 (wyoming-satellite 1.0.0) know no ping and, in a quiet room, send
        nothing: until one has answered a ping, it is also asked to describe itself, which every satellite
        answers."""
        while True:
            await asyncio.sleep(PING_EVERY_S)
            await client.write_event(Ping().event())
            if not self.answers_pings:
                await client.write_event(Describe().event())


class PacedSender:
    """Sends a session's events (and Wyoming events of the stages, as they are) to the satellite, the
    answer audio paced near real time.

    Synthesis is far faster than speech (11 s of answer in under 170 ms), and a satellite plays what
    it was sent: sent in one burst, an answer cannot be stopped when the elder speaks over it. So
    audio goes out at most LEAD_S ahead of where playback is, and when the session says the answer
    was interrupted (barge-in), what has not gone out is dropped and `audio-stop` follows at once.
    """

    def __init__(self, client: AsyncTcpClient, language: str = "zh", lead_s: float = LEAD_S) -> None:
        self._client = client
        self._language = language
        self._lead_s = lead_s
        self._pending: collections.deque[p.VoiceEvent] = collections.deque()
        self._arrived = asyncio.Event()
        self._rate = 16000
        self._cut = False  # the answer going out was interrupted
        self.dropped_s = 0.0  # answer audio not sent because of barge-ins

    async def run(self, events: asyncio.Queue) -> None:
        sender = asyncio.create_task(self._send())
        try:
            while True:
                self._take(await events.get())
        finally:
            sender.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await sender

    def _take(self, event: p.VoiceEvent) -> None:
        # the elder spoke over the answer: the session says so at once (BargeIn), and ends the answer with
        # an interrupted AudioStop if it was still being synthesised; the normal AudioStop stays queued
        if isinstance(event, p.BargeIn) or (isinstance(event, p.AudioStop) and event.interrupted):
            kept = [e for e in self._pending if not isinstance(e, p.AudioChunk)]
            self.dropped_s += sum(len(e.pcm) for e in self._pending if isinstance(e, p.AudioChunk)) / 2 / self._rate
            self._pending = collections.deque(kept)
            self._cut = True
        self._pending.append(event)
        self._arrived.set()

    async def _send(self) -> None:
        loop = asyncio.get_running_loop()
        playing_from = sent_s = 0.0
        while True:
            while not self._pending:
                self._arrived.clear()
                await self._arrived.wait()
            event = self._pending.popleft()
            if isinstance(event, p.AudioStart):
                self._rate, self._cut = event.rate, False
                playing_from, sent_s = loop.time(), 0.0
            if isinstance(event, p.AudioChunk):
                left = len(event.pcm)
                for out in wyoming_events(event, self._language):
                    ahead = playing_from + sent_s - loop.time()
                    if ahead > self._lead_s and not self._cut:
                        await asyncio.sleep(ahead - self._lead_s)
                    if self._cut:  # interrupted while this chunk was going out
                        self.dropped_s += left / 2 / self._rate
                        break
                    out.data["rate"] = self._rate
                    await self._client.write_event(out)
                    sent_s += len(out.payload or b"") / 2 / self._rate
                    left -= len(out.payload or b"")
                continue
            for out in ([event] if isinstance(event, Event) else wyoming_events(event, self._language)):
                await self._client.write_event(out)


class SatelliteController:
    """Keeps one link per satellite the settings provider lists."""

    def __init__(self, voice: VoiceService, refresh_s: float | None = None) -> None:
        self._voice = voice
        self._refresh_s = refresh_s or float(os.environ.get("YINLING_SATELLITE_REFRESH_S", "30"))
        self.links: dict[str, tuple[SatelliteLink, asyncio.Task]] = {}

    async def run(self) -> None:
        try:
            while True:
                try:
                    await self.refresh()
                except Exception:  # the provider's database may be down; satellites already linked keep going
                    logger.exception("could not refresh the satellite list")
                await asyncio.sleep(self._refresh_s)
        finally:
            await self.stop()

    async def refresh(self) -> None:
        devices = {d.id: d for d in await asyncio.to_thread(self._voice.settings.satellites)}
        for device_id in list(self.links):
            link, task = self.links[device_id]
            if device_id not in devices or devices[device_id].uri != link.device.uri:
                task.cancel()
                del self.links[device_id]
        for device_id, device in devices.items():
            if device_id not in self.links:
                link = SatelliteLink(device, self._voice)
                self.links[device_id] = (link, asyncio.create_task(link.run(), name=f"satellite-{device_id}"))

    async def stop(self) -> None:
        for _, task in self.links.values():
            task.cancel()
        for _, task in self.links.values():
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self.links.clear()
