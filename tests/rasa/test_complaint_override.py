"""The complaint override: a complaint about the body is report_health whatever the classifier guessed,
except where the classifier's intent can carry it (help, a named home service, a booking in so many
words). Runs the component as Rasa builds it, on real `Message`s, with the Rasa we pin."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest
from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message

BOT = Path(__file__).resolve().parents[2] / "bot"
sys.path.insert(0, str(BOT))

from components.complaint_override import ComplaintIntentOverride  # noqa: E402


def classified(text: str, intent: str) -> Message:
    message = Message(data={TEXT: text})
    message.set(INTENT, {"name": intent, "confidence": 0.6})
    message.set(INTENT_RANKING_KEY, [{"name": intent, "confidence": 0.6}, {"name": "report_health", "confidence": 0.2}])
    return message


def run(text: str, intent: str) -> Message:
    return ComplaintIntentOverride().process([classified(text, intent)])[0]


@pytest.mark.parametrize("text,intent", [
    ("这几天腿肿得厉害", "cancel_meal"),
    ("这几天老咳嗽", "ask_menu"),
    ("黑夜睡不着觉", "chitchat"),
    ("膝盖疼得走不动道", "request_home_visit"),
    ("吃了降压药以后就恶心", "nlu_fallback"),
])
def test_complaints_become_health_reports(text, intent):
    message = run(text, intent)
    assert message.get(INTENT)["name"] == "report_health"
    assert message.get(INTENT_RANKING_KEY)[0]["name"] == "report_health"
    assert message.get("complaint")["classifier_intent"] == intent


@pytest.mark.parametrize("text,intent", [
    ("我腿疼，想叫人上门帮我洗个澡", "request_home_visit"),   # a named service: a visit it is
    ("我腿疼，明天中午给我送饭", "book_meal"),                 # a booking in so many words
    ("我头晕得厉害，快来人", "request_help"),                   # help is never overridden
    ("给我儿子打电话，我腰疼", "call_family"),
    ("明天中午吃啥", "ask_menu"),                               # no complaint at all
])
def test_other_meanings_are_left_alone(text, intent):
    assert run(text, intent).get(INTENT)["name"] == intent


# --- a message with no Chinese and no digit is not understood -------------------------------------

from components.no_words_fallback import NoWordsFallback  # noqa: E402


@pytest.mark.parametrize("text,intent,expected", [
    ("zxcv hjkl", "affirm", "nlu_fallback"),
    ("qwerty asdf", "chitchat", "nlu_fallback"),
    ("???", "deny", "nlu_fallback"),
    ("2", "book_meal", "book_meal"),             # a typed count answers the form
    ("145/90", "report_health", "report_health"),
    ("好的 ok", "affirm", "affirm"),
    ("对", "affirm", "affirm"),
])
def test_no_words_is_not_understood(text, intent, expected):
    assert NoWordsFallback().process([classified(text, intent)])[0].get(INTENT)["name"] == expected
