"""Rule-based emergency detection beside the intent classifier.

A help request must never depend on the classifier alone (DESIGN.md, safety
rules). This component runs last in the NLU pipeline: when `zhtext.emergency`
finds a distress phrase it sets the intent to `request_help` with confidence
1.0, whatever DIET or the FallbackClassifier said, and records why in the
parse result so that the action server and the logs can tell.
"""
from __future__ import annotations

from typing import List

from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.shared.nlu.constants import INTENT, TEXT
from rasa.shared.nlu.training_data.message import Message

from components.overrides import IntentOverride, force_intent
from zhtext.emergency import detect_emergency

HELP_INTENT = "request_help"


@DefaultV1Recipe.register(
    DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=False
)
class EmergencyIntentOverride(IntentOverride):
    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            match = detect_emergency(message.get(TEXT) or "")
            if match is None:
                continue
            original = message.get(INTENT) or {}
            force_intent(message, HELP_INTENT)
            message.set(
                "emergency",
                {"kind": match.kind, "phrase": match.phrase, "classifier_intent": original.get("name")},
                add_to_output=True,
            )
        return messages
