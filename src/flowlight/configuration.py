"""`flowlight.config`: the settings as Prefect 1's `prefect.config`, read by attribute.

`config.flows.checkpointing`, `config.home_dir`, `config.tasks.retry_signal_limit`,
`config.logging.level`, ... read `FLOWLIGHT__SECTION__KEY` (see `flowlight.settings`) with
flowlight's defaults; assigning (`config.flows.checkpointing = True`) or
`flowlight.utilities.configuration.set_temporary_config({...})` sets a value for this process,
over the environment. There is no configuration file.
"""

from __future__ import annotations

import os
from typing import Any

from flowlight.settings import env_name, override, setting

__all__ = ["Config", "config"]

_DEFAULTS: dict[tuple[str, ...], Any] = {
    ("home_dir",): "~/.flowlight",
    ("flows", "checkpointing"): False,
    ("tasks", "retry_signal_limit"): 10,
    ("logging", "level"): "WARNING",
}
_SECTIONS = {("context",), ("flows",), ("logging",), ("notifications",), ("otel",), ("tasks",)}
_MISSING = object()


class Config:
    """A section of the settings; attributes are keys or sub-sections."""

    __slots__ = ("_path",)

    def __init__(self, path: tuple[str, ...] = ()) -> None:
        object.__setattr__(self, "_path", path)

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        value = self.get(name, _MISSING)
        if value is _MISSING:
            path = (*self._path, name)
            raise AttributeError(
                f"flowlight.config has no setting {'.'.join(path)!r}; set it with the "
                f"environment variable {env_name(*path)} or config.{'.'.join(path)} = ..."
            )
        return value

    def get(self, name: str, default: Any = None) -> Any:
        """Setting `name` of this section, or `default` when it has no value."""
        path = (*self._path, name)
        if path in _SECTIONS:
            return Config(path)
        value = setting(*path, default=_DEFAULTS.get(path, _MISSING))
        if value is _MISSING:
            return default
        if path == ("home_dir",):
            value = os.path.expanduser(str(value))
        return value

    def __setattr__(self, name: str, value: Any) -> None:
        override((*self._path, name), value)

    def __repr__(self) -> str:
        return f"<Config: {'.'.join(self._path) or 'flowlight'}>"


config = Config()
