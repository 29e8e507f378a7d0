"""When the database is down, help requests and handoffs go to the outbox and come back later."""

import json

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from services.errors import ServiceUnavailable
from services.facade import Services
from services.models import Handoff, HelpRequest
from services.outbox import Outbox
from services.types import HandoffRequest

from .conftest import DEAD_PG_URL, new_key


@pytest.fixture
def outbox(tmp_path):
    return Outbox(tmp_path / "outbox.jsonl")


@pytest.fixture
def dead(outbox, clock):
    svc = Services(DEAD_PG_URL, clock=clock, outbox=outbox)
    yield svc
    svc.close()


def test_reads_on_a_dead_database_raise_service_unavailable(dead):
    with pytest.raises(ServiceUnavailable):
        dead.get_resident("r-0001")
    with pytest.raises(ServiceUnavailable):
        dead.book_meal("r-0001", dead.today(), "lunch", 1, idempotency_key=new_key(), actor="t")


def test_help_and_handoff_are_spooled_then_replayed(services, dead, outbox):
    help_key = new_key("help")
    conversation = new_key("conv")
    spooled = dead.raise_help("r-0001", "我喘不上气", "speaker", help_key, conversation_id=conversation)
    assert spooled.spooled and spooled.id is None and spooled.status == "open"
    handoff = dead.queue_handoff(HandoffRequest(conversation, "speaker", "actions_failed",
                                                ({"role": "user", "text": "我喘不上气"},), "r-0001"))
    assert handoff.spooled and handoff.id is None and handoff.transcript[0]["ts"]
    lines = outbox.path.read_text(encoding="utf-8").splitlines()
    assert [json.loads(line)["kind"] for line in lines] == ["help", "handoff"]

    # still down: nothing applied, nothing lost
    assert outbox.replay(dead) == 0
    assert len(outbox.pending()) == 2

    assert outbox.replay(services) == 2
    assert outbox.pending() == []
    with Session(services.engine) as session:
        request = session.scalars(select(HelpRequest).where(HelpRequest.idempotency_key == help_key)).one()
        assert request.resident_id == "r-0001" and request.created_at == spooled.created_at
    replayed = [r for r in services.open_help_requests() if r.id == request.id][0]
    assert replayed.notified == ("儿子张建国", "值班话务员")
    live = services.open_handoff(conversation)
    assert live is not None and live.reason == "actions_failed" and len(live.transcript) == 1


def test_replay_is_idempotent(services, dead, outbox):
    help_key = new_key("help")
    conversation = new_key("conv")
    dead.raise_help("r-0002", "救命", "text", help_key)
    dead.queue_handoff(HandoffRequest(conversation, "text", "handoff_human", ({"role": "user", "text": "转人工"},),
                                      "r-0002"))
    # the same records twice (e.g. a crash after applying but before truncating)
    for record in outbox.pending():
        outbox.append(record["kind"], record["payload"])
    assert outbox.replay(services) == 4
    with Session(services.engine) as session:
        assert len(session.scalars(select(HelpRequest).where(HelpRequest.idempotency_key == help_key)).all()) == 1
        handoffs = session.scalars(select(Handoff).where(Handoff.conversation_id == conversation)).all()
        assert len(handoffs) == 1 and len(handoffs[0].transcript) == 1
    assert outbox.replay(services) == 0


def test_corrupt_lines_are_set_aside_not_dropped(services, outbox):
    outbox.path.parent.mkdir(parents=True, exist_ok=True)
    outbox.path.write_text('{"kind": "help", "payl\n', encoding="utf-8")
    outbox.append("help", {"resident_id": "r-0003", "text": "疼", "channel": "speaker",
                           "idempotency_key": new_key("help"), "conversation_id": None, "phone": None,
                           "location": None, "created_at": "2025-11-05T02:00:00+00:00"})
    assert outbox.replay(services) == 1
    assert outbox.pending() == []
    assert '"payl' in outbox.failed_path.read_text(encoding="utf-8")


def test_facade_replay_outbox(services, tmp_path, clock):
    box = Outbox(tmp_path / "own.jsonl")
    dead = Services(DEAD_PG_URL, clock=clock, outbox=box)
    try:
        dead.raise_help(None, "有人吗", "phone", new_key("help"))
    finally:
        dead.close()
    live = Services.from_engine(services.engine, clock=clock, outbox=box)
    assert live.replay_outbox() == 1
