"""Parameters: `Parameter`, a flow's input, and `DateTimeParameter`, which turns what it is
given into a pendulum datetime. This is their home, as it is in Prefect 1."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from flowlight.core.task import Task

if TYPE_CHECKING:
    from flowlight.core.flow import Flow

__all__ = ["DateTimeParameter", "Parameter"]

_NO_DEFAULT = object()


class Parameter(Task):
    """A flow input: its value comes from `flow.run(parameters={name: value})` or `default`."""

    def __init__(
        self,
        name: str,
        default: Any = _NO_DEFAULT,
        required: bool | None = None,
        tags: Iterable[str] | None = None,
    ) -> None:
        if not isinstance(name, str) or not name:
            raise ValueError(f"A Parameter needs a non-empty name, got {name!r}.")
        if required is None:
            required = default is _NO_DEFAULT
        self.default = None if default is _NO_DEFAULT else default
        self.required = required
        from flowlight.engine.results import PrefectResult

        # As in Prefect 1: a parameter's value is kept as JSON in its result's location, so a
        # checkpointed run records the value it was given.
        super().__init__(name=name, slug=name, tags=tags, result=PrefectResult(), checkpoint=True)

    def __repr__(self) -> str:
        return f"<Parameter: {self.name}>"

    def copy(self, name: str, **task_args: Any) -> Task:  # type: ignore[override]
        """A parameter like this one under another `name` (a flow's parameter names, and so
        their slugs, must be unique), as in Prefect 1."""
        return super().copy(name=name, slug=name, **task_args)

    def __call__(self, flow: Flow | None = None) -> Parameter:  # type: ignore[override]
        """Add this parameter itself (not a copy) to `flow` or the active flow; returns it."""
        self.bind(flow=flow)
        return self

    def run(self) -> Any:
        from flowlight.utilities.context import current

        parameters = current().get("parameters") or {}
        if self.name in parameters:
            return parameters[self.name]
        if self.required:
            from flowlight.engine.signals import FAIL

            # A FAIL signal, as in Prefect 1: the parameter's run ends Failed with this message.
            raise FAIL(
                f'Parameter "{self.name}" was required but not provided: give it with '
                f"flow.run(parameters={{{self.name!r}: ...}}) or give the Parameter a default."
            )
        return self.default


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
