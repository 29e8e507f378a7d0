"""voice.vad on real human Mandarin (shared/audio/zh-real) and real noise, fed in small chunks through the
streaming Resampler the way a device's audio arrives. Expected speech is an energy-based reference computed here,
independent of webrtcvad."""

import math
import os
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from voice.audio import PcmFormat, Resampler, clipped_fraction, parse_wav, to_mono16, wav_bytes
from voice.errors import UnsupportedAudio
from voice.vad import (
    Endpointer,
    EndpointResult,
    EndpointSettings,
    EndpointState,
    SpeechDetector,
    speech_spans,
)

ZH_REAL = Path(__file__).resolve().parents[2].parent / "shared" / "audio" / "zh-real"
SOX = shutil.which("sox")
ESPEAK = shutil.which("espeak-ng")
RATE = 16000
FRAME_S = 0.03
TRAILING_S = EndpointSettings().trailing_silence_s


def _clips() -> list[Path]:
    clips = sorted(ZH_REAL.glob("*.wav"))
    if not clips and os.environ.get("CI") == "true":
        raise RuntimeError(f"{ZH_REAL} has no clips; CI must have shared/ beside the repo")
    return clips


CLIPS = _clips()
needs_clips = pytest.mark.skipif(not CLIPS, reason=f"real Mandarin clips not found at {ZH_REAL}")


def _clip(name: str) -> bytes:
    pcm, fmt = parse_wav((ZH_REAL / name).read_bytes())
    assert fmt == PcmFormat(RATE)
    return pcm


def _silence(seconds: float, rate: int = RATE) -> bytes:
    return bytes(2 * int(round(seconds * rate)))


def _noise(seconds: float, dbfs: float, seed: int = 0) -> bytes:
    x = np.random.default_rng(seed).standard_normal(int(seconds * RATE)) * 32768 * 10 ** (dbfs / 20)
    return np.clip(np.rint(x), -32768, 32767).astype("<i2").tobytes()


# --- an energy reference, independent of webrtcvad ---------------------------------------------------------
def _energy(pcm: bytes, rate: int = RATE) -> np.ndarray:
    """dBFS of each frame after pre-emphasis (which removes the rumble some clips carry)."""
    x = np.frombuffer(pcm, dtype="<i2").astype(np.float64)
    x = np.append(x[:1], x[1:] - 0.97 * x[:-1])
    n = int(rate * FRAME_S)
    k = len(x) // n
    return 10 * np.log10(np.mean(x[: k * n].reshape(k, n) ** 2, axis=1) / 32768**2 + 1e-12)


def _dynamic_range_db(pcm: bytes) -> float:
    energy = _energy(pcm)
    return float(np.percentile(energy, 95) - np.percentile(energy, 10))


def _energy_runs(pcm: bytes) -> list[tuple[float, float]]:
    """Voiced runs by frame energy: frames more than 40 % of the way from the noise floor (10th percentile) to
    loud speech (95th). Runs with fewer than 4 loud frames are clicks; gaps under 0.25 s are inside a word."""
    energy = _energy(pcm)
    floor, loud = np.percentile(energy, 10), np.percentile(energy, 95)
    voiced = np.nonzero(energy > floor + 0.4 * (loud - floor))[0]
    runs: list[list[int]] = []
    for i in voiced:
        if runs and (i - runs[-1][1]) * FRAME_S < 0.25:
            runs[-1][1], runs[-1][2] = i + 1, runs[-1][2] + 1
        else:
            runs.append([i, i + 1, 1])
    return [(a * FRAME_S, b * FRAME_S) for a, b, count in runs if count >= 4]


def _reference(pcm: bytes) -> tuple[float, list[float], list[float]]:
    """(speech start, acceptable ends of the first utterance, pauses between runs). A pause clearly under the
    1.2 s trailing silence (< 1.0 s) must not end the utterance, one clearly over it (> 1.5 s) must; in between
    the two detectors may disagree by a frame or two of onset and decay, so both ends are acceptable. Under
    20 dB of dynamic range (the far-field meeting clip: 15 dB) energy cannot tell a quiet word from the room,
    so there the end of any run is acceptable."""
    runs = _energy_runs(pcm)
    assert runs, "the reference found no speech"
    if _dynamic_range_db(pcm) < 20:
        return runs[0][0], [end for _, end in runs], [b[0] - a[1] for a, b in zip(runs, runs[1:], strict=False)]
    ends: list[float] = []
    pauses: list[float] = []
    for (_, end), (start, _) in zip(runs, runs[1:], strict=False):
        pause = start - end
        pauses.append(pause)
        if pause > 1.5:
            ends.append(end)
            break
        if pause >= 1.0:
            ends.append(end)
    else:
        ends.append(runs[-1][1])
    return runs[0][0], ends, pauses


