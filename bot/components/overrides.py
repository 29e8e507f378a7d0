"""What our rule-based corrections of the classifier share: no training, and one way to set the intent.

The emergency override, the domain guard, the complaint override and the no-words fallback each
decide by a rule of ours that the classifier's intent is wrong; they differ only in the rule.
"""
from __future__ import annotations

from typing import Any, Dict, Iterable, Text

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY
from rasa.shared.nlu.training_data.message import Message


class IntentOverride(GraphComponent):
    """Base of a stateless intent correction; subclasses register with the recipe and `process`."""

    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> "IntentOverride":
        return cls()


def force_intent(message: Message, name: str, confidence: float = 1.0, drop: Iterable[str] = ()) -> None:
    """Make `name` the message's intent and the top of its ranking (`drop`: other names to take out)."""
    dropped = {name, *drop}
    ranking = [r for r in (message.get(INTENT_RANKING_KEY) or []) if r.get("name") not in dropped]
    message.set(INTENT, {"name": name, "confidence": confidence}, add_to_output=True)
    message.set(INTENT_RANKING_KEY, [{"name": name, "confidence": confidence}] + ranking, add_to_output=True)
