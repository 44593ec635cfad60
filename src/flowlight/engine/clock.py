"""The engine's one seam for time: retries, timeouts and schedules read and wait through it.

Tests swap in a clock that advances instantly, so nothing in the suite really sleeps for a retry.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from typing import Any, Protocol

__all__ = ["Clock", "SystemClock", "get_clock", "seconds", "use_clock"]


class Clock(Protocol):
    def now(self) -> float:
        """Epoch seconds."""

    def sleep(self, seconds: float) -> None:
        """Wait `seconds` (a test clock may just advance)."""


class SystemClock:
    """Real time."""

    def now(self) -> float:
        return time.time()

    def sleep(self, seconds: float) -> None:
        if seconds > 0:
            time.sleep(seconds)


_clock: Clock = SystemClock()


def get_clock() -> Clock:
    return _clock


@contextlib.contextmanager
def use_clock(clock: Clock) -> Iterator[Clock]:
    """Use `clock` for everything the engine times inside the block (process-wide)."""
    global _clock
    previous, _clock = _clock, clock
    try:
        yield clock
    finally:
        _clock = previous


def seconds(duration: Any) -> float:
    """A duration as seconds: tasks keep `retry_delay` and `cache_for` as the timedelta they
    were given (as Prefect 1 does), and a number set later through `task_args` still works."""
    if duration is None:
        return 0.0
    total = getattr(duration, "total_seconds", None)
    return float(total()) if total is not None else float(duration)
