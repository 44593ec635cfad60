"""The one place where state handlers are checked and called.

Every transition of a task run or a flow run goes through `transition`; nothing else in the engine
calls a handler. That is what makes the handler contract (order, return values, errors) hold
everywhere, and what lets the OpenTelemetry bridge see every state change.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from flowlight.engine import signals
from flowlight.engine.state import Failed, State
from flowlight.utilities.context import current

__all__ = ["HandlerFailure", "StateHandler", "transition", "validate_state_handlers"]

StateHandler = Callable[[Any, State, State], "State | None"]


class HandlerFailure(Exception):
    """A user's handler raised: the run ends in `state` at once, with no further handler calls."""

    def __init__(self, state: State) -> None:
        super().__init__(state)
        self.state = state


def transition(
    obj: Any, handlers: Sequence[StateHandler], old_state: State, new_state: State
) -> State:
    """Pass `old_state -> new_state` through `handlers` in order and return the state to use.

    Each handler gets the state the previous one returned (`None`, or any false value as in
    Prefect 1, keeps it). A handler raising a signal makes the signal's state the result and
    skips the remaining handlers; `ENDRUN` passes through; any other exception, or a returned
    value that is not a state, becomes `HandlerFailure` carrying the Failed state of the run,
    except inside `raise_on_exception()`, where it propagates as raised (Prefect 1), so a
    debugger stops in the handler.
    """
    for handler in handlers:
        try:
            returned = handler(obj, old_state, new_state)
        except signals.PrefectStateSignal as signal:
            return signal.state
        except signals.ENDRUN:
            raise
        except Exception as exc:
            if current().get("raise_on_exception"):
                raise
            raise HandlerFailure(
                Failed(f"Unexpected error while calling state handlers: {exc!r}", result=exc)
            ) from exc
        if not returned:
            continue
        if not isinstance(returned, State):
            error = TypeError(
                f"state handler {_describe(handler)} returned {_shown(returned)}, which is not a "
                "state; a state handler returns the state to use (a State instance, such as "
                "new_state) or None to keep it."
            )
            if current().get("raise_on_exception"):
                raise error
            raise HandlerFailure(
                Failed(f"Unexpected error while calling state handlers: {error}", result=error)
            )
        new_state = returned
    return new_state


def _shown(value: Any) -> str:
    """A returned value as an error names it: short, with its type."""
    text = repr(value)
    if len(text) > 80:
        text = text[:77] + "..."
    kind = value.__name__ if isinstance(value, type) else type(value).__name__
    return f"{text} ({'the class ' if isinstance(value, type) else ''}{kind})"


def _describe(handler: Any) -> str:
    return (
        getattr(handler, "__qualname__", None)
        or getattr(handler, "__name__", None)
        or repr(handler)
    )


def validate_state_handlers(owner: str, handlers: Iterable[Any] | None) -> list[StateHandler]:
    """Return `handlers` as a new list, or raise naming the handler that cannot be called as
    `handler(obj, old_state, new_state)`. `owner` is how the error names the task or flow."""
    if handlers is None:
        return []
    if callable(handlers) or isinstance(handlers, (str, bytes)):
        raise TypeError(
            f"state_handlers should be iterable: {owner} got state_handlers={handlers!r}; "
            f"state_handlers takes a list of callables, e.g. "
            f"state_handlers=[{_describe(handlers)}]."
        )
    checked: list[StateHandler] = []
    for handler in handlers:
        if not callable(handler):
            raise TypeError(
                f"{owner} has state handler {handler!r}, which is not callable; a state handler "
                "is a function handler(obj, old_state, new_state) -> State."
            )
        try:
            signature = inspect.signature(handler)
        except (TypeError, ValueError):
            checked.append(handler)  # builtins without a signature: trust them
            continue
        try:
            signature.bind(None, None, None)
        except TypeError:
            params = [p for p in signature.parameters.values() if p.kind is not p.VAR_KEYWORD]
            raise TypeError(
                f"{owner} has state handler '{_describe(handler)}' that takes {len(params)} "
                "argument(s); a state handler takes (obj, old_state, new_state)."
            ) from None
        checked.append(handler)
    return checked
