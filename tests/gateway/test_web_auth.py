"""Who may call what: every route of the gateway, for every kind of caller.

The real gateway app on a real SQLite database with the seeded demo accounts (argon2 hashes, real
sessions). Rasa is not running (a closed port): these tests are about the door, not the answer,
and a chat that gets through still gets its apology-and-handoff answer.
"""
from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from sqlalchemy import update

from common.service_key import auth_header
from gateway.app import create_app
from services.models import FamilyMember
from services.seed_data import DEMO_PASSWORD
from services.types import HandoffRequest
from tests.gateway.offline import offline_settings, seeded_services

PUBLIC = {("POST", "/api/auth/login"), ("POST", "/api/auth/reset"), ("GET", "/api/health")}
SUPERVISOR_ONLY = {("GET", "/api/desk/accounts")}
# the service key's doors: the text turn, and the lists benches and tests read (staff pass them too)
TRUSTED_ONLY = {("POST", "/api/chat"), ("GET", "/api/desk/handoffs"), ("GET", "/api/desk/calls"),
                ("GET", "/api/desk/calls/{call_id}"), ("GET", "/api/help-requests")}
OWN, OTHER = "r-0001", "r-0002"  # zhang.jianguo is r-0001's son; r-0002 is li.hongxia's mother
BODIES = {
    "/api/auth/login": {"username": "nobody", "password": "x"},
    "/api/auth/reset": {"username": "nobody", "code": "12345678", "new_password": "long-enough-1"},
    "/api/auth/password": {"old_password": "wrong-one", "new_password": "long-enough-1"},
    "/api/chat": {"sender": OWN, "message": "你好"},
    "/api/residents/{resident_id}/chat": {"message": "你好"},
    "/api/desk/help/{request_id}/resolve": {"note": "已处理"},
    "/api/desk/handoffs/{handoff_id}/reply": {"text": "您好"},
    "/api/desk/tickets/{ticket_id}/assign": {"assignee": "小王"},
    "/api/desk/tickets/{ticket_id}/update": {"status": "done", "note": "好了"},
}
PATH_VALUES = {"resident_id": OWN, "request_id": "1", "handoff_id": "1", "ticket_id": "1", "call_id": "1",
               "conversation_id": OWN, "canteen_id": "c-0001", "username": "li.hongxia"}


class Clock:
    def __init__(self) -> None:
        self.now = datetime.now(timezone.utc)

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def gateway(tmp_path):
    clock = Clock()
    with seeded_services(tmp_path, cheap_hashes=False, clock=clock) as services:  # real argon2: sign-in is tested
        app = create_app(offline_settings(), services)
        with TestClient(app) as client:
            yield app, client, services, clock


def routes(app) -> list[tuple[str, str]]:
    found = []
    for route in app.routes:
        if isinstance(route, APIRoute) and route.include_in_schema:
            found += [(m, route.path) for m in sorted(route.methods) if m != "HEAD"]
    return found


def call(client: TestClient, method: str, path: str, headers: dict | None = None):
    url = path
    for name, value in PATH_VALUES.items():
        url = url.replace("{" + name + "}", value)
    body = BODIES.get(path)
    if method == "GET" and path.endswith("/stream"):
        return None  # the stream is checked on its own below (it does not end)
    if path == "/api/auth/logout" and headers:
        return None  # it would end the session the rest of the loop uses; see the token tests
    return client.request(method, url, json=body if method != "GET" else None, headers=headers or {})


def sign_in(client: TestClient, username: str, password: str = DEMO_PASSWORD) -> dict:
    r = client.post("/api/auth/login", json={"username": username, "password": password})
    assert r.status_code == 200, r.text
    return r.json()


def bearer(login: dict) -> dict:
    return {"Authorization": f"Bearer {login['token']}"}


def test_every_route_is_covered_by_these_rules(gateway):
    app, *_ = gateway
    paths = {p for _, p in routes(app)}
    assert "/api/desk/help" in paths and "/api/residents/{resident_id}/chat" in paths
    for method, path in routes(app):
        assert (method, path) in PUBLIC or path.startswith(("/api/desk", "/api/residents", "/api/auth", "/api/me",
                                                            "/api/alerts")) \
            or (method, path) in TRUSTED_ONLY, f"{method} {path} has no rule in this test"