def _check_against_reference(result: EndpointResult, pcm: bytes) -> None:
    start, ends, _ = _reference(pcm)
    assert result.reason == "silence", result
    assert result.speech_start_s is not None and result.speech_end_s is not None
    # never late to hear the start; webrtcvad may call the first noisy frames speech (up to 0.5 s early)
    assert start - 0.5 <= result.speech_start_s <= start + 0.3, (result, start)
    assert any(-0.3 <= result.speech_end_s - end <= 0.45 for end in ends), (result, ends)
    assert result.audio_s - result.speech_end_s == pytest.approx(TRAILING_S, abs=1e-6)


# --- feeding -----------------------------------------------------------------------------------------------
def _chunks(data: bytes, rng: np.random.Generator):
    """Small chunks of the kinds devices send: odd sizes, single bytes, whole 20 ms packets."""
    pos = 0
    while pos < len(data):
        size = int(rng.choice([1, 3, 7, 160, 320, 641, 1000, 2049, int(rng.integers(1, 4000))]))
        yield data[pos : pos + size]
        pos += size


def _stream(data: bytes, stages: list[Resampler], endpointer: Endpointer, seed: int = 0):
    """Device bytes through the chained streaming resamplers into the endpointer. Returns (the first result,
    all resampled audio): resampling goes on after the result, for comparison with the whole buffer."""
    result = None
    out = []
    rng = np.random.default_rng(seed)

    def feed(pcm: bytes) -> None:
        nonlocal result
        for stage in stages:
            pcm = stage.process(pcm)
        out.append(pcm)
        if result is None and pcm:
            result = endpointer.process(pcm)

    for chunk in _chunks(data, rng):
        feed(chunk)
    tail = b""
    for i, stage in enumerate(stages):  # flush each stage through the ones after it
        pcm = stage.flush()
        for later in stages[i + 1 :]:
            pcm = later.process(pcm)
        tail += pcm
    out.append(tail)
    if result is None and tail:
        result = endpointer.process(tail)
    return result, b"".join(out)


def _sox_44k_stereo(pcm: bytes, tmp_path: Path) -> bytes:
    src, dst = tmp_path / "in.wav", tmp_path / "out.wav"
    src.write_bytes(wav_bytes(pcm, RATE))
    # -R: sox's dither is random unless asked to be repeatable
    subprocess.run([SOX, "-R", str(src), "-r", "44100", "-c", "2", "-b", "16", str(dst)], check=True,
                   capture_output=True)
    return dst.read_bytes()


VARIANTS = ["16k", "16k->8k", "16k->8k->16k", "44.1k-stereo->16k"]


