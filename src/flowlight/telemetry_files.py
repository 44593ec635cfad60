"""The local telemetry store, `.flowlight/telemetry/`: where it is, and the one reader of it.

The OpenTelemetry bridge writes OTLP JSON lines there (one export request per line, the format
the collector's `otlpjsonfile` receiver reads); `flowlight trace show`, `flowlight runs` and the
examples read them back through this module. Reading needs only the standard library: no
OpenTelemetry import, so the commands start fast.
"""

from __future__ import annotations

import json
import os
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from flowlight.settings import env_name, setting

__all__ = [
    "FlowRun",
    "SpanEvent",
    "SpanRecord",
    "default_directory",
    "flow_runs",
    "mark_sent",
    "mark_unsent",
    "read_spans",
    "rotate_if_full",
    "rotation_limits",
    "signal_files",
    "spans_by_trace",
]

STATUS_ERROR = 2


def default_directory() -> Path:
    """`FLOWLIGHT__OTEL__TELEMETRY_DIR`, else `.flowlight/telemetry` under the working directory."""
    configured = setting("otel", "telemetry_dir", default=None)
    return Path(str(configured)) if configured else Path(os.getcwd()) / ".flowlight" / "telemetry"


@dataclass(frozen=True)
class SpanEvent:
    name: str
    time_ns: int
    attributes: dict[str, Any]


@dataclass
class SpanRecord:
    """One span as read back from a file: ids as hex, times in nanoseconds since the epoch."""

    trace_id: str
    span_id: str
    parent_id: str
    name: str
    start_ns: int
    end_ns: int
    status_code: int
    status_message: str
    attributes: dict[str, Any] = field(default_factory=dict)
    events: list[SpanEvent] = field(default_factory=list)

    @property
    def seconds(self) -> float:
        return max(0, self.end_ns - self.start_ns) / 1e9

    @property
    def is_error(self) -> bool:
        return self.status_code == STATUS_ERROR

    @property
    def state(self) -> str:
        """The run's final state as the bridge recorded it (`flowlight.state`)."""
        return str(self.attributes.get("flowlight.state") or ("Error" if self.is_error else "?"))

    @property
    def is_flow_run(self) -> bool:
        return self.attributes.get("flowlight.run.kind") == "flow"

    @property
    def map_index(self) -> int | None:
        value = self.attributes.get("flowlight.task.map_index")
        return None if value is None else int(value)


@dataclass(frozen=True)
class FlowRun:
    """A flow run found in the store: its root span's trace, name, state, start and duration."""

    trace_id: str
    flow: str
    state: str
    start_ns: int
    seconds: float
    flow_run_id: str


def signal_files(directory: Path, signal: str) -> list[Path]:
    """Every file that holds `signal` lines, oldest first: rotated files (`traces.<ns>.jsonl`,
    `traces.<ns>.unsent.jsonl`), then the live one (`traces.jsonl`). Files a replay set aside
    while sending (`traces.jsonl.replaying-<pid>`) are not included."""
    if not directory.is_dir():
        return []
    found = [p for p in directory.iterdir() if _ROTATED.fullmatch(p.name) and p.is_file()]
    rotated = sorted(
        (p for p in found if p.name.split(".")[0] == signal),
        key=lambda p: int(p.name.split(".")[1]),
    )
    live = directory / f"{signal}.jsonl"
    return rotated + ([live] if live.is_file() else [])


_ROTATED = re.compile(r"[a-z]+\.\d+(\.unsent)?\.jsonl")


def rotation_limits() -> tuple[int, int]:
    """`(max bytes of the live file, rotated files kept per signal)` from
    `FLOWLIGHT__OTEL__MAX_FILE_MB` (default 16) and `FLOWLIGHT__OTEL__MAX_FILES` (default 8)."""
    size = setting("otel", "max_file_mb", default=16)
    count = setting("otel", "max_files", default=8)
    if isinstance(size, bool) or not isinstance(size, (int, float)) or size <= 0:
        raise ValueError(
            f"{env_name('otel', 'max_file_mb')} is {size!r}; it must be a positive number of MB"
        )
    if isinstance(count, bool) or not isinstance(count, int) or count < 1:
        raise ValueError(
            f"{env_name('otel', 'max_files')} is {count!r}; it must be a whole number, 1 or more"
        )
    return int(size * 1024 * 1024), count


def _unsent_marker(live: Path) -> Path:
    return live.with_name(live.name + ".unsent")


def mark_unsent(live: Path) -> None:
    """Remember that the live file holds telemetry a collector has not received (it was spooled):
    when it is rotated, the rotated file is kept until a replay sent it."""
    marker = _unsent_marker(live)
    if not marker.exists():
        marker.touch()


