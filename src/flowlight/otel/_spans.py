"""Spans for runs: one per flow run, task run and mapped child, kept open in a table by run id.

A run's span is started on its first transition, gets an event for every transition, and ends on
the run's final state. The table lives in the process where the span started; the parent is found
through the W3C `traceparent` in `flowlight.context`, a plain string that survives pickling to a
worker. Everything written to a span passes through `redact`.
"""

from __future__ import annotations

import functools
import os
import threading
import time
import traceback
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.trace import Span, SpanKind, Status, StatusCode
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

from flowlight.otel._bounds import MESSAGE_LIMIT, STACKTRACE_LIMIT, bounded
from flowlight.otel._recording import SpanRecorder, add_own_event, set_own_attributes
from flowlight.otel._states import (
    Transition,
    cicd_result,
    is_failed,
    is_successful,
    message_of,
    state_name,
)
from flowlight.utilities.redaction import redact, text_of

__all__ = [
    "RunRecord",
    "RunTable",
    "add_transition_event",
    "end_run_span",
    "make_current",
    "parent_context",
    "release_current",
]

_propagator = TraceContextTextMapPropagator()
_OK = Status(StatusCode.OK)


@dataclass(slots=True)
class RunRecord:
    """One open run: its span and what is needed to finish it, in this process.

    What stays the same for every transition of the run (its ids as hex, the context that holds
    its span) is worked out once, when the span starts, not on each transition.
    """

    span: Span
    flow: str
    flow_run_id: str
    task: str  # "" for the flow run itself
    started: float  # perf_counter at the first transition
    task_object: Any = None
    map_index: int | None = None
    task_run_id: str = ""
    task_slug: str = ""
    last_state: Any = None
    run_count: int = 1
    current_token: Any = None  # from making the span current, while the run is in progress
    current_thread: int = 0
    parent_run_id: str = ""  # a mapped child's parent task run
    children_end_ns: int = 0  # a mapped parent: when its last child's span ended, in this process
    lines: Any = None  # the run's transition lines, once one is written (`_logs._write_line`)
    lines_secrets: int = -1  # how many secrets were registered when `lines` was made
    trace_id: str = field(init=False)  # 32 hex digits
    span_id: str = field(init=False)  # 16 hex digits
    span_in_context: Context = field(init=False)  # an OpenTelemetry context holding `span`
    is_flow: bool = field(init=False)  # the flow run's own record (`task` is "")

    def __post_init__(self) -> None:
        self.is_flow = self.task == ""
        span_context = self.span.get_span_context()
        self.trace_id = format(span_context.trace_id, "032x")
        self.span_id = format(span_context.span_id, "016x")
        self.span_in_context = trace.set_span_in_context(self.span)

    @property
    def traceparent(self) -> str:
        """The W3C `traceparent` header that names this run's span as a parent."""
        flags = format(int(self.span.get_span_context().trace_flags), "02x")
        return f"00-{self.trace_id}-{self.span_id}-{flags}"

    def seconds(self) -> float:
        return time.perf_counter() - self.started


class RunTable:
    """Open runs by run id; safe to use from the executor's threads."""

    def __init__(self) -> None:
        self._runs: dict[str, RunRecord] = {}
        self._lock = threading.Lock()

    def get(self, run_id: str) -> RunRecord | None:
        return self._runs.get(run_id)

    def put(self, run_id: str, record: RunRecord) -> None:
        with self._lock:
            self._runs[run_id] = record

    def pop(self, run_id: str) -> RunRecord | None:
        with self._lock:
            return self._runs.pop(run_id, None)

    def pop_task_runs_of(self, flow_run_id: str) -> Iterator[tuple[str, RunRecord]]:
        """Remove and yield the task runs of a flow run that are still open here."""
        with self._lock:
            leftovers = [
                (run_id, record)
                for run_id, record in self._runs.items()
                if record.flow_run_id == flow_run_id and not record.is_flow
            ]
            for run_id, _record in leftovers:
                del self._runs[run_id]
        yield from leftovers

    def pop_all(self) -> list[RunRecord]:
        """Remove and return every open run."""
        with self._lock:
            records = list(self._runs.values())
            self._runs.clear()
        return records

    def __len__(self) -> int:
        return len(self._runs)


def make_current(record: RunRecord) -> None:
    """Make the run's span the current span of this thread, so spans the user's own code starts
    during the run (an instrumented HTTP client, say) become its children."""
    if record.current_token is not None:
        return
    record.current_token = otel_context.attach(record.span_in_context)
    record.current_thread = threading.get_ident()


