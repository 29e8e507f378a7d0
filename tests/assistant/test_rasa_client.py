"""The gateway's per-conversation queue in front of Rasa (assistant.rasa_client.ConversationLocks)."""
from __future__ import annotations

import asyncio

import pytest

from assistant.rasa_client import ConversationBusy, ConversationLocks, RasaUnavailable


def test_messages_of_one_conversation_go_one_at_a_time_in_the_order_they_came():
    locks = ConversationLocks()
    log: list[str] = []

    async def message(name: str) -> None:
        async with locks.hold("r-0001", 5):
            log.append(f"{name} in")
            await asyncio.sleep(0.01)
            log.append(f"{name} out")

    async def main() -> None:
        await asyncio.gather(*(message(f"m{i}") for i in range(5)))

    asyncio.run(main())
    assert log == [f"m{i} {step}" for i in range(5) for step in ("in", "out")]
    assert locks.in_use() == 0  # nothing kept once the conversation is quiet


def test_other_conversations_do_not_wait():
    locks = ConversationLocks()
    order: list[str] = []

    async def slow() -> None:
        async with locks.hold("r-0001", 5):
            await asyncio.sleep(0.2)
            order.append("r-0001")

    async def quick() -> None:
        await asyncio.sleep(0.01)
        async with locks.hold("r-0002", 5):
            order.append("r-0002")

    async def main() -> None:
        await asyncio.gather(slow(), quick())

    asyncio.run(main())
    assert order == ["r-0002", "r-0001"]


def test_a_stuck_message_makes_the_next_one_fail_over_instead_of_waiting_for_ever():
    locks = ConversationLocks()

    async def main() -> None:
        release = asyncio.Event()

        async def stuck() -> None:
            async with locks.hold("r-0001", 5):
                await release.wait()

        task = asyncio.create_task(stuck())
        await asyncio.sleep(0.01)
        with pytest.raises(ConversationBusy) as raised:
            async with locks.hold("r-0001", 0.05):
                pytest.fail("got the lock of a busy conversation")
        assert isinstance(raised.value, RasaUnavailable)  # the chat's fail-over catches it
        assert locks.in_use() == 1  # the gave-up waiter left no count behind
        release.set()
        await task
        async with locks.hold("r-0001", 0.05):  # free again
            pass

    asyncio.run(main())
    assert locks.in_use() == 0


def test_a_cancelled_waiter_leaves_the_queue_working():
    locks = ConversationLocks()

    async def main() -> None:
        release = asyncio.Event()

        async def holder() -> None:
            async with locks.hold("r-0001", 5):
                await release.wait()

        async def waiter() -> None:
            async with locks.hold("r-0001", 5):
                pass

        first = asyncio.create_task(holder())
        await asyncio.sleep(0.01)
        gone = asyncio.create_task(waiter())  # a caller that hangs up while waiting
        await asyncio.sleep(0.01)
        gone.cancel()
        release.set()
        await first
        with pytest.raises(asyncio.CancelledError):
            await gone
        async with locks.hold("r-0001", 0.05):
            pass

    asyncio.run(main())
    assert locks.in_use() == 0
