"""The desk's care list and complaint list over HTTP: the real gateway app on a seeded SQLite database,
signed in with the demo accounts (Rasa not running: these routes do not need it)."""
from __future__ import annotations

import uuid

import pytest
from fastapi.testclient import TestClient

from gateway.app import create_app
from services.seed_data import DEMO_PASSWORD
from tests.gateway.offline import offline_settings, seeded_services


@pytest.fixture(scope="module")
def desk(tmp_path_factory):
    with seeded_services(tmp_path_factory.mktemp("care-desk"), cheap_hashes=True) as services:
        app = create_app(offline_settings(), services)
        with TestClient(app) as client:
            yield client, services


def headers(client: TestClient, username: str) -> dict:
    r = client.post("/api/auth/login", json={"username": username, "password": DEMO_PASSWORD})
    assert r.status_code == 200, r.text
    client.cookies.clear()
    return {"Authorization": f"Bearer {r.json()['token']}"}


def key() -> str:
    return uuid.uuid4().hex


def test_the_care_list_shows_who_said_what_how_often_and_when(desk):
    client, services = desk
    services.record_loneliness("r-0002", "闷得慌", text="家里就我一个人，闷得慌", source="speaker", idempotency_key=key())
    services.record_loneliness("r-0002", "孩子们都不来看我", text="孩子们都不来看我", cue_kind="family_away",
                               source="phone", idempotency_key=key())
    services.record_loneliness("r-0009", "孤单", source="speaker", idempotency_key=key())  # once, not alone: not listed
    r = client.get("/api/desk/care-signals", headers=headers(client, "op.li"))
    assert r.status_code == 200, r.text
    rows = {row["resident_id"]: row for row in r.json()}
    assert "r-0009" not in rows
    row = rows["r-0002"]
    assert (row["resident_name"], row["times"], row["reason"], row["lives_alone"]) == ("李福生", 2, "repeated", False)
    assert [s["text"] for s in row["recent"]] == ["孩子们都不来看我", "家里就我一个人，闷得慌"]
    assert row["phone"] == "13935420002" and row["last_at"] >= row["first_at"]


def test_loneliness_raises_no_alert_and_no_help_request(desk):
    client, services = desk
    op = headers(client, "op.li")
    help_before = client.get("/api/desk/help", headers=op).json()
    services.record_loneliness("r-0018", "没人说话", source="speaker", idempotency_key=key())
    assert client.get("/api/desk/help", headers=op).json() == help_before
    assert [n for n in services.pending_notifications() if n.resident_id == "r-0018"] == []
    assert any(row["resident_id"] == "r-0018" and row["reason"] == "lives_alone"
               for row in client.get("/api/desk/care-signals", headers=op).json())


def test_the_complaints_that_alerted(desk):
    client, services = desk
    alerted = services.record_symptom("r-0001", "swelling", "两条腿肿了", text="两条腿肿了好几天了", body_part="腿",
                                      days=3, source="speaker", idempotency_key=key())
    quiet = services.record_symptom("r-0001", "sleep", "睡不着觉", source="speaker", idempotency_key=key())
    op = headers(client, "op.li")
    rows = client.get("/api/desk/observations", headers=op).json()
    assert [row["id"] for row in rows if row["resident_id"] == "r-0001"] == [alerted.id]
    row = rows[0]
    assert (row["resident_name"], row["kind"], row["alert_reason"]) == ("王桂兰", "swelling", "swelling_days")
    assert row["notified"] == ["儿子张建国", "值班话务员"]
    every = client.get("/api/desk/observations?alerted_only=false", headers=op).json()
    assert {alerted.id, quiet.id} <= {row["id"] for row in every}


@pytest.mark.parametrize("path", ["/api/desk/care-signals", "/api/desk/observations"])
def test_only_the_desk(desk, path):
    client, _ = desk
    assert client.get(path).status_code == 401
    assert client.get(path, headers=headers(client, "zhang.jianguo")).status_code == 403
    assert client.get(path, headers=headers(client, "sup.wang")).status_code == 200
    assert client.get(f"{path}?days=0", headers=headers(client, "op.li")).status_code == 422


def test_the_console_page_has_the_care_panel(desk):
    """The browser check itself is in tests/e2e/test_web_pages.py's stack; here only that the page the gateway
    serves carries the panel and that its script asks the two routes."""
    client, _ = desk
    page = client.get("/console")
    assert page.status_code == 200
    for testid in ("care-signals", "observations", "care-count"):
        assert f'data-testid="{testid}"' in page.text
    script = client.get("/static/console.js").text
    assert "/api/desk/care-signals" in script and "/api/desk/observations" in script
