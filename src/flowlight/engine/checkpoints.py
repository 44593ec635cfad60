"""Targets and checkpoints: the only place a task run touches `Result` storage.

Both are opt-in per task, and the task runner asks here only when a task has a `target` or a
result (its own `result=` or its flow's): a task without them never reaches this module.

- **Target** (`Task(target="{task_name}-{x}.pickle")`): before running, if the task's result
  finds something at the formatted target, the run ends `Cached("Result found at task target
  ...")` with the stored value, without running.
- **Checkpoint**: after a successful run with a non-None value, when checkpointing is on
  (`checkpointing=True` in the run's context, else `FLOWLIGHT__FLOWS__CHECKPOINTING`, off by
  default as in Prefect 1) and the task does not say `checkpoint=False`, the value is written
  to the result's location (the target when there is one); the state's `_result` says where.

Locations are formatted with the flow's parameters, the run's context (`task_name`,
`flow_name`, `map_index`, `task_run_count`, `date`, `today`, ...) and the task's inputs.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from flowlight.engine.result.base import Result, ResultNotImplementedError
from flowlight.engine.run_dates import run_dates
from flowlight.engine.state import Cached, Failed, State
from flowlight.settings import setting
from flowlight.utilities.context import resolved

if TYPE_CHECKING:
    from flowlight.core.task import Task

__all__ = ["checkpointed", "find_target", "result_for"]


def result_for(task: Task, context: dict[str, Any]) -> Result:
    """The result a run of `task` uses: its own, else its flow's, else the base `Result`; its
    location is the task's target when there is one."""
    configured = task.result if task.result is not None else context.get("flow_result")
    result: Result = configured.copy() if configured is not None else Result()
    target = task.target
    if target:
        if isinstance(target, str):
            result.location, result._formatter = target, None
        else:
            result.location, result._formatter = None, target
    return result


def _formatting_kwargs(context: dict[str, Any], inputs: dict[str, Any]) -> dict[str, Any]:
    # A run's context holds its `date` (the day texts follow from it); outside one, now's.
    dates = {} if "date" in context else resolved(run_dates(None, time.time()))
    kwargs: dict[str, Any] = {
        **dates,
        **(context.get("parameters") or {}),
        **resolved(context),
        **inputs,
    }
    kwargs.pop("self", None)  # would clash with the result methods' own `self`
    return kwargs


def find_target(task: Task, inputs: dict[str, Any], context: dict[str, Any]) -> State | None:
    """`Cached` with the stored value when the task's target exists; None to run the task."""
    result = result_for(task, context)
    kwargs = _formatting_kwargs(context, inputs)
    try:
        target = task.target if isinstance(task.target, str) else task.target(**kwargs)
        if not result.exists(target, **kwargs):
            return None
        location = target.format(**kwargs)
        found = result.read(location)
    except Exception as exc:
        return Failed(f"Unexpected error: {exc!r}", result=exc)
    return Cached(
        message=f"Result found at task target {location}",
        result=found,
        cached_parameters=context.get("parameters"),
    )


def checkpointed(
    task: Task, state: State, inputs: dict[str, Any], context: dict[str, Any]
) -> State:
    """`state` (a Success) with its value as the task's result type, written to storage when
    checkpointing is on; `Failed` when writing fails, so a lost checkpoint is never silent."""
    result = result_for(task, context)
    value = state.result
    checkpointing = context.get("checkpointing")
    if checkpointing is None:
        checkpointing = setting("flows", "checkpointing", default=False)
    if checkpointing is True and task.checkpoint is not False and value is not None:
        try:
            written = result.write(value, **_formatting_kwargs(context, inputs))
        except ResultNotImplementedError:
            written = result.from_value(value)
        except Exception as exc:
            return Failed(
                f"Task run succeeded but its result could not be checkpointed to "
                f"{type(result).__name__}: {exc!r}",
                result=exc,
            )
    else:
        written = result.from_value(value)
    state._result = written
    return state
