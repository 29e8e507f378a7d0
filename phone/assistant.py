"""What a call's voice session talks to: the text assistant, on behalf of whoever the caller acts for.

A resident's own line talks as that resident; a family member linked to several elders first says
which one (by name or by key); a caller nobody knows talks under a guest id and is served for
information. The caller's number and the resident's address travel with every turn, so a help call
by phone is stored with both before the bot answers.
"""
from __future__ import annotations

from typing import Any

from pypinyin import lazy_pinyin
from rapidfuzz import fuzz

from assistant.turn import BotMessage, ChatReply, ChatService
from common.words import TranscriptLine
from phone.keypad import choice_prompt
from services.types import CallerView

CHOSEN = "好的，现在为{name}办理。请说您要办的事。"
NAME_MATCH = 80  # rapidfuzz ratio on pinyin: a name misheard by a tone or a letter still counts


def guest_id(caller: CallerView, sip_call_id: str) -> str:
    tail = caller.number or sip_call_id.replace("@", "-")[:20]
    return f"tel-{tail}"[:64]


class CallerAssistant:
    def __init__(self, chat: ChatService, caller: CallerView, sip_call_id: str) -> None:
        self._chat = chat
        self.caller = caller
        self.sender = caller.resident_id or guest_id(caller, sip_call_id)
        self.address = caller.address
        # a family member with several elders chooses first; with one, they act for that one
        self.choices: list[tuple[str, str]] = list(caller.residents) if caller.kind == "family" else []
        if len(self.choices) == 1:
            self.sender = self.choices[0][0]
            self.choices = []
        self.chosen_name: str | None = None

    @property
    def resident_id(self) -> str | None:
        """The resident this call acts for, once known."""
        return None if self.sender.startswith("tel-") else self.sender

    @property
    def choosing(self) -> bool:
        return bool(self.choices)

    def choose(self, index: int) -> str | None:
        """The elder picked by key (1-based); their name, or None for a key that names nobody."""
        if not 1 <= index <= len(self.choices):
            return None
        self.sender, self.chosen_name = self.choices[index - 1]
        self.choices = []
        return self.chosen_name

    def match_name(self, text: str) -> int | None:
        spoken = "".join(lazy_pinyin(text))
        best, best_score = None, 0.0
        for i, (_, name) in enumerate(self.choices, 1):
            if name in text:
                return i
            score = fuzz.partial_ratio("".join(lazy_pinyin(name)), spoken)
            if score > best_score:
                best, best_score = i, score
        return best if best_score >= NAME_MATCH else None

    def prompt(self) -> str:
        return choice_prompt([name for _, name in self.choices])

    async def handle(self, _sender: str, text: str, channel: str = "phone", message_id: str | None = None) -> Any:
        """The voice session's turn. `_sender` is ignored: who we act for can change during the call."""
        if self.choosing:
            index = self.match_name(text)
            if index is None:
                return ChatReply(message_id or "", (BotMessage(self.prompt()),))
            name = self.choose(index)
            return ChatReply(message_id or "", (BotMessage(CHOSEN.format(name=name)),))
        return await self._chat.handle(self.sender, text, "phone", message_id, phone=self.caller.number or None,
                                       location=self.address)

    async def transcript(self) -> list[TranscriptLine]:
        return await self._chat.transcript(self.sender)
