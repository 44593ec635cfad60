"""Tasks for Python's operators, built by the functional API: `a() + 1`, `t()["key"]`,
`t().is_equal(3)` inside a flow each add one of these tasks, evaluated at run time."""

from __future__ import annotations

from operator import attrgetter
from typing import Any

from flowlight.core.task import Task

__all__ = [
    "Add",
    "And",
    "Div",
    "Equal",
    "FloorDiv",
    "GetAttr",
    "GetItem",
    "GreaterThan",
    "GreaterThanOrEqual",
    "LessThan",
    "LessThanOrEqual",
    "Mod",
    "Mul",
    "Not",
    "NotEqual",
    "Or",
    "Pow",
    "Sub",
]


class _NoDefault:
    """Marks "no default given", since None is a valid default."""

    def __repr__(self) -> str:
        return "<no default>"

    def __reduce__(self) -> str:
        return "NO_DEFAULT"  # unpickles as this module's one instance, so `is` still holds


NO_DEFAULT: Any = _NoDefault()


class GetItem(Task):
    """`task_result[key]`; with a `default`, that value when the key is missing (KeyError)."""

    def __init__(self, default: Any = NO_DEFAULT, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.default = default

    def run(self, task_result: Any, key: Any, default: Any = NO_DEFAULT) -> Any:  # type: ignore[override]
        if default is NO_DEFAULT:
            default = self.default
        try:
            return task_result[key]
        except KeyError:
            if default is NO_DEFAULT:
                raise
            return default


class GetAttr(Task):
    """`task_result.<attr>` (a dotted path such as "a.b" too); with a `default`, that value when
    the attribute is missing."""

    def __init__(self, default: Any = NO_DEFAULT, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.default = default

    def run(self, task_result: Any, attr: str, default: Any = NO_DEFAULT) -> Any:  # type: ignore[override]
        if default is NO_DEFAULT:
            default = self.default
        try:
            return attrgetter(attr)(task_result)
        except AttributeError:
            if default is NO_DEFAULT:
                raise
            return default


class Not(Task):
    """`not x`."""

    def run(self, x: Any) -> bool:  # type: ignore[override]
        return not x


class Add(Task):
    """`x + y`."""

    def run(self, x: Any, y: Any) -> Any:  # type: ignore[override]
        return x + y


class Sub(Task):
    """`x - y`."""

    def run(self, x: Any, y: Any) -> Any:  # type: ignore[override]
        return x - y


class Mul(Task):
    """`x * y`."""

    def run(self, x: Any, y: Any) -> Any:  # type: ignore[override]
        return x * y


class Div(Task):
    """`x / y`."""

    def run(self, x: Any, y: Any) -> Any:  # type: ignore[override]
        return x / y


class FloorDiv(Task):
    """`x // y`."""

    def run(self, x: Any, y: Any) -> Any:  # type: ignore[override]
        return x // y


class Pow(Task):
    """`x ** y`."""

    def run(self, x: Any, y: Any) -> Any:  # type: ignore[override]
        return x**y


class Mod(Task):
    """`x % y`."""

    def run(self, x: Any, y: Any) -> Any:  # type: ignore[override]
        return x % y


class And(Task):
    """`x and y`."""

    def run(self, x: Any, y: Any) -> Any:  # type: ignore[override]
        return x and y


class Or(Task):
    """`x or y`."""

    def run(self, x: Any, y: Any) -> Any:  # type: ignore[override]
        return x or y


class Equal(Task):
    """`x == y`."""

    def run(self, x: Any, y: Any) -> Any:  # type: ignore[override]
        return x == y


class NotEqual(Task):
    """`x != y`."""

    def run(self, x: Any, y: Any) -> Any:  # type: ignore[override]
        return x != y


class GreaterThanOrEqual(Task):
    """`x >= y`."""

    def run(self, x: Any, y: Any) -> Any:  # type: ignore[override]
        return x >= y


class GreaterThan(Task):
    """`x > y`."""

    def run(self, x: Any, y: Any) -> Any:  # type: ignore[override]
        return x > y


class LessThanOrEqual(Task):
    """`x <= y`."""

    def run(self, x: Any, y: Any) -> Any:  # type: ignore[override]
        return x <= y


class LessThan(Task):
    """`x < y`."""

    def run(self, x: Any, y: Any) -> Any:  # type: ignore[override]
        return x < y
