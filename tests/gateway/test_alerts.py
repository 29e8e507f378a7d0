"""Live alerts (gateway.alerts, GET /api/alerts/stream) for real: the gateway app served by uvicorn on a
loopback port in a thread, the streams read over real sockets with httpx, and everything raised through
the services on the same SQLite database, as the action server and the phone line do from their own
processes. Rasa is not running (a closed port): nothing here needs the bot.

Below, the hub's routing on its own: who gets which alert, and what happens to a subscriber that falls
behind.
"""
from __future__ import annotations

import asyncio
import json
import socket
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Callable, Optional

import httpx
import pytest
from sqlalchemy import insert, update

from gateway.alerts import QUEUE_LIMIT, Alert, AlertHub
from gateway.app import create_app
from services.facade import Services
from services.models import ConversationTurn, FamilyMember
from services.types import HandoffRequest
from tests.gateway.offline import offline_settings, seeded_services, served

OWN, OTHER = "r-0001", "r-0002"  # zhang.jianguo's mother; li.hongxia's mother
DELIVERY_S = 1.0  # the promise: a family page hears of a call for help within a second


@dataclass
class Live:
    url: str
    services: Services
    tokens: dict[str, str]

    def headers(self, username: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[username]}"}


@pytest.fixture(scope="module")
def live(tmp_path_factory):
    # cheap hashing: nothing here is about passwords
    with seeded_services(tmp_path_factory.mktemp("alerts"), cheap_hashes=True) as services:
        ids = {a.username: a.id for a in services.accounts()}
        tokens = {name: services.start_web_session(ids[name], "127.0.0.1", "pytest")[0]
                  for name in ("zhang.jianguo", "li.hongxia", "op.li", "sup.wang")}
        with served(create_app(offline_settings(), services)) as url:
            yield Live(url, services, tokens)


@dataclass(frozen=True)
class Event:
    kind: str
    data: Any
    at: float  # time.monotonic() when it arrived


class Stream:
    """One open alert stream, read by a task: every event, with the moment it arrived."""

    def __init__(self, client: httpx.AsyncClient, headers: dict[str, str]) -> None:
        self._client = client
        self._headers = headers
        self.seen: list[Event] = []
        self._cursor = 0
        self._changed = asyncio.Event()
        self.ended = asyncio.Event()

    async def __aenter__(self) -> "Stream":
        self._context = self._client.stream("GET", "/api/alerts/stream", headers=self._headers)
        self.response = await self._context.__aenter__()
        assert self.response.status_code == 200, self.response.status_code
        assert self.response.headers["content-type"].startswith("text/event-stream")
        self._task = asyncio.create_task(self._read())
        self.ready = await self.next("ready", timeout=5)
        return self

    async def __aexit__(self, *exc) -> None:
        self._task.cancel()
        await asyncio.gather(self._task, return_exceptions=True)
        await self._context.__aexit__(None, None, None)

    async def _read(self) -> None:
        kind, data = "message", []
        try:
            async for line in self.response.aiter_lines():
                if not line:  # a blank line ends an event
                    if data:
                        self.seen.append(Event(kind, json.loads("\n".join(data)), time.monotonic()))
                        self._changed.set()
                    kind, data = "message", []
                elif line.startswith(":"):  # a comment: the keep-alive ping
                    continue
                else:
                    name, _, value = line.partition(":")
                    value = value[1:] if value.startswith(" ") else value
                    if name == "event":
                        kind = value
                    elif name == "data":
                        data.append(value)
        finally:
            self.ended.set()
            self._changed.set()

    async def next(self, kind: str, where: Callable[[Any], bool] = lambda d: True, timeout: float = 3.0) -> Event:
        """The next event of this kind that matches, waiting at most `timeout` seconds."""
        deadline = time.monotonic() + timeout
        while True:
            while self._cursor < len(self.seen):
                event = self.seen[self._cursor]
                self._cursor += 1
                if event.kind == kind and where(event.data):
                    return event
            left = deadline - time.monotonic()
            if left <= 0 or self.ended.is_set():
                raise AssertionError(f"no matching {kind!r} event within {timeout} s; the last ones: {self.seen[-3:]}")
            self._changed.clear()
            try:
                await asyncio.wait_for(self._changed.wait(), left)
            except asyncio.TimeoutError:
                pass

    def of(self, kind: str) -> list[Any]:
        return [e.data for e in self.seen if e.kind == kind]


