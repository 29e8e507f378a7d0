"""Start and stop the whole assistant: Rasa, the action server and the gateway.

Used by `yinling run` (and so `make run`) and by the end-to-end tests, so the
tests exercise exactly what a person starts.
"""
from __future__ import annotations

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


def _own_group_dying_with_parent() -> None:
    """In the child: its own process group (so we can stop it with its children),
    and SIGTERM when the runner dies, even by SIGKILL, so nothing is orphaned."""
    os.setsid()
    try:
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    except OSError:  # not Linux: stop() still cleans up on a normal exit
        pass


PR_SET_PDEATHSIG = 1


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


@dataclass
class Process:
    name: str
    popen: subprocess.Popen
    log: Path


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
    def _spawn(self, name: str, argv: list[str], cwd: Path, env: dict[str, str]) -> None:
        self.config.log_dir.mkdir(parents=True, exist_ok=True)
        log = self.config.log_dir / f"{name}.log"
        out = open(log, "ab")
        popen = subprocess.Popen(argv, cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT,
                                 preexec_fn=_own_group_dying_with_parent)
        self.processes[name] = Process(name, popen, log)

    def start_actions(self) -> None:
        self._spawn(
            "actions",
            [str(APP_PYTHON), "-m", "actions.server", "--host", self.config.host,
             "--port", str(self.config.actions_port)],
            ROOT, self._env(),
        )

    def start_rasa(self) -> None:
        self._endpoints_file = self._write_endpoints()
        self._spawn(
            "rasa",
            [str(RASA_PYTHON), "-m", "rasa_ext.serve", "run", "--enable-api",
             "-i", self.config.host, "-p", str(self.config.rasa_port),
             "--model", str(self.config.model),
             "--endpoints", str(self._endpoints_file), "--credentials", "credentials.yml"],
            BOT, self._env(),
        )

    def start_gateway(self) -> None:
        self._spawn(
            "gateway",
            [str(APP_PYTHON), "-m", "uvicorn", "yinling.serve:create_app", "--factory",
             "--host", self.config.host, "--port", str(self.config.gateway_port), "--log-level", "warning"],
            ROOT, self._env(),
        )

    def start(self) -> None:
        self.start_actions()
        self.start_rasa()
        self.start_gateway()
        self.wait_ready()

    def wait_ready(self) -> None:
        deadline = time.monotonic() + self.config.start_timeout_s
        checks = {
            "actions": f"{self.config.actions_url}/health",
            "rasa": f"{self.config.rasa_url}/status",
            "gateway": f"{self.config.gateway_url}/api/health",
        }
        pending = {k: v for k, v in checks.items() if k in self.processes}
        while pending:
            for name, url in list(pending.items()):
                proc = self.processes[name]
                if proc.popen.poll() is not None:
                    raise StackError(f"{name} exited with {proc.popen.returncode}; see {proc.log}")
                try:
                    ok = httpx.get(url, timeout=2).status_code == 200
                except httpx.HTTPError:
                    ok = False
                if ok and name == "rasa":
                    ok = self._rasa_model_loaded()
                if ok:
                    pending.pop(name)
            if pending and time.monotonic() > deadline:
                raise StackError(f"not ready after {self.config.start_timeout_s:.0f} s: {sorted(pending)}")
            time.sleep(0.5)
        self._warm_up()

    def _rasa_model_loaded(self) -> bool:
        try:
            status = httpx.get(f"{self.config.rasa_url}/status", timeout=2).json()
        except (httpx.HTTPError, ValueError):
            return False
        return bool(status.get("model_file"))

    def _warm_up(self) -> None:
        """One parse so no elder pays for first-use costs inside Rasa."""
        if "rasa" in self.processes:
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
