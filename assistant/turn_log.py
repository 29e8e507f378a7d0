"""The conversation log of chat turns, written with group commit.

Every turn is logged before its answer goes out (operators watch the log live). On SQLite each
logged turn was a transaction of its own, and each commit waits for the disk (about 5 ms here); with
many chats at once the turns queued for the file one commit at a time. Here the turns that arrive
while a write is under way are written together in the next transaction, one commit for all of them,
and each caller still returns only when its own lines are stored.
"""
from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import Optional, Sequence

from services.facade import Services

logger = logging.getLogger(__name__)

MAX_BATCH = 64  # exchanges per transaction: bounds how long one commit holds the write lock


@dataclass(frozen=True)
class Exchange:
    conversation_id: str
    resident_id: Optional[str]
    channel: str
    turns: tuple[tuple[str, str, Optional[str]], ...]  # (role, text, actor)

    def as_row(self) -> tuple[str, Optional[str], str, Sequence[tuple[str, str, Optional[str]]]]:
        return (self.conversation_id, self.resident_id, self.channel, self.turns)


class TurnLog:
    def __init__(self, services: Services) -> None:
        self._services = services
        self._pending: list[tuple[Exchange, asyncio.Future[None]]] = []
        self._writer: asyncio.Task[None] | None = None

    async def write(self, exchange: Exchange) -> None:
        """Returns once the exchange is stored; raises what storing it raised. A caller that is
        cancelled while waiting does not cancel the write."""
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        done.add_done_callback(_retrieved)  # a caller that went away leaves no "never retrieved" warning
        self._pending.append((exchange, done))
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._drain())
        await asyncio.shield(done)

    async def aclose(self) -> None:
        """Waits for the exchanges already handed in to be written."""
        while self._writer is not None and not self._writer.done():
            await asyncio.shield(self._writer)

    async def _drain(self) -> None:
        while self._pending:
            batch, self._pending = self._pending[:MAX_BATCH], self._pending[MAX_BATCH:]
            try:
                await asyncio.to_thread(self._services.log_exchanges, [e.as_row() for e, _ in batch])
            except Exception as error:
                if len(batch) == 1:
                    _settle(batch[0][1], error)
                    continue
                # one bad exchange must not lose the others: each again, alone
                for exchange, done in batch:
                    try:
                        await asyncio.to_thread(self._services.log_exchanges, [exchange.as_row()])
                    except Exception as alone:
                        _settle(done, alone)
                    else:
                        _settle(done, None)
                continue
            for _, done in batch:
                _settle(done, None)


def _settle(done: asyncio.Future[None], error: BaseException | None) -> None:
    if done.done():
        return
    if error is None:
        done.set_result(None)
    else:
        done.set_exception(error)


def _retrieved(done: asyncio.Future[None]) -> None:
    if not done.cancelled():
        done.exception()
