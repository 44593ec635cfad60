"""`Secret("NAME").get()`: a value a flow needs but must never write anywhere.

Lookup order: the run's context secrets (`flow.run(context={"secrets": {...}})`), then the
environment variable `FLOWLIGHT__CONTEXT__SECRETS__NAME`. Values come back as Prefect 1 hands
local secrets out, so ported code gets the types it got: its configuration turned a variable's
text into a Python literal (`123` an int, `{"KEY": "..."}` a dict, `0012` stays text), and
`Secret.get()` then parsed any text value as JSON. Every value handed out is registered with the
shared redaction step, so logs, spans and notifications mask it from then on; so is the text it
was parsed from, which is what the environment (and whoever prints it) still holds.
"""

from __future__ import annotations

import ast
import json
import os
import warnings
from typing import Any

from flowlight.settings import env_name
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
        return self._lookup()[0] is not _MISSING

    def get(self) -> Any:
        """The secret's value; raises `SecretNotFoundError` saying how to provide it."""
        given, from_environment = self._lookup()
        if given is _MISSING:
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
        # Each form the value took on the way is registered: the text it was parsed from is what
        # the environment, and any code that reads it there, still holds.
        forms = [given]
        if from_environment:
            forms.append(_parsed_as_literal(given))
        forms.append(_parsed_as_json(forms[-1]))
        value = forms[-1]
        if value is None or isinstance(value, bool):
            forms = []  # nothing to mask: its text ("true", "null") is in every log line
        too_short: list[str] = []
        for form in _distinct(forms):
            too_short += [text for text in register_secret(form) if text not in too_short]
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

    def _lookup(self) -> tuple[Any, bool]:
        """The value as given (`_MISSING` when it is not), and whether it is an environment
        variable's text."""
        secrets = current().get("secrets") or {}
        if self.name in secrets:
            return secrets[self.name], False
        raw = os.environ.get(env_name("context", "secrets", self.name))
        return (_MISSING, False) if raw is None else (raw, True)


def _distinct(forms: list[Any]) -> list[Any]:
    kept: list[Any] = []
    for form in forms:
        if not any(form is seen for seen in kept):
            kept.append(form)
    return kept


def _parsed_as_literal(raw: str) -> Any:
    """An environment variable's text as Prefect 1's configuration read it: `true` / `false` in
    any case, else a Python literal, else the text; a text that comes out a string is read once
    more (a quoted `'"1234"'` ends up an int), as Prefect 1 did.
    """
    value: Any = raw
    for _ in range(2):
        if not isinstance(value, str):
            break
        if value.upper() in ("TRUE", "FALSE"):
            return value.upper() == "TRUE"
        try:
            value = ast.literal_eval(value)
        except Exception:  # not a literal (or one too big to read): the text it is
            break
    return value


def _parsed_as_json(value: Any) -> Any:
    """What Prefect 1's local `Secret.get()` returned: a text (str or bytes) value that is a JSON
    document, parsed; any other value as it is."""
    if not isinstance(value, (str, bytes, bytearray)):
        return value
    try:
        return json.loads(value)
    except (ValueError, RecursionError):
        return value


_MISSING = object()
