"""`Result`: a task's value with where and how it is stored (Prefect 1's `prefect.engine.result`).

A result holds a `value`, a `location` (a string, a template formatted with the run's context
and the task's inputs, or a callable of those) and a `serializer`. The base class stores
nothing: `read`, `write` and `exists` belong to the subclasses in `flowlight.engine.results`.
`read` and `write` return new results; the one they are called on is configuration and is
never changed.
"""

from __future__ import annotations

import copy
import uuid
from collections.abc import Callable
from typing import Any

from flowlight.engine.serializers import PickleSerializer, Serializer

__all__ = ["NoResult", "NoResultType", "Result", "ResultNotImplementedError"]


class ResultNotImplementedError(NotImplementedError):
    """A storage operation asked of a result type that stores nothing (the base `Result`)."""


_NEEDS_A_SUBCLASS = (
    "Result.{op}() needs a result that stores values: the base Result keeps the value in "
    "memory only; use flowlight.engine.results.LocalResult (files) or FlowlightResult (JSON "
    "kept in the state)."
)


class Result:
    """A value, its (possibly templated) location and its serializer (default: pickle)."""

    _is_flowlight_result = True  # how a state recognises a Result without importing this module

    def __init__(
        self,
        value: Any = None,
        location: str | Callable[..., str] | None = None,
        serializer: Serializer | None = None,
    ) -> None:
        self.value = value
        self.serializer = serializer if serializer is not None else PickleSerializer()
        self._formatter: Callable[..., str] | None
        if location is None or isinstance(location, str):
            self.location: str | None = location
            self._formatter = None
        else:
            self.location = None
            self._formatter = location

    @property
    def logger(self) -> Any:
        from flowlight.utilities.logging import get_logger

        return get_logger(type(self).__name__)

    def __eq__(self, other: object) -> bool:
        """Same type and the same public attributes (value, location, serializer, ...)."""
        if type(self) is not type(other):
            return False
        mine = {k: v for k, v in vars(self).items() if not k.startswith("_")}
        theirs = {k: v for k, v in vars(other).items() if not k.startswith("_")}
        if mine.keys() != theirs.keys():
            return False
        try:
            return all(bool(mine[k] == theirs[k]) for k in mine)
        except Exception:  # values whose == does not give a bool (arrays, frames)
            return all(mine[k] is theirs[k] for k in mine)

    __hash__ = object.__hash__

    def __repr__(self) -> str:
        return f"<{type(self).__name__}: {self.value!r}>"

    def copy(self) -> Result:
        """A shallow copy (same serializer object, same value object)."""
        return copy.copy(self)

    def from_value(self, value: Any) -> Result:
        """A copy holding `value`, with no location yet."""
        new = self.copy()
        new.location = None
        new.value = value
        return new

    @property
    def default_location(self) -> str:
        """Where a result without a location template is written: a dated unique name."""
        import pendulum

        return f"{pendulum.now('UTC').format('Y/M/D')}/{uuid.uuid4()}.prefect_result"

    def format(self, **kwargs: Any) -> Result:
        """A copy whose location is the template filled from `kwargs` (the callable's answer,
        or `default_location` when there is no template)."""
        new = self.copy()
        if isinstance(new.location, str):
            new.location = new.location.format(**kwargs)
        elif new._formatter is not None:
            new.location = new._formatter(**kwargs)
        else:
            new.location = new.default_location
        return new

    def exists(self, location: str, **kwargs: Any) -> bool:
        """Whether a value is stored at `location` (formatted with `kwargs`)."""
        raise ResultNotImplementedError(_NEEDS_A_SUBCLASS.format(op="exists"))

    def read(self, location: str) -> Result:
        """A new result holding the value stored at `location`."""
        raise ResultNotImplementedError(_NEEDS_A_SUBCLASS.format(op="read"))

    def write(self, value_: Any, **kwargs: Any) -> Result:
        """Store `value_` at the location formatted with `kwargs`; a new result says where."""
        raise ResultNotImplementedError(_NEEDS_A_SUBCLASS.format(op="write"))


class NoResultType(Result):
    """The type of `NoResult`: no value was ever computed (unlike a `Result` whose value is
    None)."""


NoResult = NoResultType()
"""The result of a state that has none."""
