"""Home-visit requests (理发, 助浴, 保洁, 送药, 陪诊, 维修 …): form, read-back, ticket."""
from __future__ import annotations

import uuid
from datetime import date
from typing import Any

from rasa_sdk.events import SlotSet

from actions import replies, runtime
from actions.base import Events, YinlingAction
from actions.context import LEAVE_ANY_FORM, Turn
from actions.forms import CORRECTING, EXIT_WORDS, FORM_MOVE, Move, classify, settle
from zhtext.dates import parse_date
from zhtext.kinds import parse_service

# What the elder may ask while choosing a service: answered by its own rule, then the form resumes.
DIGRESSIONS = (LEAVE_ANY_FORM - {"deny", "goodbye", "request_help", "handoff_human"}) | {
    "book_meal", "ask_menu", "chitchat", "ask_my_bookings", "greet"}


def clear_visit_slots() -> Events:
    return [SlotSet("visit_service", None), SlotSet("visit_date", None), SlotSet("pending", None)]


class ValidateHomeVisitForm(YinlingAction):
    def name(self) -> str:
        return "validate_home_visit_form"

    def handle(self, turn: Turn) -> Events:
        today = runtime.today()
        service = parse_service(turn.text)
        day = parse_date(turn.text, today)
        if turn.slot("requested_slot") is None:  # activation: nothing stale
            runtime.services().get_resident(turn.sender)  # unknown resident: handoff
            pending = turn.slot("pending") or {}
            if pending.get("kind") == "visit" and CORRECTING.search(turn.text):
                # "改成后天" after a read-back: the visit read back, with the change
                service = service or pending["service"]
                day = day or (date.fromisoformat(pending["date"]) if pending.get("date") else None)
            return [SlotSet("visit_service", service), SlotSet("visit_date", day.isoformat() if day else None),
                    SlotSet(FORM_MOVE, Move.ANSWER.value if service or day else None)]
        found: dict[str, Any] = {}
        if service:
            found["visit_service"] = service
        if day:
            found["visit_date"] = day.isoformat()
        move = classify(turn, "home_visit_form", found, DIGRESSIONS)
        slot_events = [SlotSet(k, v) for k, v in found.items()]
        return settle(turn, move, "visit_service", "约上门服务", clear_visit_slots(), slot_events)


def _service_name(code: str) -> str:
    return dict(runtime.services().service_types()).get(code, code)


def visit_read_back(turn: Turn, service: str, day_iso: str | None) -> Events:
    today = runtime.today()
    day = date.fromisoformat(day_iso) if day_iso else None
    pending = {"kind": "visit", "id": uuid.uuid4().hex, "service": service, "date": day_iso}
    turn.say(replies.visit_readback(_service_name(service), day, today, who=turn.addressee), buttons=replies.YES_NO_BUTTONS)
    return [SlotSet("pending", pending)]


class ActionVisitReadback(YinlingAction):
    def name(self) -> str:
        return "action_visit_readback"

    def handle(self, turn: Turn) -> Events:
        if not turn.slot("visit_service"):
            return []  # the form was left (算了, 再见): nothing to read back
        return visit_read_back(turn, turn.slot("visit_service"), turn.slot("visit_date"))


def book_visit(turn: Turn, pending: dict[str, Any]) -> Events:
    today = runtime.today()
    ticket = runtime.services().create_ticket(
        turn.sender, pending["service"],
        date.fromisoformat(pending["date"]) if pending.get("date") else None,
        note=pending.get("note") or turn.last_said("request_home_visit") or "",
        idempotency_key=f"visit:{turn.sender}:{pending['id']}", actor=turn.actor,
    )
    turn.say(replies.visit_booked(ticket, today, who=turn.addressee))
    return clear_visit_slots()


def correct_visit(turn: Turn, pending: dict[str, Any]) -> Events:
    today = runtime.today()
    service = parse_service(turn.text)
    day = parse_date(turn.text, today)
    if not service and not day:
        # a plain no to an offer we made ("要不要我请人上门陪您聊聊？" "不用") drops it; only a
        # read-back of the elder's own request asks what to change
        if EXIT_WORDS.search(turn.text) or pending.get("offer"):
            turn.say(replies.form_stopped("约上门服务"))
            return clear_visit_slots()
        turn.say(replies.WHAT_TO_CHANGE_VISIT)
        return []  # still read back: "对" files it, "改成后天" changes it
    return visit_read_back(turn, service or pending["service"], day.isoformat() if day else pending.get("date"))
