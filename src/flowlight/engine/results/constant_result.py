"""`ConstantResult`: a value known when the flow is built (a constant input of a task)."""

from __future__ import annotations

from typing import Any

from flowlight.engine.result.base import Result

__all__ = ["ConstantResult"]


class ConstantResult(Result):
    """Holds its value itself: `read` returns it whatever the location, it always `exists`,
    and it cannot be written."""

    def __init__(self, **kwargs: Any) -> None:
        if "serializer" in kwargs:
            raise ValueError("Can't pass a serializer to a ConstantResult: it stores nothing.")
        super().__init__(**kwargs)

    def read(self, location: str) -> Result:
        return self

    def write(self, value_: Any, **kwargs: Any) -> Result:
        raise ValueError("Cannot write values to `ConstantResult` types: it holds a constant.")

    def exists(self, location: str, **kwargs: Any) -> bool:
        return True
