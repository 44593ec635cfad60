"""Mapping: a mapped task runs once per item, as children of a parent that ends `Mapped`.

The parent's own steps (upstream skips, "can we map at all", its `Pending -> Mapped` transition)
run in the flow runner's process; each child is an ordinary task run submitted to the executor
with `map_index` in its context. A mapped upstream contributes child i's state to child i, which
is what makes chained maps line up item by item.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from flowlight.engine import run_log
from flowlight.engine.handlers import HandlerFailure
from flowlight.engine.result import NoResult
from flowlight.engine.state import Failed, Mapped, Pending, State, Success
from flowlight.engine.task_runner import TaskRunner
from flowlight.utilities.context import current, use_context

if TYPE_CHECKING:
    from flowlight.core.edge import Edge
    from flowlight.core.task import Task

__all__ = [
    "MappedRun",
    "edge_value",
    "flattened_result",
    "flattened_states",
    "map_children",
    "plan_map",
]

UNMAPPABLE = "At least one upstream state has an unmappable result."

ChildRun = tuple[dict[str, Any], dict[Any, State], dict[str, Any]]


class MappedRun:
    """The parent of a map while its children run: collects their final states."""

    __slots__ = (
        "child_states",
        "children",
        "context",
        "decided",
        "mapped_over",
        "mapped_state",
        "n_children",
        "remaining",
    )

    def __init__(self, context: dict[str, Any]) -> None:
        self.context = context
        self.decided: State | None = None
        self.mapped_state: Mapped | None = None
        # What each successful mapped edge maps over, worked out once by plan_map: for a flatten
        # edge or a mapped upstream that builds a list (and new states) the children share.
        self.mapped_over: dict[Edge, Sequence[Any]] = {}
        self.n_children = 0
        self.children: list[State | None] = []
        self.remaining = 0
        # The state each child starts from: given by a rerun of a map (a Mapped state given
        # back to the runner), else none, so every child starts Pending.
        self.child_states: list[State | None] = []

    def child_state(self, index: int) -> State | None:
        """The state child `index` starts from (None: a fresh Pending run)."""
        return self.child_states[index] if index < len(self.child_states) else None

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


def flattened_result(value: Any) -> Any:
    """`value` (a list of lists) concatenated one level; a value that cannot be flattened is
    passed on unchanged, as Prefect 1 does."""
    try:
        return [item for sub in value for item in sub]
    except TypeError:
        return value


def _is_sequence(value: Any) -> bool:
    return (
        hasattr(value, "__getitem__")
        and hasattr(value, "__len__")
        and not isinstance(value, (str, bytes, dict))
    )


def flattened_states(mapped: Mapped) -> list[State]:
    """The children of a mapped upstream, one state per item of each child's list.

    A child that did not succeed, was skipped or returned no list stands for itself, so the
    downstream child built from it sees its real state (and its trigger fails on a failure).
    """
    found: list[State] = []
    for child in mapped.map_states:
        if child.is_successful() and not child.is_skipped() and _is_sequence(child.result):
            found.extend(Success(child.message, result=item) for item in child.result)
        else:
            found.append(child)
    return found


def edge_value(edge: Edge, state: State) -> Any:
    """What an unmapped edge passes to its task: the upstream result, flattened on request."""
    if not edge.flatten:
        return state.result
    if isinstance(state, Mapped):
        return [s.result for s in flattened_states(state)]
    return flattened_result(state.result)


def _mapped_over(edge: Edge, state: State) -> Sequence[Any]:
    """What a mapped edge maps over: the upstream's child states when it is mapped itself
    (each child feeds the child of the same index), otherwise the items of its result."""
    if isinstance(state, Mapped):
        return flattened_states(state) if edge.flatten else state.map_states
    return flattened_result(state.result) if edge.flatten else state.result  # type: ignore[no-any-return]


def plan_map(
    task: Task,
    edges: list[Edge],
    upstream: Mapping[Edge, State],
    context: dict[str, Any],
    initial: State | None,
    runner: TaskRunner | None = None,
) -> MappedRun:
    """Run the parent's steps; `decided` is set when the parent ends without children."""
    plan = MappedRun(context)
    if isinstance(initial, Mapped):
        return _replan_map(edges, upstream, initial, plan)
    runner = runner or TaskRunner(task)
    old = initial or Pending()
    with use_context(context):
        outcome = runner.check_upstream_skipped(upstream)
        if outcome is None:
            outcome = _check_mappable(task.name, edges, upstream, plan.mapped_over)
        if outcome is None:
            over = plan.mapped_over
            for e in edges:
                if e.mapped and e not in over and upstream[e].is_successful():
                    over[e] = _mapped_over(e, upstream[e])
            plan.n_children = min((len(items) for items in over.values()), default=0)
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


