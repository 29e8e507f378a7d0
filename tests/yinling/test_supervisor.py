"""The supervisor (yinling.supervisor) on its own: processes and clock are fakes, so every pause of the
back-off, the reset after a steady run, the crash loop and the start timeout are checked to the second
without waiting for them. tests/e2e/test_faults.py runs it over the real processes of `yinling run`."""
from __future__ import annotations

import logging
import signal
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from yinling.supervisor import (
    Backoff,
    EventKind,
    ExitStatus,
    Phase,
    Supervisor,
    duration,
    supervisor_logger,
)

NAMES = ("actions", "rasa", "gateway")


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@dataclass
class FakeProcess:
    pid: int
    started_at: float
    exit: int | None = None
    ready_after_s: float | None = 0.0  # None: never answers its health check


@dataclass
class FakeProcesses:
    """Processes as the supervisor sees them. `on_start[name]`: what the next starts do (a list used up
    in order): "ok", "dies" (exits 1 at once), "hangs" (never healthy), "refuses" (start raises)."""

    clock: Clock
    procs: dict[str, FakeProcess] = field(default_factory=dict)
    on_start: dict[str, list[str]] = field(default_factory=dict)
    starts: list[tuple[float, str]] = field(default_factory=list)
    kills: list[str] = field(default_factory=list)
    warmed: list[str] = field(default_factory=list)
    next_pid: int = 100

    def __post_init__(self) -> None:
        for name in NAMES:
            self._new(name)

    def _new(self, name: str, ready_after_s: float | None = 0.0) -> None:
        self.next_pid += 1
        self.procs[name] = FakeProcess(self.next_pid, self.clock(), ready_after_s=ready_after_s)

    def crash(self, name: str, code: int = -signal.SIGKILL) -> None:
        self.procs[name].exit = code

    # -- the Processes protocol ----------------------------------------------
    def start_process(self, name: str) -> None:
        assert self.procs[name].exit is not None, f"{name} started while it runs"
        plan = self.on_start.get(name) or ["ok"]
        what = plan.pop(0) if self.on_start.get(name) else "ok"
        self.starts.append((self.clock(), name))
        if what == "refuses":
            raise FileNotFoundError("no such program: .venv-rasa/bin/python")
        self._new(name, None if what == "hangs" else 3.0)
        if what == "dies":
            self.procs[name].exit = 1

    def exit_status(self, name: str) -> int | None:
        return self.procs[name].exit

    def ready(self, name: str) -> bool:
        p = self.procs[name]
        return p.exit is None and p.ready_after_s is not None and self.clock() - p.started_at >= p.ready_after_s

    def warm_up(self, name: str) -> None:
        self.warmed.append(name)

    def kill(self, name: str) -> None:
        self.kills.append(name)
        self.procs[name].exit = -signal.SIGKILL

    def pid(self, name: str) -> int:
        return self.procs[name].pid

    def started_at(self, name: str) -> float:
        return self.procs[name].started_at

    def log_path(self, name: str) -> Path:
        return Path("/var/log/yinling") / f"{name}.log"


@pytest.fixture
def world():
    clock = Clock()
    procs = FakeProcesses(clock)
    reported = []
    sup = Supervisor(procs, NAMES, clock=clock, report=reported.append, start_timeout_s={"rasa": 120, "actions": 30,
                                                                                         "gateway": 60})
    return clock, procs, sup, reported


def run_for(clock: Clock, sup: Supervisor, seconds: float, step: float = 0.5) -> None:
    end = clock.now + seconds
    while clock.now < end:
        sup.tick()
        clock.now = round(clock.now + step, 6)
    sup.tick()


def kinds(events, name=None):
    return [e.kind for e in events if name is None or e.name == name]


