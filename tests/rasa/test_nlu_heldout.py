"""Acceptance: intent accuracy on our held-out file (never trained on) and its noisy twin."""
from tests.rasa.nlu_eval import HELDOUT, HELDOUT_NOISY, describe, evaluate


def test_heldout_accuracy_and_help_recall():
    score = evaluate(HELDOUT)
    print(describe(score))
    assert score.accuracy >= 0.95, describe(score)
    assert score.recall["request_help"] == 1.0, describe(score)


def test_same_sound_noisy_twin_accuracy():
    score = evaluate(HELDOUT_NOISY)
    print(describe(score))
    assert score.accuracy >= 0.85, describe(score)
    assert score.recall["request_help"] == 1.0, describe(score)
