"""Start and stop the whole assistant: Rasa, the action server and the gateway.

Used by `yinling run` (and so `make run`) and by the end-to-end tests, so the
tests exercise exactly what a person starts. Each process's command is one
`Command` (`Stack.command`), which the systemd units in deploy/systemd repeat
(tests/yinling/test_systemd_units.py keeps the two the same). Keeping crashed
processes running is yinling.supervisor's work: it uses the per-process
primitives here (start_process, exit_status, ready, warm_up, kill).
"""
from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from common.errors import YinlingError
from common.paths import APP_PYTHON, BOT, MODELS, RASA_PYTHON, ROOT, var_dir


class StackError(YinlingError, RuntimeError):
    """A part of the assistant would not start or stopped."""

    code = "stack_failed"


PR_SET_PDEATHSIG = 1
PROCESS_NAMES = ("actions", "rasa", "gateway")  # the order they start in

try:  # loaded here, not in the child: a dlopen between fork and exec can deadlock when threads run
    _LIBC = ctypes.CDLL("libc.so.6", use_errno=True)
except OSError:  # not Linux: stop() still cleans up on a normal exit
    _LIBC = None


def _dying_with_parent() -> None:
    """In the child (which start_new_session already put in its own process group, so we can stop
    it with its children): SIGTERM when the runner dies, even by SIGKILL, so nothing is orphaned.
    Linux sends it when the *thread* that started the child ends: whoever restarts processes must
    do it from a thread that lives as long as the stack (yinling run: the main thread)."""
    if _LIBC is not None:
        _LIBC.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


@dataclass(frozen=True)
class StackConfig:
    host: str = "127.0.0.1"
    rasa_port: int = 5005
    actions_port: int = 5055
    gateway_port: int = 8000
    database_url: str | None = None  # None: services' default SQLite file
    model: Path = MODELS / "yinling.tar.gz"
    log_dir: Path = field(default_factory=lambda: var_dir("log", create=False))
    extra_env: dict[str, str] = field(default_factory=dict)
    start_timeout_s: float = 180.0

    @property
    def gateway_url(self) -> str:
        return f"http://{self.host}:{self.gateway_port}"

    @property
    def rasa_url(self) -> str:
        return f"http://{self.host}:{self.rasa_port}"

    @property
    def actions_url(self) -> str:
        return f"http://{self.host}:{self.actions_port}"


@dataclass(frozen=True)
class Command:
    """How one process of the stack is started: the program and its arguments, and where."""

    name: str
    argv: tuple[str, ...]
    cwd: Path


@dataclass
class Process:
    name: str
    popen: subprocess.Popen
    log: Path
    started_at: float = field(default_factory=time.monotonic)


