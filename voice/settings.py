"""What the voice package is given: who a device speaks for, its end-of-speech values, a resident's
voice, the satellites to drive, and the domain words the recogniser's output is corrected towards.

Voice never reads a database or the NLU files itself (DESIGN.md, "Which way the code points"): a
provider of these settings is handed to it (the assistant's `assistant.voice_settings` builds them
from the services). Everything here is plain frozen data; None means "the configured default".
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from voice.vad import EndpointSettings

__all__ = ["DEFAULT_WORD_WEIGHT", "DeviceSettings", "DomainWords", "EndpointOverrides", "ResidentVoice",
           "VoiceSettingsProvider"]

DEFAULT_WORD_WEIGHT = 500  # a domain word's weight when no dictionary gives it a frequency


@dataclass(frozen=True)
class EndpointOverrides:
    """A device's own end-of-speech settings, in seconds; None: the configured value. A speaker in a noisy
    kitchen, or an elder who pauses long, needs other values than the rest."""

    trailing_silence_s: float | None = None
    max_utterance_s: float | None = None
    no_speech_timeout_s: float | None = None

    def over(self, defaults: EndpointSettings) -> EndpointSettings:
        """`defaults` with this device's own values (those not None) over them."""
        own = {name: value for name, value in vars(self).items() if value is not None}
        return replace(defaults, **own)


@dataclass(frozen=True)
class DeviceSettings:
    """A speaker device: whom it speaks for, and how its utterances end."""

    id: str
    resident_id: str
    endpoint: EndpointOverrides = field(default_factory=EndpointOverrides)
    uri: str | None = None  # a Wyoming satellite's address (tcp://host:10700); None for other devices
    wake_phrase: str | None = None  # what wakes it when Yinling listens for the wake word; None: voice.wake's default


@dataclass(frozen=True)
class ResidentVoice:
    """How a resident's answers are spoken; None: the elders' default pace, full volume."""

    resident_id: str
    rate_wpm: int | None = None
    volume: float | None = None  # 0..1


@dataclass(frozen=True)
class DomainWords:
    """The words near-misses of the recogniser are corrected towards (voice.postprocess), each with a
    weight (a jieba frequency; the heavier word wins when two fit equally). Words the corrector cannot use
    (one character, not Chinese, only numerals) are left out by it, not here."""

    weights: tuple[tuple[str, int], ...] = ()

    @classmethod
    def of(cls, words: Iterable[str | tuple[str, int]]) -> DomainWords:
        """From words, or (word, weight) pairs; a word given twice keeps its first place and its highest weight."""
        merged: dict[str, int] = {}
        for item in words:
            word, weight = (item, DEFAULT_WORD_WEIGHT) if isinstance(item, str) else item
            word = word.strip()
            if word:
                merged[word] = max(weight, merged.get(word, 0))
        return cls(tuple(merged.items()))

    @property
    def words(self) -> tuple[str, ...]:
        return tuple(w for w, _ in self.weights)

    def __len__(self) -> int:
        return len(self.weights)


class VoiceSettingsProvider(Protocol):
    """Where voice learns its settings. The calls block (a database behind them): voice makes them in a
    worker thread. Ids the provider does not know raise voice.errors.UnknownSpeaker."""

    def device(self, device_id: str) -> DeviceSettings:
        """The device's settings; raises UnknownSpeaker for a device nobody registered."""
        ...

    def device_seen(self, device_id: str) -> None:
        """The device just opened a session (for "last seen")."""
        ...

    def resident_voice(self, resident_id: str) -> ResidentVoice:
        """The resident's voice; raises UnknownSpeaker for a resident nobody registered."""
        ...

    def satellites(self) -> Sequence[DeviceSettings]:
        """The enabled Wyoming satellites to connect to (each with its uri)."""
        ...

    def domain_words(self) -> DomainWords:
        """The words the recogniser's output should favour; read once when voice starts."""
        ...
