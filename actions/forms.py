"""What an elder's message means while a form is asking its questions.

Rasa's form calls our validation action with every message; the validation decides
here, by the words as much as by the classifier, whether the message answers or
corrects the form, leaves it, asks for a person, digresses, or was not understood.
Elders do all of these in the middle of a form, and a form must not become a
dead end: thanks, goodbye, "算了" and a person work in every form, a digression
is answered and the form comes back with a reminder, and two misunderstandings
in a row bring a person, as they do outside forms.

What the form says next is decided by the ask actions (`actions.asks`), from the
move recorded in the `form_move` slot this turn.
"""
from __future__ import annotations

import enum
import re
from typing import Any, Iterable

from rasa_sdk.events import ActiveLoop, SlotSet

from actions import replies
from actions.base import Events, hand_off
from actions.context import Turn
from zhtext.emergency import detect_emergency
from zhtext.when import parse_time_question

FORM_MOVE = "form_move"
# Rasa's own actions that run between a message and the form within one turn
INTERNAL_ACTIONS = frozenset({"action_listen", "action_extract_slots", "action_session_start", None})

EXIT_WORDS = re.compile(
    r"算了|不要了|不订了|不用了|不办了|别订了|不弄了|以后再说|回头再说|先不订|先不要|先不用|不约了|不叫了|"
    r"不取消了|不退了|不想订了|不想要了|甭订了|甭弄了|不整了|拉倒|没事了"
)
LEAVE_WORDS = re.compile(r"再见|拜拜|挂了|我走了|先这样吧|就这样吧|不说了")
# "想找个人说说话" is loneliness, not a request for the desk
HUMAN_WORDS = re.compile(r"转人工|人工服务|真人|工作人员|接线员|客服|(?:找|叫|换)个人(?!说说话|说话|聊|陪|唠)")
BARE_DENY = re.compile(r"(?:哎呀|哎|嗯|不不)?(?:不对|不是|错了|说错了|搞错了|弄错了)(?:不对|不是)?[啊呀吧了的哦呢]*")
# Words of someone changing what was read back ("改成晚饭", "换成后天", "不是中午").
CORRECTING = re.compile(r"改|换|不对|不是|错了")
QUESTION = re.compile(r"吗|啥|什么|甚|哪|几|怎么|咋|多少|么|？|有没有|是不是")
CONFIDENT = 0.45  # the FallbackClassifier threshold: below it the intent is nlu_fallback anyway
BARE_ANSWER_CHARS = 8


class Move(str, enum.Enum):
    """What the latest message did to the form."""

    RESUMED = "resumed"        # the form comes back after another action answered a digression
    ANSWER = "answer"          # filled or corrected slots
    HELP = "help"              # an emergency: the help rule takes over
    HANDOFF = "handoff"        # asked for a person
    LEAVE = "leave"            # goodbye: the form ends
    EXIT = "exit"              # 算了 / 不要了: the form ends
    BARE_DENY = "bare_deny"    # "不对" without what to change: ask what
    THANK = "thank"            # politeness: answer and ask again
    TIME = "time"              # the date or the time of day: answered here, the form asks again
    DIGRESS = "digress"        # another intent's rule answers, the form asks again after
    MISS = "miss"              # not understood


def resumed(turn: Turn, form: str) -> bool:
    """True when the form runs again after another action in this same turn (a digression's answer)."""
    for event in reversed(turn.tracker.events):
        kind = event.get("event")
        if kind == "user":
            return False
        if kind == "action" and event.get("name") not in INTERNAL_ACTIONS | {form} \
                and not str(event.get("name")).startswith("validate_"):
            return True
    return False


def said_this_turn(turn: Turn) -> bool:
    """Something was already said since the latest message (a digression's answer)."""
    for event in reversed(turn.tracker.events):
        if event.get("event") == "user":
            return False
        if event.get("event") == "bot" and event.get("text"):
            return True
    return False


def ends_with_exit(text: str) -> bool:
    """"算了" / "午饭不要了" as the last words; "算了，改成后天" is a correction, not an exit."""
    matches = list(EXIT_WORDS.finditer(text))
    last = matches[-1] if matches else None
    return last is not None and not text[last.end():].strip("啊呀吧了的哦呢嘛。！，… ")


def is_bare_answer(text: str) -> bool:
    """Short and not a question: "后天", "两份吧", "晌午的" answer the form whatever the classifier says."""
    return len(text) <= BARE_ANSWER_CHARS and not QUESTION.search(text)


