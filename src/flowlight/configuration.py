"""`flowlight.config`: the settings as Prefect 1's `prefect.config`, read by attribute.

`config.flows.checkpointing`, `config.home_dir`, `config.tasks.retry_signal_limit`,
`config.logging.level`, `config.tasks.defaults.max_retries`, ... read `FLOWLIGHT__SECTION__KEY`
(see `flowlight.settings`) with flowlight's defaults; assigning
(`config.flows.checkpointing = True`) or
`flowlight.utilities.configuration.set_temporary_config({...})` sets a value for this process,
over the environment. There is no configuration file.
"""

from __future__ import annotations

import datetime
import os
from typing import Any

from flowlight.settings import env_name, override, setting

__all__ = ["Config", "config", "process_task_defaults"]

_DEFAULTS: dict[tuple[str, ...], Any] = {
    ("home_dir",): "~/.flowlight",
    ("flows", "checkpointing"): False,
    ("tasks", "retry_signal_limit"): 10,
    ("logging", "level"): "WARNING",
    # Prefect 1's: whether add_edge checks the flow at once when not told, and whether
    # flow.run() follows the flow's schedule when not told.
    ("flows", "eager_edge_validation"): False,
    ("flows", "run_on_schedule"): True,
    # What a Task gets when it is made without max_retries, retry_delay or timeout.
    ("tasks", "defaults", "max_retries"): 0,
    ("tasks", "defaults", "retry_delay"): None,
    ("tasks", "defaults", "timeout"): None,
}
_SECTIONS = {
    ("context",),
    ("flows",),
    ("logging",),
    ("notifications",),
    ("otel",),
    ("tasks",),
    ("tasks", "defaults"),
}
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
        value = configured(*path)
        return default if value is _MISSING else value

    def __setattr__(self, name: str, value: Any) -> None:
        override((*self._path, name), value)

    def __repr__(self) -> str:
        return f"<Config: {'.'.join(self._path) or 'flowlight'}>"


config = Config()


def _task_default_value(name: str, value: Any) -> Any:
    """A task default as a Task takes it. Prefect 1 writes "none" as `false` (TOML has no null),
    so a false max_retries is 0 and a false retry_delay or timeout is None; a retry_delay given
    as a number of seconds (all an environment variable can say) is a timedelta."""
    if name == "max_retries":
        return value or 0
    if value is False or value is None:
        return None
    if name == "retry_delay" and isinstance(value, (int, float)) and not isinstance(value, bool):
        return datetime.timedelta(seconds=value)
    return value


def configured(*path: str) -> Any:
    """The value of setting `path` as `flowlight.config` gives it (set in code, else the
    environment, else flowlight's default), or `_MISSING` when it has none.

    Code that reads a setting for every task or edge it makes calls this directly, skipping
    the section objects `config.section.key` builds on the way."""
    value = setting(*path, default=_DEFAULTS.get(path, _MISSING))
    if value is _MISSING:
        return value
    if path == ("home_dir",):
        return os.path.expanduser(str(value))
    if path[:2] == ("tasks", "defaults"):
        return _task_default_value(path[-1], value)
    return value


def task_default(name: str) -> Any:
    """`config.tasks.defaults.<name>`: what `Task(...)` uses for `max_retries`, `retry_delay` or
    `timeout` when it is not given one (set with `FLOWLIGHT__TASKS__DEFAULTS__<NAME>`)."""
    return configured("tasks", "defaults", name)


def process_task_defaults(config: Config) -> Config:
    """Prefect 1 converts the task defaults it loaded (false to None, seconds to a timedelta)
    with this call. Here they are converted each time they are read, so there is nothing left
    to do: kept so Prefect 1 code that calls it runs unchanged. Returns `config`."""
    return config
