"""The voice engines of one gateway process and the sessions that share them.

One Vosk model and one pool of speech workers serve every speaker, browser and phone call; each
conversation gets its own VoiceSession. Which resident a device speaks for, its end-of-speech values,
how fast and loud the answers should be, and the domain words the recogniser's output is corrected
towards come from the settings provider the service is given (voice.settings.VoiceSettingsProvider;
the gateway's is assistant.voice_settings, over the services). Voice itself reads no database.
"""
from __future__ import annotations

import asyncio
import logging
import os
from dataclasses import dataclass, field, replace

from common import apologies
from voice.asr import POOL_SIZE, Recognizer, VoskRecognizer
from voice.errors import ModelNotFound
from voice.grammar import EMERGENCY_PHRASES
from voice.models import TEST_MODEL, model_language, resolve_model_path
from voice.pipeline import (
    ASR_RATE,
    NO_SPEECH_PROMPT,
    UNCLEAR_PROMPT,
    Assistant,
    SessionSettings,
    VoiceSession,
)
from voice.postprocess import Normalizer
from voice.settings import VoiceSettingsProvider
from voice.tts import ELDER_RATE_WPM, Pyttsx3Synthesizer, Synthesizer, VoiceSettings
from voice.vad import EndpointSettings
from voice.wake import DEFAULT_WAKE_PHRASES, WakeDetector, WakePhraseUnusable

logger = logging.getLogger(__name__)

FIXED_PROMPTS = (NO_SPEECH_PROMPT, UNCLEAR_PROMPT, apologies.TRY_AGAIN)


@dataclass(frozen=True)
class VoiceConfig:
    model: str | None = None  # a model name or directory; None: the production default
    allow_test_model: bool = True  # when the Mandarin model is missing, run on the test model (and say so)
    tts_workers: int = 2
    endpoint: EndpointSettings = field(default_factory=EndpointSettings)  # a device's own settings go over these
    barge_in: bool = True
    # Open recognisers kept warm for reuse: as many as speakers talk at once, or the extra streams get cold
    # recognisers that cost 3-4 times the CPU (voice.asr). Each warm one holds its own part of the graph.
    asr_pool: int = POOL_SIZE

    def __post_init__(self) -> None:
        if self.asr_pool < 0:
            raise ValueError(f"asr_pool must be >= 0, got {self.asr_pool}")

    @classmethod
    def from_env(cls) -> "VoiceConfig":
        env = os.environ
        endpoint = EndpointSettings(
            trailing_silence_s=float(env.get("YINLING_TRAILING_SILENCE_S", EndpointSettings.trailing_silence_s)),
            max_utterance_s=float(env.get("YINLING_MAX_UTTERANCE_S", EndpointSettings.max_utterance_s)),
            no_speech_timeout_s=float(env.get("YINLING_NO_SPEECH_TIMEOUT_S", EndpointSettings.no_speech_timeout_s)),
        )
        return cls(model=env.get("YINLING_VOSK_MODEL") or None,
                   allow_test_model=env.get("YINLING_ALLOW_TEST_MODEL", "1") != "0",
                   tts_workers=int(env.get("YINLING_TTS_WORKERS", cls.tts_workers)),
                   endpoint=endpoint, barge_in=env.get("YINLING_BARGE_IN", "1") != "0",
                   asr_pool=int(env.get("YINLING_ASR_POOL", cls.asr_pool)))


