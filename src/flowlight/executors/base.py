"""The executor seam: the flow runner only needs `start`, `submit` and `wait_any`.

A submitted function is a task run (`flowlight.engine.task_runner.run_task`) with its arguments;
it returns the run's final state. Task state handlers therefore run wherever the executor runs
the function. Everything submitted must be picklable for executors that cross processes.
"""

from __future__ import annotations

import abc
import contextlib
from collections.abc import Callable, Collection, Iterator
from typing import Any, Protocol

__all__ = ["Executor", "ReadyFuture", "RunFuture"]


class RunFuture(Protocol):
    """What `submit` returns: something whose `result()` is the function's return value."""

    def result(self) -> Any: ...


class ReadyFuture:
    """A run whose state was known when it was handed back: it ran at once in the calling
    thread, or was decided without being submitted (for example, it could not be pickled)."""

    __slots__ = ("_state", "finished")

    def __init__(self, state: Any) -> None:
        self._state = state
        self.finished = True

    def result(self) -> Any:
        return self._state


class Executor(abc.ABC):
    """Base executor; subclasses implement `submit` and `wait_any` (and `start` if they need
    resources such as a pool or a cluster)."""

    @contextlib.contextmanager
    def start(self) -> Iterator[None]:
        """Hold the executor's resources for the duration of one flow run."""
        yield

    @abc.abstractmethod
    def submit(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> RunFuture:
        """Start `fn(*args, **kwargs)` and return its future."""

    @abc.abstractmethod
    def wait_any(self, futures: Collection[RunFuture]) -> list[RunFuture]:
        """Block until at least one of `futures` is done; return the done ones."""
