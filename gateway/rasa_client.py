"""Talks to Rasa's REST channel and HTTP API."""
from __future__ import annotations

from typing import Any

import httpx


class RasaUnavailable(Exception):
    """Rasa did not answer, answered with an error, or answered nonsense."""


class RasaClient:
    def __init__(self, base_url: str, timeout_s: float) -> None:
        self._http = httpx.AsyncClient(base_url=base_url, timeout=timeout_s)

    async def send(self, sender: str, text: str, metadata: dict[str, Any]) -> list[dict[str, Any]]:
        try:
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

    async def transcript(self, sender: str) -> list[dict[str, Any]]:
        """The conversation so far, as far as Rasa can still tell us."""
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
            line = {"role": "elder" if e["event"] == "user" else "bot", "text": e.get("text"), "ts": e.get("timestamp")}
            if e["event"] == "user":
                line["intent"] = ((e.get("parse_data") or {}).get("intent") or {}).get("name")
            lines.append(line)
        return lines

    async def new_session(self, sender: str) -> bool:
        """Starts a new Rasa session for the sender (a new phone call): slots carry over, the
        dialogue's memory of misses does not. False when Rasa could not be reached."""
        try:
            response = await self._http.post(f"/conversations/{sender}/execute",
                                             json={"name": "action_session_start"})
            return response.status_code == 200
        except httpx.HTTPError:
            return False

    async def resume(self, sender: str) -> bool:
        """ConversationResumed: the bot answers this sender again after an operator paused it."""
        try:
            response = await self._http.post(f"/conversations/{sender}/tracker/events", json={"event": "resume"})
            return response.status_code == 200
        except httpx.HTTPError:
            return False

    async def healthy(self) -> bool:
        try:
            return (await self._http.get("/")).status_code == 200
        except httpx.HTTPError:
            return False

    async def aclose(self) -> None:
        await self._http.aclose()
