"""flowlight's own settings, read from `FLOWLIGHT__SECTION__KEY` environment variables.

Prefect 1 users know this double-underscore style; values are parsed the same way Prefect 1 parses
them (`true`/`false` become booleans, numbers become numbers, anything else stays a string), so a
setting or a local secret written for Prefect 1 means the same thing here.
"""

from __future__ import annotations

import functools
import os
import warnings
from typing import Any

__all__ = [
    "SettingWarning",
    "env_name",
    "number_setting",
    "override",
    "parse_value",
    "restore_overrides",
    "saved_overrides",
    "setting",
]


class SettingWarning(UserWarning):
    """A setting had a value that cannot be used; its default applies instead."""


@functools.lru_cache(maxsize=512)
def env_name(*path: str) -> str:
    """The environment variable that holds setting `path`: ("context", "secrets", "X") ->
    FLOWLIGHT__CONTEXT__SECRETS__X. Remembered, as settings read for every task or edge made
    ask for the same few names."""
    return "FLOWLIGHT__" + "__".join(part.upper() for part in path)


def parse_value(raw: str) -> Any:
    """Interpret an environment string as Prefect 1 does: booleans, numbers, else the string."""
    lowered = raw.strip().lower()
    if lowered == "true":
        return True
    if lowered == "false":
        return False
    for kind in (int, float):
        try:
            return kind(raw)
        except ValueError:
            pass
    return raw


_overrides: dict[tuple[str, ...], Any] = {}
"""Values set in code (`flowlight.config.flows.checkpointing = True`, `set_temporary_config`):
they win over the environment for this process."""


def setting(*path: str, default: Any = None) -> Any:
    """Read setting `path`: a value set in code, else the environment at call time, else
    `default`."""
    if _overrides and path in _overrides:
        return _overrides[path]
    raw = os.environ.get(env_name(*path))
    return default if raw is None else parse_value(raw)


def override(path: tuple[str, ...], value: Any) -> None:
    """Set setting `path` for this process (over the environment)."""
    _overrides[path] = value


def saved_overrides() -> dict[tuple[str, ...], Any]:
    """Every value set in code so far, to hand back to `restore_overrides` later."""
    return dict(_overrides)


def restore_overrides(saved: dict[tuple[str, ...], Any]) -> None:
    """Make the values set in code exactly `saved` again, forgetting any set since."""
    _overrides.clear()
    _overrides.update(saved)


def number_setting(
    *path: str,
    default: float,
    integer: bool = False,
    minimum: float | None = None,
    above: float | None = None,
) -> Any:
    """Read numeric setting `path`, validated where it is read.

    A value that is not a number, not an integer where one is needed, or out of range warns
    (`SettingWarning`, naming the variable, the value and what is allowed) and gives `default`:
    a setting read in the middle of a run must never crash it.
    """
    value = setting(*path, default=default)
    allowed = _allowed(integer, minimum, above)
    usable = isinstance(value, (int, float)) and not isinstance(value, bool)
    if usable and integer and not float(value).is_integer():
        usable = False
    if usable and minimum is not None and value < minimum:
        usable = False
    if usable and above is not None and not value > above:
        usable = False
    if not usable:
        warnings.warn(
            f"{env_name(*path)}={value!r} is not allowed: it must be {allowed}; "
            f"using the default, {default!r}.",
            SettingWarning,
            stacklevel=2,
        )
        return default
    return int(value) if integer else float(value)


def _allowed(integer: bool, minimum: float | None, above: float | None) -> str:
    kind = "an integer" if integer else "a number"
    if minimum is not None:
        return f"{kind} >= {minimum:g}"
    if above is not None:
        return f"{kind} > {above:g}"
    return kind
