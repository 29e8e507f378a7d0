"""Recogniser text → the text Rasa reads.

Vosk writes Mandarin as space-separated words ("我 要 订 两 份"). Three steps turn that into what the NLU
was trained on:

1. Join: drop the space between two Chinese characters; keep it between words of alphabetic scripts
   (Latin, Hangul — the test model is Korean), around ASCII digits, and between two Chinese numerals
   that do not form one number ("一百四十五 九十" is a blood pressure, not 1,459,0).
2. Numbers stay in Chinese characters by default. The NLU training examples write them that way
   (nlu_data/train, not counting the generated file: 103 examples with 一/两/三…份 and none with
   2份; 17 with 三号 against 2 with 5号; 112 with multi-character Chinese numerals against 10
   with ASCII numbers) and the actions read Chinese numerals through zhtext, which calls cn2an. So
   converting would move the input away from the training data and gain nothing. ``digits=True``
   converts only what the dialogue counts, dates and measures (两份 → 2份, 三号 → 3号, 血压一百四十五
   → 血压145), for a model trained on digits or for display; never 一下, 一点, 一个人.
3. Near-miss domain words: a window of characters whose toneless pinyin matches one of the domain words
   the voice service was given (voice.settings.DomainWords; the gateway's come from
   assistant.voice_settings: the user dictionary, the NLU lookup tables, the facility, place, programme
   and service names of the services database) is replaced by that word, conservatively (see
   ``Normalizer.fix_domain_words``). This module reads no file and no database for them.

A ``Normalizer`` holds one set of domain words and the lexicon built from them (once, on first use or
``warm_up``); the session and the recogniser of one voice service share it.
"""

from __future__ import annotations

import math
import re
import threading
from dataclasses import dataclass
from functools import lru_cache

from rapidfuzz.distance import Levenshtein

from voice.settings import DomainWords
from zhtext._numerals import DIGITS, UNITS, NumSpan, find_numbers

__all__ = ["Normalizer", "join_words", "numbers_to_digits"]

# Tokens Vosk emits for "something was said" (grammar mode) or out-of-vocabulary speech.
_UNK = re.compile(r"^(?:\[unk\]|<unk>)$", re.IGNORECASE)


def _is_han(ch: str) -> bool:
    o = ord(ch)
    return 0x4E00 <= o <= 0x9FFF or 0x3400 <= o <= 0x4DBF or 0xF900 <= o <= 0xFAFF


def _joins(ch: str) -> bool:
    """Chinese characters and full-width punctuation take no space between them."""
    o = ord(ch)
    return _is_han(ch) or 0x3000 <= o <= 0x303F or 0xFF01 <= o <= 0xFF0F


_NUMERAL_CHARS = frozenset(DIGITS) | frozenset(UNITS)


def _numeral_run_start(text: str) -> int:
    i = len(text)
    while i > 0 and (text[i - 1] in _NUMERAL_CHARS or text[i - 1] == "点"):
        i -= 1
    return i


def _one_number(left: str, right: str) -> bool:
    """True when the numeral ending `left` and the one starting `right` read as a single number."""
    start = _numeral_run_start(left)
    run = left[start:]
    joined = run + right
    return any(s.start < len(run) < s.end for s in find_numbers(joined))


def join_words(raw: str) -> str:
    """Join the recogniser's words: no space between Chinese characters, one space elsewhere."""
    out = ""
    for token in raw.split():
        if _UNK.match(token):
            continue
        if not out:
            out = token
        elif _joins(out[-1]) and _joins(token[0]):
            if out[-1] in _NUMERAL_CHARS and token[0] in _NUMERAL_CHARS and not _one_number(out, token):
                out += " " + token
            else:
                out += token
        else:
            out += " " + token
    return out


# ---------------------------------------------------------------------------------------------- numbers

_READING_WORDS = ("血压", "高压", "低压", "血糖", "心率", "心跳", "脉搏", "体温", "血氧")
_CLAUSE_END = re.compile(r"[，。？！；,.?!;]")


