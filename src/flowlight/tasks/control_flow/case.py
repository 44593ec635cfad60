"""`case`: a block of a flow that runs only when a task's result equals a value.

    with Flow("example") as flow:
        cond = condition()
        with case(cond, "a"):
            run_if_a()
        with case(cond, "b"):
            run_if_b()

Tasks created inside the block are placed after a `CompareValue` task built when the block
closes; when the value does not match, they are skipped (and so is what depends on them).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from flowlight.core.task import Task
from flowlight.tasks.control_flow.conditional import CompareValue
from flowlight.utilities.context import current, use_context

if TYPE_CHECKING:
    from flowlight.core.flow import Flow

__all__ = ["case"]


class case:
    """Run the tasks made inside the block only if `task`'s result equals `value`."""

    def __init__(self, task: Task, value: Any) -> None:
        if isinstance(value, Task):
            raise TypeError(
                "`value` cannot be a task: case compares a task's result with a constant; to "
                "compare two results, branch on `a.is_equal(b)` with value True."
            )
        self.task = task
        self.value = value
        self._tasks: set[Task] = set()
        self._flow: Flow | None = None
        self._restore: Any = None

    def add_task(self, task: Task, flow: Flow) -> None:
        """Called by the flow for each task added while the block is open."""
        if self._flow is None:
            self._flow = flow
        elif self._flow is not flow:
            raise ValueError(
                "Multiple flows cannot be used with the same case statement; open one case "
                "block per flow."
            )
        self._tasks.add(task)

    def __enter__(self) -> case:
        self._restore = use_context({**current(), "case": self})
        self._restore.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self._restore.__exit__(*exc)
        if not self._tasks or self._flow is None:
            return
        flow = self._flow
        condition = CompareValue(self.value, name=f"case({self.value})").bind(
            value=self.task, flow=flow
        )
        for child in self._tasks:
            # only the roots of the block wait on the condition; the rest follow them
            if not self._tasks.intersection(flow.upstream_tasks(child)):
                flow.set_dependencies(child, upstream_tasks=[condition])
