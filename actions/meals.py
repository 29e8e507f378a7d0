"""Meal booking, menus and cancellation: form validation, read-back, cancel."""
from __future__ import annotations

import uuid
from datetime import date
from typing import Any

from rasa_sdk.events import FollowupAction, SlotSet

from actions import replies, runtime
from actions.base import Events, YinlingAction
from actions.context import LEAVE_ANY_FORM, Turn
from actions.info import named_facility
from services.errors import (
    DuplicateOrder,
    InvalidRequest,
    MealFull,
    NoMealService,
    OrderNotFound,
    TooLateToCancel,
    UnknownResident,
)
from zhtext.dates import parse_date
from zhtext.meals import parse_meal, parse_mode
from zhtext.numbers import parse_count

FORM_SLOTS = ("meal_date", "meal", "portions", "meal_mode")
UNKNOWN = "?"  # fills a slot for an unknown resident so the read-back can explain
LEAVE_FORM = LEAVE_ANY_FORM | {"request_home_visit"}


def parse_order_text(text: str, today: date) -> dict[str, Any]:
    """Whatever of date, meal, portions and mode the elder said in one breath."""
    day = parse_date(text, today)
    return {
        "meal_date": day.isoformat() if day else None,
        "meal": parse_meal(text),
        "portions": parse_count(text),
        "meal_mode": parse_mode(text),
    }


def named_canteen(text: str) -> str | None:
    """A canteen the elder named by its village or community (赵王村, 金融社区 …)."""
    facility = named_facility(text)
    return facility.id if facility is not None and facility.kind == "canteen" else None


def default_canteen(sender: str) -> str | None:
    """The resident's own canteen, or the nearest one when none is on record."""
    services = runtime.services()
    resident = services.get_resident(sender)
    if resident.home_canteen_id:
        return resident.home_canteen_id
    hits = services.nearest_facilities(sender, kind="canteen", limit=1)
    return hits[0].facility.id if hits else None


def clear_order_slots() -> Events:
    return [SlotSet(s, None) for s in (*FORM_SLOTS, "meal_canteen", "pending")]


class ValidateMealOrderForm(YinlingAction):
    def name(self) -> str:
        return "validate_meal_order_form"

    def handle(self, turn: Turn) -> Events:
        today = runtime.today()
        services = runtime.services()
        parsed = parse_order_text(turn.text, today)
        canteen_id = named_canteen(turn.text)
        canteen = [SlotSet("meal_canteen", canteen_id)] if canteen_id else []
        requested = turn.slot("requested_slot")
        if requested is None:  # activation: start from what this message says, nothing stale
            try:
                services.get_resident(turn.sender)
            except UnknownResident:
                return [SlotSet(s, parsed[s] or UNKNOWN) for s in FORM_SLOTS]
            existing = already_booked(turn.sender, parsed["meal_date"], parsed["meal"])
            if existing is not None:  # nothing left to ask: the read-back says it is booked
                parsed["portions"] = parsed["portions"] or existing.portions
                parsed["meal_mode"] = parsed["meal_mode"] or existing.mode
            return [SlotSet(s, parsed[s]) for s in FORM_SLOTS] + [SlotSet("meal_canteen", canteen_id)]
        found = {k: v for k, v in parsed.items() if v is not None}
        if requested == "portions" and "portions" not in found:
            # a bare number answers "要几份？"
            count = parse_count(turn.text + "份") if len(turn.text) <= 3 else None
            if count:
                found["portions"] = count
        if not found and not canteen:
            if turn.intent in LEAVE_FORM:
                return []  # let that intent's rule answer; the form resumes after
            return [SlotSet(requested, None)]  # ask again
        return [SlotSet(k, v) for k, v in found.items()] + canteen + _finish_if_already_booked(turn, found)


