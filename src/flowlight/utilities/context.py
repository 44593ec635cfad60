"""`flowlight.context`: what the current run knows about itself, per thread and per task.

Prefect 1 code reads `prefect.context.get("map_index")`, `prefect.context.flow_name` and
`prefect.context.logger`, and writes with `with prefect.context(key=value): ...`. flowlight keeps
that surface but stores the data in a `contextvars.ContextVar`, so each thread, each async task
and each worker process sees the run it belongs to. The engine sets a fresh dict per run;
a handler may add keys to it, and runs started beneath inherit them (see
docs/handlers-and-context.md).
"""

from __future__ import annotations

import contextlib
import contextvars
import logging
from collections.abc import Iterator, MutableMapping
from typing import Any

__all__ = ["Context", "context", "current", "use_context"]

_current: contextvars.ContextVar[dict[str, Any]] = contextvars.ContextVar("flowlight_context")


def current() -> dict[str, Any]:
    """The live dict of the current run. Outside any run it holds only `logger` (the
    standard-library logger "flowlight"), so `context.get("logger").info(...)` works anywhere,
    as Prefect 1's does."""
    try:
        return _current.get()
    except LookupError:
        fresh: dict[str, Any] = {"logger": logging.getLogger("flowlight")}
        _current.set(fresh)
        return fresh


@contextlib.contextmanager
def use_context(values: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Make `values` (the dict itself, not a copy) the current context for the block."""
    token = _current.set(values)
    try:
        yield values
    finally:
        _current.reset(token)


class Context(MutableMapping[str, Any]):
    """A dict-like view of the current run's context, readable by key or attribute."""

    def __getitem__(self, key: str) -> Any:
        return current()[key]

    def __setitem__(self, key: str, value: Any) -> None:
        current()[key] = value

    def __delitem__(self, key: str) -> None:
        del current()[key]

    def __iter__(self) -> Iterator[str]:
        return iter(list(current()))

    def __len__(self) -> int:
        return len(current())

    def get(self, key: str, default: Any = None) -> Any:
        return current().get(key, default)

    def __contains__(self, key: object) -> bool:
        return key in current()

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        try:
            return current()[name]
        except KeyError:
            raise AttributeError(
                f"flowlight.context has no {name!r}; use context.get({name!r}) to allow absence."
            ) from None

    def __setattr__(self, name: str, value: Any) -> None:
        current()[name] = value

    def __delattr__(self, name: str) -> None:
        try:
            del current()[name]
        except KeyError:
            raise AttributeError(name) from None

    def copy(self) -> dict[str, Any]:
        """A shallow copy of the current context, as a plain dict."""
        return dict(current())

    def to_dict(self) -> dict[str, Any]:
        """A shallow copy of the current context."""
        return dict(current())

    @contextlib.contextmanager
    def __call__(self, *args: dict[str, Any], **kwargs: Any) -> Iterator[Context]:
        """`with context(key=value):` runs the block with those keys added, then restores."""
        merged = dict(current())
        for extra in args:
            merged.update(extra)
        merged.update(kwargs)
        with use_context(merged):
            yield self

    def __repr__(self) -> str:
        return f"<Context: {sorted(current())}>"


context = Context()
