"""What the bridge counts about itself: it never raises into a task, so trouble shows here.

`flowlight.otel.statistics()` returns a snapshot. The counters are per process (a Dask worker keeps
its own).
"""

from __future__ import annotations

import threading
from collections import Counter

__all__ = ["STATS", "BridgeStatistics"]


class BridgeStatistics:
    """Thread-safe named counters."""

    def __init__(self) -> None:
        self._counts: Counter[str] = Counter()
        self._lock = threading.Lock()

    def add(self, name: str, amount: int = 1) -> None:
        with self._lock:
            self._counts[name] += amount

    def snapshot(self) -> dict[str, int]:
        with self._lock:
            return dict(self._counts)

    def reset(self) -> None:
        with self._lock:
            self._counts.clear()


STATS = BridgeStatistics()
