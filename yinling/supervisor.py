"""Keeps the stack's processes running: one that dies is restarted with back-off, the others keep serving.

`yinling run` puts it over yinling.stack.Stack; anything with the methods of `Processes` will do (the
tests drive it with a fake and a fake clock). `tick` looks at every process once and never sleeps;
`run` repeats it until told to stop. Per process:

    up ──exits──► down ──its pause is over──► starting ──answers its health check──► up
                   ▲                               │
                   └── exits again, will not start, or no health within start_timeout_s (killed)

The pauses grow with the failures in a row (1, 2, 5, 10, 30 s by default) and start again from the
first once the process has stayed up `reset_after_s`. A process that keeps failing is tried again at
the longest pause for as long as the supervisor runs, and every one of those failures is reported as
a crash loop: nothing is ever given up on in silence. Every event goes to `report` (by default the
`yinling.supervisor` logger, which `supervisor_logger` sends to stderr and the log directory).

Restarts must come from a thread that lives as long as the stack: the children die with the thread
that started them (PR_SET_PDEATHSIG, see yinling.stack). `yinling run` runs this in its main thread.
"""
from __future__ import annotations

import enum
import logging
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

logger = logging.getLogger("yinling.supervisor")


class Processes(Protocol):
    """What the supervisor needs of the processes it keeps (yinling.stack.Stack has it)."""

    def start_process(self, name: str) -> None:
        """Start `name` (again); it has exited. Raises when it cannot be started at all."""

    def exit_status(self, name: str) -> int | None:
        """None while `name` runs, else its return code (negative: the signal that killed it)."""

    def ready(self, name: str) -> bool:
        """One quick health check."""

    def warm_up(self, name: str) -> None:
        """Once it is healthy, before callers are told so (Rasa's first parse)."""

    def kill(self, name: str) -> None:
        """SIGKILL: it started but never became healthy."""

    def pid(self, name: str) -> int: ...

    def started_at(self, name: str) -> float:
        """When it was started, on the supervisor's clock."""

    def log_path(self, name: str) -> Path: ...


@dataclass(frozen=True)
class Backoff:
    """Pause before the n-th restart in a row; the last one repeats for ever."""

    pauses_s: tuple[float, ...] = (1.0, 2.0, 5.0, 10.0, 30.0)
    reset_after_s: float = 60.0  # healthy this long: the next failure is the first again

    def __post_init__(self) -> None:
        if not self.pauses_s or any(p < 0 for p in self.pauses_s):
            raise ValueError(f"pauses must be one or more non-negative seconds: {self.pauses_s}")
        if list(self.pauses_s) != sorted(self.pauses_s):
            raise ValueError(f"pauses must not shrink: {self.pauses_s}")

    def pause_s(self, failures: int) -> float:
        """The pause after `failures` failures in a row (1 or more)."""
        return self.pauses_s[min(max(failures, 1), len(self.pauses_s)) - 1]

    def crash_looping(self, failures: int) -> bool:
        """At the longest pause: it keeps failing, and a person should look."""
        return failures >= len(self.pauses_s)


@dataclass(frozen=True)
class ExitStatus:
    """How a process ended. `returncode` None: it was taken away without one (stopped by someone else)."""

    returncode: int | None

    @property
    def signal(self) -> signal.Signals | None:
        if self.returncode is None or self.returncode >= 0:
            return None
        try:
            return signal.Signals(-self.returncode)
        except ValueError:
            return None

    def __str__(self) -> str:
        if self.returncode is None:
            return "gone, no exit status"
        if self.returncode >= 0:
            return f"exit code {self.returncode}"
        sig = self.signal
        return f"killed by {sig.name} (signal {-self.returncode})" if sig else f"killed by signal {-self.returncode}"


class Phase(str, enum.Enum):
    UP = "up"  # running (healthy when it last had to be)
    DOWN = "down"  # exited; waiting out its pause
    STARTING = "starting"  # started again, not yet answering its health check


