"""The place that turns services data into voice settings: which speaker belongs to whom, its
endpointing, the domain words the recogniser should favour.

Voice never imports the services (DESIGN.md, "Which way the code points"); it is handed a
voice.settings.VoiceSettingsProvider. `ServicesVoiceSettings` is the one the gateway and the hotline
give it, over the services facade:

- a device → the resident it speaks for and its own end-of-speech values (`yinling devices endpoint`);
- a resident → their speech rate and volume;
- the enabled Wyoming satellites to connect to;
- the domain words: the user dictionary (bot/dict/userdict.txt, with its frequencies), the NLU lookup
  tables and synonyms (nlu_data/train/lookups.yml), and from the database the names of the facilities
  and of their counties, townships and villages, of the subsidy programmes and of the home services. A
  facility added to the database is a word the recogniser favours from the next start.

Ids the services do not know are voice.errors.UnknownSpeaker here, so the channels catch one error of
the voice package whatever stands behind it.
"""
from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

from common.paths import ROOT
from services.errors import NotFound, ServiceError
from services.facade import Services
from services.types import DeviceView
from voice.errors import UnknownSpeaker
from voice.settings import (
    DEFAULT_WORD_WEIGHT,
    DeviceSettings,
    DomainWords,
    EndpointOverrides,
    ResidentVoice,
)

__all__ = ["LOOKUPS", "USERDICT", "ServicesVoiceSettings", "dictionary_words", "domain_words", "lookup_words",
           "services_words"]

logger = logging.getLogger(__name__)

USERDICT = ROOT / "bot" / "dict" / "userdict.txt"
LOOKUPS = ROOT / "nlu_data" / "train" / "lookups.yml"


def dictionary_words(path: Path = USERDICT) -> Iterator[tuple[str, int]]:
    """(word, weight) from a jieba user dictionary ("word [freq] [tag]" a line); no file, no words."""
    if not path.exists():
        return
    for line in path.read_text(encoding="utf-8").splitlines():
        parts = line.split()
        if parts:
            yield parts[0], int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else DEFAULT_WORD_WEIGHT


def lookup_words(path: Path = LOOKUPS) -> Iterator[str]:
    """The entries of a Rasa NLU file's lookup tables, and its synonyms with their examples."""
    if not path.exists():
        return
    in_lookup = False
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("- "):
            in_lookup = line.startswith("- lookup:") or line.startswith("- synonym:")
            if line.startswith("- synonym:"):
                yield line.split(":", 1)[1]
        elif in_lookup and line.strip().startswith("- "):
            yield line.strip()[2:]


def services_words(services: Services) -> Iterator[str]:
    """Names from the database: facilities and their places, subsidy programmes, home services."""
    for facility in services.facilities():
        yield from (name for name in (facility.name, facility.county, facility.township, facility.village) if name)
    for programme in services.programmes():
        yield programme.name
    for _, name in services.service_types():
        yield name


def domain_words(services: Services | None, *, userdict: Path = USERDICT, lookups: Path = LOOKUPS) -> DomainWords:
    """All the domain words, the dictionary's first (their weights). A database that cannot be read leaves
    its names out (logged): voice starts on the files' words rather than not at all."""
    words: list[str | tuple[str, int]] = [*dictionary_words(userdict), *lookup_words(lookups)]
    if services is not None:
        try:
            words += list(services_words(services))
        except ServiceError:
            logger.warning("domain words: the services database could not be read; using the dictionary "
                           "and the NLU lookups only", exc_info=True)
    return DomainWords.of(words)


def device_settings(device: DeviceView) -> DeviceSettings:
    e = device.endpoint
    return DeviceSettings(id=device.id, resident_id=device.resident_id, uri=device.uri,
                          endpoint=EndpointOverrides(trailing_silence_s=e.trailing_silence_s,
                                                     max_utterance_s=e.max_utterance_s,
                                                     no_speech_timeout_s=e.no_speech_timeout_s),
                          wake_phrase=device.wake_phrase)


class ServicesVoiceSettings:
    """voice.settings.VoiceSettingsProvider over the services facade (blocking calls, as voice expects)."""

    def __init__(self, services: Services, *, userdict: Path = USERDICT, lookups: Path = LOOKUPS) -> None:
        self.services = services
        self._userdict = userdict
        self._lookups = lookups

    def device(self, device_id: str) -> DeviceSettings:
        try:
            return device_settings(self.services.get_device(device_id))
        except NotFound as exc:
            raise UnknownSpeaker(str(exc)) from exc

    def device_seen(self, device_id: str) -> None:
        self.services.device_seen(device_id)

    def resident_voice(self, resident_id: str) -> ResidentVoice:
        try:
            resident = self.services.get_resident(resident_id)
        except NotFound as exc:
            raise UnknownSpeaker(str(exc)) from exc
        return ResidentVoice(resident.id, rate_wpm=resident.tts_rate, volume=resident.tts_volume)

    def satellites(self) -> list[DeviceSettings]:
        return [device_settings(d) for d in self.services.devices("wyoming")]

    def domain_words(self) -> DomainWords:
        return domain_words(self.services, userdict=self._userdict, lookups=self._lookups)
