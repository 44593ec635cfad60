"""What each notifier last reported about each flow, kept on disk across processes.

A scheduled flow runs as a new process each time, so "the last run was reported failed" must
outlive the process that reported it. The memory is one small JSON file in the embedded store,
`<telemetry directory>/notifier-state/last-reported.json`, the telemetry directory being resolved
as the OpenTelemetry bridge resolves it (`FLOWLIGHT__OTEL__TELEMETRY_DIR`, else
`.flowlight/telemetry` under the working directory); the store's readers look only at the signal
files at its top, so they never mistake it for telemetry. Writers take an exclusive lock and
replace the file whole, so two processes ending runs at once cannot tear it.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flowlight.telemetry_files import default_directory

__all__ = ["LastReported", "ReportedFailures", "memory_path"]

_VERSION = 1


def memory_path() -> Path:
    """Where the memory lives for the current settings and working directory."""
    return default_directory() / "notifier-state" / "last-reported.json"


@dataclass(frozen=True)
class LastReported:
    """A flow whose failure a notifier reported, and since when it has been failing."""

    failing_since: float  # epoch seconds of the first reported failure in the streak
    last_failed_run_id: str | None
    failed_runs: int


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path.with_suffix(".lock"), "a") as lock:
        try:
            import fcntl
        except ImportError:  # not POSIX: the os.replace below still keeps the file whole
            yield
            return
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


class ReportedFailures:
    """The memory, read and written under a lock for each change (one file per store)."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path

    def _path(self) -> Path:
        return self.path if self.path is not None else memory_path()

    def _load(self, path: Path) -> dict[str, dict[str, Any]]:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {}
        except (OSError, ValueError):
            return {}  # unreadable: start again rather than fail the run's notification
        if not isinstance(data, dict) or data.get("version") != _VERSION:
            return {}
        entries = data.get("entries")
        return entries if isinstance(entries, dict) else {}

    def _store(self, path: Path, entries: dict[str, dict[str, Any]]) -> None:
        temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        temporary.write_text(
            json.dumps({"version": _VERSION, "entries": entries}, indent=1, sort_keys=True),
            encoding="utf-8",
        )
        os.replace(temporary, path)

    @staticmethod
    def _key(channel: str, flow: str) -> str:
        return f"{channel} {flow}"

    def failed(self, channel: str, flow: str, flow_run_id: str | None, at: float) -> None:
        """Remember that `channel` reported `flow` failed (the streak's start is kept)."""
        path = self._path()
        with _locked(path):
            entries = self._load(path)
            key = self._key(channel, flow)
            before = entries.get(key) or {}
            entries[key] = {
                "channel": channel,
                "flow": flow,
                "state": "Failed",
                "failing_since": before.get("failing_since", at),
                "last_failed_run_id": flow_run_id,
                "failed_runs": int(before.get("failed_runs", 0)) + 1,
            }
            self._store(path, entries)

    def recovered(self, channel: str, flow: str) -> LastReported | None:
        """Forget `flow`'s failure for `channel`; return it if there was one to recover from."""
        path = self._path()
        if not path.exists():
            return None  # the common case: nothing ever failed here, nothing to lock or write
        with _locked(path):
            entries = self._load(path)
            entry = entries.pop(self._key(channel, flow), None)
            if entry is None:
                return None
            self._store(path, entries)
        return LastReported(
            failing_since=float(entry.get("failing_since", 0.0)),
            last_failed_run_id=entry.get("last_failed_run_id"),
            failed_runs=int(entry.get("failed_runs", 1)),
        )
