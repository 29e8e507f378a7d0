"""The one place where actions turn failures into words and a human handoff.

An elder must never meet silence or a stack trace: when the database is down,
the resident is unknown for something that needs a resident, or anything
unexpected happens, the action apologises briefly and queues the conversation
for an operator (the services outbox keeps the handoff if the database is down).
"""
from __future__ import annotations

import abc
import asyncio
import logging
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActiveLoop, ConversationPaused, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions import replies, runtime
from actions.context import Turn
from services.errors import ServiceUnavailable, UnknownResident
from services.types import HandoffRequest

logger = logging.getLogger(__name__)

Events = list[dict[str, Any]]


def hand_off(turn: Turn, reason: str) -> Events:
    """Queue this conversation for an operator and pause the bot."""
    try:
        runtime.services().queue_handoff(HandoffRequest(turn.sender, turn.channel, reason, tuple(turn.transcript())))
    except Exception:  # the outbox failed too: still tell the elder, log loudly
        logger.exception("could not queue handoff for %s", turn.sender)
    # tells the gateway (and any client) that a person takes over from here
    turn.dispatcher.utter_message(json_message={"handoff": True, "reason": reason})
    return [ConversationPaused(), ActiveLoop(None), SlotSet("requested_slot", None), SlotSet("pending", None)]


# After one of these answers a question asked at a read-back, the elder hears that the order read
# back still waits for a yes, for a few turns: "nothing the elder asked for is silently lost".
REMINDS_OF_PENDING = frozenset({
    "action_menu", "action_subsidy_info", "action_subsidy_status", "action_find_service", "action_activities",
    "action_my_bookings", "action_chitchat", "action_out_of_scope", "action_health", "action_greet",
})
PENDING_REMINDER_TURNS = 3


def turns_since_pending(events: list[dict[str, Any]]) -> int | None:
    """User turns since the latest read-back set `pending`; None when nothing is pending."""
    turns = 0
    for event in reversed(events):
        kind = event.get("event")
        if kind == "user":
            turns += 1
        elif kind == "slot" and event.get("name") == "pending":
            return turns if event.get("value") else None
        elif kind in ("restart", "session_started"):
            return None
    return None


def remind_of_pending(turn: Turn, events: Events) -> None:
    pending = turn.slot("pending") or {}
    if not pending or any(e.get("event") == "slot" and e.get("name") == "pending" for e in events):
        return
    since = turns_since_pending(turn.tracker.events)
    reminder = replies.pending_reminder(pending, runtime.today())
    if since is not None and since <= PENDING_REMINDER_TURNS and reminder:
        turn.say(reminder, buttons=replies.YES_NO_BUTTONS)


class YinlingAction(Action, abc.ABC):
    """Base for our actions: subclasses implement `name()` and `handle(turn)`."""

    @abc.abstractmethod
    def name(self) -> str: ...

    @abc.abstractmethod
    def handle(self, turn: Turn) -> Events: ...

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> Events:
        turn = Turn(tracker, dispatcher)
        try:
            events = await asyncio.to_thread(self.handle, turn)
            if self.name() in REMINDS_OF_PENDING:
                await asyncio.to_thread(remind_of_pending, turn, events)
            return events
        except ServiceUnavailable:
            logger.exception("services unavailable in %s", self.name())
            turn.say(replies.SERVICE_DOWN)
            return hand_off(turn, "service_down")
        except UnknownResident:
            turn.say(replies.UNKNOWN_RESIDENT)
            return hand_off(turn, "unknown_resident")
        except Exception:
            logger.exception("action %s failed", self.name())
            turn.say(replies.ACTION_FAILED)
            return hand_off(turn, "action_failed")
