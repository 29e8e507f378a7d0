"""The questions forms ask, with a plainer second try and tap-able choices.

An elder who did not answer the question the first time hears it again with
examples of what to say, rather than the same words.
"""
from __future__ import annotations

from actions.base import Events, YinlingAction
from actions.context import Turn

# slot: (first ask, second ask, choices)
QUESTIONS: dict[str, tuple[str, str, tuple[str, ...]]] = {
    "meal_date": ("您要订哪天的饭？今天、明天，还是后天？", "我没听清日子。您说今天、明天，或者几号都行。",
                  ("今天", "明天", "后天")),
    "meal": ("订哪一顿？早饭、午饭，还是晚饭？", "我没听清是哪顿。您说早饭、午饭，或者晚饭。",
             ("早饭", "午饭", "晚饭")),
    "portions": ("要几份？", "我没听清几份。您说一份、两份就行。", ("一份", "两份", "三份")),
    "meal_mode": ("您是去食堂吃，还是给您送到家？", "您说'去食堂吃'，或者'送到家'。", ("去食堂吃", "送到家")),
    "visit_service": ("您要哪样上门服务？理发、助浴、保洁、送药、陪诊，还是维修？",
                      "我没听清。您说理发、洗澡、打扫、送药、陪着看病，或者修东西。",
                      ("理发", "助浴", "保洁", "送药", "陪诊", "维修")),
}


def last_bot_text(turn: Turn) -> str | None:
    for event in reversed(turn.tracker.events):
        if event.get("event") == "bot":
            return event.get("text")
    return None


class _Ask(YinlingAction):
    """Asks for `slot`; subclasses name the slot (and so `action_ask_<slot>`)."""

    slot: str

    def handle(self, turn: Turn) -> Events:
        first, second, choices = QUESTIONS[self.slot]
        text = second if last_bot_text(turn) in (first, second) else first
        turn.say(text, buttons=[{"title": c, "payload": c} for c in choices])
        return []


class AskMealDate(_Ask):
    slot = "meal_date"

    def name(self) -> str:
        return "action_ask_meal_date"


class AskMeal(_Ask):
    slot = "meal"

    def name(self) -> str:
        return "action_ask_meal"


class AskPortions(_Ask):
    slot = "portions"

    def name(self) -> str:
        return "action_ask_portions"


class AskMealMode(_Ask):
    slot = "meal_mode"

    def name(self) -> str:
        return "action_ask_meal_mode"


class AskVisitService(_Ask):
    slot = "visit_service"

    def name(self) -> str:
        return "action_ask_visit_service"
