"""Run Rasa's prediction graph in order, without building a dask graph per run.

`DaskGraphRunner.run` computes the minimal schema for its targets, builds a dask
graph and hands it to dask's synchronous scheduler on every call: three calls
per turn (NLU, then a prediction after the message and after each action), and
about 10 % of a turn goes to that bookkeeping rather than to the components.

We work out the execution order once per (targets, input names) and call the
same graph nodes with the same arguments, as dask's synchronous scheduler does:
every node of the graph, each after the nodes it needs, a need that is neither
a node nor an input passed on as its name (GraphNode warns about it), and the
components' exceptions raised unchanged. Only the order among nodes that do not
depend on each other may differ, and those do not share state.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, Callable, Dict, FrozenSet, List, Optional, Text, Tuple

from rasa_ext.monkey import replace

# (node name, names it needs, in the order the node takes them)
_Step = Tuple[Text, Tuple[Text, ...]]


@dataclass(frozen=True)
class _Plan:
    schema_nodes: FrozenSet[Text]  # the minimal schema's nodes, before inputs replace any
    steps: Tuple[_Step, ...]


def _execution_order(needs: Dict[Text, Tuple[Text, ...]]) -> List[_Step]:
    """Every key after the keys it needs (depth first, in schema order)."""
    order: List[_Step] = []
    done: set = set()

    def visit(key: Text, path: Tuple[Text, ...]) -> None:
        if key in done:
            return
        if key in path:
            raise ValueError(f"cycle in graph at {key!r}")
        for dependency in needs[key]:
            if dependency in needs:
                visit(dependency, (*path, key))
        done.add(key)
        order.append((key, needs[key]))

    for key in needs:
        visit(key, ())
    return order


def _plan(runner: Any, targets: Tuple[Text, ...], input_names: Tuple[Text, ...]) -> _Plan:
    # the schema is fixed once the runner exists, so plans never go stale
    plans: Dict[Any, _Plan] = runner.__dict__.setdefault("_yinling_plans", {})
    key = (targets, input_names)
    if key not in plans:
        schema = runner._graph_schema.minimal_graph_schema(list(targets))
        needs = {name: tuple(node.needs.values()) for name, node in schema.nodes.items()}
        for name in input_names:  # an input replaces a node of the same name
            needs[name] = ()
        plans[key] = _Plan(frozenset(schema.nodes), tuple(_execution_order(needs)))
    return plans[key]


def patch_graph_runner() -> None:
    from rasa.engine.exceptions import GraphRunError
    from rasa.engine.runner import dask as dask_runner
    from rasa.engine.runner.dask import DaskGraphRunner

    original: Callable[..., Dict[Text, Any]] = DaskGraphRunner.run

    def run(
        self: DaskGraphRunner,
        inputs: Optional[Dict[Text, Any]] = None,
        targets: Optional[List[Text]] = None,
    ) -> Dict[Text, Any]:
        run_targets = tuple(targets if targets else self._graph_schema.target_names)
        plan = _plan(self, run_targets, tuple(inputs or ()))
        if not all(target in plan.schema_nodes or target in (inputs or ()) for target in run_targets):
            return original(self, inputs, targets)  # dask's own error for an unknown target
        graph: Dict[Text, Any] = dict.fromkeys(plan.schema_nodes)
        if inputs:
            self._add_inputs_to_graph(inputs, graph)  # Rasa's clash check and (name, value) entries
        results = {name: graph[name] for name in inputs or ()}
        if dask_runner.logger.isEnabledFor(logging.DEBUG):
            dask_runner.logger.debug(
                f"Running graph with inputs: {inputs}, targets: {targets} and {self._execution_context}."
            )
        try:
            for name, needs in plan.steps:
                if name not in results:
                    node = self._instantiated_nodes[name]
                    results[name] = node(*(results.get(need, need) for need in needs))
        except RuntimeError as e:
            raise GraphRunError("Error running runner.") from e
        return dict(results[target] for target in run_targets)

    replace(DaskGraphRunner, "run", run)