class EventKind(str, enum.Enum):
    DIED = "died"
    START_FAILED = "start_failed"  # could not even be started (start_process raised)
    START_TIMEOUT = "start_timeout"  # started, never healthy within start_timeout_s: killed
    CRASH_LOOP = "crash_loop"  # failed len(pauses) times in a row or more: retried at the longest pause
    RESTARTING = "restarting"
    HEALTHY = "healthy"  # back after a failure
    STEADY = "steady"  # stayed up reset_after_s after a failure: the back-off starts from the first pause


FAILURES = (EventKind.DIED, EventKind.START_FAILED, EventKind.START_TIMEOUT)
LEVELS = {EventKind.DIED: logging.ERROR, EventKind.START_FAILED: logging.ERROR,
          EventKind.START_TIMEOUT: logging.ERROR, EventKind.CRASH_LOOP: logging.CRITICAL,
          EventKind.RESTARTING: logging.WARNING, EventKind.HEALTHY: logging.WARNING,
          EventKind.STEADY: logging.INFO}


@dataclass(frozen=True)
class Event:
    kind: EventKind
    name: str
    at: float  # the supervisor's clock (time.monotonic by default)
    message: str  # for a person: what happened, what happens next, where to look
    failures: int = 0  # failures in a row, this one included
    exit: ExitStatus | None = None
    pause_s: float | None = None  # until the next start (failures)
    pid: int | None = None
    down_s: float | None = None  # HEALTHY: from the first failure seen to healthy again


@dataclass(frozen=True)
class ProcessStatus:
    name: str
    phase: Phase
    since: float  # when this phase began
    failures: int  # in a row
    restarts: int  # since the supervisor started
    crash_looping: bool
    pid: int | None
    last_exit: ExitStatus | None
    next_start_at: float | None  # DOWN: when it is started again


@dataclass
class _Watch:
    name: str
    phase: Phase
    since: float
    healthy_since: float | None
    pid: int | None
    started_at: float  # when the process now running (or last run) was started
    failures: int = 0
    restarts: int = 0
    failed_at: float | None = None  # the first failure of this outage
    next_start_at: float = 0.0
    last_exit: ExitStatus | None = None


def duration(seconds: float) -> str:
    """2.4 s, 45 s, 3 min 5 s, 2 h 10 min: for messages."""
    if seconds < 10:
        return f"{seconds:.1f} s"
    if seconds < 60:
        return f"{seconds:.0f} s"
    if seconds < 3600:
        return f"{int(seconds // 60)} min {int(seconds % 60)} s"
    return f"{int(seconds // 3600)} h {int(seconds % 3600 // 60)} min"


