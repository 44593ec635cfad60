"""Cache validators: decide whether a stored `Cached` state may stand in for a new run.

A validator is `validator(state, inputs, parameters) -> bool`, as in Prefect 1; any callable of
that shape works. The built-in ones compare values before expiry, the cheaper test, since a mapped
task's children each scan the stored states of their task.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from flowlight.engine.clock import get_clock
from flowlight.engine.state import Cached, State, _is_result

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
    return _values(state.cached_inputs) == inputs and _fresh(state)


def all_parameters(state: State, inputs: dict[str, Any], parameters: dict[str, Any] | None) -> bool:
    """Reuse while fresh and the flow's parameters are equal to the cached ones."""
    return getattr(state, "cached_parameters", None) == (parameters or {}) and _fresh(state)


def partial_parameters_only(validate_on: Iterable[str] | None = None) -> Validator:
    """Reuse while fresh and the parameters named in `validate_on` are as cached: one given now
    but not then (or the reverse) counts as a change. With no `validate_on` nothing is compared,
    so only expiry counts (Prefect 1.4.1's rule)."""
    names = None if validate_on is None else set(validate_on)

    def validator(state: State, inputs: dict[str, Any], parameters: dict[str, Any] | None) -> bool:
        if not _fresh(state):
            return False
        if names is None:
            return True
        cached = getattr(state, "cached_parameters", None) or {}
        return _picked(parameters or {}, names) == _picked(cached, names)

    return validator


def partial_inputs_only(validate_on: Iterable[str] | None = None) -> Validator:
    """Reuse while fresh and the inputs named in `validate_on` are as cached (an input given now
    but not then, or the reverse, counts as a change). With no `validate_on` nothing is
    compared, so only expiry counts (Prefect 1.4.1's rule)."""
    names = None if validate_on is None else set(validate_on)

    def validator(state: State, inputs: dict[str, Any], parameters: dict[str, Any] | None) -> bool:
        if not _fresh(state):
            return False
        if names is None:
            return True
        return _picked(inputs or {}, names) == _picked(_values(state.cached_inputs or {}), names)

    return validator


def _values(cached: dict[str, Any]) -> dict[str, Any]:
    """The cached inputs as values: an input held in a `Result` (as Prefect 1 stores them, and
    states loaded from its runs hold) counts as the value inside it."""
    if not any(_is_result(value) for value in cached.values()):
        return cached
    return {key: value.value if _is_result(value) else value for key, value in cached.items()}


def _picked(values: dict[str, Any], names: set[str]) -> dict[str, Any]:
    return {key: value for key, value in values.items() if key in names}