def test_anonymous_callers_can_only_sign_in_and_see_health(gateway):
    app, client, *_ = gateway
    for method, path in routes(app):
        r = call(client, method, path)
        if r is None:
            continue
        if (method, path) in PUBLIC:  # open doors: whatever they answer, it is not "sign in first"
            assert r.status_code < 500 and r.json().get("detail") != "请先登录", (method, path)
        else:
            assert r.status_code == 401, (method, path, r.status_code, r.text)
    assert client.get("/api/alerts/stream").status_code == 401


def test_a_family_member_reaches_their_own_residents_and_nothing_else(gateway):
    app, client, *_ = gateway
    login = sign_in(client, "zhang.jianguo")
    headers = bearer(login)
    linked = {r["resident_id"] for r in login["account"]["residents"] if r["consent"]}
    assert OWN in linked and OTHER not in linked
    for method, path in routes(app):
        r = call(client, method, path, headers)
        if r is None or (method, path) in PUBLIC:
            continue
        if path.startswith("/api/desk") or (method, path) in TRUSTED_ONLY:
            assert r.status_code == 403, (method, path, r.status_code, r.text)
        else:
            assert r.status_code not in (401, 403), (method, path, r.status_code, r.text)
    # another family's resident, on every resident route
    for method, path in routes(app):
        if path.startswith("/api/residents/"):
            url = path.replace("{resident_id}", OTHER)
            r = client.request(method, url, json=BODIES.get(path) if method != "GET" else None, headers=headers)
            assert r.status_code == 403, (method, url, r.text)
    # a resident who does not exist looks the same as someone else's: ids cannot be probed
    assert client.get("/api/residents/r-9999/overview", headers=headers).status_code == 403


def test_consent_withdrawn_closes_the_door_at_once(gateway):
    app, client, services, _ = gateway
    headers = bearer(sign_in(client, "zhang.jianguo"))
    assert client.get(f"/api/residents/{OWN}/overview", headers=headers).status_code == 200
    with services.engine.begin() as db:
        db.execute(update(FamilyMember).where(FamilyMember.id == "f-0001").values(consent=False))
    assert client.get(f"/api/residents/{OWN}/overview", headers=headers).status_code == 403
    assert client.post(f"/api/residents/{OWN}/chat", json={"message": "你好"}, headers=headers).status_code == 403


def test_operators_reach_every_resident_and_the_desk_but_not_supervisor_pages(gateway):
    app, client, *_ = gateway
    headers = bearer(sign_in(client, "op.li"))
    for method, path in routes(app):
        r = call(client, method, path, headers)
        if r is None or (method, path) in PUBLIC:
            continue
        if (method, path) in SUPERVISOR_ONLY:
            assert r.status_code == 403, (method, path)
        else:
            assert r.status_code not in (401, 403), (method, path, r.status_code, r.text)
    assert client.get(f"/api/residents/{OTHER}/overview", headers=headers).status_code == 200
    supervisor = bearer(sign_in(client, "sup.wang"))
    assert client.get("/api/desk/accounts", headers=supervisor).status_code == 200


def test_the_service_key_is_for_devices_not_for_pages(gateway):
    app, client, *_ = gateway
    headers = auth_header()
    for method, path in routes(app):
        r = call(client, method, path, headers)
        if r is None or (method, path) in PUBLIC:
            continue
        if (method, path) in TRUSTED_ONLY:
            assert r.status_code not in (401, 403), (method, path, r.text)
        else:
            assert r.status_code in (401, 403), (method, path, r.status_code)


def test_forged_tampered_and_signed_out_tokens_are_refused(gateway):
    app, client, *_ = gateway
    login = sign_in(client, "zhang.jianguo")
    client.cookies.clear()
    tampered = login["token"][:-1] + ("B" if login["token"].endswith("A") else "A")  # always a changed token
    for token in (uuid.uuid4().hex, tampered, "", "Bearer", login["csrf_token"]):
        r = client.get("/api/me", headers={"Authorization": f"Bearer {token}"})
        assert r.status_code == 401, token
    client.cookies.set("yl_session", tampered)
    assert client.get("/api/me").status_code == 401
    client.cookies.clear()
    assert client.get("/api/me", headers=bearer(login)).status_code == 200
    assert client.post("/api/auth/logout", headers=bearer(login)).status_code == 204
    assert client.get("/api/me", headers=bearer(login)).status_code == 401


