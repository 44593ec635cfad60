"""The default executor: runs each task run at once, in the calling thread."""

from __future__ import annotations

from collections.abc import Callable, Collection
from typing import Any

from flowlight.executors.base import Executor, ReadyFuture, RunFuture

__all__ = ["LocalExecutor"]


class LocalExecutor(Executor):
    """Runs task runs in-process and in order: no pool, no pickling, the fastest for small work."""

    def submit(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> RunFuture:
        return ReadyFuture(fn(*args, **kwargs))

    def wait_any(self, futures: Collection[RunFuture]) -> list[RunFuture]:
        return list(futures)

    def __repr__(self) -> str:
        return "<Executor: LocalExecutor>"
