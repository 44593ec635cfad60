"""`Secret("NAME").get()`: a value a flow needs but must never write anywhere.

Lookup order: the run's context secrets (`flow.run(context={"secrets": {...}})`), then the
environment variable `FLOWLIGHT__CONTEXT__SECRETS__NAME` (parsed like Prefect 1 parsed local
secrets, so `123` comes back as an int). Every value handed out is registered with the shared
redaction step, so logs, spans and notifications mask it from then on.
"""

from __future__ import annotations

import os
import warnings
from typing import Any

from flowlight.settings import env_name, parse_value
from flowlight.utilities.context import current
from flowlight.utilities.redaction import MIN_LENGTH, register_secret

__all__ = ["Secret", "SecretNotFoundError", "ShortSecretWarning"]


class SecretNotFoundError(ValueError):
    """A secret was asked for that neither the context nor the environment provides."""


class ShortSecretWarning(UserWarning):
    """A secret was read whose text (or a string inside it) is too short to be masked."""


class Secret:
    """A named secret, resolved when `get()` is called (never at construction)."""

    def __init__(self, name: str) -> None:
        if not isinstance(name, str) or not name:
            raise ValueError(f"A Secret needs a non-empty name, got {name!r}.")
        self.name = name

    def __repr__(self) -> str:
        return f"<Secret: {self.name}>"

    def exists(self) -> bool:
        """Whether `get()` would find a value."""
        return self._lookup() is not _MISSING

    def get(self) -> Any:
        """The secret's value; raises `SecretNotFoundError` saying how to provide it."""
        value = self._lookup()
        if value is _MISSING:
            wanted = env_name("context", "secrets", self.name)
            prefect_name = f"PREFECT__CONTEXT__SECRETS__{self.name}"
            ported = (
                f" {prefect_name} is set, but that is Prefect 1's name: flowlight reads {wanted}"
                " (rename the variable)."
                if prefect_name in os.environ
                else ""
            )
            raise SecretNotFoundError(
                f'Local Secret "{self.name}" was not found. Set the environment variable '
                f'{wanted}, or pass it to flow.run(context={{"secrets": {{"{self.name}": ...}}}}).'
                + ported
            )
        too_short = register_secret(value)
        if too_short:
            warnings.warn(
                f'Secret "{self.name}" holds {len(too_short)} value(s) shorter than '
                f"{MIN_LENGTH} characters; flowlight does not mask text that short (it would "
                "mask ordinary words and numbers everywhere), so keep it out of messages, or use "
                "a longer secret.",
                ShortSecretWarning,
                stacklevel=2,
            )
        return value

    def _lookup(self) -> Any:
        secrets = current().get("secrets") or {}
        if self.name in secrets:
            return secrets[self.name]
        raw = os.environ.get(env_name("context", "secrets", self.name))
        if raw is None:
            return _MISSING
        return parse_value(raw)


_MISSING = object()
