"""Placing real calls on the hotline from tests: a PJSIP softphone (phone.caller) in its own process,
and sipp (Debian's sip-tester, written by others) standing in for the operator's extension."""
from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Iterator

import httpx

from common.paths import ROOT


def sip_port(stack) -> int:
    return int(stack.config.extra_env["YINLING_SIP_PORT"])


def operator_port(stack) -> int:
    return int(stack.config.extra_env["YINLING_OPERATOR_URI"].rsplit(":", 1)[1])


def phone_status(stack) -> dict:
    return httpx.get(f"{stack.config.gateway_url}/api/health", timeout=10).json()["phone"]


def wait_line(stack, timeout_s: float = 60) -> dict:
    """The line starts after the gateway answers HTTP (it loads the voice first)."""
    deadline = time.monotonic() + timeout_s
    while True:
        status = phone_status(stack)
        if status and status["listening"]:
            return status
        assert time.monotonic() < deadline, f"the hotline did not start: {status}"
        time.sleep(0.5)


def wait_idle(stack, timeout_s: float = 20) -> dict:
    deadline = time.monotonic() + timeout_s
    while True:
        status = phone_status(stack)
        if status["active_calls"] == 0:
            return status
        assert time.monotonic() < deadline, f"calls still open: {status}"
        time.sleep(0.2)


def caller_argv(stack, number: str, steps: list[str], *, slot: int = 0, out: Path | None = None) -> list[str]:
    """`slot` keeps concurrent callers' ports apart."""
    base = sip_port(stack) - 8
    argv = [sys.executable, "-m", "phone.caller", f"sip:hotline@127.0.0.1:{sip_port(stack)}", "--from", number,
            "--port", str(base + slot % 5), "--rtp-port", str(30000 + (os.getpid() % 500) * 20 + slot * 4)]
    for step in steps:
        argv += ["--step", step]
    if out is not None:
        argv += ["--out", str(out)]
    return argv


def report_of(stdout: str, stderr: str = "", rc: int | None = None) -> dict:
    lines = [line for line in stdout.splitlines() if line.startswith("{")]
    assert lines, f"the caller printed no report (rc {rc}):\n{stdout[-2000:]}\n{stderr[-2000:]}"
    return json.loads(lines[-1])


def place_call(stack, number: str, steps: list[str], *, slot: int = 0, out: Path | None = None,
               timeout_s: float = 240) -> dict:
    """One call from `number`, start to end; returns the caller's JSON report."""
    result = subprocess.run(caller_argv(stack, number, steps, slot=slot, out=out), cwd=ROOT, capture_output=True,
                            text=True, timeout=timeout_s, env={**os.environ, "PYTHONPATH": str(ROOT)})
    return report_of(result.stdout, result.stderr, result.returncode)


def start_call(stack, number: str, steps: list[str], *, slot: int = 0) -> subprocess.Popen:
    """A call left running in the background (finish it with `proc.communicate()` and report_of)."""
    return subprocess.Popen(caller_argv(stack, number, steps, slot=slot), cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, text=True, env={**os.environ, "PYTHONPATH": str(ROOT)})


@contextlib.contextmanager
def sipp_operator(stack, tmp_path: Path) -> Iterator[Path]:
    """sipp's built-in UAS on the operator's URI: answers the transferred call; yields its message log."""
    assert shutil.which("sipp"), "sipp is needed for the phone tests: apt-get install sip-tester"
    log = tmp_path / "operator-messages.log"
    proc = subprocess.Popen(["sipp", "-sn", "uas", "-i", "127.0.0.1", "-p", str(operator_port(stack)),
                             "-trace_msg", "-message_file", str(log), "-nostdin"],
                            cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        time.sleep(0.5)
        yield log
    finally:
        proc.terminate()
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=5)
        if proc.poll() is None:
            proc.kill()
