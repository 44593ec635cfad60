"""Python operators on tasks, as Prefect 1 defines them: inside a flow, `a + 1`, `a > b`,
`a["key"]`, `a.is_equal(b)`, `a.not_()` each add a task (from `flowlight.tasks.core.operators`)
that computes the operation at run time, and return it. `==` stays identity (tasks are keys of
dicts and sets); use `is_equal` / `is_not_equal`. `a | b` makes `b` run after `a`.

A mixin of `Task`, so the operator tasks are imported only when an operator is used.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

if TYPE_CHECKING:
    from flowlight.core.task import Task

__all__ = ["TaskOperators"]


def _operator(name: str) -> Any:
    from flowlight.tasks.core import operators

    return getattr(operators, name)()


class TaskOperators:
    """Operator methods of `Task`; each returns the new task bound in the active flow."""

    __slots__ = ()

    def __getitem__(self: Any, key: Any) -> Task:
        """A task that returns `result[key]` (how `a, b = task()` works with `nout=2`)."""
        from flowlight.core.task import Task as TaskClass
        from flowlight.tasks.core.operators import GetItem

        label = key.name if isinstance(key, TaskClass) else repr(key)
        getter = GetItem(
            name=f"{self.name}[{label}]", checkpoint=self.checkpoint, result=self.result
        )
        return getter.bind(self, key)

    def __or__(self: Any, other: Any) -> Any:
        """`self | other`: `other` runs after `self`; returns `other`."""
        _active_flow(self).set_dependencies(self, downstream_tasks=[other])
        return other

    def __ror__(self: Any, other: Any) -> Task:
        """`other | self`: `self` runs after `other`; returns `self`."""
        _active_flow(self).set_dependencies(self, upstream_tasks=[other])
        return cast("Task", self)

    def not_(self: Any) -> Task:
        """A task that returns `not result`."""
        return _operator("Not").bind(self)  # type: ignore[no-any-return]

    def __add__(self: Any, other: Any) -> Task:
        """A task that returns `result + other`."""
        return _operator("Add").bind(self, other)  # type: ignore[no-any-return]

    def __sub__(self: Any, other: Any) -> Task:
        """A task that returns `result - other`."""
        return _operator("Sub").bind(self, other)  # type: ignore[no-any-return]

    def __mul__(self: Any, other: Any) -> Task:
        """A task that returns `result * other`."""
        return _operator("Mul").bind(self, other)  # type: ignore[no-any-return]

    def __truediv__(self: Any, other: Any) -> Task:
        """A task that returns `result / other`."""
        return _operator("Div").bind(self, other)  # type: ignore[no-any-return]

    def __floordiv__(self: Any, other: Any) -> Task:
        """A task that returns `result // other`."""
        return _operator("FloorDiv").bind(self, other)  # type: ignore[no-any-return]

    def __mod__(self: Any, other: Any) -> Task:
        """A task that returns `result % other`."""
        return _operator("Mod").bind(self, other)  # type: ignore[no-any-return]

    def __pow__(self: Any, other: Any) -> Task:
        """A task that returns `result ** other`."""
        return _operator("Pow").bind(self, other)  # type: ignore[no-any-return]

    def __and__(self: Any, other: Any) -> Task:
        """A task that returns `result and other`."""
        return _operator("And").bind(self, other)  # type: ignore[no-any-return]

    def __radd__(self: Any, other: Any) -> Task:
        """A task that returns `other + result`."""
        return _operator("Add").bind(other, self)  # type: ignore[no-any-return]

    def __rsub__(self: Any, other: Any) -> Task:
        """A task that returns `other - result`."""
        return _operator("Sub").bind(other, self)  # type: ignore[no-any-return]

    def __rmul__(self: Any, other: Any) -> Task:
        """A task that returns `other * result`."""
        return _operator("Mul").bind(other, self)  # type: ignore[no-any-return]

    def __rtruediv__(self: Any, other: Any) -> Task:
        """A task that returns `other / result`."""
        return _operator("Div").bind(other, self)  # type: ignore[no-any-return]

    def __rfloordiv__(self: Any, other: Any) -> Task:
        """A task that returns `other // result`."""
        return _operator("FloorDiv").bind(other, self)  # type: ignore[no-any-return]

    def __rmod__(self: Any, other: Any) -> Task:
        """A task that returns `other % result`."""
        return _operator("Mod").bind(other, self)  # type: ignore[no-any-return]

    def __rpow__(self: Any, other: Any) -> Task:
        """A task that returns `other ** result`."""
        return _operator("Pow").bind(other, self)  # type: ignore[no-any-return]

    def __rand__(self: Any, other: Any) -> Task:
        """A task that returns `other and result`."""
        return _operator("And").bind(other, self)  # type: ignore[no-any-return]

    def __gt__(self: Any, other: Any) -> Task:
        """A task that returns `result > other`."""
        return _operator("GreaterThan").bind(self, other)  # type: ignore[no-any-return]

    def __ge__(self: Any, other: Any) -> Task:
        """A task that returns `result >= other`."""
        return _operator("GreaterThanOrEqual").bind(self, other)  # type: ignore[no-any-return]

    def __lt__(self: Any, other: Any) -> Task:
        """A task that returns `result < other`."""
        return _operator("LessThan").bind(self, other)  # type: ignore[no-any-return]

    def __le__(self: Any, other: Any) -> Task:
        """A task that returns `result <= other`."""
        return _operator("LessThanOrEqual").bind(self, other)  # type: ignore[no-any-return]

    def is_equal(self: Any, other: Any) -> Task:
        """A task that returns `result == other`."""
        return _operator("Equal").bind(self, other)  # type: ignore[no-any-return]

    def is_not_equal(self: Any, other: Any) -> Task:
        """A task that returns `result != other`."""
        return _operator("NotEqual").bind(self, other)  # type: ignore[no-any-return]

    def or_(self: Any, other: Any) -> Task:
        """A task that returns `result or other`."""
        return _operator("Or").bind(self, other)  # type: ignore[no-any-return]


def _active_flow(task: Task) -> Any:
    from flowlight.core.flow import Flow

    flow = Flow.active()
    if flow is None:
        raise ValueError(f"{task} | ... needs an active `with Flow(...)` block.")
    return flow
