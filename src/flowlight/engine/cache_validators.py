"""Cache validators: decide whether a stored `Cached` state may stand in for a new run.

A validator is `validator(state, inputs, parameters) -> bool`, as in Prefect 1; any callable of
that shape works. The built-in ones compare values before expiry, the cheaper test, since a mapped
task's children each scan the stored states of their task.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from flowlight.engine.clock import get_clock
from flowlight.engine.state import Cached, State

__all__ = [
    "all_inputs",
    "all_parameters",
    "duration_only",
    "never_use",
    "partial_inputs_only",
    "partial_parameters_only",
]

Validator = Callable[[State, dict[str, Any], dict[str, Any] | None], bool]


def _fresh(state: State) -> bool:
    if not isinstance(state, Cached):
        return False
    expiration = state.expiration_epoch()
    return expiration is None or expiration > get_clock().now()


def never_use(state: State, inputs: dict[str, Any], parameters: dict[str, Any] | None) -> bool:
    """Never reuse a cached result."""
    return False


def duration_only(state: State, inputs: dict[str, Any], parameters: dict[str, Any] | None) -> bool:
    """Reuse while `cache_for` has not expired, whatever the inputs (the default)."""
    return _fresh(state)


def all_inputs(state: State, inputs: dict[str, Any], parameters: dict[str, Any] | None) -> bool:
    """Reuse while fresh and the task's inputs are equal to the cached ones."""
    return state.cached_inputs == inputs and _fresh(state)


def all_parameters(state: State, inputs: dict[str, Any], parameters: dict[str, Any] | None) -> bool:
    """Reuse while fresh and the flow's parameters are equal to the cached ones."""
    return getattr(state, "cached_parameters", None) == (parameters or {}) and _fresh(state)


def partial_parameters_only(validate_on: Iterable[str] | None = None) -> Validator:
    """Reuse while fresh and the named parameters are equal (all parameters when None)."""
    names = None if validate_on is None else list(validate_on)

    def validator(state: State, inputs: dict[str, Any], parameters: dict[str, Any] | None) -> bool:
        cached = getattr(state, "cached_parameters", None) or {}
        current = parameters or {}
        keys = names if names is not None else set(cached) | set(current)
        return all(cached.get(k) == current.get(k) for k in keys) and _fresh(state)

    return validator


def partial_inputs_only(validate_on: Iterable[str] | None = None) -> Validator:
    """Reuse while fresh and the named inputs are equal (all inputs when None)."""
    names = None if validate_on is None else list(validate_on)

    def validator(state: State, inputs: dict[str, Any], parameters: dict[str, Any] | None) -> bool:
        cached = state.cached_inputs or {}
        keys = names if names is not None else set(cached) | set(inputs)
        return all(cached.get(k) == inputs.get(k) for k in keys) and _fresh(state)

    return validator
