"""`EnvVarSecret`: a secret read from an environment variable of that name."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

from flowlight.tasks.secrets.base import FlowlightSecret

__all__ = ["EnvVarSecret"]


class EnvVarSecret(FlowlightSecret):
    """The environment variable `name` (None when unset, unless `raise_if_missing`), passed
    through `cast` when given (e.g. `cast=int`)."""

    def __init__(
        self,
        name: str | None = None,
        cast: Callable[[Any], Any] | None = None,
        raise_if_missing: bool = False,
        **kwargs: Any,
    ) -> None:
        self.cast = cast
        self.raise_if_missing = raise_if_missing
        super().__init__(name=name, **kwargs)

    def run(self, name: str | None = None) -> Any:
        name = name if name is not None else self.secret_name
        if name is None:
            raise ValueError("A secret name must be provided: EnvVarSecret('NAME').")
        if self.raise_if_missing and name not in os.environ:
            raise ValueError(f"Environment variable not set: {name}")
        value = os.getenv(name)
        if value is not None and self.cast is not None:
            value = self.cast(value)
        return value
