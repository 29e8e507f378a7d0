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
from actions.forms import FORM_MOVE, Move, misses_before
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
    if misses_before(turn.tracker.events) + 1 >= FALLBACKS_BEFORE_HANDOFF:
        turn.say(replies.FALLBACK_HANDOFF)
        return hand_off(turn, "two_fallbacks")
    turn.say(replies.FALLBACK_FIRST)
    return [SlotSet(FORM_MOVE, Move.MISS.value)]


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
