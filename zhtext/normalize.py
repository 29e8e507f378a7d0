"""Text clean-up for what an elder said or a speech recogniser produced.

Every parser in zhtext calls :func:`clean` first, so callers may pass raw
Vosk output ("我 要 两 份") or typed chat text with full-width characters.
"""

from __future__ import annotations

import re
import unicodedata

__all__ = ["clean", "strip_fillers", "FILLERS"]

# Sentence punctuation is unified to the Chinese (full-width) forms that NLU
# training data uses; the characters that live *inside* numbers (. : / - %)
# stay ASCII when they sit between digits ("37.5", "11:30", "145/90").
_TO_CN_PUNCT = {
    ",": "，", "､": "、", "﹐": "，", "﹑": "、",
    "?": "？", "!": "！", ";": "；", ":": "：",
    ".": "。", "｡": "。", "．": "。",
    "“": "", "”": "", "‘": "", "’": "", '"': "", "'": "",
    "「": "", "」": "", "『": "", "』": "",
    "～": "~", "〜": "~", "—": "-", "–": "-", "－": "-",
}
_NUMERIC_INNER = {".", ":", "/", "-", "~"}

# Whitespace between two ASCII letters/digits is kept as one space so that
# typed "145 90" does not turn into the number 14590; all other whitespace
# (Vosk puts spaces between every Chinese word) is dropped.
_WS = re.compile(r"\s+")
_REPEAT = re.compile(r"([，。？！；、~])\1+")
_ELLIPSIS = re.compile(r"(?:。{2,}|…+)")

FILLERS: tuple[str, ...] = ("嗯", "啊", "呃", "额", "哦", "噢", "唉", "哎", "诶", "那个", "这个", "就是说", "就是", "然后")
# Longest first so "就是说" goes before "就是".
_FILLER_RE = re.compile("|".join(sorted(map(re.escape, FILLERS), key=len, reverse=True)))


def _join_spaces(text: str) -> str:
    out: list[str] = []
    for part in _WS.split(text):
        if not part:
            continue
        if out and out[-1][-1:].isascii() and out[-1][-1:].isalnum() and part[0].isascii() and part[0].isalnum():
            out.append(" ")
        out.append(part)
    return "".join(out)


def clean(text: str | None) -> str:
    """Normalise width, whitespace and punctuation; never raises on odd input."""
    if not text:
        return ""
    # NFKC folds full-width digits/letters/punctuation (１２３ ＡＢ ，？) to ASCII.
    text = unicodedata.normalize("NFKC", str(text))
    text = _join_spaces(text.strip())
    chars = list(text)
    for i, ch in enumerate(chars):
        if ch in _NUMERIC_INNER and 0 < i < len(chars) - 1 and chars[i - 1].isdigit() and chars[i + 1].isdigit():
            continue  # 37.5 / 11:30 / 145/90 / 3-5
        repl = _TO_CN_PUNCT.get(ch)
        if repl is not None:
            chars[i] = repl
    text = "".join(chars)
    text = _ELLIPSIS.sub("…", text)
    text = _REPEAT.sub(r"\1", text)
    return text


def strip_fillers(text: str) -> str:
    """Drop hesitation words (嗯, 啊, 那个, 就是…) from cleaned text.

    Only for matching short answers: "那个" and "就是" are also real words,
    so NLU should see the text with them kept.
    """
    return _FILLER_RE.sub("", text)
