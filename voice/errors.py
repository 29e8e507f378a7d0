"""Typed errors of the voice package.

Messages are short English sentences a log reader or an operator understands ("WAV header is truncated");
the pipeline maps the classes to what the elder hears. Other modules may append their own subclasses at the end.
"""


class VoiceError(Exception):
    """Base of everything the voice package raises."""


class AudioError(VoiceError):
    """Audio we cannot use."""


class UnsupportedAudio(AudioError):
    """8-bit, more than 2 channels, an unsupported rate, compressed WAV, or not audio at all."""


class TruncatedAudio(AudioError):
    """The WAV header or its data stops early."""


class EmptyAudio(AudioError):
    """No audio frames at all."""


class AudioTooLong(AudioError):
    """Over the configured cap (60 s for a whole file by default)."""


class RecognizerError(VoiceError):
    """Speech recognition failed."""


class ModelError(RecognizerError):
    """A recognition model is missing or unusable."""


class ModelNotFound(ModelError):
    pass


class ChecksumMismatch(ModelError):
    pass


class DownloadFailed(ModelError):
    """Includes "no network"."""


class SynthesisError(VoiceError):
    """Text to speech failed."""
