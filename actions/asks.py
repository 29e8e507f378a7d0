"""The questions forms ask, said for what just happened in the conversation.

Rasa's form runs `action_ask_<slot>` whenever it needs a slot. What the elder
hears depends on the move the validation recorded (`actions.forms.Move`):
a first question; "好，改成后天。要几份？" after an answer or a correction; after a
miss, what is still missing with examples, and (once) what the bot already has;
after a digression, the thanks or the time of day, "咱们接着订饭" and where the
form stood. The bot says what it understood, never "没听清" for a message it took.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any, Callable

from actions import replies, runtime
from actions.base import Events, YinlingAction
from actions.context import Turn
from actions.forms import Move, move_this_turn, said_this_turn, slots_set_this_turn, value_before_turn
from zhtext.dates import short_date
from zhtext.meals import MEAL_ZH
from zhtext.numbers import spoken_count
from zhtext.when import parse_time_question, time_answer


@dataclass(frozen=True)
class Question:
    ask: str            # the first time
    missing: str        # what is missing, for "我没听清…"
    examples: str       # a plainer second try
    choices: tuple[str, ...]
    ask_for: str = ""   # to a family member writing for the elder, with {who} for the elder's name

    def first(self, who: replies.Addressee) -> str:
        return self.ask_for.format(who=who.short) if self.ask_for and who != replies.ELDER else self.ask


QUESTIONS: dict[str, Question] = {
    "meal_date": Question("您要订哪天的饭？今天、明天，还是后天？", "日子", "您说今天、明天，或者几号都行。",
                          ("今天", "明天", "后天")),
    "meal": Question("订哪一顿？早饭、午饭，还是晚饭？", "是哪一顿", "您说早饭、午饭，或者晚饭。",
                     ("早饭", "午饭", "晚饭")),
    "portions": Question("要几份？", "几份", "您说一份、两份就行。", ("一份", "两份", "三份")),
    "meal_mode": Question("您是去食堂吃，还是给您送到家？", "在哪儿吃", "您说'去食堂吃'，或者'送到家'。",
                          ("去食堂吃", "送到家"), ask_for="{who}是去食堂吃，还是送到家？"),
    "visit_service": Question("您要哪样上门服务？理发、助浴、保洁、送药、陪诊，还是维修？", "要哪样服务",
                              "您说理发、洗澡、打扫、送药、陪着看病，或者修东西。",
                              ("理发", "助浴", "保洁", "送药", "陪诊", "维修")),
}

MODE_SAID = {"delivery": "送到家", "dine_in": "去食堂吃"}


def said_value(slot: str, value: Any, today: date) -> str:
    """A slot's value as the bot says it back."""
    if slot in ("meal_date", "visit_date"):
        return short_date(date.fromisoformat(value), today)
    if slot == "meal":
        return MEAL_ZH.get(value, str(value))
    if slot == "portions":
        return spoken_count(int(value), "份")
    if slot == "meal_mode":
        return MODE_SAID.get(value, str(value))
    if slot == "visit_service":
        return dict(runtime.services().service_types()).get(value, value)
    return str(value)


def meal_summary(turn: Turn, today: date) -> str:
    """What the meal form holds so far: "明天和后天的午饭，两份" (or "明天的午饭、明天的晚饭")."""
    meal = turn.slot("meal")
    more = turn.slot("meal_more") or []
    parts = []
    if turn.slot("meal_date") and any(item.get("meal") for item in more):
        pairs = [(turn.slot("meal_date"), meal)] + [(i["date"], i.get("meal") or meal) for i in more]
        parts.append("、".join(f"{short_date(date.fromisoformat(d), today)}的{MEAL_ZH.get(m, '饭')}"
                              for d, m in pairs))
    else:
        days = ([turn.slot("meal_date")] if turn.slot("meal_date") else []) + [i["date"] for i in more]
        when = "和".join(dict.fromkeys(short_date(date.fromisoformat(d), today) for d in days))
        if when or meal:
            parts.append(f"{when}的{MEAL_ZH[meal]}" if when and meal else when or MEAL_ZH[meal])
    if turn.slot("portions"):
        parts.append(spoken_count(int(turn.slot("portions")), "份"))
    if turn.slot("meal_mode"):
        parts.append(MODE_SAID[turn.slot("meal_mode")])
    return "，".join(parts)


