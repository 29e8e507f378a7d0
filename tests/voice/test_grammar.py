"""Phrase lists for the recogniser from the choices the last answer offered."""

from actions.replies import YES_NO_BUTTONS
from voice.grammar import expectation_from_buttons


def test_yes_no_buttons_give_yes_and_no_words_that_map_to_the_titles():
    exp = expectation_from_buttons(YES_NO_BUTTONS, "zh")
    assert exp.kind == "yes_no"
    assert {"对", "是的", "对咧", "能行", "不对", "不要"} <= set(exp.phrases)
    assert exp.interpret("是的") == "对"
    assert exp.interpret("能 行") == "对"  # the recogniser's spaces do not matter
    assert exp.interpret("不要") == "不对"
    assert exp.interpret("明天中午") is None


def test_the_test_models_language_has_its_own_yes_and_no():
    exp = expectation_from_buttons(YES_NO_BUTTONS, "ko")
    assert exp.interpret("네") == "对" and exp.interpret("아니요") == "不对"


def test_choices_are_heard_as_themselves_in_mandarin_only():
    buttons = [{"title": "堂食", "payload": "堂食"}, {"title": "送餐", "payload": "送餐"}]
    exp = expectation_from_buttons(buttons, "zh")
    assert exp.kind == "choice" and exp.phrases == ("堂食", "送餐") and exp.interpret("送餐") == "送餐"
    assert expectation_from_buttons(buttons, "ko") is None


def test_no_buttons_no_grammar():
    assert expectation_from_buttons([], "zh") is None
    assert expectation_from_buttons([{"payload": "/affirm"}], "zh") is None
