"""Reading the lines of the local telemetry files, whatever a damaged file holds.

A process killed mid-write leaves a torn line, a disk or a hand edit can leave bytes that are not
UTF-8, JSON that is not an object, or one enormous line. Every reader of the store (`trace show`,
`runs`, `telemetry replay`) reads through here, so they agree on which lines are unreadable and
why: `trace show` and `runs` skip them and say so once, replay moves them to `<signal>.jsonl.bad`.
No line is ever held in memory beyond `MAX_LINE_BYTES`.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

__all__ = [
    "MAX_LINE_BYTES",
    "RESOURCE_KEYS",
    "SkippedLines",
    "StoreLine",
    "UnreadableLine",
    "otlp_document",
    "store_lines",
    "too_long",
]

MAX_LINE_BYTES = 32 * 1024 * 1024
"""The longest line read (32 MiB). The bridge writes batches of at most 128 spans or records
whose texts are bounded (`otel/_bounds.py`): a few MB at worst. A longer line is no export
request the bridge wrote (and more than a collector's default 4 MiB gRPC / 20 MiB HTTP limit),
so it is reported unreadable without being loaded."""

_CHUNK = 1024 * 1024

RESOURCE_KEYS = {"traces": "resourceSpans", "metrics": "resourceMetrics", "logs": "resourceLogs"}
"""The list each signal's export request carries, in OTLP JSON."""


class UnreadableLine(ValueError):
    """A line of the store that is not an OTLP JSON export request; the message says why."""


class StoreLine(NamedTuple):
    """One non-blank line: its number in the file (from 1), its bytes without the newline, or
    None when it is longer than the limit (then `size` says how long it was)."""

    number: int
    raw: bytes | None
    size: int


def store_lines(
    path: Path,
    *,
    limit: int | None = None,
    oversized: Callable[[bytes], object] | None = None,
) -> Iterator[StoreLine]:
    """The non-blank lines of `path`, read in binary so no byte can stop the reading.

    A line longer than `limit` bytes (default `MAX_LINE_BYTES`) is read in chunks and never held
    whole: its bytes (with a newline at the end) go to `oversized` when given, e.g. a quarantine
    file, else are dropped.
    """
    limit = MAX_LINE_BYTES if limit is None else limit
    with open(path, "rb") as handle:
        number = 0
        while True:
            raw = handle.readline(limit + 1)
            if not raw:
                return
            number += 1
            if raw.endswith(b"\n") or len(raw) <= limit:
                line = raw[:-1] if raw.endswith(b"\n") else raw
                if line.strip():
                    yield StoreLine(number, line, len(line))
                continue
            size = len(raw)
            piece = raw
            while True:
                if oversized is not None:
                    oversized(piece)
                if piece.endswith(b"\n"):
                    size -= 1
                    break
                piece = handle.readline(_CHUNK)
                if not piece:
                    if oversized is not None:
                        oversized(b"\n")
                    break
                size += len(piece)
            yield StoreLine(number, None, size)


def too_long(line: StoreLine) -> str:
    """Why an oversized line was not read."""
    mib, rest = divmod(MAX_LINE_BYTES, 1024 * 1024)
    limit = f"{mib} MiB" if mib and not rest else f"{MAX_LINE_BYTES:,}-byte"
    return f"{line.size:,} bytes long, over the {limit} line limit"


def otlp_document(raw: bytes, signal: str) -> dict[str, Any]:
    """The JSON object of one line, carrying the signal's non-empty resource list.

    Raises UnreadableLine saying what is wrong: not UTF-8, not JSON (a torn or damaged line),
    JSON that is not an object, or an object that is no `signal` export request.
    """
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        raise UnreadableLine(f"not UTF-8 text (byte {error.start + 1})") from None
    try:
        document = json.loads(text)
    except RecursionError:
        raise UnreadableLine("JSON nested too deeply") from None
    except ValueError as error:
        where = f" at column {error.colno}" if isinstance(error, json.JSONDecodeError) else ""
        raise UnreadableLine(f"not valid JSON{where} (torn or damaged)") from None
    if not isinstance(document, dict):
        raise UnreadableLine(f"JSON {_kind(document)}, not an object")
    key = RESOURCE_KEYS[signal]
    items = document.get(key)
    if not isinstance(items, list) or not items:
        if items is None:
            found = "missing"
        elif isinstance(items, list):
            found = "an empty list"
        else:
            found = f"a JSON {_kind(items)}, not a list"
        raise UnreadableLine(f"no {signal} export request: {key} is {found}")
    return document


def _kind(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


@dataclass
class SkippedLines:
    """The lines a reader could not read, by file and line number: each counted once however
    often it is read, so a command reading the store twice still reports each line once."""

    by_file: dict[Path, dict[int, str]] = field(default_factory=dict)

    def add(self, path: Path, number: int, reason: str) -> None:
        self.by_file.setdefault(path, {}).setdefault(number, reason)

    def __len__(self) -> int:
        return sum(len(lines) for lines in self.by_file.values())

    def summary(self, command: str, listed: int = 5) -> str | None:
        """What `command` says on stderr: how many lines of which files it skipped, and why
        (the first `listed` of each file); None when it skipped nothing."""
        if not self.by_file:
            return None
        directories = {path.parent for path in self.by_file}
        where = f" in {next(iter(directories))}" if len(directories) == 1 else ""
        lines = [
            f"{command}: skipped {len(self)} unreadable line(s) of the telemetry files{where} "
            "(left as they are; everything else was read):"
        ]
        for path, reasons in self.by_file.items():
            numbers = sorted(reasons)
            shown = "; ".join(f"line {n}: {reasons[n]}" for n in numbers[:listed])
            more = f"; and {len(numbers) - listed} more" if len(numbers) > listed else ""
            name = path.name if where else str(path)
            lines.append(f"  {name}: {len(numbers)} line(s) ({shown}{more})")
        return "\n".join(lines)
