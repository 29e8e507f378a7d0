"""Small talk that is not small: the date and the time, loneliness, a complaint said in passing.

Elders ask the day and the time constantly, say they are lonely, and mention a swollen
leg between two other things. Whatever the classifier made of such a message (chitchat,
out of scope, not understood), these are answered for what they are before any
general line, and none of them counts as a misunderstanding.
"""
from __future__ import annotations

import random

from actions import care, replies, runtime
from actions.base import Events, YinlingAction
from actions.context import Turn
from zhtext.when import parse_time_question, time_answer


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
        understood = understood_anyway(turn)
        if understood is not None:
            return understood
        turn.say(random.choice(replies.CHITCHAT))
        return []


class ActionOutOfScope(YinlingAction):
    def name(self) -> str:
        return "action_out_of_scope"

    def handle(self, turn: Turn) -> Events:
        understood = understood_anyway(turn)
        if understood is not None:
            return understood
        turn.say(replies.OUT_OF_SCOPE)
        return []
