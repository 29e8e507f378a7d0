"""Scripted multi-turn conversations, written as data (tests/e2e/dialogues/<theme>.yml), through the
real gateway, Rasa, action server and database. One test per conversation, named theme/id; those
marked `postgres: true` in their file run on PostgreSQL too (the rest are marked sqlite_only).
`make dialogue-eval` runs the same conversations and prints pass rates per theme."""
from __future__ import annotations

from collections import Counter

import pytest

from tests.e2e.conftest import TODAY
from tests.e2e.dialogue_runner import (
    DIALOGUES,
    THEMES,
    Conversation,
    DialogueFormatError,
    Target,
    load_dialogues,
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


def _param(c: Conversation):
    return pytest.param(c, id=c.name, marks=() if c.postgres else (pytest.mark.sqlite_only,))


@pytest.mark.parametrize("conversation", [_param(c) for c in CONVERSATIONS])
def test_dialogue(conversation: Conversation, stack, services):
    result = run_conversation(conversation, Target.of(stack, services, TODAY))
    assert result.passed, result.report()
