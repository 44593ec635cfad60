"""Run names: `task_run_name=` templates (or functions) turned into `context["task_run_name"]`.

Prefect 1 formats the template with the run's parameters, then its context, then the task's own
inputs (later ones win), once the inputs are known and before the cache and the trigger are
checked; a mapped child is named from its own item.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from flowlight.engine.state import Failed, State
from flowlight.utilities.context import resolved

if TYPE_CHECKING:
    from flowlight.core.task import Task

__all__ = ["name_task_run"]


def name_task_run(task: Task, inputs: dict[str, Any], context: dict[str, Any]) -> State | None:
    """Put the task run's name into `context`; a template that cannot be filled fails the run
    (returned as the state to end with), naming the template and the missing key."""
    template = task.task_run_name
    if template is None:
        return None
    values = {**(context.get("parameters") or {}), **resolved(context), **inputs}
    try:
        name = template.format(**values) if isinstance(template, str) else template(**values)
    except Exception as exc:
        return Failed(
            f"Task run name {template!r} could not be made from the run's parameters, context "
            f"and inputs: {exc!r}.",
            result=exc,
        )
    context["task_run_name"] = str(name)
    return None
