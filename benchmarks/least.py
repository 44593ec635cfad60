"""The least a state handler can pay to write the bridge's telemetry at each transition.

`LeastHandler` records what the bridge records (per transition a span event, a structlog JSON
line and an OpenTelemetry log record; per run a span with the bridge's number of attributes, a
histogram record when it ends) through the bridge's own recording path (`flowlight.otel`'s
direct SDK objects, the cheapest way there is to hand them to the SDK's processors) and a
structlog logger bound once, and does nothing else: no redaction, no trace context written for
other processes, no retries, counters, statistics or fixed attribute values checked.

It is not a usable bridge. It answers how much of the bridge's cost any handler pays that
delivers the telemetry when the transition happens, inside a real run, so the bridge's own share
(everything that makes it correct) and a goal set against the SDK floor can be read against it.
"""

from __future__ import annotations

from typing import Any

import structlog
from opentelemetry import _logs, metrics, trace
from opentelemetry._logs import SeverityNumber
from opentelemetry.trace import Status, StatusCode

from benchmarks.ideal import current_run
from flowlight.otel._recording import (
    LogRecorder,
    SpanRecorder,
    add_own_event,
    log_recorder_for,
    set_own_attributes,
)

__all__ = ["LeastHandler"]

_EVENT_NAME = "flowlight.state_transition"
_OK = Status(StatusCode.OK)
# The sizes of the bridge's records (see the counts in the results). Span attributes at the
# start and log record attributes, for a flow run, a task run and a mapped child (which also
# names its map index and parent run); then span attributes at the end, event attributes, and
# line fields bound once and given per line (structlog adds the event, level and timestamp).
_SPAN_ATTRIBUTES_AT_START = {"flow": 3, "task": 6, "child": 8}
_LOG_ATTRIBUTES = {"flow": 6, "task": 9, "child": 10}
_SPAN_ATTRIBUTES_AT_END = 3
_EVENT_ATTRIBUTES = 4
_LINE_FIELDS_BOUND = 6
_LINE_FIELDS_PER_LINE = 4


def _attributes(count: int, prefix: str) -> dict[str, Any]:
    return {f"{prefix}.{i}": f"value-{i}" for i in range(count)}


class LeastHandler:
    """One span per run (flow runs and task runs alike), children of the flow run's span."""

    def __init__(self) -> None:
        import flowlight

        self._context = flowlight.context
        spans = SpanRecorder.for_tracer(trace.get_tracer("flowlight.bench.least"))
        records = log_recorder_for(_logs.get_logger("flowlight.bench.least"))
        if spans is None or records is None:
            raise RuntimeError("the least handler records into the SDK's own providers only")
        self._spans: SpanRecorder = spans
        self._records: LogRecorder = records
        self._logger = structlog.get_logger("flowlight.bench.least").bind(
            **_attributes(_LINE_FIELDS_BOUND, "bound")
        )
        meter = metrics.get_meter("flowlight.bench.least")
        self._histogram = meter.create_histogram("least.duration", unit="s", description="least")
        self._start_attributes = {
            kind: _attributes(count, "span") for kind, count in _SPAN_ATTRIBUTES_AT_START.items()
        }
        self._log_attributes = {
            kind: _attributes(count, "log") for kind, count in _LOG_ATTRIBUTES.items()
        }
        self._end_attributes = _attributes(_SPAN_ATTRIBUTES_AT_END, "end")
        self._event_attributes = _attributes(_EVENT_ATTRIBUTES, "event")
        self._line_fields = _attributes(_LINE_FIELDS_PER_LINE, "line")
        self._metric_attributes = {"flow": "bench", "task": "noop", "state": "Success"}
        self._open: dict[str, tuple[Any, Any, dict[str, Any]]] = {}
        self._parent: Any = None

    def __call__(self, obj: Any, old_state: Any, new_state: Any) -> Any:
        run_id, is_flow = current_run(self._context)
        opened = self._open.get(run_id)
        if opened is None:
            kind = "flow" if is_flow else "task"
            if self._context.get("map_index") is not None:
                kind = "child"
            span = self._spans.start(
                "run", None if is_flow else self._parent, dict(self._start_attributes[kind])
            )
            in_context = trace.set_span_in_context(span)
            opened = self._open[run_id] = (span, in_context, self._log_attributes[kind])
            if is_flow:
                self._parent = in_context
        span, in_context, log_attributes = opened
        name = type(new_state).__name__
        add_own_event(span, name, self._event_attributes)
        self._logger.info(_EVENT_NAME, **self._line_fields)
        self._records.emit(
            "noop: Running -> Success (Task run succeeded.)",
            SeverityNumber.INFO,
            "INFO",
            log_attributes,
            _EVENT_NAME,
            in_context,
            span.get_span_context(),
        )
        if new_state.is_finished():
            self._histogram.record(0.001, self._metric_attributes)
            set_own_attributes(span, self._end_attributes)
            span.set_status(_OK)
            span.end()
            del self._open[run_id]
        return new_state