@needs_clips
@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize("clip", [p.name for p in CLIPS])
def test_real_speech_through_resampler_and_endpointer(clip, variant, tmp_path):
    pcm = _clip(clip)
    padded = pcm + _silence(3.0)
    if variant == "16k":
        data, stages, rate = padded, [Resampler(PcmFormat(RATE), RATE)], RATE
    elif variant == "16k->8k":
        data, stages, rate = padded, [Resampler(PcmFormat(RATE), 8000)], 8000
    elif variant == "16k->8k->16k":
        data, stages, rate = padded, [Resampler(PcmFormat(RATE), 8000), Resampler(PcmFormat(8000), RATE)], RATE
    else:
        if SOX is None:
            pytest.skip("sox is not installed")
        stereo, fmt = parse_wav(_sox_44k_stereo(padded, tmp_path))
        assert fmt == PcmFormat(44100, 2)
        data, stages, rate = stereo, [Resampler(fmt, RATE)], RATE
    result, resampled = _stream(data, stages, Endpointer(rate=rate), seed=len(clip))

    # the streamed conversion is the whole-buffer one
    whole = data
    fmt = stages[0].fmt
    for stage in stages:
        whole = to_mono16(whole, fmt, stage.out_rate)
        fmt = PcmFormat(stage.out_rate)
    a, b = (np.frombuffer(x, dtype="<i2").astype(int) for x in (resampled, whole))
    assert len(a) == len(b) and np.max(np.abs(a - b)) <= 1
    assert abs(len(a) - len(padded) // 2 * rate // RATE) <= 2

    assert result is not None
    _check_against_reference(result, pcm)


@needs_clips
def test_the_reference_has_pauses_of_every_kind():
    """The clips exercise the rule: pauses under 1.0 s (not to be cut) and over 1.2 s exist among them."""
    pauses = [p for clip in CLIPS for p in _reference(_clip(clip.name))[2]]
    assert sum(0.4 <= p < 1.0 for p in pauses) >= 5
    assert any(p > 1.2 for p in pauses)


def _voiced(name: str) -> bytes:
    """A clip cut to its reference speech, so joined clips have no pauses of their own."""
    pcm = _clip(name)
    runs = _energy_runs(pcm)
    return pcm[int(runs[0][0] * RATE) * 2 : int(runs[-1][1] * RATE) * 2]


@needs_clips
@pytest.mark.parametrize("pause_s, one_utterance", [(0.6, True), (1.0, True), (1.15, True), (1.6, False), (2.5, False)])
def test_a_pause_shorter_than_the_trailing_silence_does_not_cut(pause_s, one_utterance):
    first, second = _voiced("aishell1_BAC009S0724W0121.wav"), _voiced("cosyvoice_zero_shot_prompt.wav")
    lead = _silence(0.5)
    pcm = lead + first + _silence(pause_s) + second + _silence(3.0)
    endpointer = Endpointer()
    result = None
    for chunk in _chunks(pcm, np.random.default_rng(7)):
        result = result or endpointer.process(chunk)
    assert result is not None and result.reason == "silence"
    first_end = (len(lead) + len(first)) / 2 / RATE
    end = first_end + pause_s + len(second) / 2 / RATE if one_utterance else first_end
    assert -0.1 <= result.speech_end_s - end <= 0.3, (result, end)
    assert result.speech_start_s == pytest.approx(0.5, abs=0.1)
    spans = speech_spans(pcm, RATE)
    assert len(spans) == (1 if one_utterance else 2), spans


@needs_clips
@pytest.mark.parametrize("clip", ["thchs30_D4_750.wav", "aishell1_BAC009S0764W0121.wav"])
def test_trailing_silence_fires_about_1_2_s_after_speech(clip):
    pcm = _clip(clip)
    _, ends, _ = _reference(pcm)
    for pad in (_silence(3.0), _noise(3.0, -65)):
        result = Endpointer().process(pcm + pad)
        assert result is not None and result.reason == "silence"
        assert result.audio_s == pytest.approx(ends[-1] + TRAILING_S, abs=0.45)
        assert result.audio_s - result.speech_end_s == pytest.approx(TRAILING_S, abs=1e-6)
    longer = Endpointer(EndpointSettings(trailing_silence_s=2.0)).process(pcm + _silence(3.0))
    assert 2.0 <= longer.audio_s - longer.speech_end_s < 2.0 + FRAME_S  # whole frames, rounded up


@needs_clips
def test_continuous_speech_is_cut_at_the_maximum_length():
    speech = b""
    names = ["thchs30_D4_754.wav", "thchs30_D4_750.wav", "aishell1_BAC009S0764W0121.wav"]
    for name in names:
        speech += _voiced(name) + _silence(0.3)
    assert len(speech) / 2 / RATE > 20
    pcm = _silence(0.4) + speech
    endpointer = Endpointer()
    result = None
    for chunk in _chunks(pcm, np.random.default_rng(3)):
        result = endpointer.process(chunk)
        if result is not None:
            break
    assert result is not None and result.reason == "max_length"
    assert result.speech_start_s == pytest.approx(0.4, abs=0.1)
    assert result.audio_s - result.speech_start_s == pytest.approx(15.0, abs=1e-6)
    assert result.speech_end_s <= result.audio_s
    assert endpointer.state is EndpointState.DONE
    assert endpointer.process(pcm) is None  # done until reset()


@pytest.mark.parametrize(
    "name, make",
    [
        ("digital silence", lambda: _silence(10.0)),
        ("white noise at -60 dBFS", lambda: _noise(10.0, -60)),
        ("white noise at -45 dBFS", lambda: _noise(10.0, -45, seed=1)),
        ("50 Hz hum at -20 dBFS", lambda: np.rint(3277 * np.sin(2 * np.pi * 50 * np.arange(10 * RATE) / RATE))
         .astype("<i2").tobytes()),
        ("clicks", lambda: _clicks(10.0)),
    ],
)
def test_no_speech_ends_the_turn_at_the_timeout(name, make):
    pcm = make()
    endpointer = Endpointer()
    result = None
    for chunk in _chunks(pcm, np.random.default_rng(11)):
        result = endpointer.process(chunk)
        if result is not None:
            break
    assert result is not None and result.reason == "no_speech", name
    assert (result.speech_start_s, result.speech_end_s) == (None, None)
    # 8 s rounded up to whole frames; a click's voiced frames may hold the decision until they are judged
    assert 8.0 <= result.audio_s <= 8.0 + (0.3 if name == "clicks" else FRAME_S)
    assert endpointer.speech_started_s is None and not endpointer.in_speech


def test_dither_before_room_tone_is_not_speech():
    """A device that starts with a few frames of dither (+-1 LSB) and then room tone: webrtcvad alone learns
    the dither as its noise floor and calls the room tone speech."""
    rng = np.random.default_rng(9)
    dither = rng.integers(-1, 2, size=int(0.2 * RATE))
    room = np.cumsum(rng.standard_normal(10 * RATE))  # brown-ish hum of a room, about -60 dBFS
    room = (room - np.convolve(room, np.ones(400) / 400, "same")) * 32768 * 10 ** (-60 / 20) / 4.5
    pcm = np.clip(np.rint(np.concatenate([dither, room])), -32768, 32767).astype("<i2").tobytes()
    result = Endpointer().process(pcm)
    assert result is not None and result.reason == "no_speech"


@needs_clips
def test_a_noise_step_after_speech_still_ends_the_utterance():
    """Known webrtcvad limit: white noise switching on right after speech (a fan, a tap) is called speech for as
    long as it lasts. The maximum length still ends the turn."""
    pcm = _clip("aishell1_BAC009S0764W0121.wav") + _noise(20.0, -50)
    result = Endpointer().process(pcm)
    assert result is not None and result.reason in ("silence", "max_length")
    assert result.audio_s <= result.speech_start_s + 15.0 + FRAME_S


def _clicks(seconds: float) -> bytes:
    """A 20 ms broadband click every 0.35 s (a tapped table, a door latch) on a quiet room."""
    x = np.random.default_rng(5).standard_normal(int(seconds * RATE)) * 30
    click = np.random.default_rng(6).standard_normal(int(0.02 * RATE)) * 12000
    for start in range(int(0.2 * RATE), len(x) - len(click), int(0.35 * RATE)):
        x[start : start + len(click)] += click
    return np.clip(np.rint(x), -32768, 32767).astype("<i2").tobytes()


@needs_clips
@pytest.mark.parametrize("clip", ["aishell1_BAC009S0764W0121.wav", "cosyvoice_zero_shot_prompt.wav",
                                  "wenetspeech_TEST_NET_Y0000000000_-KTKHdZ2fb8_S00000.wav"])
def test_clipped_speech_still_works(clip):
    """Amplified until 4 % of samples saturate. (THCHS D4_752 and D4_753 clip as recorded and pass the streaming
    test above; amplifying them further turns their loud rumble into 'speech', which is not what clipping is.)"""
    assert clipped_fraction(_clip("thchs30_D4_752.wav")) > 0.001
    pcm = _clip(clip)
    x = np.frombuffer(pcm, dtype="<i2").astype(np.float64)
    gain = 32767 / np.percentile(np.abs(x), 96)  # a shouting elder with the mic at the mouth: 4 % clip
    saturated = np.clip(np.rint(x * gain), -32768, 32767).astype("<i2").tobytes()
    assert clipped_fraction(saturated) > 0.03
    result = Endpointer().process(saturated + _silence(3.0))
    assert result is not None and result.reason == "silence"
    plain = Endpointer().process(pcm + _silence(3.0))
    assert result.speech_start_s == pytest.approx(plain.speech_start_s, abs=0.3)
    assert result.speech_end_s == pytest.approx(plain.speech_end_s, abs=0.3)
    resampled = to_mono16(saturated + _silence(3.0), PcmFormat(RATE), 8000)
    result8k = Endpointer(rate=8000).process(resampled)
    assert result8k.reason == "silence"
    assert result8k.speech_end_s == pytest.approx(plain.speech_end_s, abs=0.3)


@needs_clips
def test_chunk_size_does_not_change_the_result():
    pcm = _clip("thchs30_D4_751.wav") + _silence(3.0)
    whole = Endpointer().process(pcm)
    one_byte = Endpointer()
    results = [r for r in (one_byte.process(pcm[i : i + 1]) for i in range(len(pcm))) if r is not None]
    assert results == [whole]
    chunked = Endpointer()
    assert [r for r in map(chunked.process, _chunks(pcm, np.random.default_rng(1))) if r] == [whole]


@needs_clips
def test_state_and_reset():
    pcm = _clip("cosyvoice_zero_shot_prompt.wav")
    endpointer = Endpointer()
    assert endpointer.state is EndpointState.WAITING and endpointer.speech_started_s is None
    assert endpointer.process(pcm[: RATE * 2]) is None  # first second
    assert endpointer.in_speech and endpointer.state is EndpointState.SPEECH
    assert endpointer.speech_started_s == pytest.approx(_reference(pcm)[0], abs=0.3)
    first = endpointer.process(pcm[RATE * 2 :] + _silence(3.0))
    assert first is not None and endpointer.result == first and endpointer.state is EndpointState.DONE
    endpointer.reset()
    assert endpointer.state is EndpointState.WAITING and endpointer.audio_s == 0.0
    assert endpointer.process(pcm + _silence(3.0)) == first  # the clock restarted at zero


@needs_clips
def test_speech_spans_offline():
    two = _clip("silver_sensevoice_sample.wav")  # a 1.5 s pause inside
    spans = speech_spans(two, RATE)
    runs = _energy_runs(two)
    assert len(spans) == 2
    assert spans[0][0] == pytest.approx(runs[0][0], abs=0.3)
    assert spans[-1][1] == pytest.approx(runs[-1][1], abs=0.3)
    assert speech_spans(_silence(5.0), RATE) == []
    for clip in ("thchs30_D4_752.wav", "aishell1_BAC009S0724W0121.wav"):
        pcm = _clip(clip)
        (start, end), = speech_spans(pcm, RATE)
        streamed = Endpointer().process(pcm + _silence(3.0))
        assert (start, end) == (streamed.speech_start_s, streamed.speech_end_s)
    # offline spans are not cut at the live maximum length
    long = _voiced("thchs30_D4_754.wav") + _silence(0.3) + _voiced("thchs30_D4_750.wav")
    (start, end), = speech_spans(long, RATE)
    assert end - start > 15


@needs_clips
def test_speech_detector_for_barge_in():
    pcm = _clip("aishell1_BAC009S0764W0121.wav")
    start, _, _ = _reference(pcm)
    detector = SpeechDetector(rate=RATE)
    assert detector.speech_frames(_noise(3.0, -50)) is False
    detector.reset()
    heard_at = None
    fed = 0
    for chunk in _chunks(pcm, np.random.default_rng(2)):
        fed += len(chunk)
        if detector.speech_frames(chunk) and heard_at is None:
            heard_at = fed / 2 / RATE
    assert heard_at is not None and heard_at <= start + 0.4  # within ~0.2 s of voiced audio
    assert detector.started_s == pytest.approx(start, abs=0.2)
    assert detector.speech_frames(_silence(1.0)) is True  # latched until reset
    detector.reset()
    assert detector.speech_frames(_silence(1.0)) is False
    assert SpeechDetector(rate=8000).process(to_mono16(pcm, PcmFormat(RATE), 8000)) is True


@pytest.mark.skipif(ESPEAK is None or SOX is None, reason="espeak-ng and sox are needed")
def test_synthetic_mandarin_from_espeak(tmp_path):
    """Runs without the shared clips too: espeak-ng's Mandarin, made 16 kHz by sox."""
    raw, wav = tmp_path / "say.wav", tmp_path / "say16.wav"
    subprocess.run([ESPEAK, "-v", "cmn", "-w", str(raw), "我想预约明天上午看医生"], check=True, capture_output=True)
    subprocess.run([SOX, str(raw), "-r", "16000", "-c", "1", "-b", "16", str(wav)], check=True, capture_output=True)
    pcm, fmt = parse_wav(wav.read_bytes())
    assert fmt == PcmFormat(RATE)
    result = Endpointer().process(_silence(0.7) + pcm + _silence(3.0))
    assert result is not None and result.reason == "silence"
    runs = _energy_runs(_silence(0.7) + pcm + _silence(0.5))
    assert result.speech_start_s == pytest.approx(runs[0][0], abs=0.3)
    assert result.speech_end_s == pytest.approx(runs[-1][1], abs=0.4)


def test_settings_and_rates_are_checked():
    with pytest.raises(UnsupportedAudio, match="44100 Hz"):
        Endpointer(rate=44100)
    with pytest.raises(ValueError):
        EndpointSettings(frame_ms=25)
    with pytest.raises(ValueError):
        EndpointSettings(aggressiveness=4)
    with pytest.raises(ValueError):
        EndpointSettings(trailing_silence_s=0)
    assert Endpointer(EndpointSettings(frame_ms=10, max_utterance_s=math.inf)).process(_silence(0.005)) is None