class Stack:
    def __init__(self, config: StackConfig) -> None:
        self.config = config
        self.processes: dict[str, Process] = {}
        self._endpoints_file: Path | None = None

    # -- environment -------------------------------------------------------
    def _env(self) -> dict[str, str]:
        env = dict(os.environ)
        env.update(
            {
                "PYTHONPATH": str(ROOT),
                "YINLING_RASA_URL": self.config.rasa_url,
                "YINLING_ACTIONS_URL": self.config.actions_url,
                "SANIC_HOST": self.config.host,
                "PYTHONUNBUFFERED": "1",
                # a crash in native code (PJSIP, Vosk, espeak) leaves the Python stacks in the log
                "PYTHONFAULTHANDLER": "1",
            }
        )
        if self.config.database_url:
            env["YINLING_DATABASE_URL"] = self.config.database_url
        env.update(self.config.extra_env)
        return env

    def _write_endpoints(self) -> Path:
        handle = tempfile.NamedTemporaryFile("w", suffix=".yml", prefix="endpoints-", delete=False)
        with handle:
            handle.write(
                "action_endpoint:\n"
                f"  url: \"{self.config.actions_url}/webhook\"\n"
                "  enable_selective_domain: true\n"
            )
        return Path(handle.name)

    # -- processes ---------------------------------------------------------
    def command(self, name: str) -> Command:
        """The command of `actions`, `rasa` or `gateway` for this configuration."""
        c = self.config
        if name == "actions":
            return Command(name, (str(APP_PYTHON), "-m", "actions.server", "--host", c.host,
                                  "--port", str(c.actions_port)), ROOT)
        if name == "rasa":
            if self._endpoints_file is None or not self._endpoints_file.exists():
                self._endpoints_file = self._write_endpoints()
            return Command(name, (str(RASA_PYTHON), "-m", "rasa_ext.serve", "run", "--enable-api",
                                  "-i", c.host, "-p", str(c.rasa_port), "--model", str(c.model),
                                  "--endpoints", str(self._endpoints_file), "--credentials", "credentials.yml"),
                           BOT)
        if name == "gateway":
            return Command(name, (str(APP_PYTHON), "-m", "uvicorn", "yinling.serve:create_app", "--factory",
                                  "--host", c.host, "--port", str(c.gateway_port), "--log-level", "warning"), ROOT)
        raise KeyError(f"no process called {name!r}; the stack has {', '.join(PROCESS_NAMES)}")

    def _spawn(self, command: Command) -> None:
        self.config.log_dir.mkdir(parents=True, exist_ok=True)
        log = self.config.log_dir / f"{command.name}.log"
        with open(log, "ab") as out:  # the child has its own copy of the descriptor
            out.write(f"--- {time.strftime('%Y-%m-%d %H:%M:%S')} starting {command.name}\n".encode())
            out.flush()
            popen = subprocess.Popen(command.argv, cwd=command.cwd, env=self._env(), stdout=out,
                                     stderr=subprocess.STDOUT, start_new_session=True,
                                     preexec_fn=_dying_with_parent)
        self.processes[command.name] = Process(command.name, popen, log)

    def start_process(self, name: str) -> None:
        """Starts one process (again, after it died: the old one must have exited)."""
        old = self.processes.get(name)
        if old is not None:
            if old.popen.poll() is None:
                raise StackError(f"{name} is still running (pid {old.popen.pid})")
            # what the dead process started and left behind (its group outlives it): not two of anything
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(old.popen.pid, signal.SIGKILL)
        self._spawn(self.command(name))

    def start_actions(self) -> None:
        self.start_process("actions")

    def start_rasa(self) -> None:
        self.start_process("rasa")

    def start_gateway(self) -> None:
        self.start_process("gateway")

    def start(self) -> None:
        self.start_actions()
        self.start_rasa()
        self.start_gateway()
        self.wait_ready()

    def health_url(self, name: str) -> str:
        return {"actions": f"{self.config.actions_url}/health",
                "rasa": f"{self.config.rasa_url}/status",
                "gateway": f"{self.config.gateway_url}/api/health"}[name]

    def ready(self, name: str) -> bool:
        """One look: does `name` answer its health check (Rasa: with its model loaded)?"""
        try:
            response = httpx.get(self.health_url(name), timeout=2)
            if response.status_code != 200:
                return False
            return bool(response.json().get("model_file")) if name == "rasa" else True
        except (httpx.HTTPError, ValueError):
            return False

    def exit_status(self, name: str) -> int | None:
        """None while `name` runs; its return code once it exited (negative: killed by that signal).
        KeyError for a process this stack never started or has stopped."""
        return self.processes[name].popen.poll()

    def pid(self, name: str) -> int:
        return self.processes[name].popen.pid

    def started_at(self, name: str) -> float:
        """When `name` was started (time.monotonic)."""
        return self.processes[name].started_at

    def log_path(self, name: str) -> Path:
        return self.config.log_dir / f"{name}.log"

    def kill(self, name: str) -> None:
        """SIGKILL to `name` and its children (a process that will not come up)."""
        self.stop(name, kill=True)

    def wait_ready(self) -> None:
        deadline = time.monotonic() + self.config.start_timeout_s
        pending = [name for name in PROCESS_NAMES if name in self.processes]
        while pending:
            for name in list(pending):
                proc = self.processes[name]
                if proc.popen.poll() is not None:
                    raise StackError(f"{name} exited with {proc.popen.returncode}; see {proc.log}")
                if self.ready(name):
                    pending.remove(name)
            if pending and time.monotonic() > deadline:
                raise StackError(f"not ready after {self.config.start_timeout_s:.0f} s: {sorted(pending)}")
            time.sleep(0.5)
        self.warm_up("rasa")

    def warm_up(self, name: str) -> None:
        """One parse so no elder pays for first-use costs inside Rasa (jieba's dictionary: ~1.7 s)."""
        if name == "rasa" and "rasa" in self.processes:
            httpx.post(f"{self.config.rasa_url}/model/parse", json={"text": "你好"}, timeout=30)

    def died(self) -> dict[str, str]:
        """Processes that exited on their own, with the end of their logs: what a crash left."""
        return {name: f"exit {proc.popen.returncode}:\n{proc.log.read_text(errors='replace')[-6000:]}"
                for name, proc in self.processes.items() if proc.popen.poll() is not None}

    def stop(self, name: str | None = None, kill: bool = False) -> None:
        names = [name] if name else list(self.processes)
        for n in names:
            proc = self.processes.get(n)
            if proc and proc.popen.poll() is None:
                os.killpg(proc.popen.pid, signal.SIGKILL if kill else signal.SIGTERM)
        for n in names:
            proc = self.processes.pop(n, None)
            if proc is None:
                continue
            try:
                proc.popen.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.popen.pid, signal.SIGKILL)
                proc.popen.wait(timeout=10)
        if not self.processes and self._endpoints_file:
            self._endpoints_file.unlink(missing_ok=True)
            self._endpoints_file = None

    def __enter__(self) -> "Stack":
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()