def _fmt(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


def _needs_digits(text: str, s: NumSpan) -> bool:
    if s.kind != "cn" or s.approx or (s.start > 0 and text[s.start - 1] == "第"):
        return False
    after = text[s.end:]
    if after.startswith("份"):
        return s.is_int and not after.startswith("份半")
    if after.startswith(("号", "日")) and not after.startswith("日间"):
        return s.is_int and 1 <= s.value <= 31
    if after.startswith("月") and s.is_int and 1 <= s.value <= 12:
        rest = find_numbers(after[1:])
        return bool(rest) and rest[0].start == 0 and after[1 + rest[0].end:].startswith(("号", "日"))
    # A measured value: two or more characters (a single digit is too often 一下, 一点, 一个), in a
    # clause that names what was measured.
    clause = _CLAUSE_END.split(text[:s.start])[-1]
    return s.end - s.start >= 2 and any(w in clause for w in _READING_WORDS)


def numbers_to_digits(text: str) -> str:
    """Write the counts, dates and measured values the dialogue uses in ASCII digits (cn2an via zhtext)."""
    out: list[str] = []
    pos = 0
    for s in find_numbers(text):
        if not _needs_digits(text, s):
            continue
        out.append(text[pos:s.start])
        out.append(_fmt(s.value))
        pos = s.end
    if not out:
        return text
    out.append(text[pos:])
    return "".join(out)


# ---------------------------------------------------------------------------------------------- domain words

# Characters that are grammar, not content: a recogniser writing 呀 where 压 was meant is far less likely
# than the elder saying 呀 ("血压好高呀" must not become 血压好高压).
_FUNCTION_CHARS = frozenset("呀啊吧呢吗嘛么哦哈了的地得着过完们也都还又和跟与在是有没很太把被让向从对这那哪个")
# Common words of the general dictionary (jieba's, frequency at least this) count as "known": a window that is one
# of them, or that such a word crosses at a changed character, is left alone (老板 stays 老板, 一碗饭 stays).
_KNOWN_MIN_FREQ = 100
_KNOWN_MAX_LEN = 4


@dataclass(frozen=True)
class _Entry:
    word: str
    pinyin: tuple[str, ...]
    fuzzy: tuple[str, ...]
    weight: int


def _fuzzy(syllable: str) -> str:
    """Fold the sound pairs Jin-dialect speakers (and recognisers) merge: zh/z ch/c sh/s, l/n, -ng/-n."""
    for a, b in (("zh", "z"), ("ch", "c"), ("sh", "s")):
        if syllable.startswith(a):
            syllable = b + syllable[2:]
            break
    if syllable.startswith("l"):
        syllable = "n" + syllable[1:]
    if syllable.endswith("ng") and len(syllable) > 2:
        syllable = syllable[:-1]
    return syllable


@lru_cache(maxsize=8192)
def _readings(ch: str) -> tuple[frozenset[str], frozenset[str]]:
    """All toneless readings of one character (heteronyms too), and their fuzzy forms."""
    from pypinyin import Style, pinyin

    readings = frozenset(pinyin(ch, style=Style.NORMAL, heteronym=True, errors="ignore")[0] if _is_han(ch) else ())
    return readings, frozenset(_fuzzy(r) for r in readings)


def _usable(words: DomainWords) -> dict[str, int]:
    """The words the corrector can compare by sound: two or more Chinese characters, not only numerals."""
    usable: dict[str, int] = {}
    for word, weight in words.weights:
        word = word.strip()
        if len(word) >= 2 and all(_is_han(c) for c in word) and not all(c in _NUMERAL_CHARS for c in word):
            usable[word] = max(weight, usable.get(word, 0))
    return usable


@dataclass(frozen=True)
class _Lexicon:
    by_len: dict[int, tuple[_Entry, ...]]
    # (length, first character or fuzzy first syllable) → entries: the candidates a window can match at all
    index: dict[tuple[int, str], tuple[_Entry, ...]]
    words: frozenset[str]
    known: frozenset[str]

    def candidates(self, window: str) -> list[_Entry]:
        keys = {window[0], *_readings(window[0])[1]}
        found: dict[str, _Entry] = {}
        for key in keys:
            for e in self.index.get((len(window), key), ()):
                found[e.word] = e
        return list(found.values())


@lru_cache(maxsize=1)
def _general_words() -> frozenset[str]:
    import os

    import jieba

    path = os.path.join(os.path.dirname(jieba.__file__), "dict.txt")
    known = set()
    with open(path, encoding="utf-8") as f:
        for line in f:
            parts = line.split(" ")
            if 2 <= len(parts[0]) <= 12 and len(parts) > 1 and parts[1].isdigit() and int(parts[1]) >= _KNOWN_MIN_FREQ:
                known.add(parts[0])
    return frozenset(known)


def _build_lexicon(words: dict[str, int]) -> _Lexicon:
    from pypinyin import lazy_pinyin

    by_len: dict[int, list[_Entry]] = {}
    for word, weight in words.items():
        py = tuple(lazy_pinyin(word))
        if len(py) != len(word):  # a character without a reading: cannot compare by sound
            continue
        by_len.setdefault(len(word), []).append(_Entry(word, py, tuple(_fuzzy(p) for p in py), weight))
    index: dict[tuple[int, str], list[_Entry]] = {}
    for n, es in by_len.items():
        for e in es:
            index.setdefault((n, e.word[0]), []).append(e)
            index.setdefault((n, e.fuzzy[0]), []).append(e)
    return _Lexicon(
        by_len={n: tuple(sorted(es, key=lambda e: -e.weight)) for n, es in by_len.items()},
        index={k: tuple(v) for k, v in index.items()},
        words=frozenset(words),
        known=_general_words() | frozenset(words),
    )


def _score(entry: _Entry, window: str) -> tuple[int, int, int] | None:
    """(same characters, exact homophones, near homophones) when the window may be a misheard `entry`."""
    n = len(window)
    same = homo = near = 0
    heard: list[str] = []
    for ch, wc, py, fz in zip(window, entry.word, entry.pinyin, entry.fuzzy, strict=True):
        if ch == wc:
            same += 1
            heard.append(py)
            continue
        if ch in _FUNCTION_CHARS:
            return None
        readings, fuzzy = _readings(ch)
        if py in readings:
            homo += 1
            heard.append(py)
        elif n >= 3 and fz in fuzzy:  # near sounds only in longer words, where the rest gives context
            near += 1
            heard.append(min(readings, key=lambda r: Levenshtein.distance(r, py)))
        else:
            return None
    if same == n or same < max(1, math.ceil(n / 2)) or near > (1 if n <= 4 else 2):
        return None
    if Levenshtein.normalized_similarity(" ".join(entry.pinyin), " ".join(heard)) < 0.8:
        return None
    return same, homo, near


def _crossed(text: str, start: int, end: int, changed: list[int], known: frozenset[str]) -> bool:
    """A known word reaching outside [start, end) over a changed character explains it another way."""
    for k in changed:
        for a in range(max(0, k - _KNOWN_MAX_LEN + 1), k + 1):
            for b in range(k + 1, min(len(text), a + _KNOWN_MAX_LEN) + 1):
                if (a < start or b > end) and b - a >= 2 and text[a:b] in known:
                    return True
    return False


def _fix_domain_words(text: str, lex: _Lexicon) -> str:
    """Normalizer.fix_domain_words with this lexicon."""
    if not text or not lex.by_len or not any(_is_han(c) for c in text):
        return text
    n = len(text)
    # Domain words already in the text protect their characters from shorter (less informed) corrections:
    # "高龄金" stays unless a longer window reads as 高龄金贴 → 高龄津贴.
    locked = [0] * n
    for length in lex.by_len:
        for i in range(n - length + 1):
            if text[i:i + length] in lex.words:
                for k in range(i, i + length):
                    locked[k] = max(locked[k], length)
    edits: list[tuple[int, int, str]] = []
    for length in sorted(lex.by_len, reverse=True):
        for i in range(n - length + 1):
            window = text[i:i + length]
            if not all(_is_han(c) for c in window) or window in lex.known:
                continue
            best: tuple[tuple[int, int, int, int], _Entry] | None = None
            for entry in lex.candidates(window):
                score = _score(entry, window)
                if score is None:
                    continue
                key = (score[0], score[1], -score[2], entry.weight)
                if best is None or key > best[0]:
                    best = (key, entry)
            if best is None:
                continue
            changed = [i + k for k, (a, b) in enumerate(zip(window, best[1].word, strict=True)) if a != b]
            if any(locked[k] >= length for k in changed) or _crossed(text, i, i + length, changed, lex.known):
                continue
            edits.append((i, i + length, best[1].word))
            locked[i:i + length] = [n + 1] * length  # an edit is final
    for start, end, word in sorted(edits, reverse=True):
        text = text[:start] + word + text[end:]
    return text


class Normalizer:
    """Recogniser text → NLU text, correcting near misses towards the domain words it was given.

    Safe to share between threads (streams finish in several at once); the lexicon is built once, on the
    first call or ``warm_up`` (about 1 s with the pinyin tables and jieba's dictionary). Without domain
    words it joins and writes digits only.
    """

    def __init__(self, words: DomainWords | None = None) -> None:
        self.words = words or DomainWords()
        self._lexicon: _Lexicon | None = None
        self._lock = threading.Lock()

    def _lex(self) -> _Lexicon:
        if self._lexicon is None:
            with self._lock:
                if self._lexicon is None:
                    usable = _usable(self.words)
                    self._lexicon = _build_lexicon(usable) if usable else _Lexicon({}, {}, frozenset(), frozenset())
        return self._lexicon

    def fix_domain_words(self, text: str) -> str:
        """Replace near-miss domain words ("定餐" → "订餐", "高林津贴" → "高龄津贴"), conservatively.

        A window of Chinese characters is replaced by a domain word of the same length only when: it is not
        itself a known word (domain or common general word); every character is the word's own character, an
        exact homophone, or (words of three or more characters, at most one such per four) a near homophone;
        at least half of the characters (and at least one) are the word's own; no changed character is a
        function character (呀, 了, 的…); no common word crosses the window's edge at a changed character;
        and the pinyin strings are at least 80% similar (rapidfuzz). Longer words win; known domain words
        already in the text are never touched.
        """
        return _fix_domain_words(text, self._lex())

    def normalize(self, raw: str, *, digits: bool = False) -> str:
        """Join words, fix near-miss domain words, optionally write digits."""
        text = self.fix_domain_words(join_words(raw))
        return numbers_to_digits(text) if digits else text

    def warm_up(self) -> None:
        """Load the pinyin tables and dictionaries and build the lexicon now rather than on the first utterance."""
        self.normalize("定 餐")