def test_a_crashed_process_is_restarted_after_the_first_pause_and_the_others_are_left_alone(world):
    clock, procs, sup, reported = world
    others = {n: procs.pid(n) for n in ("actions", "gateway")}
    old_pid = procs.pid("rasa")
    run_for(clock, sup, 10)
    procs.crash("rasa")
    crashed_at = clock.now
    sup.tick()
    died = reported[-1]
    assert died.kind is EventKind.DIED and died.name == "rasa" and died.pid == old_pid
    assert died.exit == ExitStatus(-9) and died.pause_s == 1.0 and died.failures == 1
    assert "killed by SIGKILL (signal 9)" in died.message and "/var/log/yinling/rasa.log" in died.message
    assert "keep serving" in died.message and "in 1.0 s" in died.message and "after 10 s running" in died.message
    assert sup.status()["rasa"].phase is Phase.DOWN

    run_for(clock, sup, 0.5)
    assert procs.starts == [], "not before its pause is over"
    run_for(clock, sup, 0.5)
    assert procs.starts == [(crashed_at + 1.0, "rasa")]
    restarting = next(e for e in reported if e.kind is EventKind.RESTARTING)
    assert restarting.pid == procs.pid("rasa") != old_pid and "waiting until it answers" in restarting.message
    assert sup.status()["rasa"].phase is Phase.STARTING

    run_for(clock, sup, 3.5)  # the fake takes 3 s to answer
    healthy = reported[-1]
    assert healthy.kind is EventKind.HEALTHY and "back and healthy" in healthy.message
    assert healthy.down_s == pytest.approx(4.0, abs=0.6)
    assert procs.warmed == ["rasa"], "warmed up before it is called healthy"
    assert sup.status()["rasa"].phase is Phase.UP and sup.status()["rasa"].restarts == 1
    assert {n: procs.pid(n) for n in others} == others
    assert [n for _, n in procs.starts] == ["rasa"] and procs.kills == []
    assert kinds(reported) == [EventKind.DIED, EventKind.RESTARTING, EventKind.HEALTHY]
    assert reported == sup.events()


def test_pauses_grow_1_2_5_10_30_then_stay_at_30_and_a_crash_loop_is_reported_every_time(world):
    clock, procs, sup, reported = world
    procs.on_start["actions"] = ["dies"] * 8
    procs.crash("actions", 1)
    run_for(clock, sup, 150)
    failures = [e for e in reported if e.kind is EventKind.DIED]
    assert [e.pause_s for e in failures] == [1, 2, 5, 10, 30, 30, 30, 30, 30]
    assert [e.failures for e in failures] == list(range(1, 10))
    starts = [t for t, n in procs.starts]
    # each start comes its pause after the failure (found within one tick of 0.5 s)
    gaps = [round(b - a, 1) for a, b in zip([e.at for e in failures][:len(starts)], starts, strict=True)]
    assert gaps == [1, 2, 5, 10, 30, 30, 30, 30]
    loops = [e for e in reported if e.kind is EventKind.CRASH_LOOP]
    assert [e.failures for e in loops] == [5, 6, 7, 8, 9], "from the 5th failure in a row, every failure"
    assert "every 30 s" in loops[0].message and "a person should read /var/log/yinling/actions.log" in loops[0].message
    assert sup.status()["actions"].crash_looping and sup.status()["actions"].phase is Phase.DOWN
    assert "exit code 1" in failures[0].message and "died while starting" in failures[1].message

    procs.on_start["actions"] = []  # fixed: the next start stays up
    run_for(clock, sup, 40)
    assert kinds(reported)[-1] is EventKind.HEALTHY
    assert sup.status()["actions"].phase is Phase.UP
    assert not [n for _, n in procs.starts if n != "actions"], "the others were never touched"


def test_the_backoff_starts_again_after_a_steady_minute_but_not_before(world):
    clock, procs, sup, reported = world
    procs.crash("gateway")
    run_for(clock, sup, 10)  # first failure: 1 s, up again
    procs.crash("gateway")
    run_for(clock, sup, 20)  # second in a row: 2 s; up 10 s before the next is not steady
    assert [e.pause_s for e in reported if e.kind is EventKind.DIED] == [1, 2]
    procs.crash("gateway")
    sup.tick()
    assert reported[-1].pause_s == 5, "up less than a minute: the count goes on"
    run_for(clock, sup, 70)
    steady = [e for e in reported if e.kind is EventKind.STEADY]
    assert len(steady) == 1 and "1.0 s again" in steady[0].message
    assert sup.status()["gateway"].failures == 0
    procs.crash("gateway")
    sup.tick()
    assert reported[-1].kind is EventKind.DIED and reported[-1].pause_s == 1 and reported[-1].failures == 1


def test_a_process_that_never_answers_is_killed_after_its_start_timeout_and_tried_again(world):
    clock, procs, sup, reported = world
    procs.on_start["rasa"] = ["hangs"]
    procs.crash("rasa")
    run_for(clock, sup, 1 + 121)
    timeout = next(e for e in reported if e.kind is EventKind.START_TIMEOUT)
    assert procs.kills == ["rasa"] and timeout.failures == 2 and timeout.pause_s == 2
    assert "did not answer its health check within 2 min 0 s" in timeout.message
    run_for(clock, sup, 6)
    assert kinds(reported, "rasa")[-1] is EventKind.HEALTHY
    assert [n for _, n in procs.starts] == ["rasa", "rasa"]


