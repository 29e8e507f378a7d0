"""A complaint about the body is a health report, whatever the classifier guessed.

Elders mention a swollen leg or a night without sleep in every kind of sentence, and
a bag-of-words classifier sends some of those to cancel_meal, ask_menu or chitchat
("这几天腿肿得厉害" looks like nothing it was taught). When `zhtext.symptoms` finds a
complaint and the classifier chose an intent that cannot be about it, this component
makes the intent `report_health`, so the complaint is recorded and answered with
care. Intents that can carry a complaint (asking for help, a home visit with a named
service, calling family, asking for a person) are left alone, and so is a message
that books or cancels a meal in so many words. It runs before the emergency override,
which still wins for anything acute.
"""
from __future__ import annotations

import re
from typing import List

from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.shared.nlu.constants import INTENT, TEXT
from rasa.shared.nlu.training_data.message import Message

from components.overrides import IntentOverride, force_intent
from zhtext.symptoms import parse_complaint

HEALTH_INTENT = "report_health"
# What a complaint can never mean; request_home_visit only when no service is named.
OVERRIDDEN = frozenset({
    "cancel_meal", "ask_menu", "chitchat", "out_of_scope", "nlu_fallback", "book_meal", "find_service",
    "ask_activity", "ask_subsidy", "ask_subsidy_status", "repeat", "deny", "affirm", "thank", "greet",
    "request_home_visit",
})
# Words that make the classifier's choice plausible even with a complaint in the sentence.
STILL_MEANS = {
    "request_home_visit": re.compile(r"理发|洗澡|助浴|保洁|打扫|送药|陪诊|陪我去|维修|修|上门"),
    "book_meal": re.compile(r"订|定|送饭|送餐"),
    "cancel_meal": re.compile(r"取消|退订|退了|不要了|不订了"),
    "find_service": re.compile(r"在哪|哪儿|哪里|最近|多远|怎么走"),
    "ask_menu": re.compile(r"菜单|吃啥|吃什么|什么菜|啥菜"),
}


@DefaultV1Recipe.register(
    DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=False
)
class ComplaintIntentOverride(IntentOverride):
    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            text = message.get(TEXT) or ""
            original = (message.get(INTENT) or {}).get("name")
            if original not in OVERRIDDEN:
                continue
            still = STILL_MEANS.get(original)
            if still is not None and still.search(text):
                continue
            complaint = parse_complaint(text)
            if complaint is None:
                continue
            force_intent(message, HEALTH_INTENT)
            message.set("complaint", {"kind": complaint.kind, "words": complaint.words,
                                      "classifier_intent": original}, add_to_output=True)
        return messages
