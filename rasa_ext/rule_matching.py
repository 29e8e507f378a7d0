"""Match RulePolicy's rules against the last few dialogue states only, remembered.

`RulePolicy._get_possible_keys` starts from every rule and, for each state of
the conversation from the newest back, keeps the rules that state allows. It
runs two or three times per prediction over all rules (about 5 % of a turn).
A rule longer than the states seen so far is kept without a check, so once the
walk is past the longest rule (3 states in our model) every remaining rule
stays: the outcome depends only on the newest `longest rule` states, a window
that repeats across conversations far more than whole histories do.

For a window we run Rasa's own matching once and remember the set it returns.
The walk past the window still rebuilds the set once per older state and the
caller breaks ties with `max` over its iteration order, so we also remember
those rebuilt sets until their order stops changing; the set handed back is
then the one Rasa would build, order included.

Only policies loaded from a trained model are memoised: their rules are fixed.
While training, Rasa changes the rules between predictions.

Separately, one prediction asks for the tracker's states twice (matching the
user's text, then the intent), and each time Rasa replays the whole
conversation to build them (about 3 % of a turn each). Within one
`RulePolicy._predict` call the tracker does not change, so the second request
gets a copy of the first one's states; copies, because the featurizer edits
the states it hands out.
"""
from __future__ import annotations

import weakref
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, Hashable, List, Optional, Set, Text, Tuple

from rasa_ext.monkey import replace

State = Dict[Text, Dict[Text, Any]]

MAX_WINDOWS = 20_000  # a bound on memory, far above the windows our rules produce
MAX_REBUILDS = 16  # a set's order settles after one or two rebuilds


@dataclass
class _LookupMemo:
    lookup: Dict[Text, Text]  # held so its id cannot be reused by another dict
    window: int  # the longest rule, in states
    survivors: Dict[Hashable, List[Set[Text]]] = field(default_factory=dict)


# loaded policy → {id(lookup): memo}
_MEMOS: "weakref.WeakKeyDictionary[Any, Dict[int, _LookupMemo]]" = weakref.WeakKeyDictionary()


def _freeze(states: List[State]) -> Optional[Hashable]:
    """Equal keys only for equal states (equal states built in another order just miss);
    None if a value cannot be hashed."""
    key = tuple(tuple((kind, tuple(sub.items())) for kind, sub in state.items()) for state in states)
    try:
        hash(key)
    except TypeError:
        return None
    return key


def _rebuilds(first: Set[Text]) -> Optional[List[Set[Text]]]:
    """`first` and its rebuilds (as Rasa's filter rebuilds it) until the order settles."""
    chain = [first]
    for _ in range(MAX_REBUILDS):
        rebuilt = set(key for key in chain[-1])  # noqa: C401 - insertion one by one, as `set(filter(...))`
        if list(rebuilt) == list(chain[-1]):
            return chain
        chain.append(rebuilt)
    return None


def _memo(policy: Any, lookup: Dict[Text, Text]) -> Optional[_LookupMemo]:
    memos = _MEMOS.get(policy)
    if memos is None or not lookup:
        return None
    memo = memos.get(id(lookup))
    if memo is None or memo.lookup is not lookup:
        window = max(len(policy._rule_key_to_state(key)) for key in lookup)
        memo = memos[id(lookup)] = _LookupMemo(lookup, window)
    return memo


def patch_rule_matching() -> None:
    from rasa.core.policies.rule_policy import RulePolicy

    original_keys: Callable[..., Set[Text]] = RulePolicy._get_possible_keys
    original_load = RulePolicy.load.__func__

    def _get_possible_keys(self: RulePolicy, lookup: Dict[Text, Text], states: List[State]) -> Set[Text]:
        memo = _memo(self, lookup)
        window = states[-memo.window:] if memo else states
        key = _freeze(window) if memo else None
        if key is None:
            return original_keys(self, lookup, states)
        chain = memo.survivors.get(key)
        if chain is None:
            chain = _rebuilds(original_keys(self, lookup, window))
            if chain is None:
                return original_keys(self, lookup, states)
            if len(memo.survivors) >= MAX_WINDOWS:
                memo.survivors.clear()
            memo.survivors[key] = chain
        # shared, not copied: Rasa's callers only read the set
        return chain[min(len(states) - len(window), len(chain) - 1)]

    def load(cls: type, *args: Any, **kwargs: Any) -> RulePolicy:
        policy = original_load(cls, *args, **kwargs)
        _MEMOS[policy] = {}
        return policy

    replace(RulePolicy, "_get_possible_keys", _get_possible_keys)
    replace(RulePolicy, "load", classmethod(load))


# states built during the current RulePolicy._predict call: key → (rule-only data, states)
_STATES: ContextVar[Optional[Dict[Hashable, Tuple[Any, List[State]]]]] = ContextVar("yinling_rule_states", default=None)


def _copy(states: List[State]) -> List[State]:
    """Deep enough: the featurizer deletes keys of the sub-states, never edits their values."""
    return [{kind: dict(sub) for kind, sub in state.items()} for state in states]


def patch_state_reuse() -> None:
    from rasa.core.featurizers.tracker_featurizers import TrackerFeaturizer
    from rasa.core.policies.rule_policy import RulePolicy

    original_predict: Callable[..., Any] = RulePolicy._predict
    original_states: Callable[..., List[State]] = TrackerFeaturizer._create_states

    def _predict(self: RulePolicy, tracker: Any, domain: Any) -> Any:
        token = _STATES.set({})
        try:
            return original_predict(self, tracker, domain)
        finally:
            _STATES.reset(token)

    def _create_states(
        tracker: Any,
        domain: Any,
        omit_unset_slots: bool = False,
        ignore_rule_only_turns: bool = False,
        rule_only_data: Optional[Dict[Text, Any]] = None,
    ) -> List[State]:
        built = _STATES.get()
        if built is None:  # not inside a rule prediction
            return original_states(tracker, domain, omit_unset_slots, ignore_rule_only_turns, rule_only_data)
        # the tracker and domain stay alive (and the tracker unchanged) for the whole call
        key = (id(tracker), len(tracker.events), id(domain), omit_unset_slots, ignore_rule_only_turns)
        hit = built.get(key)
        if hit is None or hit[0] != rule_only_data:
            states = original_states(tracker, domain, omit_unset_slots, ignore_rule_only_turns, rule_only_data)
            hit = built[key] = (rule_only_data, states)
        return _copy(hit[1])

    replace(RulePolicy, "_predict", _predict)
    replace(TrackerFeaturizer, "_create_states", staticmethod(_create_states))
