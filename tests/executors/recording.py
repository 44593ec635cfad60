"""A state handler that works across processes: each call is one JSON line appended to a file.

Task handlers run on workers, so an in-memory list in the test process would see nothing. Each
line says which run saw which transition, in which process; appends of one short line are atomic,
so threads and processes can share the file.
"""

from __future__ import annotations

import json
import os
from collections import defaultdict
from pathlib import Path
from typing import Any

import flowlight
from flowlight import Flow
from flowlight.engine.state import State

__all__ = ["TransitionLog"]


class TransitionLog:
    """`state_handlers=[log]` on tasks and flows; `log.transcripts()` reads back what they saw."""

    def __init__(self, path: Path) -> None:
        self.path = str(path)

    def __call__(self, obj: Any, old: State, new: State) -> State:
        is_flow = isinstance(obj, Flow)
        entry = {
            "run": "flow" if is_flow else flowlight.context.get("task_full_name"),
            "kind": "flow" if is_flow else "task",
            "old": type(old).__name__,
            "new": type(new).__name__,
            "message": new.message,
            "pid": os.getpid(),
        }
        with open(self.path, "a", encoding="utf-8") as out:
            out.write(json.dumps(entry) + "\n")
        return new

    def attach(self, flow: Flow) -> Flow:
        """Put this handler on `flow` and each of its tasks; return `flow`."""
        for obj in (flow, *flow.tasks):
            obj.state_handlers = [*obj.state_handlers, self]
        return flow

    def entries(self) -> list[dict[str, Any]]:
        if not os.path.exists(self.path):
            return []
        with open(self.path, encoding="utf-8") as lines:
            return [json.loads(line) for line in lines]

    def transcripts(self) -> dict[str, list[str]]:
        """For each run (the flow, a task, a mapped child `name[i]`), its transitions in order."""
        runs: dict[str, list[str]] = defaultdict(list)
        for entry in self.entries():
            runs[entry["run"]].append(f"{entry['old']} -> {entry['new']}: {entry['message']}")
        return dict(runs)

    def pids(self, kind: str) -> set[int]:
        return {entry["pid"] for entry in self.entries() if entry["kind"] == kind}