def classify(turn: Turn, form: str, found: dict[str, Any], digressions: Iterable[str]) -> Move:
    if resumed(turn, form):
        return Move.RESUMED
    text, intent = turn.text, turn.intent
    confidence = float((turn.tracker.latest_message.get("intent") or {}).get("confidence") or 0.0)
    if intent == "request_help" or detect_emergency(text):
        return Move.HELP
    if intent == "handoff_human" or HUMAN_WORDS.search(text):
        return Move.HANDOFF
    if ends_with_exit(text):  # "午饭不要了": it names a slot, and gives it up
        return Move.EXIT
    if parse_time_question(text) is not None:  # "今天几号" names a day, and answers nothing
        return Move.TIME
    digressing = intent in set(digressions) and confidence >= CONFIDENT
    if found and (is_bare_answer(text) or not digressing):
        return Move.ANSWER
    if parse_time_question(text) is not None:
        return Move.TIME
    if intent == "goodbye" or LEAVE_WORDS.search(text):
        return Move.LEAVE
    if EXIT_WORDS.search(text):
        return Move.EXIT
    if BARE_DENY.fullmatch(text.rstrip("。！，")):
        return Move.BARE_DENY
    if intent == "deny":
        return Move.EXIT
    if intent == "thank":
        return Move.THANK
    if digressing:
        return Move.DIGRESS
    if found:
        return Move.ANSWER
    return Move.MISS


def misses_before(events: list[dict[str, Any]]) -> int:
    """1 when the turn before the latest message was a misunderstanding (a fallback outside a form,
    a miss inside one), else 0. A new session starts the count afresh."""
    previous = current = False
    for event in events:
        kind = event.get("event")
        if kind == "session_started":
            previous = current = False
        elif kind == "user":
            previous, current = current, False
        elif kind == "action" and event.get("name") == "action_fallback":
            current = True
        elif kind == "slot" and event.get("name") == FORM_MOVE:
            current = event.get("value") == Move.MISS.value
    return int(previous)


def previous_action(turn: Turn) -> str | None:
    """The last action of the turn before the latest message (what the bot did last)."""
    seen_user = False
    for event in reversed(turn.tracker.events):
        kind = event.get("event")
        if kind == "user":
            if seen_user:
                return None
            seen_user = True
        elif seen_user and kind == "action" and event.get("name") not in INTERNAL_ACTIONS:
            return event.get("name")
    return None


def end_form(extra: Events | None = None) -> Events:
    """Leave the active form; the read-back actions see the slots empty and stay silent."""
    return [*(extra or []), SlotSet(FORM_MOVE, None), ActiveLoop(None), SlotSet("requested_slot", None)]


def settle(turn: Turn, move: Move, requested: str, topic: str, clear: Events,
           slot_events: Events) -> Events:
    """The events (and any words) for a move; `topic` names the form's business ("订饭")."""
    if move in (Move.RESUMED, Move.HELP, Move.DIGRESS):
        return []  # the form resumes quietly / the help rule / that intent's rule answers first
    if move is Move.HANDOFF:
        turn.say(replies.HANDOFF)
        return hand_off(turn, "asked_for_human") + clear
    if move is Move.LEAVE:
        turn.say(replies.form_left(topic))
        return end_form(clear)
    if move is Move.EXIT:
        turn.say(replies.form_stopped(topic))
        return end_form(clear)
    if move is Move.MISS and misses_before(turn.tracker.events):
        turn.say(replies.FALLBACK_HANDOFF)
        return hand_off(turn, "two_fallbacks") + clear
    if move is Move.ANSWER:
        return [*slot_events, SlotSet(FORM_MOVE, move.value)]
    # MISS, BARE_DENY, THANK, TIME: nothing filled; setting the requested slot to None keeps the
    # form from being rejected, and its ask action speaks for the move
    return [SlotSet(requested, None), SlotSet(FORM_MOVE, move.value)]


def move_this_turn(turn: Turn) -> Move | None:
    """The move the validation recorded since the latest message, if any."""
    for event in reversed(turn.tracker.events):
        kind = event.get("event")
        if kind == "user":
            return None
        if kind == "slot" and event.get("name") == FORM_MOVE and event.get("value"):
            return Move(event["value"])
    return None


def slots_set_this_turn(turn: Turn, names: Iterable[str]) -> dict[str, Any]:
    """The form slots the latest message set (to a value), in the order they were set."""
    wanted = set(names)
    changes: dict[str, Any] = {}
    for event in reversed(turn.tracker.events):
        kind = event.get("event")
        if kind == "user":
            break
        if kind == "slot" and event.get("name") in wanted and event.get("name") not in changes:
            changes[event["name"]] = event.get("value")
    return {k: v for k, v in reversed(list(changes.items())) if v is not None}


def value_before_turn(turn: Turn, name: str) -> Any:
    """The slot's value as it stood before the latest message (to tell a correction from a first answer)."""
    events = turn.tracker.events
    last_user = max((i for i, e in enumerate(events) if e.get("event") == "user"), default=len(events))
    for event in reversed(events[:last_user]):
        if event.get("event") == "slot" and event.get("name") == name:
            return event.get("value")
        if event.get("event") in ("restart", "session_started"):
            break
    return None
