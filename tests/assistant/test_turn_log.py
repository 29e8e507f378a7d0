"""assistant.turn_log: chat turns logged with group commit, on a real SQLite database."""
from __future__ import annotations

import asyncio

import pytest

from assistant.turn_log import Exchange, TurnLog
from services.errors import InvalidRequest
from tests.gateway.offline import seeded_services


class CountingServices:
    """The real Services, with the size of every transaction the log asked for written down."""

    def __init__(self, services) -> None:
        self.services = services
        self.batches: list[int] = []

    def log_exchanges(self, exchanges):
        self.batches.append(len(exchanges))
        return self.services.log_exchanges(exchanges)


@pytest.fixture(scope="module")
def services(tmp_path_factory):
    with seeded_services(tmp_path_factory.mktemp("turnlog"), cheap_hashes=True) as s:
        yield s


def exchange(conversation: str, n: int, role: str = "elder") -> Exchange:
    return Exchange(conversation, "r-0002", "text", ((role, f"问{n}", None), ("bot", f"答{n}", None)))


def test_turns_that_arrive_together_share_transactions_and_all_land(services):
    counting = CountingServices(services)
    log = TurnLog(counting)

    async def main() -> None:
        await asyncio.gather(*(log.write(exchange(f"tl-{n}", n)) for n in range(40)))
        await log.aclose()

    asyncio.run(main())
    assert sum(counting.batches) == 40
    assert len(counting.batches) < 40 and max(counting.batches) > 1
    for n in range(40):
        assert [t.text for t in services.conversation(f"tl-{n}")] == [f"问{n}", f"答{n}"]


def test_one_conversations_turns_keep_their_order(services):
    log = TurnLog(services)

    async def main() -> None:
        for n in range(5):  # one chat: each turn waits for its answer, and so for its log line
            await log.write(exchange("tl-order", n))

    asyncio.run(main())
    assert [t.text for t in services.conversation("tl-order")] == [x for n in range(5) for x in (f"问{n}", f"答{n}")]


def test_a_bad_exchange_fails_alone_and_the_rest_of_its_batch_lands(services):
    log = TurnLog(services)

    async def main() -> list:
        writes = [log.write(exchange(f"tl-bad-{n}", n, role="robot" if n == 3 else "elder")) for n in range(6)]
        return await asyncio.gather(*writes, return_exceptions=True)

    results = asyncio.run(main())
    assert [type(r) for r in results] == [type(None)] * 3 + [InvalidRequest] + [type(None)] * 2
    assert [len(services.conversation(f"tl-bad-{n}")) for n in range(6)] == [2, 2, 2, 0, 2, 2]


def test_a_caller_that_goes_away_still_has_its_turn_logged(services):
    log = TurnLog(services)

    async def main() -> None:
        first = asyncio.create_task(log.write(exchange("tl-gone-a", 1)))
        second = asyncio.create_task(log.write(exchange("tl-gone-b", 2)))
        await asyncio.sleep(0)
        second.cancel()  # the web client hung up while its answer was being logged
        await first
        await log.aclose()

    asyncio.run(main())
    assert len(services.conversation("tl-gone-b")) == 2


def test_a_database_that_is_down_reaches_the_caller(tmp_path):
    from services.errors import ServiceUnavailable
    from services.facade import Services

    dead = Services("postgresql+psycopg://postgres@127.0.0.1:1/test?connect_timeout=1",
                    outbox=tmp_path / "outbox.jsonl")
    log = TurnLog(dead)
    with pytest.raises(ServiceUnavailable):
        asyncio.run(log.write(exchange("tl-down", 1)))
