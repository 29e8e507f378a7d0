"""The real `wyoming-satellite` 1.0.0 from PyPI as a process a test drives (issue 15).

It runs in its own environment, `.venv-satellite` (requirements/satellite.lock, built by
`tools/ensure_env.sh satellite`, which `make setup` and so `make test` run): 1.0.0 pins wyoming 1.4.1
and the app has 1.10.2. Where that environment is missing the tests skip, saying how to build it.

    sat = RealSatellite(tmp_path, port, vad=True)
    sat.start(); await sat.until_listening()
    sat.say(wav_bytes)        # into its microphone (converted with sox to the mic's rate and channels)
    sat.freeze(); sat.thaw()  # SIGSTOP / SIGCONT of the whole device: satellite, mic and speaker programs
    sat.stop(); sat.start()   # killed (SIGKILL) and started again on the same port
    sat.played_seconds()      # answer audio that has sounded on its speaker so far
    sat.report()              # its log, the mic's and the speaker's, for an assertion message

Its microphone (`--mic-command`) is satellite_peer/mic.py: raw PCM paced in real time, a quiet room's
noise between the WAV files `say` drops into its spool. Its speaker (`--snd-command`) is
satellite_peer/snd.py: it consumes PCM at real-time speed (back-pressure, as aplay) and logs when each
byte sounded.

What 1.0.0 does, as seen here (the tests in test_real_satellite.py hold it to this):

- **Describe** is answered with `info` at any time, on any connection, even one the satellite refuses
  to serve. Nothing else is ever answered: 1.0.0 (wyoming 1.4.1) has no ping/pong, so a `ping` goes
  unanswered, and it never sends `played`.
- **Who it serves.** The first connection to send anything but `describe` (usually `run-satellite`)
  is its server until that connection closes. Any other connection that sends anything but
  `describe` meanwhile is dropped from its side ("Connection cancelled" in its debug log) without
  closing the socket: that client sees neither an error nor EOF, just silence, and its later
  `describe`s are not read either. So a controller that reconnects while the satellite still holds
  the old connection (one it never saw closed) gets `info` and then nothing.
- **Always streaming** (no --vad, no wake word of its own): on `run-satellite` it sends ONE
  `run-pipeline` {start_stage: wake, end_stage: tts} (end_stage handle without a speaker) and then
  streams microphone chunks for as long as the connection lasts: no `audio-start`, never an
  `audio-stop`, no new `run-pipeline` per turn (a `transcript` only re-logs "Streaming audio"). The
  chunks are the mic's own format (--mic-command-rate/-channels, 1024 frames each, e.g. 4096 bytes at
  32 kHz stereo), with a `timestamp`; 1.0.0 does not resample.
- **--vad**: after `run-satellite` it sends nothing at all in a quiet room ("Waiting for speech"):
  no audio, and since pings go unanswered, nothing a liveness timer could hear. When Silero hears
  speech (within about 0.2 s of its start) it sends `run-pipeline` {wake → tts}, then one chunk of
  pre-roll (the last 2 s: 64000 bytes, no timestamp; the buffer is reset to digital zeros after
  each stream, so a pipeline that follows at once gets mostly zeros), then live chunks, and
  `audio-stop` exactly --vad-wake-word-timeout (5 s) after the `run-pipeline`, whether the speech
  goes on or has ended: `audio-stop` is a timeout, not the end of speech. Speech still going on
  then starts the next `run-pipeline` at once (about 0.1 s later), so a long utterance arrives as
  several 5 s pipelines. The pre-roll size and Silero assume 16 kHz mono: --vad wants a 16 kHz
  mono mic. (With a wake word of its own, --wake-uri, it would ask from `asr`: from its source, not
  tested here.)
- **Microphone**: the mic program is started once, when the satellite starts (before any controller
  connects), and read for as long as it runs, 1024 frames at a time; if it exits it is started
  again 3 s later. Audio heard while no controller is connected is dropped.
- **Answer audio**: the snd program is started at the first `audio-start`/`audio-chunk` of an answer
  and fed the chunks converted to --snd-command-rate/-width/-channels; at `audio-stop` its stdin is
  closed and the satellite waits for it to exit (aplay drains). So each answer gets a program of its
  own, one after the other. Everything a controller sent is queued and played: `audio-stop` does not
  cut what was sent before it, which is why Yinling paces answer audio (voice.satellites.PacedSender).
  Between the satellite and the sound card sits a 64 KiB pipe (2 s at 16 kHz mono).
- **Kill and restart**: a new satellite listens on the same port at once (asyncio sets SO_REUSEADDR),
  a fraction of a second after it starts (0.2 s here, 0.4 s with --vad, which loads Silero first).
  `stop` kills the whole process group, the mic and speaker programs too. While it is stopped
  (SIGSTOP) the kernel still completes TCP connections to its port and buffers what is sent; on
  SIGCONT it reads all of it.
"""
from __future__ import annotations

