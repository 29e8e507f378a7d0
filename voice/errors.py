"""Typed errors of the voice package.

Messages are short English sentences a log reader or an operator understands ("WAV header is truncated");
the pipeline maps the classes to what the elder hears. Other modules may append their own subclasses at the end.
"""


from common.errors import YinlingError


class VoiceError(YinlingError):
    """Base of everything the voice package raises."""

    code = "voice_error"


class AudioError(VoiceError):
    """Audio we cannot use."""

    code = "bad_audio"


class UnsupportedAudio(AudioError):
    """8-bit, more than 2 channels, an unsupported rate, compressed WAV, or not audio at all."""

    code = "unsupported_audio"


class TruncatedAudio(AudioError):
    """The WAV header or its data stops early."""

    code = "truncated_audio"


class EmptyAudio(AudioError):
    """No audio frames at all."""

    code = "empty_audio"


class AudioTooLong(AudioError):
    """Over the configured cap (60 s for a whole file by default)."""

    code = "audio_too_long"


class RecognizerError(VoiceError):
    """Speech recognition failed."""

    code = "recognizer_failed"


class ModelError(RecognizerError):
    """A recognition model is missing or unusable."""

    code = "model_unusable"


class ModelNotFound(ModelError):
    code = "model_not_found"


class ChecksumMismatch(ModelError):
    code = "checksum_mismatch"


class DownloadFailed(ModelError):
    """Includes "no network"."""

    code = "download_failed"


class SynthesisError(VoiceError):
    """Text to speech failed."""

    code = "synthesis_failed"


class UnknownSpeaker(VoiceError):
    """A resident or device the settings provider does not know (voice.settings.VoiceSettingsProvider)."""

    code = "unknown_speaker"
