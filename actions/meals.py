"""Meal booking, menus and cancellation: form validation, read-back, cancel."""
from __future__ import annotations

import re
import uuid
from datetime import date
from typing import Any

from rasa_sdk.events import FollowupAction, SlotSet

from actions import care, replies, runtime
from actions.base import Events, YinlingAction
from actions.context import LEAVE_ANY_FORM, Turn
from actions.forms import (
    CORRECTING,
    EXIT_WORDS,
    FORM_MOVE,
    Move,
    classify,
    end_form,
    move_this_turn,
    previous_action,
    said_this_turn,
    settle,
)
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
from zhtext.dates import parse_date, parse_dates
from zhtext.meals import parse_meal, parse_meals, parse_mode
from zhtext.numbers import parse_count
from zhtext.when import parse_time_question, time_answer

FORM_SLOTS = ("meal_date", "meal", "portions", "meal_mode")
MORE = "meal_more"  # further (day, meal) pairs said in the same breath: "明天和后天的午饭"
UNKNOWN = "?"  # fills a slot for an unknown resident so the read-back can explain
# What the elder may ask in the middle of the booking: answered by its own rule, then the form resumes.
DIGRESSIONS = (LEAVE_ANY_FORM - {"deny", "goodbye", "request_help", "handoff_human"}) | {
    "request_home_visit", "ask_menu", "chitchat", "ask_my_bookings", "greet"}
# A self-correction: what comes after the last of these wins ("三份……哎呀说错了，两份").
CORRECTION = re.compile(r"不对|不是|改成|改为|换成|说错了|搞错了|错了|[，,。]是")
CLAUSE = re.compile(r"[，,。；;]")
# Words that order a meal; without one, a complaint or loneliness is not a booking
ORDER_WORDS = re.compile(r"订|定|饭|餐|份|送|要")
# Words that make a message about a meal, whatever came before it
MEAL_TALK = re.compile(r"订|定|饭|餐|吃|份|早上|中午|晌午|晚上|黑夜")
# 份 and 分 sound alike: "定一分饭" is a portion, not a minute or a cent
MISHEARD_PORTION = re.compile(r"(?<=[一两二三四五六七八九十俩仨\d])分(?=饭|餐|儿|吧|就|$)")
NEGATED = re.compile(r"^(?:不要|不用|不订|别|甭|不)")


def _last(parts: list[str], parse) -> Any:
    for part in reversed(parts):
        value = parse(part)
        if value:
            return value
    return None


