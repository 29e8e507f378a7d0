"""Keeps each conversation's Rasa session short enough to stay fast.

Rasa 3.6 handles every message by rebuilding the whole session from its tracker store, writing it
back as JSON, sending it to the action server (which parses it again) and deriving the dialogue
states of every turn so far: a turn's cost grows with the session, about 0.1 ms per event, and a
session only ends after `session_expiration_time` of silence. An elder chatting through the day on
the speaker while family members write for her on the web page makes hundreds of turns without such
a pause (bench/web.py over 120 s, before this: chat p50 68 ms in the first 40 s, 251 ms in the last).

So after `turns` bot turns the gateway starts a new session itself, at the first moment the
conversation is at rest: no form open, no read-back waiting for a yes, not with an operator, and the
last message understood (so the count of misunderstandings in a row, which hands over to a human
after two, is not reset between them). Nothing the elder asked for lives only in the session: orders,
tickets and help requests are in the database, every line of the conversation is in its log, and
"再说一遍" falls back on that log when the session has no earlier answer (actions.conversation).
The in-memory tracker store keeps only a conversation's latest session, so the old one's events go.
"""
from __future__ import annotations

import asyncio
import logging
from typing import Any

from assistant.rasa_client import RasaClient

logger = logging.getLogger(__name__)

DEFAULT_TURNS = 30  # about 150 events: a few ms of the per-turn growth
NOT_UNDERSTOOD = "nlu_fallback"


def at_rest(state: dict[str, Any]) -> bool:
    """Whether a conversation (Rasa's tracker state without events) can start a new session
    without the elder losing anything in flight."""
    if state.get("paused"):
        return False  # with an operator: theirs until they hand it back
    if (state.get("active_loop") or {}).get("name"):
        return False  # a form is asking its questions
    slots = state.get("slots") or {}
    if slots.get("pending") is not None or slots.get("requested_slot") is not None:
        return False  # a read-back waits for 对 / 不对
    intent = ((state.get("latest_message") or {}).get("intent") or {}).get("name")
    return intent not in (None, NOT_UNDERSTOOD)


class SessionKeeper:
    def __init__(self, rasa: RasaClient, turns: int = DEFAULT_TURNS) -> None:
        self._rasa = rasa
        self._turns = turns
        self._counts: dict[str, int] = {}
        self._checking: set[str] = set()
        self._tasks: set[asyncio.Task] = set()

    def answered(self, sender: str) -> None:
        """A message of `sender` was answered by the bot. Past the limit, a check (and perhaps a new
        session) runs in the background, queued on the conversation like a message, so the answer
        is not held up and the next message sees the result."""
        if self._turns <= 0:
            return
        count = self._counts.get(sender, 0) + 1
        self._counts[sender] = count
        if count >= self._turns and sender not in self._checking:
            self._checking.add(sender)
            task = asyncio.create_task(self._renew(sender))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    def started(self, sender: str) -> None:
        """A new session began for another reason (a new phone call)."""
        self._counts.pop(sender, None)

    async def _renew(self, sender: str) -> None:
        # not at rest, or Rasa not answering: the count stays, so the next answer checks again
        try:
            if await self._rasa.new_session_if(sender, at_rest):
                self._counts.pop(sender, None)
                logger.info("new Rasa session for %s (long conversation, at rest)", sender)
        finally:
            self._checking.discard(sender)

    async def settled(self) -> None:
        """Waits for the checks under way (tests; shutdown)."""
        while self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)

    async def aclose(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
