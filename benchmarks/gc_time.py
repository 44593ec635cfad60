"""Time spent in Python's cyclic garbage collector during a measured region.

The same SDK calls cost more amid a flow run than in the floor's tight loop, and much of the
difference is the collector: a run keeps its flow graph and its states alive, so every full
collection the telemetry's allocations trigger walks them all. Timing the collections on both
sides shows how much of a ratio is the collector and how much is code.

Standard library only: the workload module that uses it also runs in the Prefect 1 environment.
"""

from __future__ import annotations

import gc
import time
from types import TracebackType
from typing import Any

__all__ = ["GcTimer"]


class GcTimer:
    """`with GcTimer() as timer:` sums the wall time of collections, per generation.

    Collections are pure CPU work in the measuring thread, so their wall time stands for their
    CPU time next to the benchmark's CPU clock.
    """

    def __init__(self) -> None:
        self.seconds = [0.0, 0.0, 0.0]
        self.collections = [0, 0, 0]
        self._started: float | None = None

    def _callback(self, phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            self._started = time.perf_counter()
            return
        if self._started is None:  # a collection already under way when the block began
            return
        generation = info["generation"]
        self.seconds[generation] += time.perf_counter() - self._started
        self.collections[generation] += 1
        self._started = None

    def __enter__(self) -> GcTimer:
        gc.callbacks.append(self._callback)
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        gc.callbacks.remove(self._callback)

    def as_dict(self) -> dict[str, Any]:
        return {
            "gc_seconds": sum(self.seconds),
            "gc_seconds_by_generation": list(self.seconds),
            "gc_collections_by_generation": list(self.collections),
        }
