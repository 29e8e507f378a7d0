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
from common.words import Channel, TranscriptLine, role_of
from services.errors import ServiceError
from services.facade import Services
from services.types import HandoffRequest
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
class TurnRequest:
    """One message to answer, as the turn passes it along (checked and cleaned by ChatService.handle)."""

    sender: str  # the conversation: a resident id, or a guest id on the hotline
    text: str
    channel: str
    message_id: str
    phone: str | None = None
    location: str | None = None
    actor: str | None = None  # family:<account id> when a family member typed it

    @property
    def role(self) -> str:
        return role_of(self.actor)


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
        `actor`: who typed it when not the elder (`family:<account>`), for the log and the audit.
        The one place the turn's parameters are listed: from here on they travel as a TurnRequest."""
        text = clean(text)
        if not text:
            raise BadMessage("message is empty")
        if len(text) > self._max_chars:
            raise BadMessage(f"message is longer than {self._max_chars} characters")
        turn = TurnRequest(sender, text, Channel.of(channel).value, message_id or uuid.uuid4().hex,
                           phone, location, actor)
        reply = await self._turn(turn)
        await self._log(turn, reply)
        return reply

    async def _log(self, turn: TurnRequest, reply: ChatReply) -> None:
        """Every turn goes to the conversation log the operators watch and search. The answer is
        already decided, so a log that fails costs only the log line, never the answer."""
        said = BUTTON_WORDS.get(turn.text, turn.text)  # a tapped 对 arrives as its payload; people read the word
        turns = [(turn.role, said, turn.actor)] + [("bot", m.text, None) for m in reply.messages if m.text]
        try:
            await self._turn_log.write(Exchange(turn.sender, turn.sender, turn.channel, tuple(turns)))
        except Exception:
            logger.exception("could not log the turn of %s", turn.sender)

    async def _turn(self, turn: TurnRequest) -> ChatReply:
        help_id = None
        match = detect_emergency(turn.text)
        emergency = match.kind if match else None
        if match:
            try:
                view = await self._call(
                    self._services.raise_help, turn.sender, turn.text, turn.channel,
                    idempotency_key=message_key("help", turn.sender, turn.message_id), conversation_id=turn.sender,
                    phone=turn.phone, location=turn.location,
                )
                help_id = view.id
            except Exception:  # database and outbox both failing: the action still tries
                logger.exception("could not store the help request of %s", turn.sender)

        handoff = await self._open_handoff(turn.sender)
        if handoff is not None:  # the operator sees who typed it
            await self._call(self._services.append_handoff_message, turn.sender, turn.role, turn.text)
            answer = HELP_STORED if match else WITH_OPERATOR
            return ChatReply(turn.message_id, (BotMessage(answer),), True, help_id, emergency)

        try:
            metadata = {"message_id": turn.message_id, "channel": turn.channel}
            if turn.actor:
                metadata["actor"] = turn.actor
            raw = await self._rasa.send(turn.sender, turn.text, metadata)
        except RasaUnavailable as e:
            logger.error("rasa unavailable for %s: %s", turn.sender, e)
            return await self._fail_over(turn, help_id, emergency, "rasa_down")
        messages = merge_rest_messages(raw)
        if not any(m.text for m in messages):
            # Rasa answered nothing: paused by an action, or an action crashed.
            if await self._open_handoff(turn.sender) is None:
                return await self._fail_over(turn, help_id, emergency, "action_failed")
            return ChatReply(turn.message_id, messages + (BotMessage(WITH_OPERATOR),), True, help_id, emergency)
        # an action that hands off has queued the handoff and says so in its answer
        handed_off = any((m.custom or {}).get("handoff") for m in messages)
        self._sessions.answered(turn.sender)
        return ChatReply(turn.message_id, messages, handed_off, help_id, emergency)

    async def resume(self, sender: str) -> bool:
        """Back to the bot after an operator: Rasa's ConversationResumed for this conversation."""
        return await self._rasa.resume(sender)

    async def new_session(self, sender: str) -> bool:
        self._sessions.started(sender)
        return await self._rasa.new_session(sender)

    async def transcript(self, sender: str) -> list[TranscriptLine]:
        """The conversation as Rasa keeps it (with each elder line's intent); empty when Rasa is down."""
        return await self._rasa.transcript(sender)

    async def _open_handoff(self, sender: str):
        try:
            return await self._call(self._services.open_handoff, sender)
        except ServiceError:
            return None

    async def _fail_over(self, turn: TurnRequest, help_id, emergency: str | None, reason: str) -> ChatReply:
        transcript = await self._rasa.transcript(turn.sender)
        if not transcript or transcript[-1].text != turn.text:
            transcript.append(TranscriptLine(turn.role, turn.text))
        request = HandoffRequest(turn.sender, turn.channel, reason, tuple(transcript), emergency=bool(emergency))
        await self._call(self._services.queue_handoff, request)
        answer = HELP_STORED if emergency else apologies.apology_for(code=reason)
        return ChatReply(turn.message_id, (BotMessage(answer),), True, help_id, emergency)
