"""The default executor: runs each task run at once, in the calling thread."""

from __future__ import annotations

from collections.abc import Callable, Collection
from typing import Any

from flowlight.executors.base import Executor, RunFuture

__all__ = ["LocalExecutor"]


class _Done:
    """A finished run's value, shaped like a future."""

    __slots__ = ("_value",)

    def __init__(self, value: Any) -> None:
        self._value = value

    def result(self) -> Any:
        return self._value


class LocalExecutor(Executor):
    """Runs task runs in-process and in order: no pool, no pickling, the fastest for small work."""

    def submit(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> RunFuture:
        return _Done(fn(*args, **kwargs))

    def wait_any(self, futures: Collection[RunFuture]) -> list[RunFuture]:
        return list(futures)

    def __repr__(self) -> str:
        return "<Executor: LocalExecutor>"
