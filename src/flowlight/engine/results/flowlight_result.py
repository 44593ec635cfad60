"""`FlowlightResult` (Prefect 1's `PrefectResult`): a JSON value kept in the location itself."""

from __future__ import annotations

from typing import Any

from flowlight.engine.result.base import Result
from flowlight.engine.serializers import DateTimeSerializer, JSONSerializer, Serializer

__all__ = ["FlowlightResult", "PrefectResult"]


class FlowlightResult(Result):
    """The location *is* the serialized value (JSON, or an ISO datetime), so nothing is stored
    anywhere else: for small values that should travel with the state."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("serializer", JSONSerializer())
        super().__init__(**kwargs)

    @property
    def serializer(self) -> Serializer:
        return self._serializer

    @serializer.setter
    def serializer(self, value: Serializer) -> None:
        if not isinstance(value, (JSONSerializer, DateTimeSerializer)):
            raise TypeError(
                f"{type(self).__name__} got serializer={value!r}; it keeps the value as text, "
                "so it takes only JSONSerializer or DateTimeSerializer (use LocalResult for "
                "anything else)."
            )
        self._serializer = value

    def read(self, location: str) -> Result:
        new = self.copy()
        new.value = self.serializer.deserialize(location.encode("utf-8"))
        new.location = location
        return new

    def write(self, value_: Any, **kwargs: Any) -> Result:
        new = self.copy()
        new.value = value_
        new.location = self.serializer.serialize(value_).decode("utf-8")
        return new

    def exists(self, location: str, **kwargs: Any) -> bool:
        """True when `location` deserializes (the value is the location)."""
        try:
            self.serializer.deserialize(location.encode("utf-8"))
        except Exception:
            return False
        return True


PrefectResult = FlowlightResult
"""Prefect 1's name, so `from flowlight.engine.results import PrefectResult` ports unchanged."""
