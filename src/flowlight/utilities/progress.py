"""Live progress of a flow run on a terminal: task runs done, running, failed and retrying, with
mapped children counted one by one, and the time since the run started.

Drawn with rich (imported only when a display starts) on stderr, redrawn a few times a second
from its own thread; log lines written meanwhile scroll above it. Nothing is drawn off a
terminal. The flow runner reports submissions and final states; the task runner reports retries
of runs in this process.
"""

from __future__ import annotations

import threading
import time
from typing import Any

from flowlight.engine.state import Mapped, State

__all__ = ["RunProgress", "note_retry", "start_progress"]

_active: RunProgress | None = None


class RunProgress:
    """Counts for one flow run, and the display that shows them."""

    def __init__(self, flow_name: str, total: int) -> None:
        self.flow_name = flow_name
        self.total = total
        self.done = 0
        self.failed = 0
        self.running = 0
        self.retrying = 0
        self.started = time.monotonic()
        self._lock = threading.Lock()
        self._live: Any = None

    def submitted(self, count: int = 1, *, mapped_parent: bool = False) -> None:
        """`count` runs were handed to the executor (a map adds its children to the total)."""
        with self._lock:
            if mapped_parent:
                self.total += count - 1  # the parent was counted as one task; its children count
            self.running += count

    def finished(self, state: State, *, was_submitted: bool = True) -> None:
        with self._lock:
            if was_submitted:
                self.running -= 1
            if isinstance(state, Mapped) and not state.map_states:
                self.done += 1
            elif not isinstance(state, Mapped):
                self.done += 1
                if state.is_failed():
                    self.failed += 1

    def retried(self) -> None:
        with self._lock:
            self.retrying += 1

    def line(self) -> str:
        """The progress as one line of text (what the display draws)."""
        elapsed = time.monotonic() - self.started
        text = (
            f"{self.flow_name}  {elapsed:6.1f} s  done {self.done}/{self.total}  "
            f"running {self.running}  failed {self.failed}  retries {self.retrying}"
        )
        return text

    def _renderable(self) -> Any:
        from rich.text import Text

        style = "red" if self.failed else "green" if self.done == self.total else "cyan"
        return Text(self.line(), style=style)

    def start(self) -> None:
        import sys

        from rich.console import Console
        from rich.live import Live

        class _View:
            def __init__(self, progress: RunProgress) -> None:
                self.progress = progress

            def __rich__(self) -> Any:
                return self.progress._renderable()

        console = Console(file=sys.stderr)
        self._live = Live(_View(self), console=console, refresh_per_second=8, transient=False)
        self._live.start()

    def stop(self) -> None:
        if self._live is not None:
            self._live.refresh()
            self._live.stop()
            self._live = None


def start_progress(flow_name: str, total: int) -> RunProgress:
    global _active
    progress = RunProgress(flow_name, total)
    progress.start()
    _active = progress
    return progress


def stop_progress(progress: RunProgress) -> None:
    global _active
    progress.stop()
    if _active is progress:
        _active = None


def note_retry() -> None:
    """A task run in this process is retrying: count it on the live display, if one is up."""
    progress = _active
    if progress is not None:
        progress.retried()
