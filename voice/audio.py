"""Audio in: WAV or raw PCM from a device, checked and turned into 16-bit mono at the rate an engine wants.

Devices send WAV or raw 16-bit PCM at any rate from 8 to 192 kHz, with 1 to 8 channels; webrtcvad and Vosk want 16-bit mono at 8 or
16 kHz. This is the one place that checks input and converts it, so every other module can trust its PCM.
RIFF is read here rather than with the stdlib `wave` module, which says "unknown format: 6" for A-law and, before
Python 3.12, "unknown format: 65534" for any WAVE_FORMAT_EXTENSIBLE file, PCM or not.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

import numpy as np
import soxr

from voice.errors import AudioTooLong, EmptyAudio, TruncatedAudio, UnsupportedAudio

# Any rate in this range and up to this many channels is downmixed and resampled (soxr): microphones
# come at 32 kHz, 11.025 kHz, 96 kHz, in stereo or as 4-mic arrays. The common rates are listed for tests.
MIN_RATE, MAX_RATE = 8000, 192000
MAX_CHANNELS = 8
SUPPORTED_RATES = (8000, 11025, 16000, 22050, 32000, 44100, 48000)
DEFAULT_MAX_SECONDS = 60.0
_QUALITY = "HQ"  # soxr's default; VHQ costs more CPU and buys nothing below 8 kHz of speech bandwidth

_WAVE_FORMAT_PCM = 0x0001
_WAVE_FORMAT_EXTENSIBLE = 0xFFFE
# KSDATAFORMAT_SUBTYPE_PCM is the PCM tag followed by these 14 bytes of the base GUID.
_SUBFORMAT_GUID_TAIL = b"\x00\x00\x00\x00\x10\x00\x80\x00\x00\xaa\x00\x38\x9b\x71"
_FORMAT_NAMES = {
    0x0002: "MS ADPCM",
    0x0003: "32-bit float",
    0x0006: "A-law",
    0x0007: "mu-law",
    0x0011: "IMA ADPCM",
    0x0031: "GSM 6.10",
    0x0050: "MPEG",
    0x0055: "MP3",
}
# Writers that stream to a pipe cannot seek back to fill in the data size (sox writes 0x7ffff000, ffmpeg
# 0xffffffff); with such a placeholder the data runs to the end of what we were sent.
_UNKNOWN_SIZE_FROM = 0x7FFF_0000

# Magic numbers of things people send by mistake, for a message that says what it was.
_MAGIC = (
    (b"\x89PNG\r\n\x1a\n", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF8", "a GIF image"),
    (b"%PDF", "a PDF document"),
    (b"PK\x03\x04", "a ZIP archive"),
    (b"OggS", "Ogg (compressed audio)"),
    (b"fLaC", "FLAC (compressed audio)"),
    (b"ID3", "MP3 (compressed audio)"),
    (b"#!AMR", "AMR (compressed audio)"),
    (b"\x1aE\xdf\xa3", "a WebM/Matroska file"),
    (b"FORM", "an AIFF/IFF file"),
)


@dataclass(frozen=True)
class PcmFormat:
    """Interleaved little-endian signed PCM; `width` is bytes per sample."""

    rate: int
    channels: int = 1
    width: int = 2

    @property
    def frame_bytes(self) -> int:
        return self.channels * self.width

    def validate(self) -> PcmFormat:
        if self.width != 2:
            raise UnsupportedAudio(f"{8 * self.width}-bit audio is not supported; need 16-bit PCM")
        if not 1 <= self.channels <= MAX_CHANNELS:
            raise UnsupportedAudio(f"{self.channels}-channel audio is not supported; need 1 to {MAX_CHANNELS} channels")
        if not MIN_RATE <= self.rate <= MAX_RATE:
            raise UnsupportedAudio(f"sample rate {self.rate} Hz is not supported; use {MIN_RATE} to {MAX_RATE} Hz")
        return self


def parse_wav(data: bytes, *, max_seconds: float = DEFAULT_MAX_SECONDS) -> tuple[bytes, PcmFormat]:
    """PCM frames and format of a WAV file. The declared data size is checked against `max_seconds` before
    anything is copied, so an hour-long file costs nothing to reject."""
    view = memoryview(data).cast("B")
    n = len(view)
    if n == 0:
        raise EmptyAudio("audio is empty")
    head = bytes(view[:12])
    if n < 12:
        if b"RIFF".startswith(head[:4]):
            raise TruncatedAudio("WAV header is truncated")
        raise UnsupportedAudio(f"not a WAV file{_what_it_is(head)}")
    if head[:4] == b"RIFX":
        raise UnsupportedAudio("big-endian WAV (RIFX) is not supported; need little-endian 16-bit PCM")
    if head[:4] == b"RF64":
        raise UnsupportedAudio("RF64 WAV is not supported; send a plain WAV under 4 GB")
    if head[:4] != b"RIFF":
        raise UnsupportedAudio(f"not a WAV file{_what_it_is(head)}")
    if head[8:12] != b"WAVE":
        raise UnsupportedAudio(f"RIFF file is {head[8:12].decode('latin-1')!r}, not WAVE")

    fmt: PcmFormat | None = None
    pos = 12
    while True:
        if pos + 8 > n:
            missing = "fmt" if fmt is None else "data"
            raise TruncatedAudio(f"WAV header is truncated (no {missing} chunk)")
        chunk_id = bytes(view[pos : pos + 4])
        size = int.from_bytes(view[pos + 4 : pos + 8], "little")
        body = pos + 8
        if chunk_id == b"fmt ":
            wanted = min(size, 40)  # extensible's subformat ends at 40; anything after it is of no use to us
            if body + wanted > n:
                raise TruncatedAudio("WAV header is truncated (fmt chunk)")
            fmt = _parse_fmt(bytes(view[body : body + wanted]))
        elif chunk_id == b"data":
            if fmt is None:
                raise UnsupportedAudio("WAV data chunk comes before its fmt chunk")
            return _wav_data(view, body, size, fmt, max_seconds), fmt
        pos = body + size + (size & 1)  # chunks are word-aligned


def _parse_fmt(chunk: bytes) -> PcmFormat:
    if len(chunk) < 16:
        raise UnsupportedAudio("WAV fmt chunk is malformed (shorter than 16 bytes)")
    tag, channels, rate, _byte_rate, block_align, bits = struct.unpack_from("<HHIIHH", chunk)
    if tag == _WAVE_FORMAT_EXTENSIBLE:
        if len(chunk) < 40:
            raise UnsupportedAudio("WAV fmt chunk is malformed (WAVE_FORMAT_EXTENSIBLE without a subformat)")
        sub = chunk[24:40]
        if sub[2:] != _SUBFORMAT_GUID_TAIL:
            raise UnsupportedAudio("WAV subformat is not PCM; need 16-bit PCM")
        tag = int.from_bytes(sub[:2], "little")
    if tag != _WAVE_FORMAT_PCM:
        name = _FORMAT_NAMES.get(tag, f"format tag 0x{tag:04x}")
        raise UnsupportedAudio(f"WAV encoding is {name}, not PCM; need 16-bit PCM")
    if bits != 16:
        raise UnsupportedAudio(f"{bits}-bit WAV is not supported; need 16-bit PCM")
    fmt = PcmFormat(rate, channels, 2).validate()
    if block_align != fmt.frame_bytes:
        raise UnsupportedAudio(f"WAV block align {block_align} does not match {channels} channel(s) of 16 bits")
    return fmt


def _wav_data(view: memoryview, body: int, declared: int, fmt: PcmFormat, max_seconds: float) -> bytes:
    available = len(view) - body
    length = available if declared >= _UNKNOWN_SIZE_FROM else declared
    _check_length(length, fmt, max_seconds)  # before the truncation check: a 1-hour header is "too long"
    if length > available:
        raise TruncatedAudio(f"WAV data is truncated: header declares {declared} bytes, file has {available}")
    length -= length % fmt.frame_bytes
    if length == 0:
        raise EmptyAudio("WAV file has no audio frames")
    return bytes(view[body : body + length])


def _check_length(nbytes: int, fmt: PcmFormat, max_seconds: float) -> None:
    seconds = nbytes // fmt.frame_bytes / fmt.rate
    if seconds > max_seconds:
        raise AudioTooLong(f"audio is {seconds:.1f} s long, over the {max_seconds:g} s limit")


def check_stream_chunk(data: bytes) -> None:
    """A chunk of a raw PCM stream that is plainly a file of another kind (an image, compressed audio)
    raises UnsupportedAudio; anything else might be PCM. Cheap: looks at the first bytes only."""
    what = _what_it_is(bytes(data[:12]))
    if what:
        raise UnsupportedAudio(f"not PCM audio{what}")


def _what_it_is(data: bytes) -> str:
    """Why `data` is plainly not PCM ("; it looks like a PNG image"), or "" when it might be."""
    for magic, name in _MAGIC:
        if data.startswith(magic):
            return f"; it looks like {name}"
    if len(data) >= 12 and data[4:8] == b"ftyp":
        return "; it looks like MP4/M4A (compressed audio)"
    return ""


def _looks_like_text(data: bytes) -> bool:
    # PCM has NUL or 0xff high bytes almost at once (quiet samples) and is not valid UTF-8 for long.
    sample = bytes(data[:4096])
    if len(sample) < 8 or b"\x00" in sample:
        return False
    text = sample.decode("utf-8", errors="ignore")
    if len(text.encode("utf-8")) < len(sample) - 3:  # more than a multi-byte character cut at the end
        return False
    printable = sum(ch.isprintable() or ch in "\r\n\t" for ch in text)
    return printable >= 0.95 * len(text)


def decode(
    data: bytes, fmt: PcmFormat | None = None, *, max_seconds: float = DEFAULT_MAX_SECONDS
) -> tuple[bytes, PcmFormat]:
    """WAV if it starts with RIFF (its header wins over `fmt`), else raw PCM in `fmt`.

    Raw PCM loses a trailing partial frame. Clipping and silence are not errors here: see rms_dbfs and
    clipped_fraction."""
    if not data:
        raise EmptyAudio("audio is empty")
    head = bytes(data[:12])
    if head[:4] in (b"RIFF", b"RIFX", b"RF64") or (fmt is None and len(head) < 4 and b"RIFF".startswith(head)):
        return parse_wav(data, max_seconds=max_seconds)
    what = _what_it_is(head) or ("; it looks like text" if _looks_like_text(data) else "")
    if what:
        raise UnsupportedAudio(f"not audio{what}")
    if fmt is None:
        raise UnsupportedAudio("not a WAV file, and raw PCM needs its format (rate and channels); none was given")
    fmt.validate()
    usable = len(data) - len(data) % fmt.frame_bytes
    if usable == 0:
        raise EmptyAudio("audio is shorter than one frame")
    _check_length(usable, fmt, max_seconds)
    return bytes(data[:usable]), fmt


def _check_out_rate(out_rate: int) -> int:
    if not isinstance(out_rate, int) or not 8000 <= out_rate <= 48000:
        raise ValueError(f"output rate must be an integer from 8000 to 48000 Hz, got {out_rate!r}")
    return out_rate


def _mono_float(frames: bytes, fmt: PcmFormat) -> np.ndarray:
    x = np.frombuffer(frames, dtype="<i2").astype(np.float32)
    if fmt.channels > 1:
        x = x.reshape(-1, fmt.channels).mean(axis=1, dtype=np.float32)
    return x * np.float32(1 / 32768)


def _to_pcm16(x: np.ndarray) -> bytes:
    # soxr overshoots a little near full scale (Gibbs ringing of clipped input): saturate, do not wrap.
    return np.clip(np.rint(x * 32768.0), -32768, 32767).astype("<i2").tobytes()


def to_mono16(pcm: bytes, fmt: PcmFormat, out_rate: int) -> bytes:
    """Downmix (average of the channels) and resample a whole buffer to 16-bit mono at `out_rate`."""
    fmt.validate()
    _check_out_rate(out_rate)
    frames = bytes(pcm[: len(pcm) - len(pcm) % fmt.frame_bytes])
    if fmt.channels == 1 and fmt.rate == out_rate:
        return frames
    x = _mono_float(frames, fmt)
    if fmt.rate != out_rate and len(x):
        x = soxr.resample(x, fmt.rate, out_rate, quality=_QUALITY)
    return _to_pcm16(x)


class Resampler:
    """Streaming to_mono16: chunks of any byte length (a partial frame waits for the next chunk); the soxr
    filter state runs across chunks, so the output equals to_mono16 of the whole stream."""

    def __init__(self, fmt: PcmFormat, out_rate: int) -> None:
        self.fmt = fmt.validate()
        self.out_rate = _check_out_rate(out_rate)
        self._carry = b""
        self._stream = None
        if fmt.rate != out_rate:
            self._stream = soxr.ResampleStream(fmt.rate, out_rate, 1, dtype="float32", quality=_QUALITY)

    def process(self, chunk: bytes) -> bytes:
        """16-bit mono PCM at out_rate for what is ready so far (may be b"")."""
        buf = self._carry + bytes(chunk)
        usable = len(buf) - len(buf) % self.fmt.frame_bytes
        self._carry = buf[usable:]
        if usable == 0:
            return b""
        frames = buf[:usable]
        if self._stream is None and self.fmt.channels == 1:
            return frames
        x = _mono_float(frames, self.fmt)
        if self._stream is not None:
            x = self._stream.resample_chunk(x)
        return _to_pcm16(x)

    def flush(self) -> bytes:
        """The resampler's tail; the Resampler is then ready for a new stream. A partial frame is dropped."""
        self._carry = b""
        if self._stream is None:
            return b""
        tail = self._stream.resample_chunk(np.zeros(0, dtype=np.float32), last=True)
        self._stream.clear()
        return _to_pcm16(tail)


