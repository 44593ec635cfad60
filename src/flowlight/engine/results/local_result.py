"""`LocalResult`: values stored as files in a directory of the machine the task runs on."""

from __future__ import annotations

import os
from typing import Any

from flowlight.engine.result.base import Result
from flowlight.settings import setting

__all__ = ["LocalResult", "default_results_dir"]


def default_results_dir() -> str:
    """`<home>/results`, home being FLOWLIGHT__HOME_DIR or ~/.flowlight (Prefect 1 used
    ~/.prefect/results)."""
    home = str(setting("home_dir", default="~/.flowlight"))
    return os.path.join(os.path.expanduser(home), "results")


def _is_home(directory: str) -> bool:
    """Whether `directory` is the flowlight home itself (or inside it): as in Prefect 1, such a
    result writes to `<home>/results` rather than among flowlight's own files."""
    home = os.path.abspath(os.path.dirname(default_results_dir()))
    try:
        return os.path.commonpath([home, os.path.abspath(os.path.expanduser(directory))]) == home
    except ValueError:  # different drives
        return False


class LocalResult(Result):
    """Files under `dir` (default: `default_results_dir()`, also used when `dir` is the
    flowlight home or inside it); a relative location is read and written inside `dir`, an
    absolute one where it says.

    "Local" is where the task runs: with a process or Dask executor that is the worker's disk.
    `validate_dir=True` makes `dir` absolute and creates it at once, so a directory that cannot
    be created fails when the result is built rather than at the first write.
    """

    def __init__(self, dir: str | None = None, validate_dir: bool = True, **kwargs: Any) -> None:
        directory = default_results_dir() if dir is None or _is_home(dir) else dir
        if validate_dir:
            directory = os.path.abspath(os.path.expanduser(directory))
            os.makedirs(directory, exist_ok=True)
        self.dir = directory
        super().__init__(**kwargs)

    @property
    def default_location(self) -> str:
        import pendulum

        stamp = pendulum.now("UTC").isoformat().lower()
        safe = "".join(c if c.isalnum() else "-" for c in stamp).strip("-")
        return os.path.join(self.dir, f"prefect-result-{safe}")

    def _path(self, location: str) -> str:
        return os.path.join(self.dir, location)

    def read(self, location: str) -> Result:
        new = self.copy()
        new.location = location
        with open(self._path(location), "rb") as f:
            new.value = self.serializer.deserialize(f.read())
        return new

    def write(self, value_: Any, **kwargs: Any) -> Result:
        new = self.format(**kwargs)
        new.value = value_
        assert new.location is not None
        path = self._path(new.location)
        os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
        data = self.serializer.serialize(value_)
        # write beside the target and rename, so a reader never sees half a file
        partial = f"{path}.{os.getpid()}.partial"
        with open(partial, "wb") as f:
            f.write(data)
        os.replace(partial, path)
        new.location = path
        return new

    def exists(self, location: str, **kwargs: Any) -> bool:
        return os.path.exists(self._path(location.format(**kwargs)))
