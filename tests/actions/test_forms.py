"""How a message inside a form is read: answers and corrections, exits, thanks, misses (no Rasa needed:
the trackers are rasa_sdk's own, built from the events Rasa sends)."""
from datetime import date

import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.context import Turn
from actions.forms import Move, classify, misses_before, resumed
from actions.meals import DIGRESSIONS, parse_order_text

TODAY = date(2026, 12, 3)  # a Thursday


def user(text, intent="book_meal", confidence=0.9):
    return {"event": "user", "text": text, "parse_data": {"intent": {"name": intent, "confidence": confidence}}}


def turn_with(events, text, intent, confidence=0.9):
    latest = {"text": text, "intent": {"name": intent, "confidence": confidence}}
    tracker = Tracker("r-0001", {}, latest, [*events, user(text, intent, confidence)], False, None,
                      {"name": "meal_order_form"}, "action_listen")
    return Turn(tracker, CollectingDispatcher())


@pytest.mark.parametrize("text,expected", [
    ("不对，是后天", {"meal_date": "2026-12-05"}),
    ("哎呀说错了，两份", {"portions": 2}),
    ("三份，哎呀说错了，两份", {"portions": 2}),
    ("不是中午，是晚上", {"meal": "dinner"}),
    ("明儿个晌午给俺订个饭", {"meal_date": "2026-12-04", "meal": "lunch"}),
    ("不是送到家，我自己去食堂吃", {"meal_mode": "dine_in"}),
])
def test_corrections_keep_the_last_word(text, expected):
    parsed = parse_order_text(text, TODAY)
    assert {k: parsed[k] for k in expected} == expected


def test_several_days_in_one_breath():
    parsed = parse_order_text("我要订明天中午的饭和后天中午的饭", TODAY)
    assert parsed["meal_date"] == "2026-12-04" and parsed["meal"] == "lunch"
    assert parsed["meal_more"] == [{"date": "2026-12-05", "meal": None}]  # follows the first day's meal
    both = parse_order_text("明天的午饭和晚饭", TODAY)
    assert both["meal"] == "lunch" and both["meal_more"] == [{"date": "2026-12-04", "meal": "dinner"}]
    assert parse_order_text("明天中午订两份", TODAY)["meal_more"] is None


@pytest.mark.parametrize("text,intent,found,move", [
    ("后天", "chitchat", {"meal_date": "x"}, Move.ANSWER),           # a bare answer, whatever the classifier said
    ("明天中午吃啥", "ask_menu", {"meal_date": "x"}, Move.DIGRESS),   # a question about the menu
    ("算了", "deny", {}, Move.EXIT),
    ("不要了不要了", "deny", {}, Move.EXIT),
    ("不对", "deny", {}, Move.BARE_DENY),
    ("午饭不要了", "deny", {"meal": "lunch"}, Move.EXIT),
    ("算了，改成后天吧", "deny", {"meal_date": "x"}, Move.ANSWER),
    ("谢谢你啊", "thank", {}, Move.THANK),
    ("好了再见", "goodbye", {}, Move.LEAVE),
    ("谢谢你啊，那我挂了", "thank", {}, Move.LEAVE),
    ("我要找个人说", "chitchat", {}, Move.HANDOFF),
    ("转人工", "handoff_human", {}, Move.HANDOFF),
    ("想找个人说说话", "chitchat", {}, Move.DIGRESS),
    ("救命啊我摔倒了", "request_help", {}, Move.HELP),
    ("对", "affirm", {}, Move.MISS),
    ("qwerty", "nlu_fallback", {}, Move.MISS),
    ("附近有没有食堂", "find_service", {}, Move.DIGRESS),
])
def test_moves(text, intent, found, move):
    assert classify(turn_with([], text, intent), "meal_order_form", found, DIGRESSIONS) is move


def test_a_low_confidence_digression_with_an_answer_is_an_answer():
    turn = turn_with([], "明天晌午那顿吧我想想", "ask_menu", confidence=0.3)
    assert classify(turn, "meal_order_form", {"meal_date": "x"}, DIGRESSIONS) is Move.ANSWER


def test_misses_count_only_the_turn_right_before():
    miss = {"event": "slot", "name": "form_move", "value": "miss"}
    answer = {"event": "slot", "name": "form_move", "value": "answer"}
    assert misses_before([user("a"), miss, user("b")]) == 1
    assert misses_before([user("a"), miss, user("b"), answer, user("c")]) == 0
    assert misses_before([user("a"), {"event": "action", "name": "action_fallback"}, user("b")]) == 1
    # a new session starts the count afresh
    assert misses_before([user("a"), miss, {"event": "session_started"}, user("b")]) == 0


def test_resumed_after_another_action_answered():
    events = [user("明天中午吃啥", "ask_menu"), {"event": "action", "name": "action_extract_slots"},
              {"event": "action_execution_rejected", "name": "meal_order_form"},
              {"event": "action", "name": "action_menu"}, {"event": "bot", "text": "明天午饭有…"},
              {"event": "action", "name": "meal_order_form"}]
    tracker = Tracker("r-0001", {}, {"text": "x"}, events, False, None, {"name": "meal_order_form"}, "action_menu")
    assert resumed(Turn(tracker, CollectingDispatcher()), "meal_order_form")
    first = [user("明天中午吃啥", "ask_menu"), {"event": "action", "name": "action_extract_slots"},
             {"event": "action", "name": "meal_order_form"}]
    tracker = Tracker("r-0001", {}, {"text": "x"}, first, False, None, {"name": "meal_order_form"}, "action_listen")
    assert not resumed(Turn(tracker, CollectingDispatcher()), "meal_order_form")
