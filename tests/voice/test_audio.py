"""voice.audio with real signals: every device format round-trips, every bad input fails fast and clearly."""

import shutil
import struct
import subprocess
import time
import tracemalloc
import wave
import zlib
from pathlib import Path

import numpy as np
import pytest

from voice.audio import (
    SUPPORTED_RATES,
    PcmFormat,
    Resampler,
    clipped_fraction,
    decode,
    duration_s,
    parse_wav,
    rms_dbfs,
    to_mono16,
    wav_bytes,
)
from voice.errors import AudioError, AudioTooLong, EmptyAudio, TruncatedAudio, UnsupportedAudio, VoiceError

SOX = shutil.which("sox")
needs_sox = pytest.mark.skipif(SOX is None, reason="sox is not installed (Debian package sox)")
ZH_REAL = Path(__file__).resolve().parents[2].parent / "shared" / "audio" / "zh-real"

TONE_HZ = 440.0
SECONDS = 1.0


def _signal(rate: int, channels: int, seconds: float = SECONDS, seed: int = 0) -> np.ndarray:
    """A 440 Hz tone with speech-like noise bursts (syllable-rate envelope), int16, shape (frames, channels).
    Left and right differ so a wrong downmix shows; the tone sits in both so it survives any rate."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(rate * seconds)) / rate
    envelope = np.clip(np.sin(2 * np.pi * 4 * t), 0, None)  # 4 bursts a second
    cols = []
    for ch in range(channels):
        tone = (0.3 if ch == 0 else 0.1) * np.sin(2 * np.pi * TONE_HZ * t)
        cols.append(tone + 0.05 * envelope * rng.standard_normal(len(t)))
    return np.clip(np.rint(np.stack(cols, axis=1) * 32767), -32768, 32767).astype("<i2")


def _expected_tone_amplitude(channels: int) -> float:
    return (0.3 + 0.1 * (channels - 1)) / channels  # the tone is 0.3 on the first channel, 0.1 on the others


def _tone(pcm: bytes, rate: int) -> tuple[float, float]:
    """(peak frequency in Hz, amplitude of the 440 Hz component) of 16-bit mono PCM."""
    x = np.frombuffer(pcm, dtype="<i2").astype(np.float64) / 32768
    spectrum = np.abs(np.fft.rfft(x * np.hanning(len(x)), n=8 * len(x)))
    peak_hz = float(np.fft.rfftfreq(8 * len(x), 1 / rate)[np.argmax(spectrum)])
    t = np.arange(len(x)) / rate
    amplitude = 2 * abs(np.mean(x * np.exp(-2j * np.pi * TONE_HZ * t)))
    return peak_hz, float(amplitude)


def _wav_with_stdlib(frames: np.ndarray, rate: int) -> bytes:
    import io

    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(frames.shape[1])
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(frames.tobytes())
    return buf.getvalue()


def _wav_extensible(frames: np.ndarray, rate: int) -> bytes:
    """WAVE_FORMAT_EXTENSIBLE with the PCM subformat, as Windows and some recorders write 16-bit audio."""
    channels = frames.shape[1]
    data = frames.tobytes()
    guid = struct.pack("<H", 1) + b"\x00\x00\x00\x00\x10\x00\x80\x00\x00\xaa\x00\x38\x9b\x71"
    mask = 0x4 if channels == 1 else 0x3
    fmt = struct.pack("<HHIIHHHHI", 0xFFFE, channels, rate, rate * 2 * channels, 2 * channels, 16, 22, 16, mask)
    fmt += guid
    chunks = b"fmt " + struct.pack("<I", len(fmt)) + fmt + b"data" + struct.pack("<I", len(data)) + data
    return b"RIFF" + struct.pack("<I", 4 + len(chunks)) + b"WAVE" + chunks


def _sox(args: list[str]) -> None:
    subprocess.run([SOX, *args], check=True, capture_output=True, timeout=60)


def _sox_tone_wav(tmp_path: Path, rate: int, channels: int, *extra: str) -> bytes:
    out = tmp_path / f"tone-{rate}-{channels}.wav"
    _sox(["-n", "-r", str(rate), "-c", str(channels), *extra, str(out), "synth", str(SECONDS), "sine",
          str(TONE_HZ), "vol", "0.3"])
    return out.read_bytes()


def _check_converted(pcm: bytes, fmt: PcmFormat, in_frames: int, amplitude: float) -> None:
    for out_rate in (16000, 8000):
        out = to_mono16(pcm, fmt, out_rate)
        expected = round(in_frames * out_rate / fmt.rate)
        assert abs(len(out) // 2 - expected) <= 2, (out_rate, len(out) // 2, expected)
        peak_hz, amp = _tone(out, out_rate)
        assert abs(peak_hz - TONE_HZ) < 2, peak_hz
        assert amp == pytest.approx(amplitude, rel=0.05)


# --- every format a device sends ---------------------------------------------------------------------------
@pytest.mark.parametrize("channels", [1, 2])
@pytest.mark.parametrize("rate", SUPPORTED_RATES)
@pytest.mark.parametrize("container", ["raw", "wav", "wav-extensible"])
def test_every_rate_and_channel_count_round_trips(container, rate, channels):
    frames = _signal(rate, channels)
    if container == "raw":
        data, given = frames.tobytes(), PcmFormat(rate, channels)
    elif container == "wav":
        data, given = _wav_with_stdlib(frames, rate), None
    else:
        data, given = _wav_extensible(frames, rate), None
    pcm, fmt = decode(data, given)
    assert fmt == PcmFormat(rate, channels, 2)
    assert pcm == frames.tobytes()
    _check_converted(pcm, fmt, len(frames), _expected_tone_amplitude(channels))


@needs_sox
@pytest.mark.parametrize("channels", [1, 2])
@pytest.mark.parametrize("rate", SUPPORTED_RATES)
def test_wav_written_by_sox_round_trips(tmp_path, rate, channels):
    pcm, fmt = decode(_sox_tone_wav(tmp_path, rate, channels, "-b", "16"))
    assert fmt == PcmFormat(rate, channels)
    assert len(pcm) // fmt.frame_bytes == int(rate * SECONDS)
    _check_converted(pcm, fmt, int(rate * SECONDS), 0.3)


def test_stereo_is_downmixed_to_the_average_of_both_channels():
    rate = 16000
    t = np.arange(rate) / rate
    left, right = 0.4 * np.sin(2 * np.pi * 440 * t), 0.2 * np.sin(2 * np.pi * 1000 * t)
    frames = np.rint(np.stack([left, right], axis=1) * 32767).astype("<i2")
    out = np.frombuffer(to_mono16(frames.tobytes(), PcmFormat(rate, 2), rate), dtype="<i2") / 32767
    assert np.max(np.abs(out - (left + right) / 2)) < 2 / 32767


def test_same_rate_mono_passes_through_untouched():
    frames = _signal(16000, 1).tobytes()
    assert to_mono16(frames, PcmFormat(16000), 16000) == frames


@pytest.mark.parametrize("channels", [1, 2])
@pytest.mark.parametrize("rate", SUPPORTED_RATES)
def test_streaming_resampler_equals_the_whole_buffer(rate, channels):
    pcm = _signal(rate, channels, seconds=0.6, seed=rate + channels).tobytes()
    rng = np.random.default_rng(rate * channels)
    for out_rate in (16000, 8000):
        # 1-byte and odd chunks split samples and stereo frames; large ones cross many soxr blocks
        sizes = [1, 1, 3, 2, 5, 7, 1, 4097, 3, 999, 1, 6]
        while sum(sizes) < len(pcm):
            sizes.append(int(rng.choice([1, 2, 3, 5, 11, 301, 1023, 4096, int(rng.integers(1, 9000))])))
        resampler = Resampler(PcmFormat(rate, channels), out_rate)
        out, pos = [], 0
        for size in sizes:
            out.append(resampler.process(pcm[pos : pos + size]))
            pos += size
        out.append(resampler.flush())
        streamed = np.frombuffer(b"".join(out), dtype="<i2").astype(int)
        whole = np.frombuffer(to_mono16(pcm, PcmFormat(rate, channels), out_rate), dtype="<i2").astype(int)
        assert len(streamed) == len(whole)
        assert np.max(np.abs(streamed - whole)) <= 1


def test_resampler_flush_starts_a_new_stream():
    pcm = _signal(44100, 2, seconds=0.3).tobytes()
    resampler = Resampler(PcmFormat(44100, 2), 16000)
    first = resampler.process(pcm) + resampler.flush()
    second = resampler.process(pcm) + resampler.flush()
    assert first == second == to_mono16(pcm, PcmFormat(44100, 2), 16000)


def test_resampler_keeps_a_split_frame_and_drops_it_only_at_flush():
    resampler = Resampler(PcmFormat(16000, 2), 16000)
    assert resampler.process(b"\x01\x00\x03") == b""  # 3 of a 4-byte stereo frame
    assert resampler.process(b"\x00") == struct.pack("<h", 2)  # (1 + 3) / 2
    assert resampler.process(b"\x10") == b""
    assert resampler.flush() == b""


@needs_sox
def test_clipping_audio_still_decodes_and_is_reported(tmp_path):
    clips = sorted(ZH_REAL.glob("*.wav"))
    src = clips[0] if clips else None
    if src is None:
        src = tmp_path / "tone.wav"
        src.write_bytes(_sox_tone_wav(tmp_path, 16000, 1))
    loud = tmp_path / "loud.wav"
    _sox([str(src), str(loud), "vol", "20"])  # sox saturates (and warns), as an overdriven mic does
    pcm, fmt = decode(loud.read_bytes())
    assert fmt == PcmFormat(16000)
    assert clipped_fraction(pcm) > 0.01
    assert clipped_fraction(parse_wav(src.read_bytes())[0]) < clipped_fraction(pcm)
    resampled = to_mono16(pcm, fmt, 8000)  # soxr's overshoot near full scale saturates, it does not wrap
    assert abs(len(resampled) // 2 - len(pcm) // 4) <= 2
    assert rms_dbfs(resampled) > rms_dbfs(parse_wav(src.read_bytes())[0])


def test_levels_for_silence_and_clipping_reports():
    rate = 16000
    t = np.arange(rate) / rate
    full = np.rint(32767 * np.sin(2 * np.pi * 440 * t)).astype("<i2").tobytes()
    quiet = np.rint(3277 * np.sin(2 * np.pi * 440 * t)).astype("<i2").tobytes()
    assert rms_dbfs(full) == pytest.approx(-3.01, abs=0.02)
    assert rms_dbfs(quiet) == pytest.approx(-23.01, abs=0.05)
    assert rms_dbfs(bytes(3200)) == float("-inf")
    assert rms_dbfs(b"") == float("-inf")
    assert 0 < clipped_fraction(full) < 0.01  # only the crests touch full scale
    saturated = np.clip(np.rint(3 * 32767 * np.sin(2 * np.pi * 440 * t)), -32768, 32767).astype("<i2").tobytes()
    assert clipped_fraction(saturated) > 0.7
    assert clipped_fraction(quiet) == 0.0
    assert clipped_fraction(b"") == 0.0


def test_wav_bytes_is_a_wav_the_stdlib_reads_back():
    pcm = _signal(22050, 1).tobytes()
    data = wav_bytes(pcm, 22050)
    import io

    with wave.open(io.BytesIO(data)) as w:
        assert (w.getnchannels(), w.getsampwidth(), w.getframerate()) == (1, 2, 22050)
        assert w.readframes(w.getnframes()) == pcm
    assert parse_wav(data) == (pcm, PcmFormat(22050))
    assert duration_s(pcm, 22050) == pytest.approx(SECONDS)
    assert wav_bytes(pcm + b"\x01", 22050) == data  # a stray byte is not half a sample


def test_streamed_wav_with_unknown_length_is_read_to_its_end(tmp_path):
    if SOX is None:
        pytest.skip("sox is not installed")
    # sox and ffmpeg writing to a pipe cannot seek back, so the header holds a placeholder size
    piped = subprocess.run([SOX, "-n", "-r", "16000", "-c", "1", "-b", "16", "-t", "wav", "-", "synth", "0.5",
                            "sine", "440"], check=True, capture_output=True).stdout
    assert piped[40:44] != struct.pack("<I", 16000)
    pcm, fmt = decode(piped)
    assert (fmt, len(pcm)) == (PcmFormat(16000), 16000)


def test_chunks_before_fmt_and_odd_sized_chunks_are_skipped():
    pcm = _signal(8000, 1).tobytes()
    fmt = struct.pack("<HHIIHH", 1, 1, 8000, 16000, 2, 16)
    junk = b"JUNK" + struct.pack("<I", 3) + b"abc\x00"  # odd size, padded to even
    body = b"WAVE" + junk + b"fmt " + struct.pack("<I", 16) + fmt + b"LIST" + struct.pack("<I", 4) + b"INFO"
    body += b"data" + struct.pack("<I", len(pcm)) + pcm
    assert parse_wav(b"RIFF" + struct.pack("<I", len(body)) + body) == (pcm, PcmFormat(8000))


def test_raw_pcm_drops_a_trailing_partial_frame():
    pcm = _signal(16000, 2, seconds=0.1).tobytes()
    assert decode(pcm + b"\x01\x02\x03", PcmFormat(16000, 2)) == (pcm, PcmFormat(16000, 2))


# --- every bad input --------------------------------------------------------------------------------------
def _png() -> bytes:
    """A real 1x1 PNG."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    ihdr = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\x00\xff\x00\x00")) + \
        chunk(b"IEND", b"")


