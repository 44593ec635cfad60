"""Signals: exceptions a task (or a trigger, or a handler) raises to put its run in a given state.

Raising `FAIL("bad input")` inside a task ends the run `Failed("bad input")`, and the signal object
itself becomes the state's `result`, so attributes set on it reach the state handlers (the
"failure that carries data" example of docs/handler-examples.md relies on that).
"""

from __future__ import annotations

from typing import Any

from flowlight.engine import state
from flowlight.exceptions import PrefectSignal, TaskTimeoutSignal

__all__ = [
    "ENDRUN",
    "FAIL",
    "LOOP",
    "PAUSE",
    "RETRY",
    "SKIP",
    "SUCCESS",
    "TRIGGERFAIL",
    "VALIDATIONFAIL",
    "PrefectSignal",
    "PrefectStateSignal",
    "TaskTimeoutSignal",
    "signal_from_state",
]


class PrefectStateSignal(PrefectSignal):
    """Base of the signals that carry a state; the name is Prefect 1's, kept for ported code.

    Like Prefect 1's, signals derive from BaseException, so a task's `except Exception:` does not
    swallow a SKIP or a FAIL raised inside it.

    `message` becomes the state's message, `result=` (when given) its result; otherwise the
    signal itself is the result.
    """

    _state_cls: type[state.State] = state.State

    def __init__(self, message: str | None = None, *args: Any, **kwargs: Any) -> None:
        if message is None:
            super().__init__(*args)
        else:
            super().__init__(message, *args)
        self.message = message
        result = kwargs.pop("result", self)
        self.state = self._state_cls(message=message, result=result, **kwargs)

    def __repr__(self) -> str:
        if self.message is None:
            return f"{type(self).__name__}()"
        return f"{type(self).__name__}({self.message!r})"


class FAIL(PrefectStateSignal):
    """The task failed; retries apply."""

    _state_cls = state.Failed


class TRIGGERFAIL(FAIL):
    """The task's trigger did not pass; no retries."""

    _state_cls = state.TriggerFailed


class VALIDATIONFAIL(FAIL):
    """The task's result failed validation."""

    _state_cls = state.ValidationFailed


class SUCCESS(PrefectStateSignal):
    """End the run successfully now, optionally with `result=`."""

    _state_cls = state.Success


class RETRY(PrefectStateSignal):
    """Retry the task (bounded: see `TaskRunner`)."""

    _state_cls = state.Retrying


class SKIP(PrefectStateSignal):
    """Skip the task; downstream tasks skip too unless `skip_on_upstream_skip=False`."""

    _state_cls = state.Skipped


class PAUSE(PrefectStateSignal):
    """Pause the task until it is resumed.

    Resume with `flow.run(task_states={**paused_run.result, task: Resume()})`: the earlier
    states keep the tasks that already finished from running again.
    """

    _state_cls = state.Paused


class LOOP(PrefectStateSignal):
    """Run the task again; the previous `result=` is in `context["task_loop_result"]`."""

    _state_cls = state.Looped

    def __init__(self, message: str | None = None, *args: Any, **kwargs: Any) -> None:
        # Without `result=`, the Looped state's result (the next iteration's task_loop_result) is
        # the signal's repr, a string, as in Prefect 1: not the signal object itself.
        shown = (
            f"{type(self).__name__}()" if message is None else f"{type(self).__name__}({message!r})"
        )
        kwargs.setdefault("result", shown)
        super().__init__(message, *args, **kwargs)


class ENDRUN(PrefectSignal):
    """End the run at once in the given state, with no further transitions."""

    def __init__(self, state: state.State) -> None:
        super().__init__(state)
        self.state = state


_SIGNAL_FOR_STATE: dict[type[state.State], type[PrefectStateSignal]] = {
    state.Failed: FAIL,
    state.TriggerFailed: TRIGGERFAIL,
    state.ValidationFailed: VALIDATIONFAIL,
    state.Success: SUCCESS,
    state.Retrying: RETRY,
    state.Skipped: SKIP,
    state.Paused: PAUSE,
    state.Looped: LOOP,
}


def signal_from_state(target: state.State) -> type[PrefectStateSignal]:
    """The signal class that produces states of `target`'s class (or its nearest ancestor)."""
    for cls in type(target).__mro__:
        if cls in _SIGNAL_FOR_STATE:
            return _SIGNAL_FOR_STATE[cls]
    raise ValueError(f"No signal produces a {type(target).__name__} state.")