def already_booked(sender: str, day_iso: str | None, meal: str | None) -> Any | None:
    if not day_iso or not meal or day_iso == UNKNOWN:
        return None
    day = date.fromisoformat(day_iso)
    orders = runtime.services().upcoming_orders(sender, today=runtime.today())
    return next((o for o in orders if o.date == day and o.meal == meal), None)


def _finish_if_already_booked(turn: Turn, found: dict[str, Any]) -> Events:
    """Same day and meal already booked: stop asking, the read-back will say so."""
    merged = {s: turn.slot(s) for s in FORM_SLOTS} | found
    existing = already_booked(turn.sender, merged["meal_date"], merged["meal"])
    if existing is None:
        return []
    fill = {"portions": existing.portions, "meal_mode": existing.mode}
    return [SlotSet(k, v) for k, v in fill.items() if merged[k] is None]


def read_back(turn: Turn) -> Events:
    """Quote the order in the slots and ask for a yes; never books by itself."""
    today = runtime.today()
    services = runtime.services()
    values = {s: turn.slot(s) for s in FORM_SLOTS}
    if UNKNOWN in values.values():
        services.get_resident(turn.sender)  # raises UnknownResident: handoff
    day = date.fromisoformat(values["meal_date"])
    existing = already_booked(turn.sender, values["meal_date"], values["meal"])
    if existing is not None:
        turn.say(replies.duplicate_order(existing, today))
        return clear_order_slots()
    try:
        quote = services.quote_meal(
            turn.sender, day, values["meal"], int(values["portions"]),
            canteen_id=turn.slot("meal_canteen") or default_canteen(turn.sender),
            mode=values["meal_mode"], today=today,
        )
    except MealFull as e:
        turn.say(replies.meal_full(day, values["meal"], e.remaining, today))
        return clear_order_slots()
    except DuplicateOrder as e:
        turn.say(replies.duplicate_order(e.existing, today))
        return clear_order_slots()
    except NoMealService:
        turn.say(replies.no_meal_service(day, values["meal"], today))
        return clear_order_slots()
    except InvalidRequest:
        turn.say(replies.invalid_meal_request(today))
        return clear_order_slots()
    pending = {
        "kind": "meal", "id": uuid.uuid4().hex, "date": day.isoformat(), "meal": quote.meal,
        "portions": quote.portions, "canteen_id": quote.canteen_id, "mode": quote.mode,
    }
    turn.say(replies.meal_readback(quote, today), buttons=replies.YES_NO_BUTTONS)
    return [SlotSet("pending", pending)]


class ActionMealReadback(YinlingAction):
    def name(self) -> str:
        return "action_meal_readback"

    def handle(self, turn: Turn) -> Events:
        return read_back(turn)


def book_pending(turn: Turn, pending: dict[str, Any]) -> Events:
    today = runtime.today()
    day = date.fromisoformat(pending["date"])
    try:
        order = runtime.services().book_meal(
            turn.sender, day, pending["meal"], int(pending["portions"]),
            canteen_id=pending["canteen_id"], mode=pending["mode"],
            idempotency_key=f"meal:{turn.sender}:{pending['id']}", actor=turn.actor,
            today=today,
        )
    except MealFull as e:
        turn.say(replies.meal_full(day, pending["meal"], e.remaining, today))
    except DuplicateOrder as e:
        turn.say(replies.duplicate_order(e.existing, today))
    except (NoMealService, InvalidRequest):
        turn.say(replies.invalid_meal_request(today))
    else:
        turn.say(replies.meal_booked(order, today))
    return clear_order_slots()


def correct_pending(turn: Turn, pending: dict[str, Any]) -> Events:
    """'不对，是两份': apply what the elder corrected and read back again."""
    today = runtime.today()
    found = {k: v for k, v in parse_order_text(turn.text, today).items() if v is not None}
    if not found:
        turn.say(replies.CORRECTION_UNCLEAR)
        return clear_order_slots()
    current = {
        "meal_date": pending["date"], "meal": pending["meal"],
        "portions": pending["portions"], "meal_mode": pending["mode"],
    }
    current.update(found)
    events: Events = [SlotSet(k, v) for k, v in current.items()]
    events.append(SlotSet("meal_canteen", pending["canteen_id"]))
    turn.tracker.slots.update(current)
    turn.tracker.slots["meal_canteen"] = pending["canteen_id"]
    return events + read_back(turn)