def _good_wav() -> bytes:
    return _wav_with_stdlib(_signal(16000, 1), 16000)


def _wav_header(rate: int, channels: int, data_bytes: int, bits: int = 16) -> bytes:
    block = channels * bits // 8
    return (b"RIFF" + struct.pack("<I", 36 + data_bytes) + b"WAVE" + b"fmt " +
            struct.pack("<IHHIIHH", 16, 1, channels, rate, rate * block, block, bits) +
            b"data" + struct.pack("<I", data_bytes))


BAD = {
    "empty": (lambda: (b"", None), EmptyAudio, "empty"),
    "empty raw with a format": (lambda: (b"", PcmFormat(16000)), EmptyAudio, "empty"),
    "one byte of raw": (lambda: (b"\x01", PcmFormat(16000)), EmptyAudio, "shorter than one frame"),
    "header only (no frames)": (lambda: (_wav_header(16000, 1, 0), None), EmptyAudio, "no audio frames"),
    "RIFF cut at 3 bytes": (lambda: (b"RIF", None), TruncatedAudio, "truncated"),
    "RIFF cut at 11 bytes": (lambda: (_good_wav()[:11], None), TruncatedAudio, "truncated"),
    "RIFF cut at 12 bytes": (lambda: (_good_wav()[:12], None), TruncatedAudio, "no fmt chunk"),
    "cut inside fmt": (lambda: (_good_wav()[:30], None), TruncatedAudio, "fmt chunk"),
    "cut before data": (lambda: (_good_wav()[:38], None), TruncatedAudio, "no data chunk"),
    "data shorter than declared": (lambda: (_good_wav()[:8044], None), TruncatedAudio, "data is truncated"),
    "random bytes": (lambda: (np.random.default_rng(1).bytes(4000), None), UnsupportedAudio, "needs its format"),
    "text": (lambda: ("老人家您好, this is a text file\n".encode() * 40, PcmFormat(16000)), UnsupportedAudio, "text"),
    "text without a format": (lambda: (b"hello world\n" * 100, None), UnsupportedAudio, "text"),
    "PNG": (lambda: (_png(), None), UnsupportedAudio, "PNG"),
    "PNG with a format": (lambda: (_png(), PcmFormat(16000)), UnsupportedAudio, "PNG"),
    "RIFF but AVI": (lambda: (b"RIFF" + struct.pack("<I", 4) + b"AVI " + bytes(100), None), UnsupportedAudio,
                     "not WAVE"),
    "big-endian RIFX": (lambda: (b"RIFX" + bytes(100), None), UnsupportedAudio, "RIFX"),
    "raw at 6 kHz": (lambda: (bytes(2400), PcmFormat(6000)), UnsupportedAudio, "6000 Hz"),
    "raw 8-bit": (lambda: (bytes(2400), PcmFormat(8000, 1, 1)), UnsupportedAudio, "8-bit"),
    "raw 9 channels": (lambda: (bytes(2400), PcmFormat(8000, 9)), UnsupportedAudio, "9-channel"),
    "1 h header, 1 s of data": (lambda: (_wav_header(8000, 1, 3600 * 8000 * 2) + bytes(16000), None),
                                AudioTooLong, "3600.0 s long"),
    "1 h header at 48 kHz stereo": (lambda: (_wav_header(48000, 2, 3600 * 48000 * 4), None), AudioTooLong,
                                    "over the 60 s limit"),
    "61 s of raw": (lambda: (bytes(61 * 16000 * 2), PcmFormat(16000)), AudioTooLong, "61.0 s"),
}


