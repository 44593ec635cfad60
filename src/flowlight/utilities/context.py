"""`flowlight.context`: what the current run knows about itself, per thread and per task.

Prefect 1 code reads `prefect.context.get("map_index")`, `prefect.context.flow_name` and
`prefect.context.logger`, and writes with `with prefect.context(key=value): ...`. flowlight keeps
that surface but stores the data in a `contextvars.ContextVar`, so each thread, each async task
and each worker process sees the run it belongs to. The engine sets a fresh dict per run;
a handler may add keys to it, and runs started beneath inherit them (see
docs/handlers-and-context.md).

A value that is costly to make and often never read (a run's `scheduled_start_time`, a pendulum
datetime: importing pendulum is a noticeable part of a process's first run) is stored as a
`Deferred` and made the first time it is read through `context`; code that spreads the raw dict
into user-facing values (run name templates, result targets) passes it through `resolved`.
"""

from __future__ import annotations

import contextlib
import contextvars
import datetime
import logging
import sys
from collections.abc import Callable, Iterator, Mapping, MutableMapping
from typing import Any

__all__ = ["Context", "Deferred", "context", "current", "resolved", "use_context"]

_current: contextvars.ContextVar[dict[str, Any]] = contextvars.ContextVar("flowlight_context")


class Deferred:
    """A context value made when it is first read through `context`: `make(argument)`.

    Picklable when `make` is a module-level function and `argument` is picklable, so a run's
    context still crosses to a Dask or process-pool worker as it is.
    """

    __slots__ = ("argument", "make")

    def __init__(self, make: Callable[[Any], Any], argument: Any) -> None:
        self.make = make
        self.argument = argument

    def value(self) -> Any:
        return self.make(self.argument)

    def __repr__(self) -> str:
        return f"Deferred({getattr(self.make, '__name__', self.make)!s}, {self.argument!r})"


def resolved(values: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of `values` with every `Deferred` made and the day texts of its `date`: what a
    reader of the context sees."""
    made = {
        key: value.value() if type(value) is Deferred else value for key, value in values.items()
    }
    for key in _DAY_TEXTS:
        if _derives(made, key):
            made[key] = _day_text(made, key)
    return made


# The day texts Prefect 1 puts in a run's context: (days from `date`, format). They are read
# from the run's `date` rather than stored, so the context a mapped child copies stays small
# (six more keys in each of 100,000 children's contexts cost 36 MB).
_DAY_TEXTS = {
    "today": (0, "%Y-%m-%d"),
    "yesterday": (-1, "%Y-%m-%d"),
    "tomorrow": (1, "%Y-%m-%d"),
    "today_nodash": (0, "%Y%m%d"),
    "yesterday_nodash": (-1, "%Y%m%d"),
    "tomorrow_nodash": (1, "%Y%m%d"),
}


def _read(values: dict[str, Any], key: str) -> Any:
    """`values[key]`, a `Deferred` made and kept in its place (so later reads get the same
    object); a day text the run's `date` gives when `values` does not hold one."""
    try:
        value = values[key]
    except KeyError:
        if _derives(values, key):
            return _day_text(values, key)
        raise
    if type(value) is Deferred:
        value = values[key] = value.value()
    return value


def _derives(values: Mapping[str, Any], key: object) -> bool:
    return key in _DAY_TEXTS and key not in values and "date" in values


def _day_text(values: dict[str, Any], key: str) -> str:
    """`key`'s day as Prefect 1 writes it: counted from the run's `date` when that is a
    pendulum datetime, else from now (as Prefect 1 does for a `date` it cannot use)."""
    days, layout = _DAY_TEXTS[key]
    given = _read(values, "date")
    loaded = sys.modules.get("pendulum")  # a pendulum datetime means pendulum is imported
    date: datetime.datetime = (
        given
        if loaded is not None and isinstance(given, loaded.DateTime)
        else datetime.datetime.now(datetime.timezone.utc)
    )
    return (date + datetime.timedelta(days=days)).strftime(layout)


def current() -> dict[str, Any]:
    """The live dict of the current run. Outside any run it holds only `logger` (the
    standard-library logger "flowlight"), so `context.get("logger").info(...)` works anywhere,
    as Prefect 1's does. Some values in it may be `Deferred` (see the module's docstring):
    read them through `context`, or pass the dict through `resolved`."""
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
        return _read(current(), key)

    def __setitem__(self, key: str, value: Any) -> None:
        current()[key] = value

    def __delitem__(self, key: str) -> None:
        del current()[key]

    def __iter__(self) -> Iterator[str]:
        values = current()
        return iter([*values, *(key for key in _DAY_TEXTS if _derives(values, key))])

    def __len__(self) -> int:
        values = current()
        return len(values) + sum(1 for key in _DAY_TEXTS if _derives(values, key))

    def get(self, key: str, default: Any = None) -> Any:
        values = current()
        return _read(values, key) if key in values or _derives(values, key) else default

    def __contains__(self, key: object) -> bool:
        values = current()
        return key in values or _derives(values, key)

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        try:
            return _read(current(), name)
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
        return resolved(current())

    def to_dict(self) -> dict[str, Any]:
        """A shallow copy of the current context."""
        return resolved(current())

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
