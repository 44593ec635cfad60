"""Futures of submitted task runs, and one place that knows which of them are done.

The flow runner keeps every running task run's future and asks for "whichever finish next". A
condition variable notified by each future's done-callback answers that without polling and
without registering waiters on thousands of futures per call. A future's `result()` is always a
state: a run the executor lost (its worker died, its result could not be read) ends `Failed`,
through the task's handlers, so a flow run always finishes.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading
from collections.abc import Callable, Collection
from typing import Any

from flowlight.executors._runs import RunNotLoadable, SubmittedRun
from flowlight.executors.base import ReadyFuture, RunFuture

__all__ = ["CompletionBoard", "TrackedFuture"]

_CANCELLED = (concurrent.futures.CancelledError, asyncio.CancelledError)
# How long `wait_any` sleeps without news before it checks every future it was given.
_RECHECK_S = 1.0


def _identity(value: Any) -> Any:
    return value


def _loss_message(run: SubmittedRun, lost: BaseException) -> str:
    if isinstance(lost, RunNotLoadable):
        return f"{run.name} {lost}"
    return (
        f"{run.name} did not come back from its worker ({lost!r}); the worker may have died "
        "(killed, out of memory) while running it."
    )


class TrackedFuture:
    """A submitted run: the executor's own future, and the run's final state once read."""

    __slots__ = ("_decode", "_settled", "_state", "finished", "inner", "run")

    def __init__(self, run: SubmittedRun, inner: Any, decode: Callable[[Any], Any]) -> None:
        self.run = run
        self.inner = inner
        self.finished = False
        self._decode = decode
        self._settled = False
        self._state: Any = None

    @property
    def settled(self) -> bool:
        """True once the run's final state has been read from the executor."""
        return self._settled

    def settle(self, value: Any) -> None:
        """Record the value the executor's future produced (read in a batch elsewhere)."""
        self._keep(self._decode(value))

    def _keep(self, state: Any) -> None:
        self._state = state
        self._settled = True
        self.inner = None  # let the executor release the result

    def result(self) -> Any:
        if not self._settled:
            try:
                value = self.inner.result()
            except (Exception, *_CANCELLED) as lost:
                self._keep(self.run.fail(_loss_message(self.run, lost)))
            else:
                self.settle(value)
        return self._state


class CompletionBoard:
    """Knows which of its futures finished since `wait_any` last handed them out.

    Each future's done-callback puts it on the board, so `wait_any` reads only the futures that
    finished, never every future in flight: with thousands in flight, checking each one on
    every wake-up made a flow run's waiting grow with the square of its size.
    """

    def __init__(self) -> None:
        self._changed = threading.Condition()
        self._finished: list[RunFuture] = []  # in the order they finished, not yet handed out

    def track(
        self, run: SubmittedRun, inner: Any, decode: Callable[[Any], Any] = _identity
    ) -> TrackedFuture:
        tracked = TrackedFuture(run, inner, decode)
        inner.add_done_callback(lambda _inner: self._mark(tracked))
        return tracked

    def ready(self, state: Any) -> ReadyFuture:
        """A run decided without being submitted (it ran at once, or could not be sent): handed
        out by the next `wait_any` as any finished run."""
        future = ReadyFuture(state)
        with self._changed:
            self._finished.append(future)
        return future

    def _mark(self, tracked: TrackedFuture) -> None:
        with self._changed:
            tracked.finished = True
            self._finished.append(tracked)
            self._changed.notify_all()

    def wait_any(self, futures: Collection[RunFuture]) -> list[RunFuture]:
        """The futures among `futures` that finished and were not handed out yet, waiting
        until there is at least one. `futures` should be this board's (`track`, `ready`); a
        set or a dict's keys make each check constant time. A future from elsewhere is found
        by a full check after `_RECHECK_S` without news, so a caller mixing them in waits a
        little longer but never forever."""
        with self._changed:
            while futures:
                if self._finished:
                    done: list[RunFuture] = []
                    kept: list[RunFuture] = []
                    for future in self._finished:
                        (done if future in futures else kept).append(future)
                    if done:
                        self._finished = kept
                        return done
                if not self._changed.wait(_RECHECK_S):
                    done = [f for f in futures if getattr(f, "finished", True)]
                    if done:
                        taken = set(map(id, done))
                        self._finished = [f for f in self._finished if id(f) not in taken]
                        return done
            return []
