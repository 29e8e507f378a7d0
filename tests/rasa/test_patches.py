"""Our Rasa performance patch, checked against the Rasa version we pin (.venv-rasa)."""
import time

import pytest

from rasa_ext import patches


@pytest.fixture(scope="module")
def remote_action():
    from rasa.core.actions.action import RemoteAction

    original = RemoteAction._validate_action_result
    patches.apply()
    yield RemoteAction("action_x", None), original


VALID = {
    "events": [{"event": "slot", "name": "pending", "value": None, "timestamp": None}],
    "responses": [{"text": "好的。", "buttons": []}],
}


def test_patch_is_installed(remote_action):
    action, original = remote_action
    assert type(action)._validate_action_result is not original


def test_valid_response_passes(remote_action):
    action, _ = remote_action
    assert action._validate_action_result(VALID) is True


@pytest.mark.parametrize(
    "bad",
    [
        {"events": "not a list"},
        {"events": [{"event": "slot"}]},  # SlotSet without a name
        {"responses": "nope"},
    ],
)
def test_invalid_response_is_still_rejected_like_rasa_does(remote_action, bad):
    from jsonschema import ValidationError

    action, original = remote_action
    with pytest.raises(ValidationError) as ours:
        action._validate_action_result(dict(bad))
    with pytest.raises(ValidationError) as theirs:
        original(action, dict(bad))
    assert ours.value.message == theirs.value.message


def test_patched_validation_is_much_cheaper(remote_action):
    """Not a timing target (bench/ has those): guards that the cache is really used."""
    action, original = remote_action

    def per_call(fn, n):
        start = time.perf_counter()
        for _ in range(n):
            fn(action, VALID)
        return (time.perf_counter() - start) / n

    ours = per_call(type(action)._validate_action_result, 200)
    theirs = per_call(original, 5)
    assert ours * 5 < theirs, (ours, theirs)


def test_refuses_an_unknown_rasa_version(monkeypatch):
    import rasa

    monkeypatch.setattr(patches, "_APPLIED", False)
    monkeypatch.setattr(rasa, "__version__", "9.9.9")
    with pytest.raises(patches.UnsupportedRasaVersion):
        patches.apply()