def _client(live: Live) -> httpx.AsyncClient:
    return httpx.AsyncClient(base_url=live.url, timeout=httpx.Timeout(10.0, read=None))


async def _raise_help(live: Live, resident_id: str, text: str = "我摔倒了，起不来，快来人"):
    started = time.monotonic()
    view = await asyncio.to_thread(live.services.raise_help, resident_id, text, "text", uuid.uuid4().hex,
                                   resident_id)
    assert view.id is not None and not view.spooled
    return view, started


def _consenting(live: Live, username: str) -> set[str]:
    account = next(a for a in live.services.accounts() if a.username == username)
    return {r.resident_id for r in account.residents if r.consent}


# --- the real stream --------------------------------------------------------------------------------
@pytest.mark.asyncio
async def test_a_family_member_hears_of_their_residents_call_for_help_within_a_second_and_of_its_answer(live):
    async with _client(live) as client, \
            Stream(client, live.headers("zhang.jianguo")) as zhang, \
            Stream(client, live.headers("li.hongxia")) as li, \
            Stream(client, live.headers("op.li")) as operator:
        view, started = await _raise_help(live, OWN)
        event = await zhang.next("help", lambda d: d["id"] == view.id)
        assert event.at - started < DELIVERY_S, f"help reached the family page after {event.at - started:.2f} s"
        assert event.data["resident_id"] == OWN and event.data["status"] == "open"
        assert event.data["acknowledged_at"] is None and event.data["text"]
        assert "phone" not in event.data and "location" not in event.data, "the number and place are for the desk"
        desk = await operator.next("help", lambda d: d["id"] == view.id)
        assert desk.at - started < DELIVERY_S and "phone" in desk.data

        acked = time.monotonic()
        r = await client.post(f"/api/desk/help/{view.id}/ack", headers=live.headers("op.li"))
        assert r.status_code == 200, r.text
        event = await zhang.next("help", lambda d: d["id"] == view.id and d["status"] == "acknowledged")
        assert event.at - acked < DELIVERY_S, f"the acknowledgement took {event.at - acked:.2f} s"
        assert event.data["acknowledged_at"] is not None
        await operator.next("help", lambda d: d["id"] == view.id and d["status"] == "acknowledged")

        # another family's resident: her daughter and the desk hear of it, he does not
        other, started = await _raise_help(live, OTHER, "我胸口疼，喘不上气")
        assert (await li.next("help", lambda d: d["id"] == other.id)).at - started < DELIVERY_S
        await operator.next("help", lambda d: d["id"] == other.id)
        # a later event of his own resident: had the other one been routed to him, it would have come first
        await asyncio.to_thread(live.services.log_turn, OWN, OWN, "text", "elder", "今天中午吃啥")
        await zhang.next("turn", lambda d: d["text"] == "今天中午吃啥")
        await operator.next("turn", lambda d: d["text"] == "今天中午吃啥")
    mine, hers = _consenting(live, "zhang.jianguo"), _consenting(live, "li.hongxia")
    assert OWN in mine and OTHER not in mine and hers == {OTHER}
    assert all(e.data["resident_id"] in mine for e in zhang.seen if e.kind != "ready")
    assert all(e.data["resident_id"] in hers for e in li.seen if e.kind != "ready")
    assert not [h for h in li.of("help") if h["id"] == view.id]
    assert {h["resident_id"] for h in operator.of("help")} >= {OWN, OTHER}, "operators get every call for help"


