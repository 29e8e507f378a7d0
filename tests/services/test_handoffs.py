from concurrent.futures import ThreadPoolExecutor
from threading import Barrier

import pytest

from services.errors import HandoffAlreadyTaken, HandoffNotFound, UnknownOperator
from services.types import HandoffRequest

from .conftest import new_key


def _queue(services, conversation, text="我要找人工", reason="handoff_human"):
    return services.queue_handoff(HandoffRequest(conversation, "speaker", reason, ({"role": "user", "text": text},),
                                                 "r-0001"))


def test_one_open_handoff_per_conversation(services):
    conversation = new_key("conv")
    first = _queue(services, conversation)
    second = services.queue_handoff(HandoffRequest(
        conversation, "speaker", "two_fallbacks",
        ({"role": "user", "text": "我要找人工"}, {"role": "bot", "text": "好的，正在转接"}), "r-0001"))
    assert second.id == first.id
    assert [e["text"] for e in second.transcript] == ["我要找人工", "好的，正在转接"]
    assert second.reason == "two_fallbacks" and "连续两次没听懂" in second.summary
    assert [h.id for h in services.list_handoffs("queued") if h.conversation_id == conversation] == [first.id]


def test_append_message_and_open_handoff(services):
    conversation = new_key("conv")
    _queue(services, conversation)
    view = services.append_handoff_message(conversation, "operator", "王奶奶您好，我是话务员小赵")
    assert view.transcript[-1]["role"] == "operator" and view.transcript[-1]["ts"]
    assert services.open_handoff(conversation) == view
    assert services.open_handoff(new_key("none")) is None
    with pytest.raises(HandoffNotFound):
        services.append_handoff_message(new_key("none"), "user", "喂")


def test_two_operators_cannot_take_the_same_handoff(services):
    handoff = _queue(services, new_key("conv"))
    taken = services.take_handoff(handoff.id, "op-01")
    assert taken.status == "taken" and taken.taken_by == "op-01"
    assert services.take_handoff(handoff.id, "op-01").taken_by == "op-01"  # same operator again is fine
    with pytest.raises(HandoffAlreadyTaken) as info:
        services.take_handoff(handoff.id, "op-02")
    assert info.value.taken_by == "op-01"
    with pytest.raises(UnknownOperator):
        services.take_handoff(handoff.id, "op-77")


def test_concurrent_take_has_one_winner(services):
    handoff = _queue(services, new_key("conv"))
    barrier = Barrier(2)

    def take(operator_id):
        barrier.wait()
        try:
            return services.take_handoff(handoff.id, operator_id)
        except HandoffAlreadyTaken as exc:
            return exc

    with ThreadPoolExecutor(max_workers=2) as pool:
        results = list(pool.map(take, ["op-01", "op-02"]))
    winners = [r for r in results if not isinstance(r, Exception)]
    assert len(winners) == 1 and sum(isinstance(r, HandoffAlreadyTaken) for r in results) == 1


def test_close_then_a_new_handoff_can_open(services):
    conversation = new_key("conv")
    first = _queue(services, conversation)
    services.take_handoff(first.id, "op-02")
    with pytest.raises(HandoffAlreadyTaken):
        services.close_handoff(first.id, "op-01")  # someone else's call
    closed = services.close_handoff(first.id, "op-02")
    assert closed.status == "closed"
    assert services.open_handoff(conversation) is None
    second = _queue(services, conversation, text="又是我")
    assert second.id != first.id and second.status == "queued"
    assert services.close_handoff(second.id, "op-09").status == "closed"  # a supervisor may close any


def test_concurrent_appends_lose_nothing(services):
    conversation = new_key("conv")
    _queue(services, conversation)
    barrier = Barrier(6)

    def append(i):
        barrier.wait()
        return services.append_handoff_message(conversation, "user", f"第{i}句")

    with ThreadPoolExecutor(max_workers=6) as pool:
        list(pool.map(append, range(6)))
    texts = [e["text"] for e in services.open_handoff(conversation).transcript]
    assert sorted(texts[1:]) == sorted(f"第{i}句" for i in range(6))


def test_unknown_resident_handoff_is_still_queued(services):
    view = services.queue_handoff(HandoffRequest(new_key("wx"), "text", "handoff_human", (), "someone-else"))
    assert view.id is not None and view.resident_id is None
