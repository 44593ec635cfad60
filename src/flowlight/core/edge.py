"""Edges between tasks. The annotations that say how an argument is used (`unmapped`, `mapped`,
`flatten`) live in `flowlight.utilities.edges`, Prefect 1's home for them, and are re-exported here.
"""

from __future__ import annotations

import keyword
from typing import TYPE_CHECKING, Any

from flowlight.utilities.edges import EdgeAnnotation, flatten, mapped, unmapped

if TYPE_CHECKING:
    from flowlight.core.flow import Flow
    from flowlight.core.task import Task

__all__ = ["Edge", "EdgeAnnotation", "flatten", "mapped", "unmapped"]


class Edge:
    """`upstream_task` must finish before `downstream_task`; its result feeds argument `key`."""

    __slots__ = ("downstream_task", "flatten", "key", "mapped", "upstream_task")

    def __init__(
        self,
        upstream_task: Task,
        downstream_task: Task,
        key: str | None = None,
        mapped: bool = False,
        flatten: bool = False,
        flow: Flow | None = None,
        *,
        flattened: bool | None = None,
    ) -> None:
        from flowlight.core.task import Task as TaskClass
        from flowlight.utilities.tasks import as_task

        if key is not None and not (
            isinstance(key, str) and key.isidentifier() and not keyword.iskeyword(key)
        ):
            raise ValueError(
                f'Key must be a valid identifier (received "{key}"): the key names the argument '
                "of the downstream task's run() that receives the upstream result."
            )
        if upstream_task is downstream_task:
            raise ValueError(
                f"Edges can not connect a task to itself: {upstream_task} is both the upstream "
                "and the downstream task."
            )
        # a value given in place of a task becomes one, as Prefect 1's Edge does
        self.upstream_task = (
            upstream_task if isinstance(upstream_task, TaskClass) else as_task(upstream_task, flow)
        )
        self.downstream_task = (
            downstream_task
            if isinstance(downstream_task, TaskClass)
            else as_task(downstream_task, flow)
        )
        self.key = key
        self.mapped = mapped
        self.flatten = flatten if flattened is None else flattened

    @property
    def flattened(self) -> bool:
        """Prefect 1's name for `flatten`."""
        return self.flatten

    @property
    def tasks(self) -> set[Task]:
        """Both ends of the edge."""
        return {self.upstream_task, self.downstream_task}

    def _identity(self) -> tuple[Any, ...]:
        return (self.upstream_task, self.downstream_task, self.key, self.mapped, self.flatten)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Edge) and self._identity() == other._identity()

    def __hash__(self) -> int:
        return hash(self._identity())

    def __repr__(self) -> str:
        up, down = self.upstream_task.name, self.downstream_task.name
        key = f" (key={self.key})" if self.key else ""
        return f"<Edge{' (mapped)' if self.mapped else ''}: {up} to {down}{key}>"