class ActionMenu(YinlingAction):
    def name(self) -> str:
        return "action_menu"

    def handle(self, turn: Turn) -> Events:
        today = runtime.today()
        services = runtime.services()
        day = parse_date(turn.text, today) or today
        meal = parse_meal(turn.text)
        canteen_id = named_canteen(turn.text)
        if canteen_id is None:
            try:
                canteen_id = default_canteen(turn.sender)
            except UnknownResident:
                canteen_id = None
        if canteen_id is None:
            turn.say("您说一下是哪个村、哪个社区的食堂，我帮您查菜单。")
            return []
        options = services.menu(canteen_id, day, meal, resident_id=turn.sender)
        turn.say(replies.menu(options, day, today))
        return []


def orders_matching(orders: list[Any], text: str, today: date) -> list[Any]:
    day = parse_date(text, today)
    meal = parse_meal(text)
    return [o for o in orders if (day is None or o.date == day) and (meal is None or o.meal == meal)]


class ActionCancelMeal(YinlingAction):
    def name(self) -> str:
        return "action_cancel_meal"

    def handle(self, turn: Turn) -> Events:
        today = runtime.today()
        orders = runtime.services().upcoming_orders(turn.sender, today=today)
        if not orders:
            turn.say(replies.no_orders())
            return [SlotSet("cancel_choice", None)]
        choice = turn.slot("cancel_choice")
        from_form = choice is not None
        candidates = orders_matching(orders, choice if from_form else turn.text, today)
        if len(candidates) == 1:
            order = candidates[0]
            turn.say(replies.cancel_readback(order, today), buttons=replies.YES_NO_BUTTONS)
            pending = {"kind": "cancel", "id": uuid.uuid4().hex, "order_id": order.id}
            return [SlotSet("pending", pending), SlotSet("cancel_choice", None)]
        if not candidates and (from_form or parse_date(turn.text, today) or parse_meal(turn.text)):
            turn.say(replies.no_matching_order(today))
        if from_form:
            turn.say(replies.cancel_choose(orders, today))
            return [SlotSet("cancel_choice", None)]
        return [SlotSet("cancel_choice", None), FollowupAction("cancel_choice_form")]


class ActionAskCancelChoice(YinlingAction):
    def name(self) -> str:
        return "action_ask_cancel_choice"

    def handle(self, turn: Turn) -> Events:
        today = runtime.today()
        orders = runtime.services().upcoming_orders(turn.sender, today=today)
        turn.say(replies.cancel_choose(orders, today))
        return []


class ValidateCancelChoiceForm(YinlingAction):
    def name(self) -> str:
        return "validate_cancel_choice_form"

    def handle(self, turn: Turn) -> Events:
        if turn.slot("requested_slot") is None:
            return [SlotSet("cancel_choice", None)]  # activation: ask which one
        today = runtime.today()
        if parse_date(turn.text, today) or parse_meal(turn.text):
            return [SlotSet("cancel_choice", turn.text)]
        if turn.intent in LEAVE_FORM:
            return []
        return [SlotSet("cancel_choice", None)]


def cancel_pending(turn: Turn, pending: dict[str, Any]) -> Events:
    today = runtime.today()
    try:
        order = runtime.services().cancel_order(
            turn.sender, pending["order_id"], actor=turn.actor, today=today
        )
    except TooLateToCancel:
        turn.say(replies.too_late_to_cancel())
    except OrderNotFound:
        turn.say(replies.no_matching_order(today))
    else:
        turn.say(replies.cancelled(order, today))
    return [SlotSet("pending", None)]
