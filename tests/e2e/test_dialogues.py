"""Scripted multi-turn conversations, written as data (tests/e2e/dialogues/<theme>.yml), through the
real gateway, Rasa, action server and database. One test per conversation, named theme/id; those
marked `postgres: true` in their file run on PostgreSQL too (the rest are marked sqlite_only).
`make dialogue-eval` runs the same conversations and prints pass rates per theme."""
from __future__ import annotations

from collections import Counter
from datetime import date

import pytest

from tests.e2e.conftest import TODAY
from tests.e2e.dialogue_runner import (
    DIALOGUES,
    THEMES,
    Conversation,
    DialogueFormatError,
    Target,
    alternatives,
    load_dialogues,
    parse_conversation,
    run_conversation,
)

pytestmark = pytest.mark.e2e

try:
    CONVERSATIONS: list[Conversation] = load_dialogues()
    LOAD_ERROR: DialogueFormatError | None = None
except DialogueFormatError as e:  # reported by test_dialogue_files_are_well_formed, not as a collection error
    CONVERSATIONS, LOAD_ERROR = [], e


def test_dialogue_files_are_well_formed():
    """Without the stack: every file parses into the runner's shape, all themes are there, 80+ in all."""
    if LOAD_ERROR is not None:
        pytest.fail(str(LOAD_ERROR))
    per_theme = Counter(c.theme for c in CONVERSATIONS)
    assert sorted(per_theme) == sorted(THEMES), f"themes without a file in {DIALOGUES}: {set(THEMES) - set(per_theme)}"
    assert len(CONVERSATIONS) >= 80, per_theme
    assert all(n >= 6 for n in per_theme.values()), per_theme
    assert len({c.name for c in CONVERSATIONS}) == len(CONVERSATIONS)
    assert any(c.postgres for c in CONVERSATIONS), "no conversation in the PostgreSQL subset"
    assert {c.theme for c in CONVERSATIONS if c.postgres} >= {"corrections", "multi_slot", "unknown_resident"}


@pytest.mark.parametrize("conversation,complaint", [
    ({"id": "x", "sender": "r-0001", "turns": ["明天"]}, "turns[0] must be a mapping with `say:`"),
    ({"id": "x", "sender": "r-0001", "turns": [{"say": "明天", "expect": ["哪一顿"]}]}, "unknown key(s) expect"),
    ({"id": "x", "sender": "r-0001", "turns": [{"say": "明天", "expect_all": "哪一顿"}]}, "expect_all must be a"),
    ({"id": "x", "sender": "0001", "turns": [{"say": "你好"}]}, "sender must look like r-0001"),
    ({"id": "x", "sender": "r-0003", "as_family": "li.hongxia", "turns": [{"say": "你好"}]}, "may act for r-0002"),
    ({"id": "x", "sender": "r-0001", "turns": [{"say": "你好"}], "after": {"orders": [{"meal": "supper"}]}},
     "meal must be one of"),
    ({"id": "x", "sender": "r-0001", "turns": [{"say": "你好", "handed_off": "yes"}]}, "must be true or false"),
    ({"id": "X y", "sender": "r-0001", "turns": [{"say": "你好"}]}, "id must be lower-case"),
])
def test_malformed_conversations_are_refused_with_where_and_what(conversation, complaint):
    with pytest.raises(DialogueFormatError) as e:
        parse_conversation("corrections", conversation, "corrections.yml: conversation 1")
    assert complaint in str(e.value) and "corrections.yml: conversation 1" in str(e.value)


def test_date_placeholders_accept_the_usual_spellings():
    today = date(2025, 11, 23)  # a Sunday
    assert alternatives("{date+1}", today) == ["十一月二十四号", "11月24号", "11月24日"]
    assert "星期天" in alternatives("{weekday+0}", today) and "星期日" in alternatives("{weekday+0}", today)
    assert alternatives("今天{weekday+1}", today)[0] == "今天星期一"


def _param(c: Conversation):
    return pytest.param(c, id=c.name, marks=() if c.postgres else (pytest.mark.sqlite_only,))


@pytest.mark.parametrize("conversation", [_param(c) for c in CONVERSATIONS])
def test_dialogue(conversation: Conversation, stack, services):
    result = run_conversation(conversation, Target.of(stack, services, TODAY))
    assert result.passed, result.report()