@pytest.mark.parametrize("case", list(BAD))
def test_bad_input_fails_with_a_clear_typed_error(case):
    make, error, words = BAD[case]
    data, fmt = make()
    started = time.perf_counter()
    with pytest.raises(error) as info:
        decode(data, fmt)
    assert time.perf_counter() - started < 0.5
    message = str(info.value)
    assert words in message
    assert len(message) < 120 and "\n" not in message
    assert isinstance(info.value, AudioError) and isinstance(info.value, VoiceError)


SOX_BAD = {
    "8-bit": (["-b", "8"], 16000, 1, "8-bit WAV"),
    "24-bit": (["-b", "24"], 16000, 1, "24-bit WAV"),
    "9 channels": (["-b", "16"], 16000, 9, "9-channel"),
    "A-law": (["-e", "a-law"], 8000, 1, "A-law"),
    "mu-law": (["-e", "u-law"], 8000, 1, "mu-law"),
    "IMA ADPCM": (["-e", "ima-adpcm"], 8000, 1, "IMA ADPCM"),
    "MS ADPCM": (["-e", "ms-adpcm"], 8000, 1, "MS ADPCM"),
    "float": (["-e", "floating-point", "-b", "32"], 16000, 1, "32-bit float"),
    "6000 Hz": (["-b", "16"], 6000, 1, "6000 Hz"),
}


