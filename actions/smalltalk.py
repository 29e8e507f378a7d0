"""Small talk that is not small: the date and the time, loneliness, a complaint said in passing.

Elders ask the day and the time constantly, say they are lonely, and mention a swollen
leg between two other things. Whatever the classifier made of such a message (chitchat,
out of scope, not understood), these are answered for what they are before any
general line, and none of them counts as a misunderstanding.
"""
from __future__ import annotations

import random
import re

from rasa_sdk.events import SlotSet

from actions import care, replies, runtime
from actions.base import Events, YinlingAction, hand_off
from actions.context import Turn
from actions.forms import FORM_MOVE, Move, misses_before, previous_action
from actions.meals import correct_pending, parse_order_text
from actions.visits import correct_visit
from services.errors import UnknownResident
from zhtext.dates import parse_date
from zhtext.kinds import parse_service
from zhtext.when import parse_time_question, time_answer

FALLBACKS_BEFORE_HANDOFF = 2
# A message with no Chinese at all ("qwerty asdf") is not small talk, whatever the classifier says.
IDENTITY = re.compile(r"你是谁|你叫什么|你叫啥|你是干啥的|你是干什么的|你是哪个|你是啥|你是机器人")
CHINESE = re.compile(r"[\u4e00-\u9fff]")


def not_understood(turn: Turn) -> Events:
    """Ask once more in plain words; the second miss in a row (here or in a form) goes to a human."""
    understood = understood_anyway(turn)  # the date, a symptom, loneliness: not a miss
    if understood is not None:
        return understood
    correction = correct_what_was_read_back(turn)  # "不对，是洗澡，助浴" at a read-back
    if correction is not None:
        return correction
    if previous_action(turn) == "action_health" and WHERE_TO_GO.search(turn.text):
        return where_to_see_a_doctor(turn)  # "那我去哪看看" after a complaint
    if misses_before(turn.tracker.events) + 1 >= FALLBACKS_BEFORE_HANDOFF:
        turn.say(replies.FALLBACK_HANDOFF)
        return hand_off(turn, "two_fallbacks")
    turn.say(replies.FALLBACK_FIRST)
    return [SlotSet(FORM_MOVE, Move.MISS.value)]


DOCTOR_WITHIN_M = 20_000  # farther than this, "the nearest 卫生室" is no answer: a person helps instead
WHERE_TO_GO = re.compile(r"去哪|哪儿|哪里|哪看|找谁|上哪")


def correct_what_was_read_back(turn: Turn) -> Events | None:
    """A message the classifier did not place, that names what a waiting read-back holds, corrects it."""
    pending = turn.slot("pending") or {}
    if pending.get("kind") == "meal" and any(parse_order_text(turn.text, runtime.today()).values()):
        return correct_pending(turn, pending)
    if pending.get("kind") == "visit" and (parse_service(turn.text) or parse_date(turn.text, runtime.today())):
        return correct_visit(turn, pending)
    return None


def where_to_see_a_doctor(turn: Turn) -> Events:
    try:
        hits = runtime.services().nearest_facilities(turn.sender, kind="health_station", limit=1)
    except UnknownResident:
        hits = []
    hits = [h for h in hits if h.distance_m <= DOCTOR_WITHIN_M]
    turn.say(replies.nearest(hits[0], who=turn.addressee) if hits else replies.no_facility("health_station"))
    return []


def understood_anyway(turn: Turn) -> Events | None:
    """The answer for a time question, a symptom or loneliness; None when the message is none of them."""
    question = parse_time_question(turn.text)
    if question is not None:
        turn.say(time_answer(question, runtime.now()))
        return []
    return care.care_reply(turn)


class ActionChitchat(YinlingAction):
    def name(self) -> str:
        return "action_chitchat"

    def handle(self, turn: Turn) -> Events:
        if not CHINESE.search(turn.text):
            return not_understood(turn)
        understood = understood_anyway(turn)
        if understood is not None:
            return understood
        turn.say(replies.INTRO if IDENTITY.search(turn.text) else random.choice(replies.CHITCHAT))
        return []


class ActionOutOfScope(YinlingAction):
    def name(self) -> str:
        return "action_out_of_scope"

    def handle(self, turn: Turn) -> Events:
        if not CHINESE.search(turn.text):
            return not_understood(turn)
        understood = understood_anyway(turn)
        if understood is not None:
            return understood
        turn.say(replies.OUT_OF_SCOPE)
        return []
