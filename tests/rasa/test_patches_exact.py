"""Our Rasa patches change no answer: patched and unpatched Rasa side by side on the trained model.

Every held-out message is parsed by both (intent, confidences, ranking, entities),
featurised by both (the sparse matrices themselves) and classified by both (DIET's
raw scores). Conversations (the end-to-end tests' messages, one long
conversation and the held-out messages in sessions of eight) run on the real
action server; then at every point where Rasa chose an action, both predict
from the same tracker and must agree, the rule matching down to the order of
the candidate rules (RulePolicy breaks ties by it).
"""
from __future__ import annotations

import ast
import asyncio
import contextlib
import os
import socket
import subprocess
import sys
import time
import urllib.request
from datetime import date
from pathlib import Path
from typing import Any, Dict, Iterator, List, Tuple

import numpy as np
import pytest

from rasa_ext import monkey, patches

ROOT = Path(__file__).resolve().parents[2]
BOT = ROOT / "bot"
MODEL = BOT / "models" / "yinling.tar.gz"
HELDOUT = [ROOT / "nlu_data" / "heldout" / "test.yml", ROOT / "nlu_data" / "heldout" / "test_noisy.yml"]
E2E = ROOT / "tests" / "e2e" / "test_conversations.py"
APP_PYTHON = ROOT / ".venv" / "bin" / "python"
SESSION_TURNS = 8
TOLERANCE = 1e-6

Conversation = Tuple[str, List[str]]


# -- the real action server on a scratch database ------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_healthy(url: str, process: subprocess.Popen, timeout_s: float = 90) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        assert process.poll() is None, "action server exited"
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    raise TimeoutError(url)


