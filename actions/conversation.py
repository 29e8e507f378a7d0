"""Greeting, confirmation, correction, repeat, fallback and handoff."""
from __future__ import annotations

from datetime import timedelta

from rasa_sdk.events import ActiveLoop, SlotSet

from actions import replies, runtime, smalltalk
from actions.base import Events, YinlingAction, hand_off
from actions.context import Turn
from actions.meals import book_pending, cancel_pending, clear_order_slots, correct_pending
from actions.visits import book_visit, correct_visit
from services.clock import as_utc, utcnow
from services.errors import ServiceError, UnknownResident

REPEAT_LOOKBACK_TURNS = 10
REPEAT_LOG_WINDOW = timedelta(minutes=10)


class ActionGreet(YinlingAction):
    def name(self) -> str:
        return "action_greet"

    def handle(self, turn: Turn) -> Events:
        try:
            resident = runtime.services().get_resident(turn.sender)
        except UnknownResident:
            resident = None
        turn.say(replies.greeting(resident))
        return []


class ActionAffirm(YinlingAction):
    """'对' books, cancels or files what the last read-back described, once."""

    def name(self) -> str:
        return "action_affirm"

    def handle(self, turn: Turn) -> Events:
        pending = turn.slot("pending")
        if not pending:
            turn.say(replies.NOTHING_PENDING)
            return []
        kind = pending.get("kind")
        if kind == "meal":
            return book_pending(turn, pending)
        if kind == "cancel":
            return cancel_pending(turn, pending)
        if kind == "visit":
            return book_visit(turn, pending)
        turn.say(replies.NOTHING_PENDING)
        return [SlotSet("pending", None)]


class ActionDeny(YinlingAction):
    """'不对' corrects a read-back ('不对，是两份') or drops it."""

    def name(self) -> str:
        return "action_deny"

    def handle(self, turn: Turn) -> Events:
        pending = turn.slot("pending")
        if not pending:
            turn.say("好的。您要办什么，直接跟我说。")
            return []
        kind = pending.get("kind")
        if kind == "meal":
            return correct_pending(turn, pending)
        if kind == "visit":
            return correct_visit(turn, pending)
        turn.say("好，不取消，给您留着。" if kind == "cancel" else replies.STOPPED)
        return [SlotSet("pending", None)]


class ActionStopForm(YinlingAction):
    def name(self) -> str:
        return "action_stop_form"

    def handle(self, turn: Turn) -> Events:
        turn.say(replies.STOPPED)
        return [ActiveLoop(None), SlotSet("requested_slot", None), SlotSet("cancel_choice", None),
                SlotSet("visit_service", None), SlotSet("visit_date", None), *clear_order_slots()]


class ActionRepeat(YinlingAction):
    """Say the previous answer again, marked for slower speech."""

    def name(self) -> str:
        return "action_repeat"

    def handle(self, turn: Turn) -> Events:
        lines = _previous_answer(turn.tracker.events) or _previous_answer_logged(turn.sender)
        if not lines:
            turn.say(replies.NOTHING_TO_REPEAT)
            return []
        for text, buttons in lines:
            turn.say(text, buttons=buttons, speech_rate="slow")
        return []


def _previous_answer(events: list[dict]) -> list[tuple[str, list | None]]:
    """The bot lines of the turn before the current message, in this session."""
    index = len(events) - 1
    while index >= 0 and events[index].get("event") != "user":  # back to the current message
        index -= 1
    index -= 1
    lines = []
    while index >= 0 and events[index].get("event") not in ("user", "session_started"):
        if events[index].get("event") == "bot" and events[index].get("text"):
            lines.append((events[index]["text"], (events[index].get("data") or {}).get("buttons") or None))
        index -= 1
    return lines[::-1]


def _previous_answer_logged(conversation_id: str) -> list[tuple[str, None]]:
    """The last answer in the conversation log, when the session has none (the gateway started a
    new session in a long conversation, or the call before this one just ended), if it is recent:
    an answer from hours ago is not what "再说一遍" means. The current message is not logged yet."""
    try:
        turns = runtime.services().conversation(conversation_id, limit=REPEAT_LOOKBACK_TURNS)
    except ServiceError:
        return []
    lines: list[tuple[str, None]] = []
    for line in reversed(turns):
        if line.role != "bot":
            break
        lines.append((line.text, None))
    if not lines:
        return []
    return lines[::-1] if utcnow() - as_utc(turns[-1].created_at) <= REPEAT_LOG_WINDOW else []


class ActionFallback(YinlingAction):
    """Ask once more in plain words; the second miss in a row goes to a human."""

    def name(self) -> str:
        return "action_fallback"

    def handle(self, turn: Turn) -> Events:
        return smalltalk.not_understood(turn)


class ActionHandoff(YinlingAction):
    def name(self) -> str:
        return "action_handoff"

    def handle(self, turn: Turn) -> Events:
        turn.say(replies.HANDOFF)
        return hand_off(turn, "asked_for_human")