@needs_sox
@pytest.mark.parametrize("case", list(SOX_BAD))
def test_wav_we_cannot_use_is_rejected_by_name(tmp_path, case):
    extra, rate, channels, words = SOX_BAD[case]
    data = _sox_tone_wav(tmp_path, rate, channels, *extra)
    with pytest.raises(UnsupportedAudio) as info:
        decode(data)
    assert words in str(info.value)
    assert "PCM" in str(info.value) or "Hz" in str(info.value) or "channels" in str(info.value)


def test_an_hour_long_wav_is_rejected_from_its_header_without_decoding(tmp_path):
    # A complete 1-hour 8 kHz WAV of silence: a sparse file, so 57.6 MB on disk costs nothing.
    path = tmp_path / "hour.wav"
    data_bytes = 3600 * 8000 * 2
    with path.open("wb") as f:
        f.write(_wav_header(8000, 1, data_bytes))
        f.truncate(44 + data_bytes)
    data = path.read_bytes()
    assert len(data) == 44 + data_bytes
    tracemalloc.start()
    try:
        started = time.perf_counter()
        with pytest.raises(AudioTooLong, match=r"3600\.0 s long, over the 60 s limit"):
            decode(data)
        elapsed = time.perf_counter() - started
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert elapsed < 0.05
    assert peak < 100_000  # nothing of the audio was copied or decoded
    with pytest.raises(AudioTooLong):
        parse_wav(data, max_seconds=3599)
    assert len(parse_wav(data, max_seconds=3600)[0]) == data_bytes  # a raised cap lets it through


