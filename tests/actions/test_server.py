"""The action server as a process: a port it cannot listen on is a failure (non-zero exit, a clear line),
not the clean exit Sanic makes of it, so that `yinling run`'s supervisor and systemd see it failed."""
from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_a_port_in_use_is_an_error_exit_with_the_reason():
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        done = subprocess.run([sys.executable, "-m", "actions.server", "--host", "127.0.0.1", "--port", str(port)],
                              cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 1, done.stderr[-2000:]
    assert f"cannot listen on 127.0.0.1:{port}" in done.stderr and "in use" in done.stderr
