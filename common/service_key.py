"""The service key: what trusted clients (the terminal chat, speakers on the WebSocket, benches,
tests) show the gateway instead of a person's sign-in.

`YINLING_SERVICE_KEY` when set; otherwise a random key made once in `var/service.key` (mode 0600),
which the gateway and the tools of the same checkout both read. Anyone who can read that file can
talk as any resident, so it stays on the machine.
"""
from __future__ import annotations

import os
import secrets
import time
from pathlib import Path

from common.paths import var_dir

ENV = "YINLING_SERVICE_KEY"

def key_file() -> Path:
    return var_dir() / "service.key"


def service_key(path: Path | None = None) -> str:
    path = path or key_file()
    given = os.environ.get(ENV, "").strip()
    if given:
        return given
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        pass
    else:  # first start: exactly one process gets to write it (O_EXCL), the others read it
        with os.fdopen(fd, "w") as f:
            f.write(secrets.token_urlsafe(32))
    for _ in range(50):
        key = path.read_text().strip()
        if key:
            return key
        time.sleep(0.01)  # the writer is between open and write
    raise RuntimeError(f"{path} is empty; delete it and start again")


def auth_header(key: str | None = None) -> dict[str, str]:
    return {"Authorization": f"Bearer {key or service_key()}"}
