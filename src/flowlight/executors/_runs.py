"""What an executor knows about a submitted call: which task run it is, and how to fail it.

The flow runner submits `run_task(task, inputs, upstream_states, context, initial_state)`. An
executor that crosses processes can lose such a call (it cannot be pickled, its worker dies, its
result cannot come back). The run must still end in a state that the task's handlers saw, so a
notifier or the tracing bridge learns of it, and that names the task, so a reader knows which
one to fix. `SubmittedRun` reads the call once and `fail` makes that state in this process.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any

from flowlight.engine.handlers import HandlerFailure, transition
from flowlight.engine.state import Failed, Pending, State
from flowlight.engine.task_runner import run_task
from flowlight.utilities.context import use_context

__all__ = ["LostTaskRun", "RunNotLoadable", "SubmittedRun"]


class LostTaskRun(Exception):
    """The error in the `Failed` state of a task run that an executor could not run or return."""


class RunNotLoadable(Exception):
    """Raised on a worker that cannot unpickle a task run (usually: a module it cannot import)."""


@functools.lru_cache(maxsize=64)
def _signature(fn: Callable[..., Any]) -> inspect.Signature | None:
    try:
        return inspect.signature(fn)
    except (TypeError, ValueError):
        return None


class SubmittedRun:
    """One submitted call, with the task run it stands for when it is one.

    The flow runner's calls of `run_task` are read by position (the hot path); any other call
    by its signature.
    """

    __slots__ = ("args", "context", "fn", "initial_state", "kwargs", "task")

    def __init__(self, fn: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]):
        self.fn = fn
        self.args = args
        self.kwargs = kwargs
        self.task: Any = None
        self.context: dict[str, Any] = {}
        self.initial_state: State | None = None
        if fn is run_task and not kwargs and 4 <= len(args) <= 5:
            bound = {
                "task": args[0],
                "context": args[3],
                "initial_state": args[4] if len(args) == 5 else None,
            }
        else:
            signature = _signature(fn)
            if signature is None:
                return
            try:
                bound = signature.bind(*args, **kwargs).arguments
            except TypeError:
                return
        task = bound.get("task")
        if task is not None and hasattr(task, "state_handlers") and hasattr(task, "name"):
            self.task = task
            context = bound.get("context")
            self.context = context if isinstance(context, dict) else {}
            initial = bound.get("initial_state")
            self.initial_state = initial if isinstance(initial, State) else None

    def __call__(self) -> Any:
        return self.fn(*self.args, **self.kwargs)

    @property
    def name(self) -> str:
        """How errors name the run: `Task 'load'`, `Task 'load[3]'` for a mapped child."""
        if self.task is None:
            return f"Call {getattr(self.fn, '__qualname__', repr(self.fn))}"
        full_name = self.context.get("task_full_name") or self.task.name
        return f"Task '{full_name}'"

    def fail(self, message: str, old_state: State | None = None) -> State:
        """The run's `Failed` state, after the task's handlers saw it, in the calling process."""
        failed = Failed(message, result=LostTaskRun(message))
        if self.task is None or not self.task.state_handlers:
            return failed
        old = old_state or self.initial_state or Pending()
        with use_context(dict(self.context)):
            try:
                return transition(self.task, self.task.state_handlers, old, failed)
            except HandlerFailure as failure:
                return failure.state
