"""Edges between tasks, and the annotations that say how a mapped argument is used."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from flowlight.core.task import Task

__all__ = ["Edge", "EdgeAnnotation", "flatten", "mapped", "unmapped"]


class EdgeAnnotation:
    """Wraps an argument of `task.map(...)` / a task call to change how its edge is built."""

    annotations: dict[str, bool] = {}

    def __init__(self, value: Any) -> None:
        self.value = value

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.value!r})"


class unmapped(EdgeAnnotation):
    """Pass this argument whole to every mapped child instead of mapping over it."""

    annotations = {"mapped": False}


class mapped(EdgeAnnotation):
    """Map over this argument even in a plain call."""

    annotations = {"mapped": True}


class flatten(EdgeAnnotation):
    """Map over the concatenation of a list of lists (one level), e.g. a map of a map's lists."""

    annotations = {"flatten": True}


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
