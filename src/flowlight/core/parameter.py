"""Parameters: `Parameter` (its home is `flowlight.core.task`, beside `Task`) and
`DateTimeParameter`, which turns what it is given into a pendulum datetime."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from flowlight.core.task import _NO_DEFAULT, Parameter

__all__ = ["DateTimeParameter", "Parameter"]


class DateTimeParameter(Parameter):
    """A parameter whose value is a datetime: an ISO 8601 string (as given on a command line or
    in JSON) is parsed, a `datetime` is converted; None stays None. Required unless given a
    default or `required=False` (Prefect 1.4.1's default is `required=True`)."""

    def __init__(
        self,
        name: str,
        default: Any = _NO_DEFAULT,
        required: bool = True,
        tags: Iterable[str] | None = None,
    ) -> None:
        super().__init__(name=name, default=default, required=required, tags=tags)
        from flowlight.engine.results import FlowlightResult
        from flowlight.engine.serializers import DateTimeSerializer

        self.result = FlowlightResult(serializer=DateTimeSerializer())

    def run(self) -> Any:
        value = super().run()
        if value is None:
            return None
        import pendulum

        if isinstance(value, str):
            return pendulum.parse(value)
        return pendulum.instance(value)
