"""`SecretBase` and `FlowlightSecret`: tasks that return a secret read with `Secret(name).get()`
(so the value is masked from then on) and whose result is re-read, never stored."""

from __future__ import annotations

from typing import Any

from flowlight.client.secrets import Secret
from flowlight.core.task import Task

__all__ = ["FlowlightSecret", "PrefectSecret", "SecretBase"]


class SecretBase(Task):
    """A task returning a secret: `checkpoint` is always off and its result is a `SecretResult`
    (reading it runs the task again), so a secret never lands in result storage."""

    def __init__(self, **kwargs: Any) -> None:
        if kwargs.get("result"):
            raise ValueError(
                "Result types for Secrets are not configurable: a secret task's result is "
                "always a SecretResult, so the value is never stored."
            )
        kwargs["checkpoint"] = False
        super().__init__(**kwargs)
        from flowlight.engine.results import SecretResult

        self.result = SecretResult(secret_task=self)


class FlowlightSecret(SecretBase):
    """The value of secret `name` (from the run's context secrets, then
    `FLOWLIGHT__CONTEXT__SECRETS__<NAME>`); `run(name=...)` reads another one."""

    def __init__(self, name: str | None = None, **kwargs: Any) -> None:
        self.secret_name = name
        super().__init__(name=name, **kwargs)

    def run(self, name: str | None = None) -> Any:
        name = name if name is not None else self.secret_name
        if name is None:
            raise ValueError(
                "A secret name must be provided: FlowlightSecret('NAME') or run(name='NAME')."
            )
        return Secret(name).get()


PrefectSecret = FlowlightSecret
"""Prefect 1's name, so `from flowlight.tasks.secrets import PrefectSecret` ports unchanged."""