@pytest.mark.asyncio
async def test_an_operators_reply_in_a_taken_conversation_reaches_the_family_page_as_a_turn(live):
    handoff = await asyncio.to_thread(live.services.queue_handoff, HandoffRequest(
        OWN, "web", "handoff_request", ({"role": "family", "text": "转人工"},), OWN))
    operator = live.headers("op.li")
    async with _client(live) as client, \
            Stream(client, live.headers("zhang.jianguo")) as zhang, \
            Stream(client, live.headers("li.hongxia")) as li, \
            Stream(client, live.headers("sup.wang")) as supervisor:
        r = await client.post(f"/api/desk/handoffs/{handoff.id}/take", headers=operator)
        assert r.status_code == 200, r.text
        taken = await zhang.next("turn", lambda d: d["conversation_id"] == OWN and d["role"] == "system")
        assert "接手" in taken.data["text"]
        sent = time.monotonic()
        r = await client.post(f"/api/desk/handoffs/{handoff.id}/reply", json={"text": "王奶奶您好，我是小李"},
                              headers=operator)
        assert r.status_code == 200, r.text
        reply = await zhang.next("turn", lambda d: d["role"] == "operator" and d["text"] == "王奶奶您好，我是小李")
        assert reply.at - sent < DELIVERY_S
        assert reply.data["resident_id"] == OWN and reply.data["actor"] == "operator:" + r.json()["handoff"]["taken_by"]
        assert reply.data["id"] == r.json()["turn"]["id"]
        await supervisor.next("turn", lambda d: d["id"] == reply.data["id"])
        # her daughter's page hears nothing of it (a turn of her own resident marks the point in time)
        await asyncio.to_thread(live.services.log_turn, OTHER, OTHER, "text", "elder", "礼拜三有啥活动")
        await li.next("turn", lambda d: d["resident_id"] == OTHER and d["text"] == "礼拜三有啥活动")
        assert all(t["resident_id"] == OTHER for t in li.of("turn"))


@pytest.mark.asyncio
async def test_a_withdrawn_consent_keeps_the_next_stream_quiet(live):
    with live.services.engine.begin() as db:
        db.execute(update(FamilyMember).where(FamilyMember.id == "f-0001").values(consent=False))
    try:
        async with _client(live) as client, Stream(client, live.headers("zhang.jianguo")) as zhang, \
                Stream(client, live.headers("op.li")) as operator:
            view, _ = await _raise_help(live, OWN)
            await operator.next("help", lambda d: d["id"] == view.id)
            # his other resident's turn marks the point in time
            (other,) = _consenting(live, "zhang.jianguo")
            await asyncio.to_thread(live.services.log_turn, other, other, "text", "elder", "你好")
            await zhang.next("turn", lambda d: d["resident_id"] == other)
            assert not [e for e in zhang.seen if e.kind != "ready" and e.data["resident_id"] == OWN]
    finally:
        with live.services.engine.begin() as db:
            db.execute(update(FamilyMember).where(FamilyMember.id == "f-0001").values(consent=True))


def _insert_turns(live: Live, conversation_id: str, count: int, text: str) -> None:
    """Many turns in one transaction, as a busy installation makes them (faster than log_turn one by one)."""
    now = datetime.now(timezone.utc)
    with live.services.engine.begin() as db:
        db.execute(insert(ConversationTurn), [
            {"conversation_id": conversation_id, "resident_id": OWN, "channel": "text", "role": "elder",
             "actor": None, "text": f"{i} {text}", "intent": None, "created_at": now} for i in range(count)])


async def _subscribers(client: httpx.AsyncClient, live: Live) -> int:
    """How many streams the hub feeds, this one not counted (its `ready` event tells). A stream closed a
    moment ago may still be counted, never the other way round."""
    async with Stream(client, live.headers("op.li")) as probe:
        return probe.ready.data["subscribers"] - 1


