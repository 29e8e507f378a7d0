"""Shared words every layer writes the same way: the channels, who acted, a transcript line, the
acknowledgement timeout of help requests.

Plain values rather than strings repeated in each package, so that a new channel or a different
timeout is changed once. `Channel` is a str Enum (not StrEnum) because the Rasa environment is 3.10.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta
from enum import Enum
from typing import Any, Optional, Union


class Channel(str, Enum):
    TEXT = "text"  # the terminal chat, the API, tests
    SPEAKER = "speaker"  # a home speaker (Wyoming satellite or our own client)
    PHONE = "phone"  # the hotline
    WEB = "web"  # the family page

    @classmethod
    def of(cls, value: Optional[str], default: "Channel" = None) -> "Channel":
        """The channel named `value`; an unknown or missing one is `default` (text)."""
        try:
            return cls(value)
        except ValueError:
            return default or cls.TEXT


CHANNELS: tuple[str, ...] = tuple(c.value for c in Channel)
CHANNEL_PATTERN = "^(" + "|".join(CHANNELS) + ")$"  # for request validation

# A help request nobody acknowledged within this time is escalated (YINLING_ACK_TIMEOUT_S overrides).
ACK_TIMEOUT = timedelta(seconds=180)


@dataclass(frozen=True)
class Actor:
    """Who did something, as the audit log and the conversation log name them: `family:<account id>`,
    `operator:<operator id>`, `resident:<resident id>`, or `service` (a device or tool of this installation)."""

    kind: str
    id: str = ""

    _FORM = re.compile(r"(family|operator|resident):([A-Za-z0-9_.@+-]{1,64})|service")

    @classmethod
    def family(cls, account_id: int | str) -> "Actor":
        return cls("family", str(account_id))

    @classmethod
    def operator(cls, operator_id: str) -> "Actor":
        return cls("operator", operator_id)

    @classmethod
    def resident(cls, resident_id: str) -> "Actor":
        return cls("resident", resident_id)

    @classmethod
    def parse(cls, value: Optional[str]) -> Optional["Actor"]:
        """The actor written as `value`, or None for anything not in one of the forms."""
        m = cls._FORM.fullmatch(str(value or ""))
        if m is None:
            return None
        if m.group(1) is None:
            return cls("service")
        if m.group(1) == "family" and not m.group(2).isdigit():  # web accounts are numbered
            return None
        return cls(m.group(1), m.group(2))

    @property
    def is_family(self) -> bool:
        return self.kind == "family"

    @property
    def account_id(self) -> Optional[int]:
        """The web account of a family actor."""
        return int(self.id) if self.kind == "family" and self.id.isdigit() else None

    def __str__(self) -> str:
        return self.kind if self.kind == "service" else f"{self.kind}:{self.id}"


def role_of(actor: Optional[str]) -> str:
    """Whose line a conversation turn is: a family member typing for the elder, else the elder."""
    parsed = Actor.parse(actor)
    return "family" if parsed is not None and parsed.is_family else "elder"


@dataclass(frozen=True)
class TranscriptLine:
    """One line of a conversation as handoffs and call records keep it."""

    role: str  # elder / family / bot / operator
    text: str
    ts: Optional[Union[float, str]] = None  # when known: epoch seconds (Rasa, the phone line) or ISO time
    intent: Optional[str] = None  # the NLU's reading of an elder's line, when Rasa kept it

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "TranscriptLine":
        return cls(str(d.get("role") or "elder"), str(d.get("text") or ""), d.get("ts"), d.get("intent"))

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"role": self.role, "text": self.text, "ts": self.ts}
        if self.intent is not None:
            out["intent"] = self.intent
        return out
