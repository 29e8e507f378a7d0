"""A message without a Chinese character or a digit is not understood, whatever the classifier guessed.

Keyboard noise ("zxcv hjkl") shares character n-grams with nothing the classifier was taught and
still comes out as some intent at a middling confidence (affirm at 0.47 in one model): an
accidental yes. Vosk's Mandarin output is always Chinese; typed answers that matter carry Chinese
or a number ("2", "145/90"); Rasa's intent payloads ("/affirm") never reach this pipeline. So such
a message becomes `nlu_fallback`, the not-understood path with its person after two in a row.
"""
from __future__ import annotations

import re
from typing import List

from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.shared.nlu.constants import INTENT, TEXT
from rasa.shared.nlu.training_data.message import Message

from components.overrides import IntentOverride, force_intent

FALLBACK = "nlu_fallback"
MEANINGFUL = re.compile(r"[\u3400-\u9fff\uf900-\ufaff0-9０-９]")


@DefaultV1Recipe.register(
    DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=False
)
class NoWordsFallback(IntentOverride):
    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            text = message.get(TEXT) or ""
            if MEANINGFUL.search(text) or (message.get(INTENT) or {}).get("name") == FALLBACK:
                continue
            force_intent(message, FALLBACK)
        return messages
