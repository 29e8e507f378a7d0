"""The gateway app on its own, for tests about the door, the schema and the streams rather than the
answers: a seeded SQLite database, and Rasa and the action server on a closed port (a chat that gets
through gets the gateway's own apology-and-handoff answer)."""
from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date, datetime
from pathlib import Path

import pytest
import uvicorn
from fastapi import FastAPI

from gateway.settings import Settings
from services import passwords
from services.facade import Services


def free_port() -> int:
    """A loopback port nobody listens on: where Rasa is not running, or for a server to take."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def offline_settings() -> Settings:
    port = free_port()
    return Settings(rasa_url=f"http://127.0.0.1:{port}", actions_url=f"http://127.0.0.1:{port}",
                    rasa_timeout_s=2, voice_preload=False, satellites=False)


@contextmanager
def seeded_services(tmp: Path, *, cheap_hashes: bool,
                    clock: Callable[[], datetime] | None = None) -> Iterator[Services]:
    """The seeded demo database under `tmp`, its outbox beside it and no phone line. `cheap_hashes`:
    argon2 at test strength, for tests that sign in often but are not about passwords (the production
    cost is about 0.5 s a hash here, and seeding hashes every demo account's)."""
    previous = passwords.use_hasher(passwords.PasswordHasher(time_cost=1, memory_cost=2048, parallelism=1)) \
        if cheap_hashes else None
    try:
        with pytest.MonkeyPatch.context() as mp:
            mp.setenv("YINLING_OUTBOX", str(tmp / "outbox.jsonl"))
            mp.setenv("YINLING_SIP_PORT", "0")
            services = Services(f"sqlite:///{tmp / 'y.db'}", clock=clock)
            services.create_all_and_seed(date.today())
            try:
                yield services
            finally:
                services.close()
    finally:
        if previous is not None:
            passwords.use_hasher(previous)


@contextmanager
def served(app: FastAPI) -> Iterator[str]:
    """`app` served by a real uvicorn on a loopback port (its lifespan too), for clients that need a
    socket (browsers, streams); yields its base URL."""
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning",
                                           lifespan="on", timeout_graceful_shutdown=2))
    thread = threading.Thread(target=server.run, name="uvicorn", daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "the gateway did not start"
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(15)