def visit_summary(turn: Turn, today: date) -> str:
    parts = []
    if turn.slot("visit_date"):
        parts.append(short_date(date.fromisoformat(turn.slot("visit_date")), today))
    if turn.slot("visit_service"):
        parts.append(said_value("visit_service", turn.slot("visit_service"), today))
    return "，".join(parts)


@dataclass(frozen=True)
class FormWords:
    topic: str                                   # "订饭": 咱们接着订饭
    slots: tuple[str, ...]                       # the slots whose changes are said back
    summary: Callable[[Turn, date], str]


FORMS = {
    "meal_order_form": FormWords("订饭", ("meal_date", "meal", "portions", "meal_mode"), meal_summary),
    "home_visit_form": FormWords("约上门服务", ("visit_service", "visit_date"), visit_summary),
}


def acknowledgement(turn: Turn, words: FormWords, today: date) -> str:
    """"好，改成后天。" for a correction, "好，明天的午饭。" for new answers; "" when nothing changed."""
    changes = slots_set_this_turn(turn, words.slots)
    if not changes:
        return ""
    corrected = [s for s in changes if value_before_turn(turn, s) not in (None, changes[s])]
    if corrected:
        said = "，".join(said_value(s, changes[s], today) for s in corrected)
        return f"好，改成{said}。"
    summary = words.summary(turn, today)
    return f"好，{summary}。" if summary else ""


def question_for(turn: Turn, form: str, slot: str) -> list[str]:
    """The lines to say before the form waits for `slot`."""
    today = runtime.today()
    q = QUESTIONS[slot]
    ask = q.first(turn.addressee)
    words = FORMS[form]
    move = move_this_turn(turn)
    summary = words.summary(turn, today)
    reminder = f"咱们接着{words.topic}" + (f"，{summary}" if summary else "") + "："
    if move is Move.MISS:
        have = f"{summary}我记下了，" if summary else ""
        return [f"我没听清{q.missing}。{have}{q.examples}"]
    if move is Move.BARE_DENY:
        return [replies.WHAT_TO_CHANGE, reminder + ask]
    if move is Move.THANK:
        return ["不客气，" + reminder + ask]
    if move is Move.TIME:
        question = parse_time_question(turn.text)
        return [time_answer(question, runtime.now()), reminder + ask]
    if move is Move.ANSWER:
        return [acknowledgement(turn, words, today) + ask]
    if repeated_this_turn(turn):  # "再说一遍" has just said the question again, slowly
        return []
    if said_this_turn(turn):  # back from a digression that another action answered
        return [reminder + ask]
    return [ask]


def repeated_this_turn(turn: Turn) -> bool:
    for event in reversed(turn.tracker.events):
        if event.get("event") == "user":
            return False
        if event.get("event") == "action" and event.get("name") == "action_repeat":
            return True
    return False


class _Ask(YinlingAction):
    """Asks for `slot` in `form`; subclasses name them (and so `action_ask_<slot>`)."""

    slot: str
    form: str

    def handle(self, turn: Turn) -> Events:
        lines = question_for(turn, self.form, self.slot)
        if not lines:
            return []
        buttons = [{"title": c, "payload": c} for c in QUESTIONS[self.slot].choices]
        for line in lines[:-1]:
            turn.say(line)
        turn.say(lines[-1], buttons=buttons)
        return []


class AskMealDate(_Ask):
    slot, form = "meal_date", "meal_order_form"

    def name(self) -> str:
        return "action_ask_meal_date"


class AskMeal(_Ask):
    slot, form = "meal", "meal_order_form"

    def name(self) -> str:
        return "action_ask_meal"


class AskPortions(_Ask):
    slot, form = "portions", "meal_order_form"

    def name(self) -> str:
        return "action_ask_portions"


class AskMealMode(_Ask):
    slot, form = "meal_mode", "meal_order_form"

    def name(self) -> str:
        return "action_ask_meal_mode"


class AskVisitService(_Ask):
    slot, form = "visit_service", "home_visit_form"

    def name(self) -> str:
        return "action_ask_visit_service"
