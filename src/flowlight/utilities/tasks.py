"""Helpers of the functional API (Prefect 1's `prefect.utilities.tasks`): `tags`, `as_task`,
`apply_map`, `defaults_from_attrs`, `pause_task`, and `task` re-exported from its home in
`flowlight.core.task`."""

from __future__ import annotations

import contextlib
import datetime
import functools
import itertools
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Any

from flowlight.core.task import Constant, Task, task
from flowlight.utilities.context import context
from flowlight.utilities.edges import EdgeAnnotation, flatten, unmapped

if TYPE_CHECKING:
    from flowlight.core.flow import Flow

__all__ = ["apply_map", "as_task", "defaults_from_attrs", "pause_task", "tags", "task"]


@contextlib.contextmanager
def tags(*names: str) -> Iterator[None]:
    """Tasks created (or called) inside the block get these tags, besides their own."""
    with context(tags=set(names) | set(context.get("tags") or ())):
        yield


def _holds_no_task(value: Any) -> bool:
    if isinstance(value, (Task, EdgeAnnotation)):
        return False
    if isinstance(value, (list, tuple, set)):
        return all(_holds_no_task(v) for v in value)
    if isinstance(value, dict):
        return all(_holds_no_task(v) for v in value.values())
    return True


def as_task(value: Any, flow: Flow | None = None) -> Task:
    """`value` as a task: a task as it is; a value without tasks in it as a `Constant`; a list,
    tuple, set or dict holding tasks as a collection task bound to them (in `flow`, default: the
    active one), so it is assembled from their results at run time."""
    from flowlight.tasks.core import collections

    if isinstance(value, Task):
        return value
    if isinstance(value, EdgeAnnotation):
        return as_task(value.value, flow=flow)
    made: Task
    if _holds_no_task(value):
        made = Constant(value)
    elif isinstance(value, list):
        made = collections.List().bind(*value, flow=flow)
    elif isinstance(value, tuple):
        made = collections.Tuple().bind(*value, flow=flow)
    elif isinstance(value, set):
        made = collections.Set().bind(*value, flow=flow)
    elif isinstance(value, dict):
        made = collections.Dict().bind(keys=list(value), values=list(value.values()), flow=flow)
    else:  # pragma: no cover - _holds_no_task is True for every other type
        raise TypeError(f"as_task cannot make a task of {value!r}.")
    made.auto_generated = True
    return made


def defaults_from_attrs(*attr_args: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Decorate a task's `run` so each named argument left out defaults to the attribute of
    the same name (set in `__init__`)."""

    def wrapper(run_method: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(run_method)
        def method(self: Any, *args: Any, **kwargs: Any) -> Any:
            for attr in attr_args:
                kwargs.setdefault(attr, getattr(self, attr))
            return run_method(self, *args, **kwargs)

        return method

    return wrapper


def pause_task(message: str | None = None, duration: datetime.timedelta | None = None) -> None:
    """Inside a task: pause it (a `PAUSE` signal) unless the run is resuming it; with a
    `duration`, it may start again on its own after that long."""
    from flowlight.engine import signals

    if context.get("resume", False) is not False:
        return
    start_time = None
    if duration is not None:
        from flowlight.engine.clock import get_clock

        start_time = get_clock().now() + duration.total_seconds()
    raise signals.PAUSE(
        message=message or "Pause signal raised during task execution.", start_time=start_time
    )


def apply_map(func: Callable[..., Any], *args: Any, flow: Flow | None = None, **kwargs: Any) -> Any:
    """Map a whole function of tasks: call `func` once to build its tasks, then map every task
    it made over the mapped arguments (each argument not wrapped in `unmapped`), so child i of
    each task sees item i. Returns what `func` returned (tasks of the flow).

    `func` builds the tasks of one item; `case` blocks and further calls inside it are mapped
    with it, as in Prefect 1.
    """
    from flowlight.core.flow import Flow as FlowClass

    no_flow_given = flow is None
    target = flow if flow is not None else FlowClass.active()
    if target is None:
        raise ValueError(
            "Couldn't infer a flow in the current context: call apply_map inside "
            "`with Flow(...):` or pass flow=..."
        )
    for value in itertools.chain(args, kwargs.values()):
        if not isinstance(value, (Task, EdgeAnnotation, Sequence)):
            raise TypeError(
                f"Cannot map over non-sequence object of type `{type(value).__name__}`; "
                "wrap it in unmapped(...) to give every child the same value."
            )
    before = set(target.tasks)
    scratch = FlowClass("temporary flow")
    # task -> (mapped, constant, flattened) for each argument of func
    arg_info: dict[Task, tuple[bool, bool, bool]] = {}
    constants_by_id: dict[int, Task] = {}

    def prepare(value: Any) -> Task:
        is_mapped = not isinstance(value, unmapped)
        is_flat = isinstance(value, flatten)
        # outside any case/resource block: the scratch flow is not the block's flow
        with context(case=None, resource=None):
            made = as_task(value, flow=scratch)
            is_constant = isinstance(made, Constant)
            if not is_constant:
                scratch.add_task(made)
        if not is_constant:
            target.add_task(made)
        arg_info[made] = (is_mapped, is_constant, is_flat)
        if is_mapped and is_constant:
            constants_by_id[id(made.value)] = made  # type: ignore[attr-defined]
        return made

    args2 = [prepare(a) for a in args]
    kwargs2 = {k: prepare(v) for k, v in kwargs.items()}
    with context(mapped=True, case=None, resource=None), scratch:
        result = func(*args2, **kwargs2) if no_flow_given else func(*args2, flow=scratch, **kwargs2)

    for t in scratch.sorted_tasks():
        target.add_task(t)
    for edge in scratch.edges:
        is_mapped, _, is_flat = arg_info.get(edge.upstream_task, (True, False, False))
        target.add_edge(
            edge.upstream_task,
            edge.downstream_task,
            key=edge.key,
            mapped=is_mapped,
            flatten=is_flat,
        )
    for t, values in scratch.constants.items():
        for key, value in values.items():
            constant = constants_by_id.get(id(value))
            if constant is not None:
                target.add_edge(constant, t, key=key, mapped=True, flatten=arg_info[constant][2])
            else:
                target.constants.setdefault(t, {})[key] = value
    new_tasks = set(scratch.tasks) - before - set(arg_info)
    for t in new_tasks:
        upstream = target.upstream_tasks(t)
        if upstream & new_tasks:
            continue  # only the roots of what func built wait for the mapped arguments
        for arg_task, (is_mapped, is_constant, is_flat) in arg_info.items():
            if arg_task not in upstream and (is_mapped or not is_constant):
                target.add_edge(arg_task, t, mapped=is_mapped, flatten=is_flat)
    return result
