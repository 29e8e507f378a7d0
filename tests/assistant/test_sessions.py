"""When the gateway may start a new Rasa session in a long conversation (assistant.sessions.at_rest),
on tracker states as Rasa's HTTP API returns them without events. The renewal itself runs against
the real stack in tests/e2e/test_sessions.py."""
from __future__ import annotations

import pytest

from assistant.sessions import at_rest


def state(**changes) -> dict:
    base = {"sender_id": "r-0001", "paused": False, "active_loop": {},
            "slots": {"pending": None, "requested_slot": None, "meal": None},
            "latest_message": {"text": "今天中午吃啥", "intent": {"name": "ask_menu", "confidence": 0.97}}}
    return {**base, **changes}


def test_an_answered_question_with_nothing_open_is_at_rest():
    assert at_rest(state())
    assert at_rest(state(active_loop={"name": None}))  # a form that ended
    assert at_rest(state(slots={"pending": None, "requested_slot": None, "meal": "lunch"}))  # other slots do not matter


@pytest.mark.parametrize("why,changes", [
    ("a form asks its questions", {"active_loop": {"name": "meal_order_form"}}),
    ("a read-back waits for a yes", {"slots": {"pending": {"kind": "meal"}, "requested_slot": None}}),
    ("a form waits for a slot", {"slots": {"pending": None, "requested_slot": "meal_date"}}),
    ("an operator has the conversation", {"paused": True}),
    ("the last message was not understood", {"latest_message": {"text": "qwerty", "intent": {"name": "nlu_fallback"}}}),
    ("no message yet", {"latest_message": {}}),
])
def test_nothing_in_flight_is_cut_off(why, changes):
    assert not at_rest(state(**changes)), why
