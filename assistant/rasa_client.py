"""Talks to Rasa's REST channel and HTTP API."""
from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import httpx

from common.errors import YinlingError
from common.words import TranscriptLine


class RasaUnavailable(YinlingError):
    """Rasa did not answer, answered with an error, or answered nonsense."""

    code = "rasa_unavailable"


class ConversationBusy(RasaUnavailable):
    """The conversation's previous message has not come back from Rasa in time."""

    code = "conversation_busy"


class ConversationLocks:
    """One FIFO lock per conversation, kept only while someone holds or waits for it.

    Rasa locks a conversation while it handles a message, and a second message for it
    polls that lock once a second (LockStore.lock's default wait): two family members of
    one elder, or a family member and the elder's speaker, typing at once cost the second
    a whole second. Waiting here instead hands the conversation on the moment the first
    answer is back, and keeps each conversation's messages in the order they came."""

    def __init__(self) -> None:
        self._locks: dict[str, tuple[asyncio.Lock, int]] = {}

    @asynccontextmanager
    async def hold(self, conversation_id: str, wait_s: float) -> AsyncIterator[None]:
        """Raises ConversationBusy after `wait_s` without the lock (the message before is stuck)."""
        lock, users = self._locks.get(conversation_id, (None, 0))
        if lock is None:
            lock = asyncio.Lock()
        self._locks[conversation_id] = (lock, users + 1)
        try:
            try:
                async with asyncio.timeout(wait_s):
                    await lock.acquire()
            except TimeoutError:
                raise ConversationBusy(f"conversation {conversation_id} still busy after {wait_s:g} s") from None
            try:
                yield
            finally:
                lock.release()
        finally:
            lock, users = self._locks[conversation_id]
            if users == 1:
                del self._locks[conversation_id]
            else:
                self._locks[conversation_id] = (lock, users - 1)

    def in_use(self) -> int:
        """Conversations with a message in Rasa or waiting for one."""
        return len(self._locks)


class RasaClient:
    def __init__(self, base_url: str, timeout_s: float) -> None:
        self._http = httpx.AsyncClient(base_url=base_url, timeout=timeout_s)
        self._wait_s = timeout_s
        self.locks = ConversationLocks()

    async def send(self, sender: str, text: str, metadata: dict[str, Any]) -> list[dict[str, Any]]:
        try:
            async with self.locks.hold(sender, self._wait_s):
                response = await self._http.post(
                    "/webhooks/rest/webhook",
                    json={"sender": sender, "message": text, "metadata": metadata},
                )
            response.raise_for_status()
            messages = response.json()
        except (httpx.HTTPError, ValueError) as e:
            raise RasaUnavailable(str(e) or type(e).__name__) from e
        if not isinstance(messages, list):
            raise RasaUnavailable(f"unexpected answer: {messages!r:.200}")
        return messages

    async def transcript(self, sender: str) -> list[TranscriptLine]:
        """The conversation so far, as far as Rasa can still tell us (elder lines with their intent)."""
        try:
            response = await self._http.get(f"/conversations/{sender}/tracker")
            response.raise_for_status()
            events = response.json().get("events", [])
        except (httpx.HTTPError, ValueError):
            return []
        lines = []
        for e in events:
            if e.get("event") not in ("user", "bot") or not e.get("text"):
                continue
            intent = ((e.get("parse_data") or {}).get("intent") or {}).get("name") if e["event"] == "user" else None
            lines.append(TranscriptLine("elder" if e["event"] == "user" else "bot", e["text"], e.get("timestamp"),
                                        intent))
        return lines

    async def new_session(self, sender: str) -> bool:
        """Starts a new Rasa session for the sender (a new phone call): slots, open forms and the
        dialogue's memory of misses start afresh (the domain carries no slots over). False when Rasa
        could not be reached."""
        try:
            async with self.locks.hold(sender, self._wait_s):
                return await self._start_session(sender)
        except (httpx.HTTPError, ConversationBusy):
            return False

    async def new_session_if(self, sender: str, at_rest: Callable[[dict[str, Any]], bool]) -> bool | None:
        """Under the conversation's lock: reads where the conversation stands (slots, active form,
        latest message; no events) and starts a new session only if `at_rest` says so. True: a new
        session started; False: not at rest; None: Rasa did not answer."""
        try:
            async with self.locks.hold(sender, self._wait_s):
                response = await self._http.get(f"/conversations/{sender}/tracker",
                                                params={"include_events": "NONE"})
                response.raise_for_status()
                if not at_rest(response.json()):
                    return False
                return await self._start_session(sender) or None
        except (httpx.HTTPError, ValueError, ConversationBusy):
            return None

    async def _start_session(self, sender: str) -> bool:
        """Rasa's action_session_start for the sender; the caller holds the conversation's lock."""
        response = await self._http.post(f"/conversations/{sender}/execute", params={"include_events": "NONE"},
                                         json={"name": "action_session_start"})
        return response.status_code == 200

    async def resume(self, sender: str) -> bool:
        """ConversationResumed: the bot answers this sender again after an operator paused it."""
        try:
            async with self.locks.hold(sender, self._wait_s):
                response = await self._http.post(f"/conversations/{sender}/tracker/events", json={"event": "resume"})
            return response.status_code == 200
        except (httpx.HTTPError, ConversationBusy):
            return False

    async def healthy(self) -> bool:
        try:
            return (await self._http.get("/")).status_code == 200
        except httpx.HTTPError:
            return False

    async def aclose(self) -> None:
        await self._http.aclose()
