"""The least a state handler can do to record what the bridge records: the floor, inside a run.

`IdealHandler` makes, per transition, the SDK and structlog calls the floor makes per transition
(a span event, a JSON log line, an OpenTelemetry log record; a histogram record and three
attributes when the run ends), with attribute sets built
once and no bookkeeping beyond a dict of open spans. It is not a usable bridge (no trace
context across processes, no redaction, no retries, fixed attribute values); it measures what the
same telemetry costs when made from a handler in the middle of real flow runs instead of in a
tight loop, so the bridge's own share of its cost can be told apart from that.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import structlog
from opentelemetry import _logs, metrics, trace
from opentelemetry._logs import SeverityNumber
from opentelemetry.trace import Status, StatusCode

__all__ = ["IdealHandler", "attach", "current_run"]


def _attributes(count: int, prefix: str) -> dict[str, Any]:
    return {f"{prefix}.{i}": f"value-{i}" for i in range(count)}


class IdealHandler:
    """One span per run (flow runs and task runs alike), children of the flow run's span."""

    def __init__(self) -> None:
        import flowlight

        self._context = flowlight.context
        self._tracer = trace.get_tracer("flowlight.bench.ideal")
        self._otel_logger = _logs.get_logger("flowlight.bench.ideal")
        self._logger = structlog.get_logger("flowlight.bench.ideal")
        meter = metrics.get_meter("flowlight.bench.ideal")
        self._histogram = meter.create_histogram("ideal.duration", unit="s", description="ideal")
        # The sizes the bridge's own records have (see the counts in the results).
        self._span_attributes = _attributes(7, "span")
        self._event_attributes = _attributes(4, "event")
        self._log_attributes = _attributes(9, "log")
        self._line_fields = _attributes(9, "f")
        self._metric_attributes = {"flow": "bench", "task": "noop", "state": "Success"}
        self._open: dict[str, Any] = {}
        self._parent: Any = None

    def __call__(self, obj: Any, old_state: Any, new_state: Any) -> Any:
        run_id, is_flow = current_run(self._context)
        span = self._open.get(run_id)
        if span is None:
            parent = None if is_flow else self._parent
            span = self._open[run_id] = self._tracer.start_span(
                "run", context=parent, attributes=self._span_attributes
            )
            if is_flow:
                self._parent = trace.set_span_in_context(span)
        span.add_event(type(new_state).__name__, self._event_attributes)
        self._logger.info("flowlight.state_transition", **self._line_fields)
        self._otel_logger.emit(
            body="noop: Running -> Success (Task run succeeded.)",
            severity_number=SeverityNumber.INFO,
            severity_text="INFO",
            attributes=self._log_attributes,
            event_name="flowlight.state_transition",
            context=trace.set_span_in_context(span),
        )
        if new_state.is_finished():
            self._histogram.record(0.001, self._metric_attributes)
            span.set_attributes({"end.result": "success", "end.state": "Success", "end.count": 1})
            span.set_status(Status(StatusCode.OK))
            span.end()
            del self._open[run_id]
        return new_state


def current_run(context: Any) -> tuple[Any, bool]:
    """The id of the run a handler is called in, and whether it is the flow run's own."""
    task_run_id = context.get("task_run_id")
    if task_run_id is None:
        return context.get("flow_run_id"), True
    return task_run_id, False


def attach(flow: Any, handler: Callable[[Any, Any, Any], Any]) -> None:
    """Put `handler` last on the flow and on each of its tasks, as `instrument` does."""
    for obj in (flow, *flow.tasks):
        obj.state_handlers = [*obj.state_handlers, handler]