def test_the_cap_is_configurable_and_exclusive():
    wav = _wav_with_stdlib(_signal(16000, 1, seconds=2.0), 16000)
    with pytest.raises(AudioTooLong, match="2.0 s long, over the 1.5 s limit"):
        decode(wav, max_seconds=1.5)
    assert len(decode(wav, max_seconds=2.0)[0]) == 64000


def test_format_validation():
    assert PcmFormat(44100, 2).validate() == PcmFormat(44100, 2)
    assert PcmFormat(32000, 4).validate() == PcmFormat(32000, 4)  # a 4-mic array at 32 kHz
    with pytest.raises(UnsupportedAudio, match="1 to 8 channels"):
        PcmFormat(16000, 9).validate()
    with pytest.raises(ValueError):
        to_mono16(b"", PcmFormat(16000), 100)
    with pytest.raises(UnsupportedAudio, match="8000 to 192000 Hz"):
        Resampler(PcmFormat(384000), 16000)


@pytest.mark.parametrize("rate, channels", [(32000, 2), (96000, 1), (12000, 4)])
def test_any_microphone_rate_and_channel_count_is_resampled(rate, channels):
    frames = _signal(rate, channels)
    _check_converted(frames.tobytes(), PcmFormat(rate, channels), len(frames), _expected_tone_amplitude(channels))


def test_stream_chunks_that_are_plainly_files_are_refused():
    from voice.audio import check_stream_chunk

    with pytest.raises(UnsupportedAudio, match="PNG"):
        check_stream_chunk(b"\x89PNG\r\n\x1a\n" + bytes(100))
    check_stream_chunk(bytes(3200))  # silence is PCM
    check_stream_chunk(b"\x01")  # so is a lone byte of a split frame
