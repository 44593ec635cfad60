"""Named checks on a state, for `callback_factory(action, check)` and for the notifiers.

A check is a plain predicate `check(state) -> bool`. The named ones here are `Check` objects so
they compose: `is_failed & ~is_retrying`, `is_final_failure | is_retrying`, and any plain callable
joins in (`is_failed & my_predicate`). A check always answers exactly True or False, as
`callback_factory` acts only on `True`. A check that raises is a handler that raises: the run
fails, as for any state handler.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from flowlight.utilities.context import current
from flowlight.utilities.notifications.failures import is_upstream_failure as _upstream_failed

__all__ = [
    "Check",
    "StateFilter",
    "in_states",
    "is_failed",
    "is_final_failure",
    "is_finished",
    "is_retrying",
    "is_successful",
    "is_upstream_failure",
    "retry_follows",
]


class Check:
    """A predicate on a state with a name, combinable with `&`, `|` and `~`."""

    __slots__ = ("name", "test")

    def __init__(self, test: Callable[[Any], object], name: str | None = None) -> None:
        if not callable(test):
            raise TypeError(f"a check must be a callable check(state) -> bool, got {test!r}.")
        self.test = test
        self.name = name or getattr(test, "__qualname__", repr(test))

    def __call__(self, state: Any) -> bool:
        return self.test(state) is True

    def __and__(self, other: Callable[[Any], object]) -> Check:
        right = _as_check(other)
        return Check(lambda s: self(s) and right(s), f"({self.name} & {right.name})")

    def __or__(self, other: Callable[[Any], object]) -> Check:
        right = _as_check(other)
        return Check(lambda s: self(s) or right(s), f"({self.name} | {right.name})")

    def __rand__(self, other: Callable[[Any], object]) -> Check:
        return _as_check(other) & self

    def __ror__(self, other: Callable[[Any], object]) -> Check:
        return _as_check(other) | self

    def __invert__(self) -> Check:
        return Check(lambda s: not self(s), f"~{self.name}")

    def __repr__(self) -> str:
        return f"Check({self.name})"

    def __reduce__(self) -> tuple[Any, ...]:
        # The named checks pickle by name so they travel to worker processes.
        if self.name in _NAMED:
            return (_named, (self.name,))
        return (Check, (self.test, self.name))


def _as_check(value: Callable[[Any], object]) -> Check:
    return value if isinstance(value, Check) else Check(value)


def _asks(state: Any, method: str) -> bool:
    probe = getattr(state, method, None)
    return bool(probe()) if callable(probe) else False


def retry_follows(state: Any, max_retries: int | None = None) -> bool:
    """Whether the engine will retry the task whose failed state this is, as the task runner
    decides: `task_run_count <= max_retries`, both read from the run context unless
    `max_retries` is given (a notifier knows its task's)."""
    if _upstream_failed(state):
        return False  # a task whose upstream failed is never retried
    context = current()
    if max_retries is None:
        max_retries = context.get("task_max_retries")
    if context.get("task_run_id") is None or not isinstance(max_retries, int):
        return False  # a flow's state, or a run whose retry budget is not known
    return int(context.get("task_run_count") or 1) <= max_retries


is_failed = Check(lambda state: _asks(state, "is_failed"), "is_failed")
"""The state is a failure (Failed, TriggerFailed, TimedOut, ...), final or not."""

is_final_failure = Check(
    lambda state: _asks(state, "is_failed") and not retry_follows(state), "is_final_failure"
)
"""The state is a failure and no retry follows it: the task used up `max_retries`, was never
retryable (TriggerFailed), or the state is a flow's. Without a retry budget in the run context (a
genuine Prefect 1 run) every failure counts as final."""

is_finished = Check(lambda state: _asks(state, "is_finished"), "is_finished")
"""The run has ended, whatever the outcome (Success, Failed, Skipped, ...)."""

is_retrying = Check(lambda state: _asks(state, "is_retrying"), "is_retrying")
"""The task failed and will run again."""

is_successful = Check(lambda state: _asks(state, "is_successful"), "is_successful")
"""The run succeeded (Success, Skipped, Cached, ...)."""

is_upstream_failure = Check(_upstream_failed, "is_upstream_failure")
"""TriggerFailed: the task never ran because a task upstream failed. `is_final_failure &
~is_upstream_failure` is one message per root cause."""

_NAMED = {
    check.name: check
    for check in (
        is_failed,
        is_final_failure,
        is_finished,
        is_retrying,
        is_successful,
        is_upstream_failure,
    )
}


def _named(name: str) -> Check:
    return _NAMED[name]


def in_states(
    only_states: Iterable[type] | None = None, ignore_states: Iterable[type] | None = None
) -> Check:
    """Prefect 1's notifier filter as a check: not an instance of `ignore_states`, and an
    instance of `only_states` when given (both by isinstance)."""
    return Check(StateFilter(only_states, ignore_states), "in_states")


class StateFilter:
    """The filter behind `in_states`, keeping the state classes it was given (as tuples).

    A class, not a closure, so a notifier holding one pickles for a worker process.
    """

    __slots__ = ("ignore", "only")

    def __init__(
        self, only_states: Iterable[type] | None, ignore_states: Iterable[type] | None
    ) -> None:
        self.only = _state_classes("only_states", only_states)
        self.ignore = _state_classes("ignore_states", ignore_states)

    def __call__(self, state: Any) -> bool:
        if self.ignore and isinstance(state, self.ignore):
            return False
        return not (self.only is not None and not isinstance(state, self.only))


def _state_classes(name: str, states: Iterable[type] | None) -> tuple[type, ...] | None:
    if states is None:
        return None
    if isinstance(states, type):
        raise TypeError(
            f"{name}={states.__name__} must be a list of state classes, e.g. {name}=[Failed]."
        )
    classes = tuple(states)
    for state in classes:
        if not isinstance(state, type):
            raise TypeError(
                f"{name} holds {state!r}, which is not a state class; pass classes such as "
                f"Failed or Retrying, not instances like Failed()."
            )
    return classes
