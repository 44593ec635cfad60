"""`SecretResult`: a secret's value, fetched again on every read and never stored."""

from __future__ import annotations

from typing import Any

from flowlight.engine.result.base import Result

__all__ = ["SecretResult"]


class SecretResult(Result):
    """Wraps a secret task (anything with `name` and `run(name=...)`): `read(location)` runs it
    for the secret named `location`; writing is refused so a secret never lands on disk."""

    def __init__(self, secret_task: Any, **kwargs: Any) -> None:
        if "serializer" in kwargs:
            raise ValueError("Can't pass a serializer to a SecretResult: it stores nothing.")
        self.secret_task = secret_task
        kwargs.setdefault("location", getattr(secret_task, "name", None))
        super().__init__(**kwargs)

    def read(self, location: str) -> Result:
        new = self.copy()
        new.value = self.secret_task.run(name=location)
        new.location = location
        return new

    def write(self, value_: Any, **kwargs: Any) -> Result:
        raise ValueError("SecretResults cannot be written to: a secret is never stored.")