import asyncio
import contextlib
import ctypes
import itertools
import os
import shlex
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SATELLITE_PYTHON = ROOT / ".venv-satellite" / "bin" / "python"
PEER = Path(__file__).resolve().parent / "satellite_peer"
WIDTH = 2


def _die_with_parent() -> None:
    """In the child before exec (Linux): killed when the test process dies, so an aborted run leaves no
    satellite behind (its mic and speaker programs then end by themselves on the broken pipes). Linux ties
    this to the thread that started it: call `start` from the test's own thread, not a worker thread."""
    with contextlib.suppress(Exception):
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


def missing_reason() -> str | None:
    """Why the real satellite cannot run here, or None when it can."""
    if not SATELLITE_PYTHON.exists():
        return (f"the real wyoming-satellite's environment {SATELLITE_PYTHON.parent.parent} is missing: "
                "build it with tools/ensure_env.sh satellite (make setup and make test do)")
    return None


def _listening(port: int) -> bool:
    """Is something listening on 127.0.0.1:port? Read from /proc/net/tcp, so that looking does not open a
    connection the satellite would see; elsewhere a connection is tried."""
    try:
        lines = Path("/proc/net/tcp").read_text().splitlines()[1:]
    except OSError:
        with socket.socket() as probe:
            probe.settimeout(0.2)
            return probe.connect_ex(("127.0.0.1", port)) == 0
    want = {f"0100007F:{port:04X}", f"00000000:{port:04X}"}
    return any(parts[1] in want and parts[3] == "0A" for parts in (line.split() for line in lines))


@dataclass
class PlayRun:
    """One run of the speaker program (1.0.0 starts one per answer)."""

    opened: float
    closed: float | None = None
    plays: list[tuple[float, int]] = field(default_factory=list)  # (when these bytes started to sound, bytes)


