"""Mapping: a mapped task runs once per item, as children of a parent that ends `Mapped`.

The parent's own steps (upstream skips, "can we map at all", its `Pending -> Mapped` transition)
run in the flow runner's process; each child is an ordinary task run submitted to the executor
with `map_index` in its context. A mapped upstream contributes child i's state to child i, which
is what makes chained maps line up item by item.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from flowlight.engine.handlers import HandlerFailure
from flowlight.engine.state import Failed, Mapped, Pending, State, Success
from flowlight.engine.task_runner import TaskRunner
from flowlight.utilities.context import use_context

if TYPE_CHECKING:
    from flowlight.core.edge import Edge
    from flowlight.core.task import Task

__all__ = ["MappedRun", "map_children", "plan_map"]

ChildRun = tuple[dict[str, Any], dict[Any, State], dict[str, Any]]


class MappedRun:
    """The parent of a map while its children run: collects their final states."""

    __slots__ = ("children", "context", "decided", "mapped_state", "n_children", "remaining")

    def __init__(self, context: dict[str, Any]) -> None:
        self.context = context
        self.decided: State | None = None
        self.mapped_state: Mapped | None = None
        self.n_children = 0
        self.children: list[State | None] = []
        self.remaining = 0

    def child_done(self, index: int, state: State) -> bool:
        """Record child `index`'s final state; True when it was the last one."""
        self.children[index] = state
        self.remaining -= 1
        return self.remaining == 0

    def parent_state(self) -> State:
        """The parent's final state: `Mapped` with every child's state and result."""
        assert self.mapped_state is not None
        children = [s for s in self.children if s is not None]
        self.mapped_state.map_states = children
        self.mapped_state.result = [s.result for s in children]
        return self.mapped_state


def _flattened(value: Any) -> list[Any]:
    return [item for sub in value for item in sub]


def _items(edge: Edge, state: State) -> Any:
    """The sequence a mapped edge maps over."""
    if edge.flatten:
        return _flattened(state.result)
    return state.result


def plan_map(
    task: Task,
    edges: list[Edge],
    upstream: Mapping[Edge, State],
    context: dict[str, Any],
    initial: State | None,
) -> MappedRun:
    """Run the parent's steps; `decided` is set when the parent ends without children."""
    plan = MappedRun(context)
    runner = TaskRunner(task)
    old = initial or Pending()
    with use_context(context):
        outcome = runner.check_upstream_skipped(upstream)
        if outcome is None:
            outcome = _check_mappable(edges, upstream)
        if outcome is None:
            lengths = []
            for e in edges:
                s = upstream[e]
                if not e.mapped:
                    continue
                if isinstance(s, Mapped) and not e.flatten:
                    lengths.append(len(s.map_states))
                elif s.is_successful():
                    lengths.append(len(_items(e, s)))
            plan.n_children = min(lengths, default=0)
            outcome = Mapped("Ready to proceed with mapping.")
        try:
            final = runner._change(old, outcome)
        except HandlerFailure as failure:
            final = failure.state
    if isinstance(final, Mapped):
        plan.mapped_state = final
        plan.children = [None] * plan.n_children
        plan.remaining = plan.n_children
    else:
        plan.decided = final
    return plan


def _check_mappable(edges: list[Edge], upstream: Mapping[Edge, State]) -> State | None:
    mapped = [e for e in edges if e.mapped]
    if not any(upstream[e].is_successful() for e in mapped):
        return Failed("No upstream states can be mapped over.")
    for e in mapped:
        s = upstream[e]
        if not s.is_successful() or (isinstance(s, Mapped) and not e.flatten):
            continue
        try:
            items = _items(e, s)
            ok = (
                hasattr(items, "__getitem__")
                and hasattr(items, "__len__")
                and not isinstance(items, (str, bytes, dict))
            )
        except TypeError:
            ok = False
        if not ok:
            return Failed(
                f"At least one upstream state has an unmappable result: argument '{e.key}' got "
                f"{type(s.result).__name__}, not a list or tuple."
            )
    return None


def map_children(
    task: Task,
    edges: list[Edge],
    upstream: Mapping[Edge, State],
    constants: dict[str, Any] | None,
    plan: MappedRun,
) -> list[ChildRun]:
    """Inputs, upstream states and context for each child of the map."""
    parent_ctx = plan.context
    sequences: dict[Edge, Any] = {}
    for e in edges:
        s = upstream[e]
        if e.mapped and not (isinstance(s, Mapped) and not e.flatten):
            sequences[e] = _items(e, s)
    children: list[ChildRun] = []
    for i in range(plan.n_children):
        inputs = dict(constants or {})
        child_upstream: dict[Any, State] = {}
        for e in edges:
            s = upstream[e]
            if not e.mapped:
                child_state, value = s, s.result
            elif e in sequences:
                value = sequences[e][i]
                child_state = Success(result=value)
            else:
                child_state = s.map_states[i]  # type: ignore[attr-defined]
                value = child_state.result
            if e.key is not None:
                inputs[e.key] = value
            child_upstream[e] = child_state
        ctx = dict(parent_ctx)
        ctx["map_index"] = i
        ctx["task_full_name"] = f"{task.name}[{i}]"
        ctx["parent_task_run_id"] = parent_ctx["task_run_id"]
        ctx["task_run_id"] = str(uuid.uuid4())
        children.append((inputs, child_upstream, ctx))
    return children