class VoiceService:
    def __init__(self, settings: VoiceSettingsProvider, assistant: Assistant, config: VoiceConfig | None = None, *,
                 recognizer: Recognizer | None = None, synthesizer: Synthesizer | None = None) -> None:
        """`recognizer`: one of the caller's, used as it is (its own normaliser); by default the Vosk model
        of `config`, loaded by start() with the provider's domain words."""
        self.settings = settings
        self.assistant = assistant
        self.config = config or VoiceConfig()
        self.recognizer = recognizer
        self.synthesizer = synthesizer
        self.language = "zh"
        self.model_note = ""
        self.normalizer = Normalizer()  # with the provider's domain words once started
        self._started = False
        self._lock = asyncio.Lock()

    @property
    def ready(self) -> bool:
        return self._started

    async def start(self) -> None:
        """Loads the model and starts the speech workers (a few seconds); safe to call again."""
        async with self._lock:
            if self._started:
                return
            words = await asyncio.to_thread(self.settings.domain_words)
            self.normalizer = Normalizer(words)
            if self.recognizer is None:
                self.recognizer = await asyncio.to_thread(self._load_recognizer)
            # the lexicon of the domain words, jieba's and pypinyin's dictionaries: about 1 s once, not on a first elder
            await asyncio.to_thread(self.normalizer.warm_up)
            if self.synthesizer is None:
                synth = Pyttsx3Synthesizer(workers=self.config.tts_workers)
                await synth.start()
                self.synthesizer = synth
            await self.synthesizer.prewarm(FIXED_PROMPTS)
            if isinstance(self.recognizer, VoskRecognizer):
                # Speech to expand the recognisers' lazy graphs with: the re-prompt, just synthesized (cached).
                speech = await self.synthesizer.synthesize(NO_SPEECH_PROMPT, out_rate=ASR_RATE)
                await asyncio.to_thread(self.recognizer.warm, speech, ASR_RATE)
            self._started = True

    def _load_recognizer(self) -> Recognizer:
        try:
            path = resolve_model_path(self.config.model)
        except ModelNotFound as exc:
            if self.config.model or not self.config.allow_test_model:
                raise
            path = resolve_model_path(TEST_MODEL)
            self.model_note = (f"{exc} Running on the test model {TEST_MODEL} (Korean): "
                               "Mandarin speech will not be understood until the Mandarin model is fetched.")
            logger.warning(self.model_note)
        self.language = model_language(path)
        return VoskRecognizer(path, pool_size=self.config.asr_pool, normalizer=self.normalizer)

    async def open_session(self, *, resident_id: str | None = None, device_id: str | None = None,
                           channel: str = "speaker", out_rate: int = 16000,
                           conversation_id: str | None = None, guest_id: str | None = None,
                           assistant: Assistant | None = None, max_reprompts: int | None = None) -> VoiceSession:
        """Raises UnknownSpeaker (voice.errors) for a resident or device the settings provider does not know.

        `guest_id`: a caller nobody registered (the hotline serves them for information) talks under
        this id with the default voice. `assistant`: the phone line's, which knows the caller's number."""
        await self.start()
        endpoint = self.config.endpoint
        if device_id is not None:
            device = await asyncio.to_thread(self.settings.device, device_id)
            resident_id = device.resident_id
            endpoint = device.endpoint.over(endpoint)
            await asyncio.to_thread(self.settings.device_seen, device_id)
        if guest_id is not None:
            speaker_id, voice = guest_id, VoiceSettings(rate_wpm=ELDER_RATE_WPM, volume=1.0)
        else:
            resident = await asyncio.to_thread(self.settings.resident_voice, resident_id or "")
            speaker_id = resident.resident_id
            voice = VoiceSettings(rate_wpm=resident.rate_wpm or ELDER_RATE_WPM,
                                  volume=resident.volume if resident.volume is not None else 1.0)
        settings = SessionSettings(endpoint=endpoint, out_rate=out_rate, barge_in=self.config.barge_in)
        if max_reprompts is not None:
            settings = replace(settings, max_reprompts=max_reprompts)
        return VoiceSession(resident_id=speaker_id, recognizer=self.recognizer, synthesizer=self.synthesizer,
                            assistant=assistant or self.assistant, settings=settings, voice=voice, channel=channel,
                            language=self.language, conversation_id=conversation_id, normalizer=self.normalizer)

    def wake_detector(self, phrase: str | None = None) -> WakeDetector:
        """A detector for `phrase` (None: the default of the recogniser's language) and the language's cries
        for help (voice.grammar.EMERGENCY_PHRASES) on the shared recogniser pool (start() first). Raises WakePhraseUnusable when the model cannot hear the phrase; a device's own
        phrase that cannot be heard falls back to the default, which is logged."""
        if not isinstance(self.recognizer, VoskRecognizer):
            raise WakePhraseUnusable("wake words need the Vosk recogniser")
        default = DEFAULT_WAKE_PHRASES.get(self.language, DEFAULT_WAKE_PHRASES["zh"])
        cries = tuple(EMERGENCY_PHRASES.get(self.language, {}))
        if phrase:
            try:
                return WakeDetector(self.recognizer, (phrase, *cries))
            except WakePhraseUnusable as exc:
                logger.warning("%s; listening for %s instead", exc, " / ".join(default))
        return WakeDetector(self.recognizer, (*default, *cries))

    async def close(self) -> None:
        if self.synthesizer is not None:
            await self.synthesizer.close()
