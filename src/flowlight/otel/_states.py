"""What the bridge needs to know about a state, read through its class hierarchy and attributes.

The bridge never imports the engine's state classes (deleting `otel/` must leave the engine whole,
and importing the engine must not need OpenTelemetry), so a state is classified by the names of
the classes it derives from, as Prefect 1's hierarchy defines them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flowlight.utilities.redaction import redact

__all__ = [
    "Transition",
    "cicd_result",
    "is_failed",
    "is_final",
    "is_retrying",
    "is_running",
    "is_successful",
    "message_of",
    "retry_start_time",
    "state_name",
]


_families: dict[type, frozenset[str]] = {}


def _family(kind: type) -> frozenset[str]:
    """Names of the classes `kind` derives from (cached: there are a dozen state classes)."""
    family = _families.get(kind)
    if family is None:
        family = _families[kind] = frozenset(cls.__name__ for cls in kind.__mro__)
    return family


def state_name(state: Any) -> str:
    """The state's class name (`Success`, `TriggerFailed`, ...): low-cardinality by construction."""
    return type(state).__name__


def is_failed(state: Any) -> bool:
    return "Failed" in _family(type(state))


def is_running(state: Any) -> bool:
    return "Running" in _family(type(state))


def is_successful(state: Any) -> bool:
    """Success and its kin (Mapped, Skipped, Cached), as in Prefect 1's hierarchy."""
    return "Success" in _family(type(state))


def is_retrying(state: Any) -> bool:
    return "Retrying" in _family(type(state))


def is_final(state: Any) -> bool:
    """Finished and the run is over: Looped is Finished, but the run goes on with the next loop."""
    family = _family(type(state))
    return "Finished" in family and "Looped" not in family


def message_of(state: Any) -> str:
    message = getattr(state, "message", None)
    return "" if message is None else redact(str(message))


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
    family = _family(type(state))
    if "TimedOut" in family:
        return "timeout"
    if "Failed" in family:
        return "failure"
    if "Cancelled" in family:
        return "cancellation"
    if "Skipped" in family:
        return "skip"
    return "success"


@dataclass(slots=True)
class Transition:
    """What the span event, the log line and the metrics of one transition say about it, read
    from the two states once and shared by all three."""

    old: str
    new: str
    message: str
    retry_start_time: str | None

    @classmethod
    def between(cls, old_state: Any, new_state: Any) -> Transition:
        return cls(
            state_name(old_state),
            state_name(new_state),
            message_of(new_state),
            retry_start_time(new_state),
        )
