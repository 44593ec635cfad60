"""Runs whose process died: recorded open in the store, closed by the next process that looks.

A flow process killed with SIGKILL (or by the kernel's OOM killer) runs no handler, no `atexit`
and no flush: its flow span never ends, so it is never exported, and nothing reports the run.
So the bridge writes a small file per open flow run, `<telemetry dir>/open-runs/<run id>.json`
(process id, host, flow, trace and span ids, start time), when the flow span starts, and removes
it when the span ends. Any later flowlight process that configures the bridge (a scheduled flow's
next run, a watchdog calling `close_crashed_runs()`) finds the files whose process is gone and
closes each run: the flow span is exported with its recorded ids, start and the time it was found
dead, status ERROR and `flowlight.crashed = true`, a `Crashed` log record is written in its trace,
and `flowlight.flow_runs` counts it with state `Crashed` (the `FlowlightFlowRunCrashed` alert).

What it cannot give back: the task spans that were open when the process died (their ids were
only in that process), and anything recorded there but not yet exported.
"""

from __future__ import annotations

import json
import os
import socket
import time
from pathlib import Path
from typing import Any

from opentelemetry import trace
from opentelemetry._logs import SeverityNumber
from opentelemetry.sdk.trace import Event, ReadableSpan
from opentelemetry.sdk.util.instrumentation import InstrumentationScope
from opentelemetry.trace import SpanContext, SpanKind, Status, StatusCode, TraceFlags

from flowlight.otel._stats import STATS

__all__ = ["CRASHED_STATE", "close_crashed_runs", "record_closed", "record_open"]

CRASHED_STATE = "Crashed"
_FOLDER = "open-runs"


def _path(directory: Path, flow_run_id: str) -> Path:
    safe = "".join(c for c in flow_run_id if c.isalnum() or c in "-_") or "run"
    return directory / _FOLDER / f"{safe}.json"


def record_open(
    directory: Path,
    *,
    flow: str,
    flow_run_id: str,
    trace_id: str,
    span_id: str,
    parent_span_id: str | None,
    start_ns: int,
) -> None:
    """Write the open-run file of a flow run whose span just started (never raises)."""
    if not flow_run_id:
        return
    try:
        path = _path(directory, flow_run_id)
        path.parent.mkdir(parents=True, exist_ok=True)
        record = {
            "pid": os.getpid(),
            "host": socket.gethostname(),
            "flow": flow,
            "flow_run_id": flow_run_id,
            "trace_id": trace_id,
            "span_id": span_id,
            "parent_span_id": parent_span_id,
            "start_ns": start_ns,
        }
        temporary = path.with_suffix(f".{os.getpid()}.tmp")
        temporary.write_text(json.dumps(record), encoding="utf-8")
        os.replace(temporary, path)
    except OSError:
        STATS.add("open_run_file_errors")


def record_closed(directory: Path, flow_run_id: str) -> None:
    """Remove the open-run file of a flow run whose span ended (never raises)."""
    if not flow_run_id:
        return
    try:
        _path(directory, flow_run_id).unlink(missing_ok=True)
    except OSError:
        STATS.add("open_run_file_errors")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process with that id: alive
    return True


def _crashed_span(record: dict[str, Any], resource: Any, found_ns: int) -> ReadableSpan:
    trace_id = int(record["trace_id"], 16)
    context = SpanContext(trace_id, int(record["span_id"], 16), False, TraceFlags(1))
    parent = None
    if record.get("parent_span_id"):
        parent = SpanContext(trace_id, int(record["parent_span_id"], 16), True, TraceFlags(1))
    message = (
        f"the process running this flow run (pid {record['pid']}) ended without finishing it "
        "(killed, or out of memory)"
    )
    attributes = {
        "cicd.pipeline.name": record["flow"],
        "cicd.pipeline.run.id": record["flow_run_id"],
        "flowlight.run.kind": "flow",
        "flowlight.state": CRASHED_STATE,
        "flowlight.crashed": True,
        "process.pid": int(record["pid"]),
    }
    return ReadableSpan(
        name=record["flow"],
        context=context,
        parent=parent,
        resource=resource,
        attributes=attributes,
        events=(Event("flowlight.crashed", {"message": message}, found_ns),),
        kind=SpanKind.INTERNAL,
        status=Status(StatusCode.ERROR, message),
        start_time=int(record["start_ns"]),
        end_time=found_ns,
        instrumentation_scope=InstrumentationScope("flowlight.otel"),
    )


def close_crashed_runs(telemetry: Any, directory: Path | None = None) -> list[dict[str, Any]]:
    """Close every open run in `directory` (default: the telemetry directory) whose process on
    this host is gone; return their records. Runs of live processes, and of other hosts (whose
    processes cannot be asked), are left open."""
    folder = (directory or telemetry.settings.telemetry_dir) / _FOLDER
    if not folder.is_dir():
        return []
    closed: list[dict[str, Any]] = []
    host = socket.gethostname()
    for path in sorted(folder.glob("*.json")):
        try:
            record = json.loads(path.read_text(encoding="utf-8"))
            if record.get("host") != host or _alive(int(record["pid"])):
                continue
            path.unlink()  # first: two processes finding it at once close it once
        except (OSError, ValueError, KeyError, TypeError):
            continue
        _report(telemetry, record)
        closed.append(record)
    return closed


def _report(telemetry: Any, record: dict[str, Any]) -> None:
    found_ns = time.time_ns()
    try:
        processor = telemetry.span_processor
        if processor is not None:
            processor.on_end(_crashed_span(record, telemetry.resource, found_ns))
        if telemetry.otel_logger is not None:
            telemetry.otel_logger.emit(
                body=f"{record['flow']}: {CRASHED_STATE} (its process ended mid-run)",
                severity_number=SeverityNumber.ERROR,
                severity_text="ERROR",
                attributes={
                    "flow": record["flow"],
                    "flow_run_id": record["flow_run_id"],
                    "new_state": CRASHED_STATE,
                },
                event_name="flowlight.run_crashed",
                context=_span_context(record),
            )
        telemetry.metrics.flow_crashed(record["flow"])
        STATS.add("crashed_runs_closed")
    except Exception:
        STATS.add("handler_errors")


def _span_context(record: dict[str, Any]) -> Any:
    span = trace.NonRecordingSpan(
        SpanContext(int(record["trace_id"], 16), int(record["span_id"], 16), True, TraceFlags(1))
    )
    return trace.set_span_in_context(span)