def test_sessions_expire_when_idle_and_after_twelve_hours(gateway):
    app, client, services, clock = gateway
    login = sign_in(client, "li.hongxia")
    client.cookies.clear()
    clock.now += timedelta(minutes=20)
    assert client.get("/api/me", headers=bearer(login)).status_code == 200  # used: the idle limit slides on
    clock.now += timedelta(minutes=31)
    assert client.get("/api/me", headers=bearer(login)).status_code == 401
    login = sign_in(client, "li.hongxia")
    client.cookies.clear()
    for _ in range(26):  # busy all day, never idle for long
        clock.now += timedelta(minutes=29)
        r = client.get("/api/me", headers=bearer(login))
    assert r.status_code == 401, "no session lives past its absolute limit"


def test_cookie_sessions_need_the_csrf_token_on_every_change(gateway):
    app, client, *_ = gateway
    login = sign_in(client, "zhang.jianguo")  # the cookie is now set in this client
    assert client.get("/api/me").status_code == 200  # reading needs no token
    url = f"/api/residents/{OWN}/chat"
    assert client.post(url, json={"message": "你好"}).status_code == 403
    assert client.post(url, json={"message": "你好"}, headers={"X-CSRF-Token": "forged"}).status_code == 403
    other = sign_in(TestClient(app), "li.hongxia")  # someone else's valid token does not fit this session
    r = client.post(url, json={"message": "你好"}, headers={"X-CSRF-Token": other["csrf_token"]})
    assert r.status_code == 403
    r = client.post(url, json={"message": "你好"}, headers={"X-CSRF-Token": login["csrf_token"]})
    assert r.status_code == 200, r.text
    assert client.post("/api/auth/logout").status_code == 403, "even signing out needs the token"
    assert client.post("/api/auth/logout", headers={"X-CSRF-Token": login["csrf_token"]}).status_code == 204


def test_sign_in_is_rate_limited_and_says_when_to_try_again(gateway):
    app, client, *_ = gateway
    for _ in range(5):
        r = client.post("/api/auth/login", json={"username": "li.hongxia", "password": "not-her-password"})
        assert r.status_code == 401
    r = client.post("/api/auth/login", json={"username": "li.hongxia", "password": DEMO_PASSWORD})
    assert r.status_code == 429 and int(r.headers["Retry-After"]) > 0
    # wrong and unknown user names look the same from outside
    r = client.post("/api/auth/login", json={"username": "no.such.person", "password": "whatever-1"})
    assert r.status_code == 401


def test_an_operator_resets_a_family_password_with_a_one_time_code(gateway):
    app, client, *_ = gateway
    family = sign_in(client, "li.hongxia")
    client.cookies.clear()
    operator = bearer(sign_in(client, "op.li"))
    client.cookies.clear()
    code = client.post("/api/desk/accounts/li.hongxia/reset", headers=operator).json()["code"]
    assert client.get("/api/me", headers=bearer(family)).status_code == 401, "a reset ends the old sessions"
    body = {"username": "li.hongxia", "code": code, "new_password": "mother-is-89"}
    assert client.post("/api/auth/reset", json=body).status_code == 204
    assert client.post("/api/auth/reset", json=body).status_code == 401, "the code works once"
    sign_in(client, "li.hongxia", "mother-is-89")


def test_two_operators_cannot_take_the_same_conversation(gateway):
    app, client, services, _ = gateway
    handoff = services.queue_handoff(HandoffRequest(OWN, "web", "handoff_request",
                                                    ({"role": "elder", "text": "转人工"},), OWN))
    li, wang = bearer(sign_in(client, "op.li")), bearer(sign_in(client, "sup.wang"))
    client.cookies.clear()
    assert client.post(f"/api/desk/handoffs/{handoff.id}/take", headers=li).status_code == 200
    r = client.post(f"/api/desk/handoffs/{handoff.id}/take", headers=wang)
    assert r.status_code == 409
    assert client.post(f"/api/desk/handoffs/{handoff.id}/reply", json={"text": "我来"}, headers=li).status_code == 200


def test_the_voice_socket_is_shut_to_strangers_and_to_other_families(gateway):
    from starlette.websockets import WebSocketDisconnect

    app, client, *_ = gateway
    family = bearer(sign_in(client, "zhang.jianguo"))
    client.cookies.clear()
    for url, headers in ((f"/api/voice?resident={OWN}", {}),  # nobody signed in
                         (f"/api/voice?resident={OTHER}", family),  # another family's elder
                         ("/api/voice?device=spk-0001", family),  # a device is not a family member's to drive
                         (f"/api/voice?resident={OWN}", {"Authorization": "Bearer forged"})):
        with pytest.raises(WebSocketDisconnect) as refused:
            with client.websocket_connect(url, headers=headers) as ws:
                ws.receive_text()
        assert refused.value.code == 4401, url
