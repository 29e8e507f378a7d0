"""rasa_ext.fast_json on its own: what ujson writes reads back as json.dumps' text does."""
from __future__ import annotations

import json
import random

import pytest

from rasa_ext import fast_json


def test_values_read_back_exactly():
    rng = random.Random(7)
    value = {
        "text": "明天中午/晚上 订两份饭\n\"软烂\"", "floats": [rng.random() for _ in range(2000)] + [1e-7, 1e300, -0.0],
        "ints": [0, -1, 2 ** 63 - 1, 2 ** 70], "none": None, "flags": [True, False], "nested": {"a": [{"b": {}}]},
        "emoji": "🙂", "int_keys": {1: "one"},
    }
    assert json.loads(fast_json.dumps(value)) == json.loads(json.dumps(value))


def test_what_ujson_refuses_goes_to_json_which_answers_as_before():
    lone_surrogate = "\ud800"
    assert json.loads(fast_json.dumps(lone_surrogate)) == lone_surrogate
    with pytest.raises(TypeError):
        fast_json.dumps({"when": object()})


def test_the_tracker_store_text_round_trips(tmp_path):
    from rasa.core.tracker_store import InMemoryTrackerStore
    from rasa.shared.core.domain import Domain
    from rasa.shared.core.events import ActionExecuted, SlotSet, UserUttered
    from rasa.shared.core.trackers import DialogueStateTracker

    from rasa_ext import patches

    patches.apply()
    domain = Domain.from_yaml("version: '3.1'\nslots:\n  meal:\n    type: text\n    mappings: [{type: custom}]\n")
    events = [ActionExecuted("action_listen"),
              UserUttered("明天中午订两份饭", {"name": "order_meal", "confidence": 0.9837462306022644}),
              SlotSet("meal", "午饭"), ActionExecuted("action_listen")]
    tracker = DialogueStateTracker.from_events("r-0001", events, domain.slots)
    store = InMemoryTrackerStore(domain)
    back = store.deserialise_tracker("r-0001", store.serialise_tracker(tracker))
    assert list(back.events) == list(tracker.events)
    assert back.get_slot("meal") == "午饭"