def release_current(record: RunRecord) -> None:
    """Undo `make_current`, when still in the thread (and so the context) that did it."""
    token, record.current_token = record.current_token, None
    if token is not None and record.current_thread == threading.get_ident():
        otel_context.detach(token)


def parent_context(
    traceparent: Any, tracestate: Any = None, *, from_environment: bool = False
) -> Context | None:
    """The parent for a new run's span, the first of: the span a `traceparent` string names
    (`flow.run(context={"traceparent": ...})`, or the flow run's for a task run); the caller's
    current span (`flow.run()` inside the application's own span), unless that is a flowlight
    run's span left current in this thread; with `from_environment`, the span named by the
    `TRACEPARENT` / `TRACESTATE` variables (OpenTelemetry's environment carrier: a CI job or a
    scheduler that started this process); else None, a new trace."""
    if isinstance(traceparent, str) and traceparent:
        extracted = _extract(traceparent, tracestate if isinstance(tracestate, str) else "")
        if extracted is not None:
            return extracted
    current = trace.get_current_span()
    attributes = getattr(current, "attributes", None) or {}
    if current.get_span_context().is_valid and "flowlight.run.kind" not in attributes:
        return None  # the current context: the application's span is the parent
    if from_environment:
        carried = os.environ.get("TRACEPARENT", "").strip()
        if carried:
            extracted = _extract(carried, os.environ.get("TRACESTATE", "").strip())
            if extracted is not None:
                return extracted
    return Context()


@functools.lru_cache(maxsize=256)
def _extract(traceparent: str, tracestate: str = "") -> Context | None:
    """The context a `traceparent` (and `tracestate`) names, or None if it names no valid span.

    Every task run of a flow run has the same parent, so the header is parsed once per flow run
    rather than once per task run; a `Context` is immutable, so sharing it is safe.
    """
    carrier = {"traceparent": traceparent}
    if tracestate:
        carrier["tracestate"] = tracestate
    extracted = _propagator.extract(carrier)
    if trace.get_current_span(extracted).get_span_context().is_valid:
        return extracted
    return None


def start_span(
    tracer: trace.Tracer,
    name: str,
    parent: Context | None,
    attributes: dict[str, Any],
    recorder: SpanRecorder | None = None,
) -> Span:
    """The run's span: made directly by `recorder` for an SDK tracer (see `_recording`), else
    through the tracer's API."""
    if recorder is not None:
        return recorder.start(redact(name), parent, attributes)
    return tracer.start_span(
        redact(name), context=parent, kind=SpanKind.INTERNAL, attributes=attributes
    )


def add_transition_event(
    span: Span, transition: Transition, new_state: Any, run_count: int
) -> None:
    """The span event for one transition, named for the new state; plus the exception, if any."""
    attributes: dict[str, Any] = {
        "flowlight.state.old": transition.old,
        "flowlight.state.new": transition.new,
        "flowlight.state.message": transition.message,
        "flowlight.run_count": run_count,
    }
    if transition.retry_start_time is not None:
        attributes["flowlight.retry.start_time"] = transition.retry_start_time
    add_own_event(span, transition.new, attributes)
    result = getattr(new_state, "result", None)
    if isinstance(result, BaseException):
        record_exception(span, result)


def record_exception(span: Span, error: BaseException) -> None:
    """An `exception` event as the semantic conventions define it, masked and bounded."""
    stacktrace = "".join(traceback.format_exception(type(error), error, error.__traceback__))
    add_own_event(
        span,
        "exception",
        {
            "exception.type": f"{type(error).__module__}.{type(error).__qualname__}",
            "exception.message": bounded(redact(text_of(error)), MESSAGE_LIMIT),
            "exception.stacktrace": bounded(redact(stacktrace), STACKTRACE_LIMIT),
        },
    )


def end_run_span(
    record: RunRecord, final_state: Any, end_ns: int | None = None, failed_children: int = 0
) -> None:
    """Set the final attributes and status on the run's span and end it (at `end_ns`, when
    given). A mapped parent with `failed_children` is an ERROR span though its state is Mapped."""
    span = record.span
    result_key = "cicd.pipeline.result" if record.is_flow else "cicd.pipeline.task.run.result"
    set_own_attributes(
        span,
        {
            result_key: cicd_result(final_state),
            "flowlight.state": state_name(final_state),
            "flowlight.run_count": record.run_count,
        },
    )
    if failed_children:
        span.set_attribute("flowlight.map.failed_children", failed_children)
        span.set_status(Status(StatusCode.ERROR, f"{failed_children} mapped child run(s) failed"))
    elif is_failed(final_state):
        span.set_status(Status(StatusCode.ERROR, message_of(final_state)))
    elif is_successful(final_state):
        span.set_status(_OK)
    span.end(end_time=end_ns)
