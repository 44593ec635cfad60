"""What the commands share to draw on a terminal: the console, state colours, durations, and
text from the telemetry files made safe to print."""

from __future__ import annotations

import os
import sys
import unicodedata
from collections.abc import Callable
from pathlib import Path
from typing import Any

from flowlight.telemetry_lines import SkippedLines

__all__ = ["console", "duration", "markup_safe", "printable", "state_style"]

# Besides control characters: the bidirectional overrides and isolates, which reorder what the
# terminal shows (a name could display as something else), and lone surrogates, which cannot be
# encoded for the terminal at all.
_SHOWN_ESCAPED = frozenset({"Cc", "Cs", "Zl", "Zp"})
_BIDI_CONTROLS = frozenset("\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def printable(text: str) -> str:
    """`text` with every control character shown as its escape (`\\x1b`, `\\n`, `\\u202e`).

    Names, states and messages in the telemetry files are data anyone's flow wrote: printed raw,
    an escape sequence in a flow name would clear the screen, recolour or rewrite the terminal.
    """
    if text.isprintable():
        return text
    return "".join(
        ch.encode("unicode_escape", "backslashreplace").decode("ascii")
        if ch in _BIDI_CONTROLS or unicodedata.category(ch) in _SHOWN_ESCAPED
        else ch
        for ch in text
    )


def markup_safe(text: str) -> str:
    """`printable(text)` for a rich markup string: its brackets are shown, not applied."""
    from rich.markup import escape

    return escape(printable(text))


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


def read_store(
    command: str,
    args: Any,
    body: Callable[[Any, Path, SkippedLines], int],
) -> int:
    """Run `body(args, directory, skipped)` over the telemetry store `--dir` names (or the
    default one), then say once on stderr which damaged lines it skipped."""
    from flowlight.telemetry_files import default_directory

    directory = Path(args.dir) if args.dir else default_directory()
    skipped = SkippedLines()
    try:
        return body(args, directory, skipped)
    finally:
        summary = skipped.summary(command)
        if summary:
            print(summary, file=sys.stderr)
