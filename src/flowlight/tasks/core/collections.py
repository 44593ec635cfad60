"""Tasks that gather the results of other tasks into a list, tuple, set or dict.

The functional API builds them when a task is called with a collection that holds tasks
(`total([a(), b(), 3])`), so the collection is assembled at run time from the upstream results.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from flowlight.core.task import Task

if TYPE_CHECKING:
    from flowlight.core.flow import Flow

__all__ = ["Dict", "List", "Set", "Tuple", "VarArgsTask"]


def _in_order(task_results: dict[str, Any]) -> list[Any]:
    """Values of `arg_1`, `arg_2`, ... in argument order (arg_10 after arg_9)."""
    return [v for _, v in sorted(task_results.items(), key=lambda kv: int(kv[0].rsplit("_")[-1]))]


class VarArgsTask(Task):
    """A task bound with positional arguments, each passed to `run` as `arg_<n>` (from 1)."""

    def bind(  # type: ignore[override]
        self,
        *args: Any,
        upstream_tasks: Iterable[Any] | None = None,
        mapped: bool = False,
        flow: Flow | None = None,
    ) -> Task:
        named = {f"arg_{i}": a for i, a in enumerate(args, start=1)}
        return super().bind(upstream_tasks=upstream_tasks, mapped=mapped, flow=flow, **named)


class List(VarArgsTask):
    """The bound values, as a list in argument order."""

    def run(self, **task_results: Any) -> list[Any]:
        return _in_order(task_results)


class Tuple(VarArgsTask):
    """The bound values, as a tuple in argument order."""

    def run(self, **task_results: Any) -> tuple[Any, ...]:
        return tuple(_in_order(task_results))


class Set(VarArgsTask):
    """The bound values, as a set."""

    def run(self, **task_results: Any) -> set[Any]:
        return set(task_results.values())


class Dict(Task):
    """A dict from `keys` and `values` (two lists of the same length)."""

    def run(self, keys: Iterable[Any], values: Iterable[Any]) -> dict[Any, Any]:  # type: ignore[override]
        keys, values = list(keys), list(values)
        if len(keys) != len(values):
            raise ValueError(
                f"{self} got {len(keys)} keys and {len(values)} values; "
                "A different number of keys and values were provided!"
            )
        return dict(zip(keys, values, strict=True))