class RealSatellite:
    """One wyoming-satellite 1.0.0 process on 127.0.0.1:port with the peer mic and speaker programs.

    `vad`: --vad (stream only after Silero hears speech). `mic_rate`/`mic_channels`: the microphone's
    format (--mic-command-rate/-channels). `snd_rate`: the speaker's (--snd-command-rate; 1.0.0's
    default is 22050). `debug`: --debug (its log then says which connection it serves).
    """

    def __init__(self, workdir: Path, port: int, *, vad: bool = False, mic_rate: int = 16000, mic_channels: int = 1,
                 snd_rate: int = 16000, debug: bool = True, noise: float = 30.0, extra_args: tuple[str, ...] = ()) -> None:
        reason = missing_reason()
        if reason:
            raise RuntimeError(reason)
        self.dir = Path(workdir)
        self.dir.mkdir(parents=True, exist_ok=True)
        self.port = port
        self.vad, self.mic_rate, self.mic_channels, self.snd_rate = vad, mic_rate, mic_channels, snd_rate
        self.spool = self.dir / "spool"
        self.spool.mkdir(exist_ok=True)
        self.log_path = self.dir / "satellite.log"
        self.mic_log = self.dir / "mic.log"
        self.snd_log = self.dir / "snd.log"
        self.snd_pcm = self.dir / "played.pcm"
        self.proc: subprocess.Popen | None = None
        self.starts = 0
        self._said = itertools.count(1)
        py = shlex.quote(str(SATELLITE_PYTHON))
        mic = (f"{py} {shlex.quote(str(PEER / 'mic.py'))} --rate {mic_rate} --channels {mic_channels} "
               f"--noise {noise} --spool {shlex.quote(str(self.spool))} --log {shlex.quote(str(self.mic_log))}")
        snd = (f"{py} {shlex.quote(str(PEER / 'snd.py'))} --rate {snd_rate} --channels 1 "
               f"--out {shlex.quote(str(self.snd_pcm))} --log {shlex.quote(str(self.snd_log))}")
        self.args = [str(SATELLITE_PYTHON), "-m", "wyoming_satellite", "--uri", self.uri, "--no-zeroconf",
                     "--mic-command", mic, "--mic-command-rate", str(mic_rate),
                     "--mic-command-channels", str(mic_channels),
                     "--snd-command", snd, "--snd-command-rate", str(snd_rate), "--snd-command-channels", "1",
                     *(["--vad"] if vad else []), *(["--debug"] if debug else []), *extra_args]

    @property
    def uri(self) -> str:
        return f"tcp://127.0.0.1:{self.port}"

    # --- the process ------------------------------------------------------------------------------
    def start(self) -> None:
        """Starts the satellite (a process group of its own, with its mic and speaker programs); returns at
        once: `until_listening` tells when its port takes connections."""
        assert self.proc is None or self.proc.poll() is not None, "already running"
        self.starts += 1
        env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME")}
        with open(self.log_path, "a") as log:
            log.write(f"=== start {self.starts} at {time.monotonic():.3f}: {shlex.join(self.args)}\n")
            log.flush()
            self.proc = subprocess.Popen(self.args, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                                         env=env, cwd=self.dir, start_new_session=True,
                                         preexec_fn=_die_with_parent if sys.platform == "linux" else None)

    async def until_listening(self, timeout_s: float = 15.0) -> float:
        """The monotonic time at which its port was first seen taking connections (polled every 5 ms)."""
        deadline = time.monotonic() + timeout_s
        while not _listening(self.port):
            if self.proc is not None and self.proc.poll() is not None:
                raise AssertionError(f"the satellite exited with {self.proc.returncode}\n{self.report()}")
            if time.monotonic() > deadline:
                raise AssertionError(f"the satellite did not listen on {self.port} in {timeout_s} s\n{self.report()}")
            await asyncio.sleep(0.005)
        return time.monotonic()

    def stop(self) -> None:
        """Kills it (SIGKILL to the whole group: satellite, mic and speaker programs), as pulling the plug."""
        if self.proc is None:
            return
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        self.proc.wait(timeout=10)
        with open(self.log_path, "a") as log:
            log.write(f"=== killed at {time.monotonic():.3f}\n")

    def restart(self) -> None:
        """Killed and started again on the same port."""
        self.stop()
        self.start()

    def freeze(self) -> None:
        """The device hangs: SIGSTOP to the satellite and its programs. The socket stays open."""
        assert self.proc is not None and self.proc.poll() is None
        os.killpg(self.proc.pid, signal.SIGSTOP)

    def thaw(self) -> None:
        assert self.proc is not None and self.proc.poll() is None
        os.killpg(self.proc.pid, signal.SIGCONT)

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    # --- its microphone -----------------------------------------------------------------------------
    def say(self, wav: bytes | str | Path, name: str = "utterance") -> str:
        """Drops a WAV (bytes or a path) into the microphone's spool, converted with sox to its rate and
        channels; it is heard after what was dropped before. Returns the spool name (see `said`)."""
        spool_name = f"{next(self._said):04d}-{name}.wav"
        with tempfile.TemporaryDirectory(dir=self.dir) as scratch:
            source = Path(scratch) / "source.wav"
            if isinstance(wav, (bytes, bytearray)):
                source.write_bytes(wav)
            else:
                source = Path(wav)
            part = self.spool / f".{spool_name}.part"  # not *.wav: the mic takes only finished files
            subprocess.run(["sox", "-q", str(source), "-t", "wav", "-r", str(self.mic_rate), "-c", str(self.mic_channels),
                            "-b", "16", "-e", "signed-integer", str(part)], check=True, capture_output=True)
            os.rename(part, self.spool / spool_name)
        return spool_name

    def said(self) -> list[tuple[float, str, str]]:
        """(monotonic time, 'said-start' | 'said-end', spool name) for what the microphone played."""
        if not self.mic_log.exists():
            return []
        out = []
        for line in self.mic_log.read_text().splitlines():
            at, what, name = line.split(" ", 2)
            out.append((float(at), what, name))
        return out

    async def until_said(self, spool_name: str, what: str = "said-start", timeout_s: float = 30.0) -> float:
        """When the microphone started (or finished) playing that file."""
        deadline = time.monotonic() + timeout_s
        while True:
            for at, kind, name in self.said():
                if kind == what and name == spool_name:
                    return at
            if time.monotonic() > deadline:
                raise AssertionError(f"{spool_name} not {what} in {timeout_s} s\n{self.report()}")
            await asyncio.sleep(0.02)

    # --- its speaker ----------------------------------------------------------------------------------
    def playback(self) -> list[PlayRun]:
        """Each run of the speaker program, in order, with when each part of the audio sounded."""
        runs: list[PlayRun] = []
        if not self.snd_log.exists():
            return runs
        for line in self.snd_log.read_text().splitlines():
            parts = line.split()
            if len(parts) != 3:
                continue  # a line being written
            at, what, size = float(parts[0]), parts[1], int(parts[2])
            if what == "open":
                runs.append(PlayRun(at))
            elif what == "play" and runs:
                runs[-1].plays.append((at, size))
            elif what == "close" and runs:
                runs[-1].closed = at
        return runs

    def played_seconds(self, until: float | None = None, runs: list[PlayRun] | None = None) -> float:
        """Seconds of audio that had sounded by `until` (monotonic; default now), over all runs or `runs`."""
        until = time.monotonic() if until is None else until
        per_s = self.snd_rate * WIDTH
        total = 0.0
        for run in self.playback() if runs is None else runs:
            for at, size in run.plays:
                total += min(size / per_s, max(0.0, until - at))
        return total

    def playing_started(self) -> float | None:
        """When the first answer audio sounded (monotonic), or None."""
        starts = [run.plays[0][0] for run in self.playback() if run.plays]
        return min(starts) if starts else None

    # --- for assertions -------------------------------------------------------------------------------
    def log(self) -> str:
        """The satellite's own log (stdout and stderr, every start and kill marked)."""
        return self.log_path.read_text() if self.log_path.exists() else ""

    def report(self, tail: int = 60) -> str:
        """Its log, the microphone's and the speaker's (the last lines of each), for a failure message."""
        def last(path: Path) -> str:
            if not path.exists():
                return "(none)"
            lines = [line if len(line) <= 400 else line[:400] + " …" for line in path.read_text().splitlines()]
            return "\n".join(lines[-tail:])
        return (f"--- satellite log ({self.log_path}), now {time.monotonic():.3f}:\n{last(self.log_path)}\n"
                f"--- mic log:\n{last(self.mic_log)}\n--- speaker log:\n{last(self.snd_log)}")

    def __enter__(self) -> "RealSatellite":
        return self

    def __exit__(self, *exc) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.stop()