def mark_sent(live: Path) -> None:
    """A replay sent everything the live file held: forget that it held unsent telemetry."""
    _unsent_marker(live).unlink(missing_ok=True)


def rotate_if_full(live: Path, max_bytes: int, keep: int) -> Path | None:
    """Move `live` aside once it reached `max_bytes` (writers start a new one at their next line)
    and drop the oldest rotated files beyond `keep`. Files holding telemetry that was never sent
    to the collector it was meant for are never dropped: a replay sends and removes them."""
    try:
        if live.stat().st_size < max_bytes:
            return None
    except FileNotFoundError:
        return None
    signal = live.name.split(".")[0]
    marker = _unsent_marker(live)
    unsent = marker.exists()
    target = live.with_name(f"{signal}.{time.time_ns()}{'.unsent' if unsent else ''}.jsonl")
    try:
        os.replace(live, target)  # atomic: a writer appends to the old file or opens a new one
    except FileNotFoundError:
        return None  # another process rotated it first
    if unsent:
        marker.unlink(missing_ok=True)
    droppable = [
        p for p in signal_files(live.parent, signal) if p != live and ".unsent." not in p.name
    ]
    for old in droppable[: max(0, len(droppable) - keep)]:
        old.unlink(missing_ok=True)
    return target


def _value(node: dict[str, Any]) -> Any:
    """An OTLP JSON `AnyValue` as a Python value."""
    if "stringValue" in node:
        return node["stringValue"]
    if "intValue" in node:
        return int(node["intValue"])
    if "doubleValue" in node:
        return float(node["doubleValue"])
    if "boolValue" in node:
        return bool(node["boolValue"])
    if "arrayValue" in node:
        return [_value(v) for v in node["arrayValue"].get("values", [])]
    if "kvlistValue" in node:
        return _attributes(node["kvlistValue"].get("values", []))
    return None


def _attributes(items: list[dict[str, Any]]) -> dict[str, Any]:
    return {item["key"]: _value(item.get("value", {})) for item in items}


def _spans_of_line(line: str) -> Iterator[SpanRecord]:
    document = json.loads(line)
    for resource_spans in document.get("resourceSpans", []):
        for scope_spans in resource_spans.get("scopeSpans", []):
            for span in scope_spans.get("spans", []):
                status = span.get("status", {})
                yield SpanRecord(
                    trace_id=span.get("traceId", ""),
                    span_id=span.get("spanId", ""),
                    parent_id=span.get("parentSpanId", "") or "",
                    name=span.get("name", ""),
                    start_ns=int(span.get("startTimeUnixNano", 0)),
                    end_ns=int(span.get("endTimeUnixNano", 0)),
                    status_code=int(status.get("code", 0)),
                    status_message=status.get("message", ""),
                    attributes=_attributes(span.get("attributes", [])),
                    events=[
                        SpanEvent(
                            e.get("name", ""),
                            int(e.get("timeUnixNano", 0)),
                            _attributes(e.get("attributes", [])),
                        )
                        for e in span.get("events", [])
                    ],
                )


def read_spans(directory: Path | None = None, trace_id: str | None = None) -> list[SpanRecord]:
    """Every span in the store (of one trace, when `trace_id` is given). A line that is not
    OTLP JSON is skipped: a file being written may end in half a line."""
    spans: list[SpanRecord] = []
    for path in signal_files(directory or default_directory(), "traces"):
        with open(path, encoding="utf-8") as handle:
            for line in handle:
                if not line.strip() or (trace_id and trace_id not in line):
                    continue
                try:
                    found = list(_spans_of_line(line))
                except (ValueError, KeyError, TypeError):
                    continue
                spans.extend(s for s in found if trace_id is None or s.trace_id == trace_id)
    return spans


def spans_by_trace(spans: list[SpanRecord]) -> dict[str, list[SpanRecord]]:
    traces: dict[str, list[SpanRecord]] = {}
    for span in spans:
        traces.setdefault(span.trace_id, []).append(span)
    return traces


def flow_runs(directory: Path | None = None) -> list[FlowRun]:
    """The flow runs in the store, oldest first."""
    runs = [
        FlowRun(
            trace_id=span.trace_id,
            flow=str(span.attributes.get("cicd.pipeline.name") or span.name),
            state=span.state,
            start_ns=span.start_ns,
            seconds=span.seconds,
            flow_run_id=str(span.attributes.get("cicd.pipeline.run.id") or ""),
        )
        for span in read_spans(directory)
        if span.is_flow_run
    ]
    return sorted(runs, key=lambda run: run.start_ns)