class Supervisor:
    def __init__(self, processes: Processes, names: Iterable[str], *, backoff: Backoff | None = None,
                 start_timeout_s: float | Mapping[str, float] = 180.0, clock: Callable[[], float] = time.monotonic,
                 report: Callable[[Event], None] | None = None) -> None:
        """`names`: the processes to keep, all running and healthy now (Stack.start has returned)."""
        self._processes = processes
        self.backoff = backoff or Backoff()
        self._timeouts = start_timeout_s
        self._clock = clock
        self._report = report or log_event
        now = clock()
        self._watch = {n: _Watch(n, Phase.UP, now, now, self._pid(n), self._started_at(n, now)) for n in names}
        self._events: list[Event] = []
        self._changed = threading.Condition()
        self._stop = threading.Event()

    # -- reading (safe from other threads) -----------------------------------
    def events(self) -> list[Event]:
        with self._changed:
            return list(self._events)

    def status(self) -> dict[str, ProcessStatus]:
        with self._changed:
            return {w.name: ProcessStatus(w.name, w.phase, w.since, w.failures, w.restarts,
                                          self.backoff.crash_looping(w.failures), w.pid, w.last_exit,
                                          w.next_start_at if w.phase is Phase.DOWN else None)
                    for w in self._watch.values()}

    def wait_for(self, kind: EventKind, name: str, *, after: int = 0, timeout_s: float = 60.0) -> Event:
        """The first `kind` event of `name` at index `after` or later in events(); TimeoutError if none comes."""
        deadline = time.monotonic() + timeout_s
        with self._changed:
            while True:
                for event in self._events[after:]:
                    if event.kind is kind and event.name == name:
                        return event
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(f"no {kind.value} event for {name} in {timeout_s:g} s; "
                                       f"last events: {[e.message for e in self._events[-5:]]}")
                self._changed.wait(left)

    # -- running ---------------------------------------------------------------
    def run(self, until: Callable[[], bool] | None = None, interval_s: float = 0.5) -> None:
        """tick() every `interval_s` until stop() is called or `until()` is true."""
        while not self._stop.is_set() and not (until and until()):
            self.tick()
            self._stop.wait(interval_s)

    def stop(self) -> None:
        self._stop.set()

    def tick(self) -> None:
        for watch in self._watch.values():
            self._step(watch, self._clock())

    def _step(self, w: _Watch, now: float) -> None:
        if w.phase is Phase.DOWN:
            if now >= w.next_start_at:
                self._start(w, now)
            return
        exit_status = self._exit_status(w.name)
        if exit_status is not None:
            self._failed(w, now, EventKind.DIED, exit_status=exit_status)
        elif w.phase is Phase.STARTING:
            if self._ready(w.name):
                self._healthy(w, now)
            elif now - w.since > self._timeout(w.name):
                try:
                    self._processes.kill(w.name)
                except Exception:
                    logger.exception("could not kill %s", w.name)
                self._failed(w, now, EventKind.START_TIMEOUT)
        elif w.failures and w.healthy_since is not None and now - w.healthy_since >= self.backoff.reset_after_s:
            w.failures = 0
            self._emit(Event(EventKind.STEADY, w.name, now,
                             f"{w.name} has stayed up {duration(now - w.healthy_since)} since its restart: "
                             f"the next failure waits {duration(self.backoff.pauses_s[0])} again", pid=w.pid))

    def _failed(self, w: _Watch, now: float, kind: EventKind, *, exit_status: ExitStatus | None = None,
                error: str = "") -> None:
        was = w.phase
        if was is Phase.UP and w.healthy_since is not None and now - w.healthy_since >= self.backoff.reset_after_s:
            w.failures = 0
        w.failures += 1
        pause = self.backoff.pause_s(w.failures)
        ran_for = now - w.started_at
        w.phase, w.since, w.next_start_at, w.healthy_since = Phase.DOWN, now, now + pause, None
        w.last_exit = exit_status
        if w.failed_at is None:
            w.failed_at = now
        log = self._log_path(w.name)
        next_try = f"starting it again in {duration(pause)}"
        if kind is EventKind.DIED and was is Phase.UP:
            message = (f"{w.name} (pid {w.pid}) died: {exit_status}, after {duration(ran_for)} running; {next_try}. "
                       f"The other processes keep serving. Its log: {log}")
        elif kind is EventKind.DIED:
            message = (f"{w.name} (pid {w.pid}) died while starting: {exit_status}, {duration(ran_for)} after its "
                       f"start ({w.failures} failures in a row); {next_try}. Its log: {log}")
        elif kind is EventKind.START_TIMEOUT:
            message = (f"{w.name} (pid {w.pid}) did not answer its health check within "
                       f"{duration(self._timeout(w.name))} of its start: killed it; {next_try}. Its log: {log}")
        else:
            message = f"{w.name} could not be started: {error}; {next_try}"
        self._emit(Event(kind, w.name, now, message, w.failures, exit_status, pause, w.pid))
        if self.backoff.crash_looping(w.failures):
            self._emit(Event(EventKind.CRASH_LOOP, w.name, now,
                             f"{w.name} keeps failing: {w.failures} times in a row. It is tried again every "
                             f"{duration(self.backoff.pauses_s[-1])} for as long as this runs, and counts as fixed "
                             f"once it stays up {duration(self.backoff.reset_after_s)}; a person should read {log}",
                             w.failures, exit_status, pause, w.pid))

    def _start(self, w: _Watch, now: float) -> None:
        try:
            self._processes.start_process(w.name)
        except Exception as e:  # a missing program, a full disk: counted and retried like a crash
            self._failed(w, now, EventKind.START_FAILED, error=f"{type(e).__name__}: {e}")
            return
        w.restarts += 1
        w.phase, w.since, w.started_at, w.pid = Phase.STARTING, now, now, self._pid(w.name)
        in_a_row = f", {w.failures} failures in a row" if w.failures > 1 else ""
        self._emit(Event(EventKind.RESTARTING, w.name, now,
                         f"{w.name} restarted (pid {w.pid}; restart {w.restarts} since the start{in_a_row}); "
                         "waiting until it answers", w.failures, pid=w.pid))

    def _healthy(self, w: _Watch, now: float) -> None:
        note = ""
        try:
            self._processes.warm_up(w.name)
        except Exception as e:  # it answers: callers are better served than not
            note = f" (its warm-up failed: {type(e).__name__}: {e})"
        now = max(now, self._clock())  # the warm-up took time
        started_in = now - w.since
        down_s = now - w.failed_at if w.failed_at is not None else None
        w.phase, w.since, w.healthy_since, w.failed_at = Phase.UP, now, now, None
        self._emit(Event(EventKind.HEALTHY, w.name, now,
                         f"{w.name} (pid {w.pid}) is back and healthy: {duration(started_in)} to start, "
                         f"{duration(down_s or 0)} after it was found down{note}", w.failures, pid=w.pid,
                         down_s=down_s))

    # -- the processes, guarded --------------------------------------------------
    def _exit_status(self, name: str) -> ExitStatus | None:
        try:
            code = self._processes.exit_status(name)
        except KeyError:  # stopped and forgotten by someone else
            return ExitStatus(None)
        return None if code is None else ExitStatus(code)

    def _ready(self, name: str) -> bool:
        try:
            return bool(self._processes.ready(name))
        except Exception:
            return False

    def _pid(self, name: str) -> int | None:
        try:
            return self._processes.pid(name)
        except (KeyError, AttributeError):
            return None

    def _started_at(self, name: str, default: float) -> float:
        try:
            return min(self._processes.started_at(name), default)
        except (KeyError, AttributeError):
            return default

    def _log_path(self, name: str) -> Path | str:
        try:
            return self._processes.log_path(name)
        except (KeyError, AttributeError):
            return "(no log)"

    def _timeout(self, name: str) -> float:
        if isinstance(self._timeouts, Mapping):
            return self._timeouts.get(name, 180.0)
        return self._timeouts

    def _emit(self, event: Event) -> None:
        with self._changed:
            self._events.append(event)
            self._changed.notify_all()
        try:
            self._report(event)
        except Exception:  # a closed terminal must not stop the restarts
            pass


def log_event(event: Event) -> None:
    """The default report: the `yinling.supervisor` logger, at ERROR for failures and CRITICAL for crash loops."""
    logger.log(LEVELS[event.kind], "%s", event.message)


def supervisor_logger(log_dir: Path, *, stderr: bool = True) -> Path:
    """The `yinling.supervisor` logger to stderr and to `log_dir`/supervisor.log (beside the processes'
    own logs), with the time of each line; returns that file. Calling it again replaces the handlers it
    added before."""
    log_dir.mkdir(parents=True, exist_ok=True)
    for handler in [h for h in logger.handlers if getattr(h, "_yinling_supervisor", False)]:
        logger.removeHandler(handler)
        handler.close()
    path = log_dir / "supervisor.log"
    file_handler = logging.FileHandler(path, encoding="utf-8")
    file_handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
    handlers: list[logging.Handler] = [file_handler]
    if stderr:
        stream = logging.StreamHandler(sys.stderr)
        stream.setFormatter(logging.Formatter("%(asctime)s yinling run: %(message)s", "%H:%M:%S"))
        handlers.append(stream)
    for handler in handlers:
        handler._yinling_supervisor = True  # type: ignore[attr-defined]
        logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False
    return path
