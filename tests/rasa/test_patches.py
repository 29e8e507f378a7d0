"""Our Rasa performance patch, checked against the Rasa version we pin (.venv-rasa)."""
import time

import pytest
from rasa.core.actions.action import RemoteAction  # noqa: E402
from rasa.shared.core.events import Event  # noqa: E402
from rasa.shared.utils.common import all_subclasses  # noqa: E402

from rasa_ext import patches

ORIGINAL_VALIDATE = RemoteAction._validate_action_result
ORIGINAL_RESOLVE = Event.resolve_by_type
import rasa.server as rasa_server  # noqa: E402
from rasa.shared.nlu.training_data.features import Features  # noqa: E402

ORIGINAL_COMBINE_SPARSE = Features._combine_sparse_features

ORIGINAL_HTTP_VALIDATE = rasa_server.validate_events_in_request_body


@pytest.fixture(scope="module")
def remote_action():
    patches.apply()
    yield RemoteAction("action_x", None), ORIGINAL_VALIDATE


def test_event_types_resolve_exactly_as_rasa_does():
    patches.apply()
    names = {cls.type_name for cls in all_subclasses(Event)}
    assert len(names) > 20
    for name in names:
        assert Event.resolve_by_type(name) is ORIGINAL_RESOLVE(name)
    assert Event.resolve_by_type("topic") is None
    assert Event.resolve_by_type("no_such_event", default=Event) is Event
    with pytest.raises(ValueError):
        Event.resolve_by_type("no_such_event")


def test_a_tracker_round_trips_through_the_patched_deserialisation():
    from rasa.shared.core.domain import Domain
    from rasa.shared.core.events import ActionExecuted, BotUttered, SlotSet, UserUttered
    from rasa.shared.core.trackers import DialogueStateTracker

    patches.apply()
    domain = Domain.from_yaml("version: '3.1'\nslots:\n  pending:\n    type: any\n    mappings: [{type: custom}]")
    events = [ActionExecuted("action_listen"), UserUttered("明天订饭", {"name": "book_meal"}),
              SlotSet("pending", {"kind": "meal"}), BotUttered("好的")]
    tracker = DialogueStateTracker.from_events("r-0001", events, domain.slots)
    from rasa.shared.core.trackers import EventVerbosity

    dumped = tracker.current_state(EventVerbosity.ALL)["events"]
    again = DialogueStateTracker.from_dict("r-0001", dumped, domain.slots)
    assert list(again.events) == list(tracker.events)


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


class _Request:
    def __init__(self, json):
        self.json = json


def test_http_api_event_validation_keeps_rasas_answers():
    patches.apply()
    patched = rasa_server.validate_events_in_request_body
    assert patched is not ORIGINAL_HTTP_VALIDATE
    good = [{"event": "resume"}, {"event": "slot", "name": "pending", "value": None}]
    for body in (good, {"event": "restart"}):
        assert patched(_Request(body)) is None
        assert ORIGINAL_HTTP_VALIDATE(_Request(body)) is None
    for validate in (patched, ORIGINAL_HTTP_VALIDATE):
        with pytest.raises(rasa_server.ErrorResponse) as error:
            validate(_Request([{"event": "slot"}]))
        assert error.value.status == 400


@pytest.mark.parametrize("rows", [1, 7])
def test_joined_sparse_features_equal_scipys(rows):
    import numpy as np
    import scipy.sparse

    patches.apply()
    rng = np.random.default_rng(rows)
    parts = [scipy.sparse.random(rows, n, density=0.05, format="coo", random_state=rng) for n in (30, 1, 250)]

    def joined(combine):
        first = Features(parts[0].copy(), "sequence", "text", "a")
        for i, part in enumerate(parts[1:]):
            combine(first, Features(part.copy(), "sequence", "text", f"b{i}"))
        return first.features

    ours, theirs = joined(Features._combine_sparse_features), joined(ORIGINAL_COMBINE_SPARSE)
    assert Features._combine_sparse_features is not ORIGINAL_COMBINE_SPARSE
    assert ours.shape == theirs.shape and ours.dtype == theirs.dtype
    assert (ours.toarray() == theirs.toarray()).all()
    assert scipy.sparse.isspmatrix_coo(ours)
    with pytest.raises(ValueError):
        Features._combine_sparse_features(Features(parts[0], "sequence", "text", "a"),
                                          Features(scipy.sparse.random(rows + 1, 3, format="coo"), "sequence", "text", "c"))


def test_a_waiting_message_gets_the_conversation_as_soon_as_it_is_free():
    """Two messages for one conversation: the second takes the lock within the patch's poll
    interval of the first letting go (Rasa's own default polls once a second)."""
    import asyncio

    from rasa.core.lock_store import InMemoryLockStore

    patches.apply()
    store = InMemoryLockStore()
    taken: dict[str, float] = {}

    async def message(name: str, hold_s: float) -> None:
        async with store.lock("r-0001"):
            taken[name] = time.perf_counter()
            await asyncio.sleep(hold_s)
        taken[name + " done"] = time.perf_counter()

    async def both() -> None:
        first = asyncio.create_task(message("first", 0.2))
        await asyncio.sleep(0.01)
        await asyncio.gather(first, message("second", 0.0))

    asyncio.run(both())
    assert taken["second"] >= taken["first done"]  # still one at a time, in order
    waited = taken["second"] - taken["first done"]
    assert waited < patches.LOCK_POLL_S + 0.2, f"the second message waited {waited:.2f} s after the lock was free"
