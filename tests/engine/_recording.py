"""Test helpers: a state handler that writes down every call the way the spec's transcripts do,
and a clock that moves only when told to (so retries, caches and schedules never really wait)."""

from __future__ import annotations

from typing import Any

import flowlight
from flowlight import Task
from flowlight.engine.state import State

__all__ = ["FakeClock", "Recorder", "fmt"]


def fmt(state: State) -> str:
    """A state as the transcripts write it: `Name("message")`, or `Name()` without a message."""
    if state.message is None:
        return f"{type(state).__name__}()"
    return f'{type(state).__name__}("{state.message}")'


class Recorder:
    """A state handler that records `obj[map_index]: old -> new` for each call, and what the
    context held during it (for checks on run ids and loop counters)."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.contexts: list[dict[str, Any]] = []

    def __call__(self, obj: Any, old: State, new: State) -> State:
        index = flowlight.context.get("map_index")
        name = repr(obj).replace('"', "")
        if index is not None and isinstance(obj, Task):
            name += f"[{index}]"
        self.lines.append(f"{name}: {fmt(old)} -> {fmt(new)}")
        self.contexts.append(flowlight.context.to_dict())
        return new

    def of(self, prefix: str) -> list[str]:
        """The recorded lines that start with `prefix` (one object's, or one child's)."""
        return [line for line in self.lines if line.startswith(prefix)]


class FakeClock:
    """The engine clock for tests: `sleep` advances time at once, `advance` moves it on."""

    def __init__(self, now: float = 1_800_000_000.0) -> None:
        self.t = now
        self.slept: list[float] = []

    def now(self) -> float:
        return self.t

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.t += max(0.0, seconds)

    def advance(self, seconds: float) -> None:
        self.t += seconds