def parse_order_text(text: str, today: date) -> dict[str, Any]:
    """Whatever of day(s), meal(s), portions and mode the elder said in one breath, with their
    self-corrections applied (each slot from the last clause that names it; "不要午饭" is no
    choice of lunch); several days or meals become `meal_more` items after the first."""
    text = MISHEARD_PORTION.sub("份", text)
    parts = [p for p in CORRECTION.split(text) if p]
    clauses = [c for p in parts for c in CLAUSE.split(p) if c and not NEGATED.match(c)] or [text]
    dates = _last(parts, lambda p: parse_dates(p, today)) or []
    meals = list(_last(parts, parse_meals) or ())
    meal = _last(clauses, parse_meal)
    if meal and len(meals) <= 1:
        meals = [meal]
    items: list[tuple[date, str | None]] = []
    if len(dates) > 1 and len(meals) == len(dates):
        items = list(zip(dates, meals, strict=True))
    elif len(dates) > 1:
        items = [(d, meal) for d in dates]
    elif dates and len(meals) > 1:
        items = [(dates[0], m) for m in meals]
    first_meal = items[0][1] if items else meal
    # a meal shared with the first is left to follow it, so that "改成晚饭" changes every day's
    more = [{"date": d.isoformat(), "meal": None if m == first_meal else m} for d, m in items[1:]]
    return {
        "meal_date": dates[0].isoformat() if dates else None,
        "meal": first_meal,
        "portions": _last(clauses, parse_count),
        "meal_mode": _last(clauses, parse_mode),
        MORE: more or None,
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
    return [SlotSet(s, None) for s in (*FORM_SLOTS, MORE, "meal_canteen", "pending")]


def _from_pending(pending: dict[str, Any]) -> dict[str, Any]:
    items = pending.get("items") or [pending]
    return {
        "meal_date": items[0]["date"], "meal": items[0]["meal"], "portions": pending["portions"],
        "meal_mode": pending["mode"],
        MORE: [{"date": i["date"], "meal": None if i["meal"] == items[0]["meal"] else i["meal"]}
               for i in items[1:]] or None,
    }


class ValidateMealOrderForm(YinlingAction):
    def name(self) -> str:
        return "validate_meal_order_form"

    def handle(self, turn: Turn) -> Events:
        today = runtime.today()
        services = runtime.services()
        parsed = parse_order_text(turn.text, today)
        canteen_id = named_canteen(turn.text)
        requested = turn.slot("requested_slot")
        if requested is None:  # activation: start from what this message says, nothing stale
            try:
                services.get_resident(turn.sender)
            except UnknownResident:
                return [SlotSet(s, parsed[s] or UNKNOWN) for s in FORM_SLOTS]
            if not ORDER_WORDS.search(turn.text):
                # "黑夜一个人，冷清得很" names an evening and one person, and orders nothing
                cared = care.care_reply(turn)
                if cared is not None:
                    return end_form(clear_order_slots()) + cared
            if previous_action(turn) == "action_out_of_scope" and not MEAL_TALK.search(turn.text):
                # "明天" right after "帮我订张火车票" was refused is about the ticket, not a meal
                turn.say(replies.MEAL_OR_NOT)
                return end_form(clear_order_slots())
            pending = turn.slot("pending") or {}
            if pending.get("kind") == "meal" and CORRECTING.search(turn.text):
                # "改成晚饭" after a read-back: the order read back, with the change
                changes = {k: v for k, v in parsed.items() if v}
                parsed = _from_pending(pending) | changes
                canteen_id = canteen_id or pending.get("canteen_id")
            existing = already_booked(turn.sender, parsed["meal_date"], parsed["meal"])
            if existing is not None and not parsed[MORE]:  # nothing left to ask: the read-back says so
                parsed["portions"] = parsed["portions"] or existing.portions
                parsed["meal_mode"] = parsed["meal_mode"] or existing.mode
            said = any(parsed[s] for s in FORM_SLOTS)  # "好，明天的午饭。要几份？"
            return [SlotSet(s, parsed[s]) for s in (*FORM_SLOTS, MORE)] + [
                SlotSet("meal_canteen", canteen_id), SlotSet(FORM_MOVE, Move.ANSWER.value if said else None)]
        found = {k: v for k, v in parsed.items() if v}
        if requested == "portions" and "portions" not in found:
            # a bare number answers "要几份？"
            count = parse_count(turn.text + "份") if len(turn.text) <= 3 else None
            if count:
                found["portions"] = count
        if canteen_id:
            found["meal_canteen"] = canteen_id
        move = classify(turn, "meal_order_form", found, DIGRESSIONS)
        slot_events = [SlotSet(k, v) for k, v in found.items()] + _finish_if_already_booked(turn, found)
        return settle(turn, move, requested, "订饭", clear_order_slots(), slot_events)


def already_booked(sender: str, day_iso: str | None, meal: str | None) -> Any | None:
    if not day_iso or not meal or day_iso == UNKNOWN:
        return None
    day = date.fromisoformat(day_iso)
    orders = runtime.services().upcoming_orders(sender, today=runtime.today())
    return next((o for o in orders if o.date == day and o.meal == meal and o.status == "booked"), None)


def _finish_if_already_booked(turn: Turn, found: dict[str, Any]) -> Events:
    """Same day and meal already booked: stop asking, the read-back will say so."""
    merged = {s: turn.slot(s) for s in (*FORM_SLOTS, MORE)} | found
    if merged[MORE]:
        return []
    existing = already_booked(turn.sender, merged["meal_date"], merged["meal"])
    if existing is None:
        return []
    fill = {"portions": existing.portions, "meal_mode": existing.mode}
    return [SlotSet(k, v) for k, v in fill.items() if merged[k] is None]


def _items(values: dict[str, Any], more: list[dict[str, Any]] | None) -> list[tuple[date, str]]:
    items = [(date.fromisoformat(values["meal_date"]), values["meal"])]
    for item in more or []:
        pair = (date.fromisoformat(item["date"]), item.get("meal") or values["meal"])
        if pair not in items:
            items.append(pair)
    return items


def read_back(turn: Turn) -> Events:
    """Quote the order(s) in the slots and ask for one yes; never books by itself."""
    today = runtime.today()
    services = runtime.services()
    values = {s: turn.slot(s) for s in FORM_SLOTS}
    if UNKNOWN in values.values():
        services.get_resident(turn.sender)  # raises UnknownResident: handoff
    if any(v is None for v in values.values()):
        return []  # the form was left (算了, 再见): nothing to read back
    canteen_id = turn.slot("meal_canteen") or default_canteen(turn.sender)
    quotes, booked_already = [], []
    for day, meal in _items(values, turn.slot(MORE)):
        existing = already_booked(turn.sender, day.isoformat(), meal)
        if existing is not None:
            booked_already.append(existing)
            continue
        try:
            quotes.append(services.quote_meal(
                turn.sender, day, meal, int(values["portions"]), canteen_id=canteen_id,
                mode=values["meal_mode"], today=today,
            ))
        except MealFull as e:
            turn.say(replies.meal_full(day, meal, e.remaining, today))
            return clear_order_slots()
        except DuplicateOrder as e:
            booked_already.append(e.existing)
        except NoMealService:
            turn.say(replies.no_meal_service(day, meal, today))
            return clear_order_slots()
        except InvalidRequest:
            turn.say(replies.invalid_meal_request(today))
            return clear_order_slots()
    if not quotes:
        turn.say(replies.duplicate_order(booked_already[0], today, who=turn.addressee))
        return clear_order_slots()
    pending = {
        "kind": "meal", "id": uuid.uuid4().hex, "date": quotes[0].date.isoformat(), "meal": quotes[0].meal,
        "portions": quotes[0].portions, "canteen_id": quotes[0].canteen_id, "mode": quotes[0].mode,
        "items": [{"date": q.date.isoformat(), "meal": q.meal} for q in quotes],
    }
    text = replies.meal_readback_many(quotes, today, who=turn.addressee) if len(quotes) > 1 else replies.meal_readback(quotes[0], today, who=turn.addressee)
    if booked_already:
        text = replies.already_booked_note(booked_already, today, who=turn.addressee) + text
    turn.say(text, buttons=replies.YES_NO_BUTTONS)
    return [SlotSet("pending", pending), SlotSet(FORM_MOVE, None)]


class ActionMealReadback(YinlingAction):
    def name(self) -> str:
        return "action_meal_readback"

    def handle(self, turn: Turn) -> Events:
        return read_back(turn)


def book_pending(turn: Turn, pending: dict[str, Any]) -> Events:
    """Book every item read back, after the one yes; each under its own idempotency key."""
    today = runtime.today()
    items = pending.get("items") or [{"date": pending["date"], "meal": pending["meal"]}]
    booked = []
    for i, item in enumerate(items):
        day = date.fromisoformat(item["date"])
        key = f"meal:{turn.sender}:{pending['id']}" + (f":{i}" if i else "")
        try:
            booked.append(runtime.services().book_meal(
                turn.sender, day, item["meal"], int(pending["portions"]),
                canteen_id=pending["canteen_id"], mode=pending["mode"],
                idempotency_key=key, actor=turn.actor, today=today,
            ))
        except MealFull as e:
            turn.say(replies.meal_full(day, item["meal"], e.remaining, today))
        except DuplicateOrder as e:
            if len(items) == 1:
                turn.say(replies.duplicate_order(e.existing, today, who=turn.addressee))
            else:
                booked.append(e.existing)
        except (NoMealService, InvalidRequest):
            turn.say(replies.invalid_meal_request(today))
    if booked:
        turn.say(replies.meals_booked(booked, today, who=turn.addressee))
    return clear_order_slots()


def correct_pending(turn: Turn, pending: dict[str, Any]) -> Events:
    """'不对，是两份': apply what the elder corrected and read back again; a bare '不对' asks what."""
    today = runtime.today()
    found = {k: v for k, v in parse_order_text(turn.text, today).items() if v is not None}
    if not found:
        if EXIT_WORDS.search(turn.text):
            turn.say(replies.form_stopped("订饭"))
            return clear_order_slots()
        turn.say(replies.WHAT_TO_CHANGE_MEAL)
        return []  # the order stays read back: "对" still books it, "改成晚饭" changes it
    current = _from_pending(pending) | found
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
        booking = (turn.tracker.active_loop or {}).get("name") == "meal_order_form" or \
            (turn.slot("pending") or {}).get("kind") == "meal"
        turn.say(replies.menu(options, day, today, who=turn.addressee, offer=not booking))
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
        choice = turn.slot("cancel_choice")
        from_form = choice is not None
        if not from_form and turn.tracker.latest_action_name == "cancel_choice_form":
            return []  # the choice form was left (算了, 再见): it has said so
        pending = turn.slot("pending") or {}
        if not from_form and pending.get("kind") == "meal" and CORRECTING.search(turn.text):
            return correct_pending(turn, pending)  # "不要午饭了，改成晚饭" at a read-back
        orders = runtime.services().upcoming_orders(turn.sender, today=today)
        if not orders:
            turn.say(replies.no_orders(who=turn.addressee))
            return [SlotSet("cancel_choice", None)]
        candidates = orders_matching(orders, choice if from_form else turn.text, today)
        if len(candidates) == 1:
            order = candidates[0]
            turn.say(replies.cancel_readback(order, today), buttons=replies.YES_NO_BUTTONS)
            pending = {"kind": "cancel", "id": uuid.uuid4().hex, "order_id": order.id}
            return [SlotSet("pending", pending), SlotSet("cancel_choice", None)]
        if not candidates and (from_form or parse_date(turn.text, today) or parse_meal(turn.text)):
            turn.say(replies.no_matching_order(today))
        if from_form:
            turn.say(replies.cancel_choose(orders, today, who=turn.addressee))
            return [SlotSet("cancel_choice", None)]
        return [SlotSet("cancel_choice", None), FollowupAction("cancel_choice_form")]


class ActionAskCancelChoice(YinlingAction):
    def name(self) -> str:
        return "action_ask_cancel_choice"

    def handle(self, turn: Turn) -> Events:
        today = runtime.today()
        orders = runtime.services().upcoming_orders(turn.sender, today=today)
        question = replies.cancel_choose(orders, today, who=turn.addressee)
        move = move_this_turn(turn)
        if move is Move.MISS:
            turn.say("我没听清是哪一顿。" + question)
        elif move is Move.THANK:
            turn.say("不客气，咱们接着说取消的事：" + question)
        elif move is Move.TIME:
            turn.say(time_answer(parse_time_question(turn.text), runtime.now()))
            turn.say("咱们接着说取消的事：" + question)
        elif move is Move.BARE_DENY:
            turn.say(replies.WHAT_TO_CHANGE)
            turn.say(question)
        elif said_this_turn(turn):
            turn.say("咱们接着说取消的事：" + question)
        else:
            turn.say(question)
        return []


# Asking which meal to cancel, the elder may still ask about anything else.
CANCEL_DIGRESSIONS = DIGRESSIONS - {"cancel_meal"} | {"book_meal"}


class ValidateCancelChoiceForm(YinlingAction):
    def name(self) -> str:
        return "validate_cancel_choice_form"

    def handle(self, turn: Turn) -> Events:
        requested = turn.slot("requested_slot")
        if requested is None:
            return [SlotSet("cancel_choice", None), SlotSet(FORM_MOVE, None)]  # activation: ask which one
        today = runtime.today()
        found = {"cancel_choice": turn.text} if parse_date(turn.text, today) or parse_meal(turn.text) else {}
        move = classify(turn, "cancel_choice_form", found, CANCEL_DIGRESSIONS)
        slot_events = [SlotSet(k, v) for k, v in found.items()]
        return settle(turn, move, "cancel_choice", "取消订饭", [SlotSet("cancel_choice", None)], slot_events)


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
        turn.say(replies.cancelled(order, today, who=turn.addressee))
    return [SlotSet("pending", None)]
