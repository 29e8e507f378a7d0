"""One text turn for any channel, with the safety nets around Rasa.

Order matters: a detected emergency is stored before anything else; a
conversation already with an operator is not answered by the bot; and when Rasa
or the actions fail, the elder hears an apology and is handed to a human, with
what they said kept in the handoff queue.
"""
from __future__ import annotations

import asyncio
import logging
import uuid
from dataclasses import dataclass, field
from typing import Any

from assistant.rasa_client import RasaClient, RasaUnavailable
from assistant.sessions import SessionKeeper
from assistant.turn_log import Exchange, TurnLog
from common import apologies
from common.errors import YinlingError
from common.keys import message_key
from services.errors import ServiceError
from services.facade import Services
from zhtext.emergency import detect_emergency
from zhtext.normalize import clean

logger = logging.getLogger(__name__)

HELP_STORED = "我已经叫人了，工作人员马上联系您，您别动，别挂。"
WITH_OPERATOR = "已经给您转人工了，工作人员马上就来。您说的话我都记下了。"


# The yes/no buttons' payloads (actions.replies.YES_NO_BUTTONS) as the words on the buttons
BUTTON_WORDS = {"/affirm": "对", "/deny": "不对"}


class BadMessage(YinlingError, ValueError):
    """The message cannot be handled as it is (empty, too long)."""

    code = "bad_message"


@dataclass(frozen=True)
class BotMessage:
    text: str | None = None
    buttons: tuple[dict[str, Any], ...] = ()
    custom: dict[str, Any] | None = None


@dataclass(frozen=True)
class ChatReply:
    message_id: str
    messages: tuple[BotMessage, ...]
    handed_off: bool = False
    help_request_id: int | str | None = None
    emergency: str | None = None
    notes: tuple[str, ...] = field(default=())


def merge_rest_messages(raw: list[dict[str, Any]]) -> tuple[BotMessage, ...]:
    """Rasa's REST channel sends an utterance's `custom` payload as a message of its
    own right after the text; put it back on the text it belongs to."""
    merged: list[BotMessage] = []
    for m in raw:
        text, custom = m.get("text"), m.get("custom")
        if not text and custom and merged and merged[-1].custom is None:
            last = merged[-1]
            merged[-1] = BotMessage(last.text, last.buttons, custom)
        elif text or custom:
            merged.append(BotMessage(text, tuple(m.get("buttons") or ()), custom))
    return tuple(merged)


