"""Performance fixes for the pinned Rasa (3.6.21), applied before the server starts.

Measured with py-spy on a custom-action turn (see the notes in issue 3):

- `RemoteAction._validate_action_result` calls `jsonschema.validate`, which
  checks the (large, constant) events schema and builds a new validator on
  every custom action response: about 28 ms of each action turn on our 2-core
  machines. We build the validator once and keep Rasa's behaviour on invalid
  responses (the same `ValidationError`, with Rasa's hint appended).
- `Event.resolve_by_type` walks every Event subclass (`all_subclasses`, with an
  `inspect.isabstract` per class) for every event it deserialises; the tracker
  store deserialises the whole conversation on every message, so this was 11 %
  of a turn and grows with the conversation. We keep a type-name table, filled
  the same way (first subclass found wins) and refreshed on a miss.
- The HTTP API validates posted events (`validate_events_in_request_body`, used
  when an operator hands a conversation back or a tracker is replaced) with
  the same per-call `jsonschema.validate`: 1.5 times the CPU of a whole turn.
- Every featurizer's sparse features are joined to the previous ones with
  `scipy.sparse.hstack`, whose general block assembly costs 0.35 ms for the
  small matrices of one message, several times per message: about 10 % of a
  turn. Joining two COO matrices is a concatenation of their arrays.
- A message for a conversation that is busy with another polls the conversation's
  lock once a second (`LockStore.lock`'s default wait), so the second of two
  messages that meet waits up to a second for nothing. Polling every 50 ms ends
  that wait within 50 ms of the lock coming free, on the in-memory and the Redis
  lock store alike; the tickets keep their order as before.

The turn's CPU, in their own modules (each says what it saves and why it is exact):
`fast_predict` (DIET without tf.function dispatch), `graph_runner` (the graph
without dask), `rule_matching` (rules matched on the last states, and the states
built once per prediction), `count_vectors` (n-gram counts straight to COO) and
`sparse` (COO matrices from arrays built valid). `action_connections` keeps the action server's
HTTP connections open between calls, and `fast_json` writes the trackers' JSON with ujson.

Each patch refuses to apply to a Rasa version it was not written against, so an
upgrade shows up as a failing test rather than a silent behaviour change; and
`unpatched()` runs Rasa's own code, which tests/rasa/test_patches_exact.py
compares with ours on the trained model.
"""
from __future__ import annotations

import logging
from typing import Any, Dict

from rasa_ext import action_connections, count_vectors, fast_json, fast_predict, graph_runner, rule_matching
from rasa_ext.monkey import SUPPORTED_RASA, UnsupportedRasaVersion, replace, require_supported_rasa, unpatched
from rasa_ext.sparse import trusted_coo

__all__ = ["SUPPORTED_RASA", "UnsupportedRasaVersion", "apply", "unpatched"]

logger = logging.getLogger(__name__)

_APPLIED = False


def _cached_action_result_validator():
    from jsonschema import validators
    from rasa.core.actions.action import RemoteAction

    schema = RemoteAction.action_response_format_spec()
    cls = validators.validator_for(schema)
    cls.check_schema(schema)  # once, instead of on every response
    return cls(schema)


def _patch_remote_action_validation() -> None:
    from jsonschema import ValidationError
    from rasa.core.actions.action import RemoteAction
    from rasa.shared.constants import DOCS_BASE_URL

    validator = _cached_action_result_validator()

    def _validate_action_result(self: RemoteAction, result: Dict[str, Any]) -> bool:
        try:
            validator.validate(result)
            return True
        except ValidationError as e:
            e.message += (
                ". Failed to validate Action server response from API, "
                "make sure your response from the Action endpoint is valid. "
                f"For more information about the format visit {DOCS_BASE_URL}/custom-actions"
            )
            raise e

    replace(RemoteAction, "_validate_action_result", _validate_action_result)


def _patch_event_type_lookup() -> None:
    from rasa.shared.core.events import Event
    from rasa.shared.utils.common import all_subclasses

    original = Event.resolve_by_type
    by_name: dict[str, type] = {}

    def resolve_by_type(type_name: str, default: Any = None) -> Any:
        cls = by_name.get(type_name)
        if cls is None:
            for candidate in all_subclasses(Event):  # a miss: refresh the table
                by_name.setdefault(candidate.type_name, candidate)
            cls = by_name.get(type_name)
        # unknown names keep Rasa's own answer (topic → None, default, ValueError)
        return cls if cls is not None else original(type_name, default)

    replace(Event, "resolve_by_type", staticmethod(resolve_by_type))


def _patch_http_api_event_validation() -> None:
    import jsonschema
    import rasa.server as server
    from jsonschema import validators

    validator_cls = validators.validator_for(server.EVENTS_SCHEMA)
    validator_cls.check_schema(server.EVENTS_SCHEMA)
    validator = validator_cls(server.EVENTS_SCHEMA)

    def validate_events_in_request_body(request: Any) -> None:
        events = request.json if isinstance(request.json, list) else [request.json]
        try:
            validator.validate(events)
        except jsonschema.ValidationError as error:
            raise server.ErrorResponse(
                server.HTTPStatus.BAD_REQUEST,
                "BadRequest",
                "Failed to validate the events format. "
                f"For more information about the format visit the docs. Error: {error}",
                help_url=server._docs("/pages/http-api"),
            ) from error

    replace(server, "validate_events_in_request_body", validate_events_in_request_body)


def _patch_sparse_feature_joining() -> None:
    import numpy as np
    from rasa.shared.nlu.training_data.features import Features

    def _combine_sparse_features(self: Features, additional_features: Features) -> None:
        if self.features.shape[0] != additional_features.features.shape[0]:
            raise ValueError(
                "Cannot combine sparse features as sequence dimensions do not "
                f"match: {self.features.shape[0]} != {additional_features.features.shape[0]}."
            )
        left, right = self.features.tocoo(), additional_features.features.tocoo()
        # in range: both were valid matrices, the right one's columns move past the left's
        self.features = trusted_coo(
            np.concatenate([left.data, right.data]),
            np.concatenate([left.row, right.row]),
            np.concatenate([left.col, right.col + left.shape[1]]),
            (left.shape[0], left.shape[1] + right.shape[1]),
        )
        self._cached_fingerprint = None

    replace(Features, "_combine_sparse_features", _combine_sparse_features)


LOCK_POLL_S = 0.05


def _patch_lock_polling() -> None:
    from rasa.core.lock_store import LOCK_LIFETIME, LockStore

    original = LockStore.lock

    def lock(self: LockStore, conversation_id: str, lock_lifetime: float = LOCK_LIFETIME,
             wait_time_in_seconds: float = LOCK_POLL_S) -> Any:
        return original(self, conversation_id, lock_lifetime, wait_time_in_seconds)

    replace(LockStore, "lock", lock)


def apply() -> None:
    """Apply every patch once; raise if the installed Rasa is not one we know."""
    global _APPLIED
    if _APPLIED:
        return
    require_supported_rasa()
    _patch_remote_action_validation()
    _patch_event_type_lookup()
    _patch_http_api_event_validation()
    _patch_sparse_feature_joining()
    _patch_lock_polling()
    fast_predict.patch_tf_predict_dispatch()
    graph_runner.patch_graph_runner()
    rule_matching.patch_rule_matching()
    rule_matching.patch_state_reuse()
    count_vectors.patch_count_vectors()
    action_connections.patch_action_connections()
    fast_json.patch_tracker_serialisation()
    _APPLIED = True
    logger.info("Applied Yinling's Rasa performance patches")
