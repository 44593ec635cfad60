"""The local telemetry store, `.flowlight/telemetry/`: where it is, and the one reader of it.

The OpenTelemetry bridge writes OTLP JSON lines there (one export request per line, the format
the collector's `otlpjsonfile` receiver reads); `flowlight trace show`, `flowlight runs` and the
examples read them back through this module, line by line through `telemetry_lines` (which replay
shares), so a damaged line is skipped and reported, never a crash. Reading needs only the
standard library: no OpenTelemetry import, so the commands start fast.
"""

from __future__ import annotations

import os
import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from flowlight.settings import env_name, setting
from flowlight.telemetry_lines import (
    SkippedLines,
    UnreadableLine,
    otlp_document,
    store_lines,
    too_long,
)

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
        return value if isinstance(value, int) and not isinstance(value, bool) else None


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


class _Shape:
    """Typed access to one JSON object of a line; a field of the wrong type makes the line
    unreadable (UnreadableLine names the field), never a crash further on."""

    def __init__(self, node: object, where: str) -> None:
        if not isinstance(node, dict):
            raise UnreadableLine(f"{where} is not an object")
        self.node: dict[str, Any] = node
        self.where = where

    def text(self, key: str, *, required: bool = False) -> str:
        value = self.node.get(key)
        if value is None and not required:
            return ""
        if isinstance(value, str) and (value or not required):
            return value
        found = "missing" if value is None else f"not a string: {_brief(value)}"
        raise UnreadableLine(f"{self._at(key)} is {found}")

    def uint64(self, key: str) -> int:
        """OTLP JSON writes 64-bit integers as strings (or numbers)."""
        value = self.node.get(key, 0)
        number = None
        if isinstance(value, int) and not isinstance(value, bool):
            number = value
        elif isinstance(value, str) and value.isdigit() and len(value) <= 20:
            number = int(value)
        if number is None or not 0 <= number < 2**64:
            raise UnreadableLine(f"{self._at(key)} is not a 64-bit count: {_brief(value)}")
        return number

    def _at(self, key: str) -> str:
        return f"{self.where}.{key}" if self.where else key

    def objects(self, key: str) -> list[_Shape]:
        value = self.node.get(key, [])
        if not isinstance(value, list):
            raise UnreadableLine(f"{self._at(key)} is not a list")
        return [_Shape(item, f"{self._at(key)}[{i}]") for i, item in enumerate(value)]

    def shape(self, key: str) -> _Shape:
        return _Shape(self.node.get(key, {}), f"{self._at(key)}")


def _brief(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _value(node: _Shape) -> Any:
    """An OTLP JSON `AnyValue` as a Python value."""
    value = node.node
    if "stringValue" in value:
        return node.text("stringValue")
    if "intValue" in value:
        raw = value["intValue"]
        if isinstance(raw, str) and raw.lstrip("-").isdigit() and len(raw) <= 20:
            return int(raw)
        if isinstance(raw, int) and not isinstance(raw, bool):
            return raw
        raise UnreadableLine(f"{node.where}.intValue is not an integer: {_brief(raw)}")
    if "doubleValue" in value:
        raw = value["doubleValue"]
        if isinstance(raw, bool) or not isinstance(raw, (int, float, str)):
            raise UnreadableLine(f"{node.where}.doubleValue is not a number: {_brief(raw)}")
        try:
            return float(raw)
        except ValueError:
            raise UnreadableLine(
                f"{node.where}.doubleValue is not a number: {_brief(raw)}"
            ) from None
    if "boolValue" in value:
        return bool(value["boolValue"])
    if "arrayValue" in value:
        return [_value(v) for v in node.shape("arrayValue").objects("values")]
    if "kvlistValue" in value:
        return _attributes(node.shape("kvlistValue"), "values")
    return None


def _attributes(node: _Shape, key: str = "attributes") -> dict[str, Any]:
    return {item.text("key"): _value(item.shape("value")) for item in node.objects(key)}


def _spans_of_document(document: dict[str, Any]) -> list[SpanRecord]:
    """The spans of one export request; UnreadableLine when anything in it has the wrong shape
    (the whole line is skipped then: it is not what the bridge writes)."""
    spans = []
    for resource_spans in _Shape(document, "").objects("resourceSpans"):
        for scope_spans in resource_spans.objects("scopeSpans"):
            for span in scope_spans.objects("spans"):
                status = span.shape("status")
                code = status.node.get("code", 0)
                if isinstance(code, bool) or not isinstance(code, int):
                    raise UnreadableLine(f"{status.where}.code is not an integer: {_brief(code)}")
                spans.append(
                    SpanRecord(
                        trace_id=span.text("traceId", required=True),
                        span_id=span.text("spanId", required=True),
                        parent_id=span.text("parentSpanId"),
                        name=span.text("name"),
                        start_ns=span.uint64("startTimeUnixNano"),
                        end_ns=span.uint64("endTimeUnixNano"),
                        status_code=code,
                        status_message=status.text("message"),
                        attributes=_attributes(span),
                        events=[
                            SpanEvent(e.text("name"), e.uint64("timeUnixNano"), _attributes(e))
                            for e in span.objects("events")
                        ],
                    )
                )
    return spans


def read_spans(
    directory: Path | None = None,
    trace_id: str | None = None,
    skipped: SkippedLines | None = None,
) -> list[SpanRecord]:
    """Every span in the store (of one trace, when `trace_id` is given).

    A line that cannot be read (a torn last line of a killed process, bytes that are not UTF-8,
    JSON that is no export request of spans, a line over `MAX_LINE_BYTES`) is skipped, and noted
    in `skipped` when given, so the command can say so; every other line is read."""
    spans: list[SpanRecord] = []
    wanted = trace_id.encode("utf-8", "replace") if trace_id else None
    for path in signal_files(directory or default_directory(), "traces"):
        for line in store_lines(path):
            if line.raw is not None and wanted is not None and wanted not in line.raw:
                continue
            try:
                if line.raw is None:
                    raise UnreadableLine(too_long(line))
                found = _spans_of_document(otlp_document(line.raw, "traces"))
            except UnreadableLine as error:
                if skipped is not None:
                    skipped.add(path, line.number, str(error))
                continue
            spans.extend(s for s in found if trace_id is None or s.trace_id == trace_id)
    return spans


def spans_by_trace(spans: list[SpanRecord]) -> dict[str, list[SpanRecord]]:
    traces: dict[str, list[SpanRecord]] = {}
    for span in spans:
        traces.setdefault(span.trace_id, []).append(span)
    return traces


def flow_runs(directory: Path | None = None, skipped: SkippedLines | None = None) -> list[FlowRun]:
    """The flow runs in the store, oldest first (unreadable lines noted in `skipped`)."""
    runs = [
        FlowRun(
            trace_id=span.trace_id,
            flow=str(span.attributes.get("cicd.pipeline.name") or span.name),
            state=span.state,
            start_ns=span.start_ns,
            seconds=span.seconds,
            flow_run_id=str(span.attributes.get("cicd.pipeline.run.id") or ""),
        )
        for span in read_spans(directory, skipped=skipped)
        if span.is_flow_run
    ]
    return sorted(runs, key=lambda run: run.start_ns)
