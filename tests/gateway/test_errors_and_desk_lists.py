"""Errors over HTTP come from one table (gateway.errors), and the desk's lists of handoffs and call records
answer the service key as the old /api/handoffs and /api/calls did: the real gateway app on a seeded SQLite
database (Rasa not running: nothing here reaches it)."""
from __future__ import annotations

import inspect

import pytest
from fastapi.testclient import TestClient

import services.errors
from assistant.rasa_client import ConversationBusy, RasaUnavailable
from assistant.turn import BadMessage
from common.errors import YinlingError
from common.service_key import auth_header
from gateway.app import create_app
from gateway.errors import ERROR_STATUS
from services.errors import ServiceError
from services.seed_data import DEMO_PASSWORD
from services.types import HandoffRequest
from tests.gateway.offline import offline_settings, seeded_services

NUMBER = "13835410003"


@pytest.fixture(scope="module")
def gateway(tmp_path_factory):
    with seeded_services(tmp_path_factory.mktemp("errors"), cheap_hashes=True) as services:
        with TestClient(create_app(offline_settings(), services)) as client:
            yield client, services


def staff(client: TestClient) -> dict:
    r = client.post("/api/auth/login", json={"username": "op.li", "password": DEMO_PASSWORD})
    assert r.status_code == 200, r.text
    client.cookies.clear()
    return {"Authorization": f"Bearer {r.json()['token']}"}


def status_of_kind(kind: type[YinlingError]) -> int | None:
    return next((status for k, status in ERROR_STATUS if issubclass(kind, k)), None)


def test_every_error_the_gateway_can_meet_has_a_status_and_subclasses_come_first():
    kinds = [c for _, c in inspect.getmembers(services.errors, inspect.isclass) if issubclass(c, ServiceError)]
    kinds += [BadMessage, RasaUnavailable, ConversationBusy]
    assert all(status_of_kind(kind) is not None for kind in kinds)
    for i, (kind, _) in enumerate(ERROR_STATUS):  # a kind listed after its base would never be reached
        assert not any(issubclass(kind, base) for base, _ in ERROR_STATUS[:i]), kind
    assert status_of_kind(BadMessage) == 422 and status_of_kind(ConversationBusy) == 503


def test_a_message_the_turn_refuses_is_a_422_with_its_code(gateway):
    client, _ = gateway
    r = client.post("/api/chat", json={"sender": "r-0001", "message": "饭" * 600}, headers=auth_header())
    assert r.status_code == 422
    assert r.json()["code"] == "bad_message" and r.json()["detail"]


def test_a_domain_error_keeps_its_status_and_code(gateway):
    client, _ = gateway
    r = client.get("/api/desk/calls/2147483647", headers=staff(client))
    assert r.status_code == 404 and r.json()["code"] and r.json()["detail"]


def test_call_records_are_masked_for_the_service_key_and_whole_for_staff(gateway):
    client, services = gateway
    record = services.start_call("sip-errors-test", services.identify_caller(NUMBER))
    by_key = client.get("/api/desk/calls", params={"limit": 500}, headers=auth_header())
    by_staff = client.get("/api/desk/calls", params={"limit": 500}, headers=staff(client))
    assert by_key.status_code == by_staff.status_code == 200
    mine = [c for c in by_key.json() if c["id"] == record.id]
    assert mine and mine[0]["caller_number"] == "138****0003"
    assert [c["caller_number"] for c in by_staff.json() if c["id"] == record.id] == [NUMBER]
    one = client.get(f"/api/desk/calls/{record.id}", headers=auth_header())
    assert one.status_code == 200 and one.json()["caller_number"] == "138****0003"
    assert client.get(f"/api/desk/calls/{record.id}", headers=staff(client)).json()["caller_number"] == NUMBER


def test_the_service_key_lists_handoffs_but_cannot_act_on_them(gateway):
    client, services = gateway
    handoff = services.queue_handoff(HandoffRequest("r-0003", "web", "handoff_request",
                                                    ({"role": "elder", "text": "转人工"},), "r-0003"))
    r = client.get("/api/desk/handoffs", params={"status": "queued"}, headers=auth_header())
    assert r.status_code == 200 and handoff.id in [h["id"] for h in r.json()]
    assert client.post(f"/api/desk/handoffs/{handoff.id}/take", headers=auth_header()).status_code == 403