def _replan_map(
    edges: list[Edge], upstream: Mapping[Edge, State], given: Mapped, plan: MappedRun
) -> MappedRun:
    """The plan for a map given its own `Mapped` state back (a later pass of a flow run whose
    children did not all finish, e.g. one is Retrying): as in Prefect 1 the parent keeps that
    state without a transition, and child i starts from `given.map_states[i]`, so finished
    children are kept and only the unfinished ones run again.

    How many children there are comes from the mapped upstreams as on a first run, capped by
    the children the state already has; an upstream that succeeded without a result (a state
    given without one) maps `None` over as many children as the state records."""
    known = given.n_map_states
    over = plan.mapped_over
    widths: list[int] = []
    for e in edges:
        s = upstream[e]
        if not e.mapped:
            continue
        if isinstance(s, Mapped):
            over[e] = _mapped_over(e, s)
            widths.append(len(over[e]))
            continue
        if s.is_successful() and s._result is not NoResult:
            items = _mapped_over(e, s)
            over[e] = list(items) if _is_sequence(items) else [None] * known
            if given.map_states:
                over[e] = over[e][: len(given.map_states)]
        elif s.is_successful():
            over[e] = [None] * known
        widths.append(len(over[e]) if e in over else known)
    plan.mapped_state = given
    plan.n_children = min(widths, default=0)
    plan.children = [None] * plan.n_children
    plan.remaining = plan.n_children
    plan.child_states = list(given.map_states)
    return plan


def _check_mappable(
    task_name: str,
    edges: list[Edge],
    upstream: Mapping[Edge, State],
    over: dict[Edge, Sequence[Any]],
) -> State | None:
    """A Failed state when nothing can be mapped over; fills `over` for the upstream results it
    checks, so plan_map works out only the mapped upstreams' children."""
    mapped = [e for e in edges if e.mapped]
    if not any(upstream[e].is_successful() for e in mapped):
        return Failed("No upstream states can be mapped over.")
    for e in mapped:
        s = upstream[e]
        if isinstance(s, Mapped) or not s.is_successful():
            continue
        over[e] = _mapped_over(e, s)
        if not _is_sequence(over[e]):
            source = f"argument '{e.key}'" if e.key else f"upstream task {e.upstream_task}"
            problem = TypeError(
                f"{source} got {type(s.result).__name__}, which is unmappable (not a list or "
                "tuple); wrap it in unmapped(...) to give every child the whole value."
            )
            # The message is Prefect 1's, word for word (code matches on it); the culprit and
            # the fix are in the state's result and the run's log.
            run_log.map_refused(task_name, current(), problem)
            return Failed(UNMAPPABLE, result=problem)
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
    over = plan.mapped_over
    whole = {e: edge_value(e, upstream[e]) for e in edges if not e.mapped}
    children: list[ChildRun] = []
    for i in range(plan.n_children):
        inputs = dict(constants or {})
        child_upstream: dict[Any, State] = {}
        for e in edges:
            s = upstream[e]
            if not e.mapped:
                child_state, value = s, whole[e]
            elif isinstance(s, Mapped):
                child_state = over[e][i]
                value = child_state.result
            elif e not in over:
                child_state, value = s, None  # a failed upstream: each child's trigger sees it
            else:
                value = over[e][i]
                child_state = Success(result=value)
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
