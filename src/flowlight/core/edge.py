"""Edges between tasks. The annotations that say how an argument is used (`unmapped`, `mapped`,
`flatten`) live in `flowlight.utilities.edges`, Prefect 1's home for them, and are re-exported here.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from flowlight.utilities.edges import EdgeAnnotation, flatten, mapped, unmapped

if TYPE_CHECKING:
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
    ) -> None:
        self.upstream_task = upstream_task
        self.downstream_task = downstream_task
        self.key = key
        self.mapped = mapped
        self.flatten = flatten

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