def test_a_process_that_cannot_even_be_started_is_retried_like_a_crash(world):
    clock, procs, sup, reported = world
    procs.on_start["rasa"] = ["refuses", "refuses"]
    procs.crash("rasa", -signal.SIGSEGV)
    run_for(clock, sup, 12)
    assert "killed by SIGSEGV (signal 11)" in reported[0].message
    refused = [e for e in reported if e.kind is EventKind.START_FAILED]
    assert len(refused) == 2 and "FileNotFoundError: no such program" in refused[0].message
    assert [e.pause_s for e in refused] == [2, 5]
    assert kinds(reported, "rasa")[-1] is EventKind.HEALTHY


def test_a_failing_report_does_not_stop_the_restarts(world):
    clock, procs, _, _ = world

    def broken(event):
        raise BrokenPipeError("the terminal is gone")

    sup = Supervisor(procs, NAMES, clock=clock, report=broken)
    procs.crash("actions")
    run_for(clock, sup, 5)
    assert kinds(sup.events()) == [EventKind.DIED, EventKind.RESTARTING, EventKind.HEALTHY]


def test_a_process_stopped_by_someone_else_counts_as_gone(world):
    clock, procs, sup, reported = world
    del procs.procs["actions"]

    def restart(name):  # KeyError is what Stack.exit_status raises for a process it forgot
        procs._new(name)
        procs.starts.append((clock(), name))

    procs.start_process = restart
    run_for(clock, sup, 2)
    assert "gone, no exit status" in reported[0].message
    assert kinds(reported) == [EventKind.DIED, EventKind.RESTARTING, EventKind.HEALTHY]


def test_run_stops_when_asked_from_another_thread_and_when_until_says_so(world):
    clock, procs, sup, _ = world
    thread = threading.Thread(target=sup.run, kwargs={"interval_s": 0.01})
    thread.start()
    procs.crash("gateway")
    sup.wait_for(EventKind.DIED, "gateway", timeout_s=5)
    clock.now += 2
    first = sup.wait_for(EventKind.RESTARTING, "gateway", timeout_s=5)
    assert first.name == "gateway"
    with pytest.raises(TimeoutError, match="no died event for rasa"):
        sup.wait_for(EventKind.DIED, "rasa", timeout_s=0.05)
    sup.stop()
    thread.join(2)
    assert not thread.is_alive()

    calls = []
    Supervisor(procs, NAMES, clock=clock).run(until=lambda: calls.append(1) or len(calls) > 3, interval_s=0)
    assert len(calls) == 4


def test_exit_statuses_read_as_a_person_would_say_them():
    assert str(ExitStatus(0)) == "exit code 0"
    assert str(ExitStatus(2)) == "exit code 2"
    assert str(ExitStatus(-9)) == "killed by SIGKILL (signal 9)"
    assert str(ExitStatus(-15)) == "killed by SIGTERM (signal 15)"
    assert ExitStatus(-6).signal is signal.SIGABRT and ExitStatus(1).signal is None
    assert str(ExitStatus(-200)) == "killed by signal 200"
    assert [duration(s) for s in (0.44, 12.4, 185, 7300)] == ["0.4 s", "12 s", "3 min 5 s", "2 h 1 min"]


def test_backoff_checks_its_pauses():
    assert Backoff().pauses_s == (1, 2, 5, 10, 30) and Backoff().reset_after_s == 60
    assert [Backoff().pause_s(n) for n in (1, 2, 3, 4, 5, 6, 100)] == [1, 2, 5, 10, 30, 30, 30]
    for bad in ((), (5, 1), (-1, 2)):
        with pytest.raises(ValueError):
            Backoff(pauses_s=bad)


def test_the_log_goes_to_stderr_and_to_supervisor_log(tmp_path, capsys, world):
    clock, procs, _, _ = world
    path = supervisor_logger(tmp_path / "log")
    try:
        sup = Supervisor(procs, NAMES, clock=clock)  # the default report: the yinling.supervisor logger
        procs.on_start["actions"] = ["dies"] * 5
        procs.crash("actions", -signal.SIGKILL)
        run_for(clock, sup, 60)
    finally:
        for handler in list(logging.getLogger("yinling.supervisor").handlers):
            logging.getLogger("yinling.supervisor").removeHandler(handler)
            handler.close()
    written = path.read_text()
    err = capsys.readouterr().err
    for text in (written, err):
        assert "actions (pid 101) died: killed by SIGKILL (signal 9)" in text
        assert "actions restarted (pid" in text and "actions keeps failing: 5 times in a row" in text
    assert "ERROR actions (pid 101) died" in written and "CRITICAL actions keeps failing" in written
    assert time.strftime("%Y-%m-%d") in written and "yinling run: actions" in err
