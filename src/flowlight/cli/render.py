"""What the commands share to draw on a terminal: the console, state colours, durations."""

from __future__ import annotations

import os
import sys
from typing import Any

__all__ = ["console", "duration", "state_style"]

_STYLES = {
    "Success": "green",
    "Mapped": "green",
    "Cached": "cyan",
    "Failed": "bold red",
    "TriggerFailed": "red",
    "TimedOut": "red",
    "Error": "red",
    "Skipped": "yellow",
    "Retrying": "yellow",
    "Paused": "magenta",
}


def state_style(state: str) -> str:
    return _STYLES.get(state, "white")


def duration(seconds: float) -> str:
    if seconds < 1:
        return f"{seconds * 1000:.1f} ms" if seconds < 0.01 else f"{seconds * 1000:.0f} ms"
    if seconds < 120:
        return f"{seconds:.2f} s"
    minutes, rest = divmod(seconds, 60)
    return f"{int(minutes)} min {rest:.0f} s"


def console() -> Any:
    """A rich console on stdout; wide enough for the tree when stdout is not a terminal."""
    from rich.console import Console

    columns = os.environ.get("COLUMNS")
    width = int(columns) if columns and columns.isdigit() else None
    if width is None and not sys.stdout.isatty():
        width = 160
    return Console(width=width, highlight=False)