@pytest.fixture(scope="module")
def action_url(tmp_path_factory) -> Iterator[str]:
    tmp = tmp_path_factory.mktemp("exact")
    env = {**os.environ, "PYTHONPATH": str(ROOT), "YINLING_DATABASE_URL": f"sqlite:///{tmp / 'exact.db'}",
           "YINLING_TODAY": date.today().isoformat(), "YINLING_OUTBOX": str(tmp / "outbox.jsonl")}
    seed = "from datetime import date; from services.facade import Services; " \
           "import os; Services(os.environ['YINLING_DATABASE_URL']).create_all_and_seed(date.today())"
    subprocess.run([str(APP_PYTHON), "-c", seed], cwd=ROOT, env=env, check=True, capture_output=True)
    port = _free_port()
    process = subprocess.Popen([str(APP_PYTHON), "-m", "actions.server", "--host", "127.0.0.1", "--port", str(port)],
                               cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        _wait_healthy(f"http://127.0.0.1:{port}/health", process)
        yield f"http://127.0.0.1:{port}/webhook"
    finally:
        process.terminate()
        process.wait(timeout=20)


# -- the trained model, patched ----------------------------------------------------------------


@pytest.fixture(scope="module")
def loop() -> Iterator[asyncio.AbstractEventLoop]:
    from rasa_ext.action_connections import close_kept_sessions

    loop = asyncio.new_event_loop()
    yield loop
    loop.run_until_complete(close_kept_sessions())  # as the server does when it stops
    loop.close()


@pytest.fixture(scope="module")
def agent(loop, action_url):
    from rasa.core.agent import load_agent
    from rasa.core.utils import AvailableEndpoints
    from rasa.utils.endpoints import EndpointConfig

    assert MODEL.exists(), "train first: make train"
    patches.apply()
    sys.path.insert(0, str(BOT))  # the model's custom components
    endpoints = AvailableEndpoints(action=EndpointConfig(url=action_url, enable_selective_domain=True))
    agent = loop.run_until_complete(load_agent(model_path=str(MODEL), endpoints=endpoints))
    assert agent.is_ready()
    return agent


def _components(agent, class_name: str) -> List[Tuple[str, Any]]:
    nodes = agent.processor.graph_runner._instantiated_nodes
    return [(name, node._component) for name, node in nodes.items()
            if type(node._component).__name__ == class_name]


def _heldout_texts() -> List[str]:
    from rasa.shared.nlu.training_data.loading import load_data

    return [m.get("text") for path in HELDOUT for m in load_data(str(path)).intent_examples]


@pytest.fixture(scope="module")
def texts() -> List[str]:
    texts = _heldout_texts()
    assert len(texts) > 1000
    return texts


# -- NLU ------------------------------------------------------------------------------------


def _assert_same_parse(ours: Dict[str, Any], theirs: Dict[str, Any]) -> None:
    assert ours["intent"]["name"] == theirs["intent"]["name"]
    assert abs(ours["intent"]["confidence"] - theirs["intent"]["confidence"]) <= TOLERANCE
    assert [r["name"] for r in ours["intent_ranking"]] == [r["name"] for r in theirs["intent_ranking"]]
    for a, b in zip(ours["intent_ranking"], theirs["intent_ranking"], strict=True):
        assert abs(a["confidence"] - b["confidence"]) <= TOLERANCE
    assert ours["entities"] == theirs["entities"]
    assert ours.keys() == theirs.keys()


def test_every_heldout_message_parses_as_unpatched_rasa_does(agent, loop, texts):
    for text in texts:
        ours = loop.run_until_complete(agent.parse_message(text))
        with monkey.unpatched():
            theirs = loop.run_until_complete(agent.parse_message(text))
        _assert_same_parse(ours, theirs)


def _tokenised(agent, text: str):
    from rasa.shared.nlu.constants import TEXT
    from rasa.shared.nlu.training_data.message import Message

    message = Message({TEXT: text})
    [(_, tokenizer)] = _components(agent, "PinyinJiebaTokenizer")
    tokenizer.process([message])
    return message


def _assert_same_coo(ours, theirs) -> None:
    if theirs is None:
        assert ours is None
        return
    assert type(ours) is type(theirs) and ours.shape == theirs.shape and ours.dtype == theirs.dtype
    for name in ("row", "col", "data"):
        a, b = getattr(ours, name), getattr(theirs, name)
        assert a.dtype == b.dtype and np.array_equal(a, b), name
    assert ours.has_canonical_format == theirs.has_canonical_format


def test_count_vector_features_are_the_matrices_sklearn_builds(agent, texts):
    from rasa.shared.nlu.constants import TEXT

    featurizers = _components(agent, "CountVectorsFeaturizer")
    assert len(featurizers) == 3
    for text in texts:
        message = _tokenised(agent, text)
        for _, featurizer in featurizers:
            tokens = featurizer._get_processed_message_tokens_by_attribute(message, TEXT)
            ours = featurizer._create_features(TEXT, [tokens])
            with monkey.unpatched():
                theirs = featurizer._create_features(TEXT, [tokens])
            for our_list, their_list in zip(ours, theirs, strict=True):
                for a, b in zip(our_list, their_list, strict=True):
                    _assert_same_coo(a, b)


def test_diet_scores_are_bit_identical(agent, texts):
    from rasa.core.channels.channel import UserMessage

    graph = agent.processor.graph_runner
    [(diet_node, diet)] = _components(agent, "DIETClassifier")
    features_node = graph._graph_schema.nodes[diet_node].needs["messages"]
    for text in texts[::5]:
        [message] = graph.run({"__message__": [UserMessage(text)]}, [features_node])[features_node]
        ours = diet._predict(message)
        with monkey.unpatched():
            theirs = diet._predict(message)
        assert ours.keys() == theirs.keys()
        assert ours["i_scores"].dtype == theirs["i_scores"].dtype
        assert np.array_equal(ours["i_scores"], theirs["i_scores"])


# -- conversations and rule predictions ---------------------------------------------------------


def _literal(node: ast.AST) -> Any:
    try:
        return ast.literal_eval(node)
    except ValueError:
        return None


def _e2e_conversations() -> List[Conversation]:
    """What each end-to-end test says, in order, and every parametrised text, from its source."""
    conversations: List[Conversation] = []
    for function in ast.parse(E2E.read_text(encoding="utf-8")).body:
        if not isinstance(function, ast.FunctionDef):
            continue
        calls = sorted((n for n in ast.walk(function) if isinstance(n, ast.Call)), key=lambda n: (n.lineno, n.col_offset))
        said = [_literal(c.args[0]) for c in calls
                if isinstance(c.func, ast.Attribute) and c.func.attr in ("say", "send") and c.args]
        senders = [_literal(c.args[0]) for c in calls if isinstance(c.func, ast.Name) and c.func.id == "chat" and c.args]
        said = [s for s in said if isinstance(s, str)]
        if said:
            conversations.append((next((s for s in senders if isinstance(s, str)), "r-0001"), said))
        for decorator in function.decorator_list:
            if isinstance(decorator, ast.Call) and getattr(decorator.func, "attr", "") == "parametrize":
                names = [n.strip() for n in str(_literal(decorator.args[0])).split(",")]
                for row in _literal(decorator.args[1]) or []:
                    values = dict(zip(names, row if isinstance(row, tuple) else (row,), strict=True))
                    if isinstance(values.get("text"), str):
                        conversations.append((values.get("sender", "r-0002"), [values["text"]]))
    return conversations


@pytest.fixture(scope="module")
def conversations(texts) -> List[Conversation]:
    e2e = _e2e_conversations()
    assert len(e2e) > 20
    long_one = ("r-0020", [text for _, said in e2e for text in said])  # far past the longest rule
    # our longest rules: asking to hear it again inside a form, twice in a row
    repeats = [("r-0021", ["我想订饭", "你再说一遍", "你再说一遍", "明儿个", "你再说一遍", "晌午饭", "一份",
                           "你再说一遍", "你再说一遍", "我自己去食堂吃", "你再说一遍", "对"]),
               ("r-0022", ["能不能派个人上门", "你再说一遍", "你再说一遍", "理发", "你再说一遍", "对"])]
    heldout = [(f"r-{n % 24 + 1:04d}", texts[i:i + SESSION_TURNS])
               for n, i in enumerate(range(0, len(texts) // 2, SESSION_TURNS))]
    return e2e + [long_one] + repeats + heldout


@pytest.fixture(scope="module")
def trackers(agent, loop, conversations):
    from rasa.core.channels.channel import CollectingOutputChannel, UserMessage
    from rasa.shared.core.trackers import DialogueStateTracker

    recorded = []
    for sender, said in conversations:
        # a new conversation, as the bench starts one
        fresh = DialogueStateTracker.from_events(sender, [], agent.domain.slots)
        loop.run_until_complete(agent.tracker_store.save(fresh))
        for text in said:
            loop.run_until_complete(agent.handle_message(UserMessage(text, CollectingOutputChannel(), sender)))
        recorded.append(loop.run_until_complete(agent.tracker_store.retrieve(sender)))
    return recorded


def _decision_points(agent, tracker) -> Iterator[Any]:
    """A fresh tracker for each point where Rasa predicted the next action."""
    from rasa.shared.core.events import ActionExecuted
    from rasa.shared.core.trackers import DialogueStateTracker

    events = list(tracker.events)
    for i, event in enumerate(events):
        if isinstance(event, ActionExecuted) and i > 0:
            yield lambda i=i: DialogueStateTracker.from_events(tracker.sender_id, events[:i], agent.domain.slots)


def test_next_action_predictions_match_unpatched_rasa(agent, trackers):
    points = 0
    for tracker in trackers:
        for at in _decision_points(agent, tracker):
            ours = agent.processor._predict_next_with_tracker(at())
            with monkey.unpatched():
                theirs = agent.processor._predict_next_with_tracker(at())
            assert ours == theirs, tracker.sender_id
            assert ours.max_confidence_index == theirs.max_confidence_index
            points += 1
    assert points > 1000


def test_rule_candidates_match_unpatched_rasa_in_order(agent, trackers):
    from rasa.core.policies.rule_policy import RULES, RULES_FOR_LOOP_UNHAPPY_PATH

    [(_, policy)] = _components(agent, "RulePolicy")
    longest = 0
    for tracker in trackers:
        for at in _decision_points(agent, tracker):
            for use_text in (True, False):
                states = policy._prediction_states(at(), agent.domain, use_text, policy._get_rule_only_data())
                longest = max(longest, len(states))
                for variant in (states, *_listened_before(states)):
                    for lookup in (policy.lookup[RULES], policy.lookup[RULES_FOR_LOOP_UNHAPPY_PATH]):
                        ours = policy._get_possible_keys(lookup, variant)
                        with monkey.unpatched():
                            theirs = policy._get_possible_keys(lookup, variant)
                        assert list(ours) == list(theirs)
    assert longest > 40


def _listened_before(states: List[Dict[str, Any]]) -> Iterator[List[Dict[str, Any]]]:
    """The states as if one of the last three had followed action_listen: real conversations
    always reach our longest rule the same way, so only these tell its third state apart."""
    for back in range(1, min(3, len(states)) + 1):
        variant = [{kind: dict(sub) for kind, sub in state.items()} for state in states]
        variant[-back]["prev_action"] = {"action_name": "action_listen"}
        yield variant


# -- the parts in isolation ----------------------------------------------------------------


def test_an_unknown_graph_target_fails_as_with_dask(agent):
    graph = agent.processor.graph_runner
    errors = []
    for context in (monkey.unpatched(), contextlib.nullcontext()):
        with context, pytest.raises(Exception) as error:
            graph.run({"__message__": []}, ["no_such_node"])
        errors.append(type(error.value))
    assert errors[0] is errors[1]


def test_inputs_named_like_a_node_are_refused_as_rasa_does(agent):
    from rasa.engine.exceptions import GraphRunError

    graph = agent.processor.graph_runner
    node = next(iter(graph._instantiated_nodes))
    with pytest.raises(GraphRunError):
        graph.run({"__message__": node}, [node])


@pytest.mark.parametrize("seed", range(20))
def test_trusted_coo_is_the_constructors_matrix(seed):
    import scipy.sparse

    from rasa_ext.sparse import trusted_coo

    rng = np.random.default_rng(seed)
    shape = (int(rng.integers(1, 9)), int(rng.integers(1, 3000)))
    n = int(rng.integers(0, 40))
    row = rng.integers(0, shape[0], n).astype(np.int32)
    col = rng.integers(0, shape[1], n).astype(np.int32)
    data = rng.random(n).astype(rng.choice([np.float32, np.float64, np.int64]))
    ours = trusted_coo(data, row, col, shape)
    theirs = scipy.sparse.coo_matrix((data, (row, col)), shape=shape)
    assert vars(ours).keys() == vars(theirs).keys()
    _assert_same_coo(ours, theirs)
    assert ours.maxprint == theirs.maxprint
    assert (ours.toarray() == theirs.toarray()).all()


def test_trusted_coo_leaves_other_forms_to_scipy():
    from rasa_ext.sparse import trusted_coo

    wide = trusted_coo(np.ones(2), np.array([0, 1], dtype=np.int64), np.array([0, 2], dtype=np.int64), (2, 3))
    assert wide.row.dtype == np.int32  # converted by the constructor, as before
    with pytest.raises(ValueError):
        trusted_coo(np.ones(1), np.array([0], dtype=np.int64), np.array([5], dtype=np.int64), (1, 3))


def test_fast_predict_takes_only_inputs_of_the_traced_signature(agent, texts):
    from rasa_ext.fast_predict import _cached_call

    [(_, diet)] = _components(agent, "DIETClassifier")
    call = _cached_call(diet.model)
    assert call is not None
    batch = tuple(np.zeros(tuple(n or 1 for n in shape), dtype=dtype)
                  for dtype, shape in zip(call.dtypes, call.shapes, strict=True))
    assert call.accepts(batch)
    assert not call.accepts(batch[:-1])
    assert not call.accepts((batch[0].astype(np.float64), *batch[1:]))
    assert not call.accepts((batch[0].tolist(), *batch[1:]))


def test_only_loaded_rule_policies_are_memoised(agent):
    from rasa_ext import rule_matching

    [(_, policy)] = _components(agent, "RulePolicy")
    assert policy in rule_matching._MEMOS
    being_trained = type("Policy", (), {})()
    assert rule_matching._memo(being_trained, {"rule": "action"}) is None


def test_every_patch_refuses_another_rasa(monkeypatch):
    import rasa

    monkeypatch.setattr(rasa, "__version__", "3.7.0")
    with pytest.raises(monkey.UnsupportedRasaVersion):
        monkey.replace(type("Owner", (), {}), "anything", None)


def test_tracker_json_reads_back_exactly_as_rasas_own(trackers):
    """rasa_ext.fast_json: the tracker store's text and the action server's payload, for every recorded
    conversation (real intents, confidences, slots, Chinese text), read back equal to json.dumps'."""
    import json

    from rasa.core.tracker_store import InMemoryTrackerStore
    from rasa.shared.core.trackers import EventVerbosity

    from rasa_ext import fast_json

    for tracker in trackers:
        for value in (tracker.as_dialogue().as_dict(), tracker.current_state(EventVerbosity.ALL)):
            assert json.loads(fast_json.dumps(value)) == json.loads(json.dumps(value)), tracker.sender_id
        stored = InMemoryTrackerStore.serialise_tracker(tracker)
        with monkey.unpatched():
            theirs = InMemoryTrackerStore.serialise_tracker(tracker)
        assert stored != theirs and json.loads(stored) == json.loads(theirs)  # spelt differently, read the same
