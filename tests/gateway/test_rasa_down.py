"""The gateway when Rasa is down: apology, handoff queued, help still stored.

Real gateway code and a real SQLite database; Rasa is really unreachable (a
closed port on loopback), which is the situation under test, not a mock.
"""
from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from common.service_key import auth_header
from gateway.app import create_app
from tests.gateway.offline import offline_settings, seeded_services


@pytest.fixture
def client(tmp_path):
    with seeded_services(tmp_path, cheap_hashes=True) as services:
        with TestClient(create_app(offline_settings(), services), headers=auth_header()) as c:
            yield c, services


def test_rasa_down_apologises_and_queues_a_handoff(client):
    c, services = client
    r = c.post("/api/chat", json={"sender": "r-0002", "message": "我想订明天的午饭"})
    assert r.status_code == 200
    body = r.json()
    assert body["handed_off"] is True
    text = body["messages"][0]["text"]
    assert "转人工" in text and "Traceback" not in text
    handoff = services.open_handoff("r-0002")
    assert handoff.reason == "rasa_down"
    assert handoff.transcript[-1]["text"] == "我想订明天的午饭"


def test_rasa_down_help_request_is_still_stored(client):
    c, services = client
    r = c.post("/api/chat", json={"sender": "r-0003", "message": "救命，我喘不上气了"})
    body = r.json()
    assert body["help_request_id"] is not None
    assert any(h.resident_id == "r-0003" for h in services.open_help_requests())


def test_messages_after_handoff_are_kept_for_the_operator(client):
    c, services = client
    c.post("/api/chat", json={"sender": "r-0004", "message": "你好"})
    r = c.post("/api/chat", json={"sender": "r-0004", "message": "我明天想去卫生室"})
    assert r.json()["handed_off"] is True
    texts = [line["text"] for line in services.open_handoff("r-0004").transcript]
    assert "我明天想去卫生室" in texts


def test_health_reports_degraded(client):
    c, _ = client
    body = c.get("/api/health").json()
    assert {k: body[k] for k in ("status", "rasa", "actions", "database")} == {
        "status": "degraded", "rasa": False, "actions": False, "database": True}
    assert set(body["voice"]) == {"ready", "language", "note", "satellites"}