class ChatService:
    def __init__(self, services: Services, rasa: RasaClient, max_chars: int,
                 sessions: SessionKeeper | None = None) -> None:
        self._services = services
        self._rasa = rasa
        self._max_chars = max_chars
        self._sessions = sessions if sessions is not None else SessionKeeper(rasa, turns=0)
        self._turn_log = TurnLog(services)

    async def aclose(self) -> None:
        await self._sessions.aclose()
        await self._turn_log.aclose()

    async def _call(self, fn, *args, **kwargs):
        return await asyncio.to_thread(fn, *args, **kwargs)

    async def handle(self, sender: str, text: str, channel: str = "text", message_id: str | None = None, *,
                     phone: str | None = None, location: str | None = None,
                     actor: str | None = None) -> ChatReply:
        """`phone` and `location`: where the hotline knows them, stored with any help request.
        `actor`: who typed it when not the elder (`family:<account>`), for the log and the audit."""
        text = clean(text)
        if not text:
            raise BadMessage("message is empty")
        if len(text) > self._max_chars:
            raise BadMessage(f"message is longer than {self._max_chars} characters")
        message_id = message_id or uuid.uuid4().hex
        reply = await self._turn(sender, text, channel, message_id, phone, location, actor)
        await self._log(sender, channel, text, reply, actor)
        return reply

    async def _log(self, sender: str, channel: str, text: str, reply: ChatReply, actor: str | None) -> None:
        """Every turn goes to the conversation log the operators watch and search. The answer is
        already decided, so a log that fails costs only the log line, never the answer."""
        role = "family" if actor and actor.startswith("family:") else "elder"
        said = BUTTON_WORDS.get(text, text)  # a tapped 对 arrives as its payload; people read the word
        turns = [(role, said, actor)] + [("bot", m.text, None) for m in reply.messages if m.text]

        try:
            await self._turn_log.write(Exchange(sender, sender, channel, tuple(turns)))
        except Exception:
            logger.exception("could not log the turn of %s", sender)

    async def _turn(self, sender: str, text: str, channel: str, message_id: str, phone: str | None,
                    location: str | None, actor: str | None) -> ChatReply:

        help_id = None
        match = detect_emergency(text)
        if match:
            try:
                view = await self._call(
                    self._services.raise_help, sender, text, channel,
                    idempotency_key=message_key("help", sender, message_id), conversation_id=sender,
                    phone=phone, location=location,
                )
                help_id = view.id
            except Exception:  # database and outbox both failing: the action still tries
                logger.exception("could not store the help request of %s", sender)

        handoff = await self._open_handoff(sender)
        if handoff is not None:
            who = "family" if actor and actor.startswith("family:") else "elder"  # the operator sees who typed it
            await self._call(self._services.append_handoff_message, sender, who, text)
            answer = HELP_STORED if match else WITH_OPERATOR
            return ChatReply(message_id, (BotMessage(answer),), True, help_id, match.kind if match else None)

        try:
            metadata = {"message_id": message_id, "channel": channel}
            if actor:
                metadata["actor"] = actor
            raw = await self._rasa.send(sender, text, metadata)
        except RasaUnavailable as e:
            logger.error("rasa unavailable for %s: %s", sender, e)
            return await self._fail_over(sender, text, channel, message_id, help_id, match, "rasa_down")
        messages = merge_rest_messages(raw)
        if not any(m.text for m in messages):
            # Rasa answered nothing: paused by an action, or an action crashed.
            if await self._open_handoff(sender) is None:
                return await self._fail_over(sender, text, channel, message_id, help_id, match, "action_failed")
            return ChatReply(message_id, messages + (BotMessage(WITH_OPERATOR),), True, help_id,
                             match.kind if match else None)
        # an action that hands off has queued the handoff and says so in its answer
        handed_off = any((m.custom or {}).get("handoff") for m in messages)
        self._sessions.answered(sender)
        return ChatReply(message_id, messages, handed_off, help_id, match.kind if match else None)

    async def resume(self, sender: str) -> bool:
        """Back to the bot after an operator: Rasa's ConversationResumed for this conversation."""
        return await self._rasa.resume(sender)

    async def new_session(self, sender: str) -> bool:
        self._sessions.started(sender)
        return await self._rasa.new_session(sender)

    async def transcript(self, sender: str) -> list[dict[str, Any]]:
        """The conversation as Rasa keeps it (with each elder line's intent); empty when Rasa is down."""
        return await self._rasa.transcript(sender)

    async def _open_handoff(self, sender: str):
        try:
            return await self._call(self._services.open_handoff, sender)
        except ServiceError:
            return None

    async def _fail_over(self, sender, text, channel, message_id, help_id, match, reason) -> ChatReply:
        transcript = await self._rasa.transcript(sender)
        if not transcript or transcript[-1].get("text") != text:
            transcript.append({"role": "elder", "text": text, "ts": None})
        try:
            resident = await self._call(self._services.get_resident, sender)
            who = f"{resident.name}（{resident.id}）"
            resident_id = resident.id
        except ServiceError:
            who, resident_id = f"未登记（{sender}）", None
        summary = f"{who}；{'紧急求助；' if match else ''}对话服务故障（{reason}）；最后说：「{text[:40]}」"
        await self._call(
            self._services.queue_handoff, sender, resident_id, channel, reason, transcript, summary
        )
        answer = HELP_STORED if match else apologies.apology_for(code=reason)
        return ChatReply(message_id, (BotMessage(answer),), True, help_id, match.kind if match else None)