@pytest.mark.asyncio
async def test_a_page_that_stops_reading_is_dropped_and_the_others_go_on(live):
    """A page whose connection went dead (a phone in a lift) reads nothing more: the server's socket
    buffers fill, then its queue; at QUEUE_LIMIT it is dropped (the page reconnects and reloads) and
    nobody else notices."""
    conversation = f"flood-{uuid.uuid4().hex[:8]}"
    batch, text = 100, "长" * 1000  # about 3 kB an event
    async with _client(live) as client, Stream(client, live.headers("zhang.jianguo")) as reader:
        await asyncio.sleep(0.3)
        alone = min([await _subscribers(client, live), await _subscribers(client, live)])
        dead = socket.socket()
        dead.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)  # a small window: the server's buffers fill sooner
        host, port = live.url.removeprefix("http://").split(":")
        dead.connect((host, int(port)))
        try:
            dead.sendall(f"GET /api/alerts/stream HTTP/1.1\r\nHost: {host}:{port}\r\nAccept: text/event-stream\r\n"
                         f"Authorization: Bearer {live.tokens['zhang.jianguo']}\r\n\r\n".encode())
            head = await asyncio.to_thread(_read_until, dead, b"event: ready", 5)
            assert head.startswith(b"HTTP/1.1 200"), head[:200]
            sent, dropped = 0, False
            while sent < 40 * batch and not dropped:
                await asyncio.to_thread(_insert_turns, live, conversation, batch, text)
                sent += batch
                # the reading page keeps up with every batch ...
                await reader.next("turn", lambda d: d["conversation_id"] == conversation
                                  and d["text"].startswith(f"{batch - 1} "), timeout=10)
                dropped = sent > QUEUE_LIMIT and await _subscribers(client, live) <= alone
            # ... and the silent one is gone from the hub once it fell QUEUE_LIMIT events behind
            assert dropped, f"a page that read nothing of {sent} events is still fed"
            assert len([t for t in reader.of("turn") if t["conversation_id"] == conversation]) == sent
            view, started = await _raise_help(live, OWN)
            assert (await reader.next("help", lambda d: d["id"] == view.id)).at - started < DELIVERY_S
            # when the silent page reads again it gets what was under way, then the end of its stream
            rest = await asyncio.to_thread(_read_until, dead, b"\r\n0\r\n\r\n", 20)
            assert 0 < rest.count(b"event: turn") < sent
            assert b"event: help" not in rest, "nothing after the drop"
        finally:
            dead.close()


def _read_until(sock: socket.socket, end: bytes, timeout: float) -> bytes:
    """What the socket gives until `end` has come (AssertionError if it does not in `timeout` s)."""
    sock.settimeout(timeout)
    received = b""
    while end not in received:
        try:
            data = sock.recv(1 << 16)
        except socket.timeout:
            raise AssertionError(f"{end!r} did not come within {timeout} s") from None
        assert data, f"the connection closed before {end!r}"
        received += data
    return received


# --- the hub's routing, on its own ----------------------------------------------------------------------
def _alert(kind: str, resident_id: Optional[str]) -> Alert:
    return Alert(kind, resident_id, {"resident_id": resident_id, "for": "staff"},
                 {"resident_id": resident_id, "for": "family"})


def _drain(subscriber) -> list[tuple[str, dict]]:
    out = []
    while not subscriber.queue.empty():
        out.append(subscriber.queue.get_nowait())
    return out


def test_staff_get_every_alert_with_the_desk_data_family_only_their_residents():
    hub = AlertHub(services=None)  # routing needs no database
    staff = hub.subscribe(None)
    family = hub.subscribe(frozenset({OWN, "r-0005"}))
    nobody = hub.subscribe(frozenset())
    for alert in (_alert("help", OWN), _alert("turn", OTHER), _alert("turn", None), _alert("health", "r-0005")):
        hub.publish(alert)
    assert [(k, d["resident_id"], d["for"]) for k, d in _drain(staff)] == [
        ("help", OWN, "staff"), ("turn", OTHER, "staff"), ("turn", None, "staff"), ("health", "r-0005", "staff")]
    assert [(k, d["resident_id"], d["for"]) for k, d in _drain(family)] == [
        ("help", OWN, "family"), ("health", "r-0005", "family")]
    assert _drain(nobody) == []
    hub.unsubscribe(family)
    hub.publish(_alert("help", OWN))
    assert hub.subscribers == 2 and family.queue.empty()


def test_a_subscriber_that_falls_queue_limit_behind_is_dropped_and_only_that_one():
    hub = AlertHub(services=None)
    slow = hub.subscribe(None)
    quick = hub.subscribe(frozenset({OWN}))
    other_family = hub.subscribe(frozenset({OTHER}))
    for _ in range(QUEUE_LIMIT):
        hub.publish(_alert("turn", OWN))
        _drain(quick)
    assert not slow.dropped and slow.queue.qsize() == QUEUE_LIMIT
    hub.publish(_alert("help", OWN))  # one too many for the slow one
    assert slow.dropped and hub.subscribers == 2
    assert not quick.dropped and _drain(quick) == [("help", {"resident_id": OWN, "for": "family"})]
    hub.publish(_alert("help", OWN))
    assert slow.queue.qsize() == QUEUE_LIMIT, "a dropped subscriber gets nothing more"
    assert not other_family.dropped and other_family.queue.empty(), "never queued what it may not see"
