"""What the bridge needs to know about a state, read through its class hierarchy and attributes.

The bridge never imports the engine's state classes (deleting `otel/` must leave the engine whole,
and importing the engine must not need OpenTelemetry), so a state is classified by the names of
the classes it derives from, as Prefect 1's hierarchy defines them. That classification depends
on the class alone, so it is worked out once per state class (there are a dozen) and then read.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flowlight.otel._bounds import MESSAGE_LIMIT, bounded
from flowlight.utilities.redaction import redact, text_of

__all__ = [
    "StateKind",
    "Transition",
    "cicd_result",
    "is_failed",
    "is_final",
    "is_retrying",
    "is_successful",
    "kind_of",
    "message_of",
    "retry_start_time",
    "state_name",
]


@dataclass(frozen=True, slots=True)
class StateKind:
    """What a state's class says about it, by Prefect 1's hierarchy."""

    name: str  # the class name (`Success`, `TriggerFailed`, ...): low-cardinality by construction
    failed: bool
    running: bool
    successful: bool  # Success and its kin (Mapped, Skipped, Cached)
    retrying: bool
    final: bool  # Finished and the run is over: Looped is Finished, but the run goes on
    cicd_result: str  # the OpenTelemetry CI/CD `*.result` value, if the state is final

    @classmethod
    def of_class(cls, state_class: type) -> StateKind:
        family = frozenset(base.__name__ for base in state_class.__mro__)
        return cls(
            name=state_class.__name__,
            failed="Failed" in family,
            running="Running" in family,
            successful="Success" in family,
            retrying="Retrying" in family,
            final="Finished" in family and "Looped" not in family,
            cicd_result=_cicd_result(family),
        )


def _cicd_result(family: frozenset[str]) -> str:
    if "TimedOut" in family:
        return "timeout"
    if "Failed" in family:
        return "failure"
    if "Cancelled" in family:
        return "cancellation"
    if "Skipped" in family:
        return "skip"
    return "success"


_kinds: dict[type, StateKind] = {}


def kind_of(state: Any) -> StateKind:
    """The `StateKind` of `state`'s class."""
    state_class = type(state)
    kind = _kinds.get(state_class)
    if kind is None:
        kind = _kinds[state_class] = StateKind.of_class(state_class)
    return kind


def state_name(state: Any) -> str:
    """The state's class name (`Success`, `TriggerFailed`, ...): low-cardinality by construction."""
    return type(state).__name__


def is_failed(state: Any) -> bool:
    return kind_of(state).failed


def is_successful(state: Any) -> bool:
    """Success and its kin (Mapped, Skipped, Cached), as in Prefect 1's hierarchy."""
    return kind_of(state).successful


def is_retrying(state: Any) -> bool:
    return kind_of(state).retrying


def is_final(state: Any) -> bool:
    """Finished and the run is over: Looped is Finished, but the run goes on with the next loop."""
    return kind_of(state).final


def message_of(state: Any) -> str:
    """The state's message, masked and bounded (see `_bounds`)."""
    message = getattr(state, "message", None)
    return "" if message is None else bounded(redact(text_of(message)), MESSAGE_LIMIT)


def retry_start_time(state: Any) -> str | None:
    """ISO 8601 time a Retrying state waits for, or None for other states."""
    if not is_retrying(state):
        return None
    start = getattr(state, "start_time", None)
    if start is None:
        return None
    isoformat = getattr(start, "isoformat", None)
    return str(isoformat()) if callable(isoformat) else str(start)


def cicd_result(state: Any) -> str:
    """The OpenTelemetry CI/CD `*.result` value for a final state."""
    return kind_of(state).cicd_result


@dataclass(slots=True)
class Transition:
    """What the span event, the log line and the metrics of one transition say about it, read
    from the two states once and shared by all three."""

    old: str
    new: str
    kind: StateKind  # of the new state
    message: str
    retry_start_time: str | None

    @classmethod
    def between(cls, old_state: Any, new_state: Any) -> Transition:
        kind = kind_of(new_state)
        return cls(
            state_name(old_state),
            kind.name,
            kind,
            message_of(new_state),
            retry_start_time(new_state) if kind.retrying else None,
        )
