"""Triggers: functions of a task's upstream states that decide whether it may run.

A trigger takes the upstream states (a mapped upstream contributes each child's state) and returns
True to run, False to fail with `TriggerFailed`, or raises a signal for another outcome (SKIP,
PAUSE, TRIGGERFAIL with its own message). They are plain functions: write your own the same way.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from typing import Any

from flowlight.engine import signals
from flowlight.engine.state import Mapped, State
from flowlight.utilities.context import current

__all__ = [
    "all_failed",
    "all_finished",
    "all_successful",
    "always_run",
    "any_failed",
    "any_successful",
    "manual_only",
    "not_all_skipped",
    "some_failed",
    "some_successful",
]

Trigger = Callable[[Mapping[Any, State]], bool]


def _all_states(upstream_states: Mapping[Any, State] | Collection[State]) -> list[State]:
    """The states a trigger judges: a mapped upstream counts as each of its children.

    Triggers receive `{edge: state}` as in Prefect 1, so triggers written for Prefect 1 work. A
    state reached through two edges (one upstream feeding two arguments) counts once, as in
    Prefect 1, which judges the set of states.
    """
    values = upstream_states.values() if isinstance(upstream_states, Mapping) else upstream_states
    found: dict[int, State] = {}
    for s in values:
        for one in s.map_states if isinstance(s, Mapped) else [s]:
            found.setdefault(id(one), one)
    return list(found.values())


def all_finished(upstream_states: Mapping[Any, State]) -> bool:
    """Run once every upstream task finished, whatever the outcome."""
    states = _all_states(upstream_states)
    if not all(s.is_finished() for s in states):
        raise signals.TRIGGERFAIL(
            'Trigger was "all_finished" but some of the upstream tasks were not finished.'
        )
    return True


always_run = all_finished


def manual_only(upstream_states: Mapping[Any, State]) -> bool:
    """Never run on its own: pause until the task is resumed."""
    if current().get("resume"):
        return True
    raise signals.PAUSE('Trigger function is "manual_only"')


def all_successful(upstream_states: Mapping[Any, State]) -> bool:
    """Run only if every upstream task succeeded (the default)."""
    states = _all_states(upstream_states)
    if not all(s.is_successful() for s in states):
        raise signals.TRIGGERFAIL(
            'Trigger was "all_successful" but some of the upstream tasks failed.'
        )
    return True


def all_failed(upstream_states: Mapping[Any, State]) -> bool:
    """Run only if every upstream task failed."""
    states = _all_states(upstream_states)
    if not all(s.is_failed() for s in states):
        raise signals.TRIGGERFAIL(
            'Trigger was "all_failed" but some of the upstream tasks succeeded.'
        )
    return True


def any_successful(upstream_states: Mapping[Any, State]) -> bool:
    """Run if at least one upstream task succeeded, or the task has no upstream task at all
    (a mapped upstream with no children counts as an upstream with none succeeded)."""
    if upstream_states and not any(s.is_successful() for s in _all_states(upstream_states)):
        raise signals.TRIGGERFAIL(
            'Trigger was "any_successful" but none of the upstream tasks succeeded.'
        )
    return True


def any_failed(upstream_states: Mapping[Any, State]) -> bool:
    """Run if at least one upstream task failed, or the task has no upstream task at all."""
    if upstream_states and not any(s.is_failed() for s in _all_states(upstream_states)):
        raise signals.TRIGGERFAIL('Trigger was "any_failed" but none of the upstream tasks failed.')
    return True


def not_all_skipped(upstream_states: Mapping[Any, State]) -> bool:
    """Run unless every upstream task was skipped (then skip too); fail if any failed.

    With no upstream task at all, "every upstream was skipped" holds, so the task skips (Prefect 1).
    """
    states = _all_states(upstream_states)
    if all(s.is_skipped() for s in states):
        raise signals.SKIP("All upstreams were skipped", result=None)
    if not all(s.is_successful() for s in states):
        raise signals.TRIGGERFAIL(
            'Trigger was "not_all_skipped" but some of the upstream tasks failed.'
        )
    return True


def _bound(value: int | float | None, total: int, default: float) -> float:
    """A count bound: below 1 it is a fraction of the upstream states (Prefect 1's rule, so
    `at_most=0.5` means half and `at_least=1.0` means one), otherwise an absolute number."""
    if value is None:
        return default
    return value * total if value < 1 else value


def _count_trigger(
    name: str,
    predicate: Callable[[State], bool],
    at_least: int | float | None,
    at_most: int | float | None,
) -> Trigger:
    def trigger(upstream_states: Mapping[Any, State]) -> bool:
        if not upstream_states:
            return True  # no upstream task: nothing to count, the task runs (Prefect 1)
        states = _all_states(upstream_states)
        total = len(states)
        matched = sum(1 for s in states if predicate(s))
        if not _bound(at_least, total, 0) <= matched <= _bound(at_most, total, total):
            raise signals.TRIGGERFAIL(f'Trigger was "{name}" but thresholds were not met.')
        return True

    trigger.__name__ = name
    return trigger


def some_successful(
    at_least: int | float | None = None, at_most: int | float | None = None
) -> Trigger:
    """A trigger that runs when the number of successes is within the bounds (a bound below 1 is a
    fraction of the upstream states); a task with no upstream task always runs."""
    return _count_trigger("some_successful", State.is_successful, at_least, at_most)


def some_failed(at_least: int | float | None = None, at_most: int | float | None = None) -> Trigger:
    """A trigger that runs when the number of failures is within the bounds (a bound below 1 is a
    fraction of the upstream states); a task with no upstream task always runs."""
    return _count_trigger("some_failed", State.is_failed, at_least, at_most)