def wav_bytes(pcm: bytes, rate: int) -> bytes:
    """16-bit mono PCM in a WAV container."""
    data = bytes(pcm[: len(pcm) - len(pcm) % 2])
    header = struct.pack(
        "<4sI4s4sIHHIIHH4sI",
        b"RIFF", 36 + len(data), b"WAVE",
        b"fmt ", 16, _WAVE_FORMAT_PCM, 1, rate, rate * 2, 2, 16,
        b"data", len(data),
    )  # fmt: skip
    return header + data


def _samples(pcm: bytes) -> np.ndarray:
    return np.frombuffer(pcm, dtype="<i2", count=len(pcm) // 2)


def duration_s(pcm: bytes, rate: int) -> float:
    """Seconds of 16-bit mono PCM."""
    return len(pcm) // 2 / rate


def rms_dbfs(pcm: bytes) -> float:
    """RMS level of 16-bit PCM in dB relative to full scale (a full-scale square wave is 0, a full-scale sine
    -3.01); -inf for empty input or digital silence."""
    x = _samples(pcm).astype(np.float64)
    if x.size == 0:
        return float("-inf")
    mean_square = float(np.mean(x * x))
    if mean_square == 0.0:
        return float("-inf")
    return 10.0 * float(np.log10(mean_square / 32768.0**2))


def clipped_fraction(pcm: bytes) -> float:
    """Share of 16-bit samples at full scale (|x| >= 32767): above ~0.1 % the speaker is too close or too loud."""
    x = _samples(pcm)
    if x.size == 0:
        return 0.0
    return float(np.count_nonzero((x >= 32767) | (x <= -32767))) / x.size
