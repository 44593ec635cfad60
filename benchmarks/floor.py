"""The OpenTelemetry SDK's floor: the spans, events, log lines and metric points a bridged run
produced, made directly with the SDK and structlog, in its own process.

`python -m benchmarks.floor COUNTS_JSON` takes the counts a bridged run reported (see
`benchmarks.telemetry.TelemetryCounts`) and produces the same number of spans, in one trace as
a flow run makes them (a root span and its children), with the same number of attributes, the
same events, structlog JSON lines with as many fields, OpenTelemetry log
records with as many attributes, and histogram records, into the same counting pipeline, then
flushes it. Counter values are not replayed: the bridge tallies them in the process and the SDK
reads the tallies when it collects, so counting costs it a dict update per transition, which is
left to the bridge's side of the comparison. That is the least any bridge could cost for that
telemetry: the ratio (bridged run - plain run) / floor is what the bridge's own code adds on top.
Prints one JSON line.
"""

from __future__ import annotations

import json
import sys
import time
from typing import Any

from opentelemetry import trace
from opentelemetry._logs import SeverityNumber
from opentelemetry.trace import Status, StatusCode

from benchmarks.gc_time import GcTimer
from benchmarks.telemetry import DiscardingPipeline
from benchmarks.workload import peak_rss_mb

__all__ = ["measure_floor", "spread"]

# Attributes a run span gets when it ends (result, state, run count), as the bridge sets them.
_ATTRIBUTES_AT_END = 3
# The totals the floor spreads over its spans.
_TOTALS = ("events", "log_lines", "otel_logs", "histogram_records")
# Fields structlog adds to every line by itself: the event name, the level and the timestamp.
_FIELDS_ADDED_BY_STRUCTLOG = 3


def spread(total: int, buckets: int, index: int) -> int:
    """The share of `total` that bucket `index` of `buckets` gets, so the shares add up exactly."""
    share, rest = divmod(total, buckets)
    return share + (1 if index < rest else 0)


def _attributes(count: int, prefix: str) -> dict[str, Any]:
    return {f"{prefix}.{i}": f"value-{i}" for i in range(max(count, 0))}


def measure_floor(counts: dict[str, Any]) -> dict[str, Any]:
    """Produce what `counts` describes, timed from the first span to the end of the flush."""
    pipeline = DiscardingPipeline.install(bridge=False)
    tracer = trace.get_tracer("flowlight.bench.floor")
    import structlog
    from opentelemetry import _logs, metrics

    logger = structlog.get_logger("flowlight.bench.floor")
    otel_logger = _logs.get_logger("flowlight.bench.floor")
    meter = metrics.get_meter("flowlight.bench.floor")
    histogram = meter.create_histogram("floor.duration", unit="s", description="floor histogram")

    spans = max(int(counts["spans"]), 1)
    per_span_attributes = round(counts["span_attributes"] / spans)
    per_event_attributes = round(counts["event_attributes"] / max(counts["events"], 1))
    per_log_attributes = round(counts["otel_log_attributes"] / max(counts["otel_logs"], 1))
    line_fields = _attributes(int(counts["log_line_fields"]) - _FIELDS_ADDED_BY_STRUCTLOG, "f")
    start_attributes = _attributes(per_span_attributes - _ATTRIBUTES_AT_END, "span")
    event_attributes = _attributes(per_event_attributes, "event")
    log_attributes = _attributes(per_log_attributes, "log")
    metric_attributes = {"flow": "bench", "task": "noop", "state": "Success"}

    def record(span: Any, share: int, totals: dict[str, int], index: int) -> None:
        """Span `index`'s share of the events, lines, log records and metric points."""
        context = trace.set_span_in_context(span)
        for _ in range(spread(totals["events"], share, index)):
            span.add_event("Success", event_attributes)
        for _ in range(spread(totals["log_lines"], share, index)):
            logger.info("flowlight.state_transition", **line_fields)
        for _ in range(spread(totals["otel_logs"], share, index)):
            otel_logger.emit(
                body="noop: Running -> Success (Task run succeeded.)",
                severity_number=SeverityNumber.INFO,
                severity_text="INFO",
                attributes=log_attributes,
                event_name="flowlight.state_transition",
                context=context,
            )
        for _ in range(spread(totals["histogram_records"], share, index)):
            histogram.record(0.001, metric_attributes)

    def end(span: Any) -> None:
        for key in ("result", "state", "run_count")[:_ATTRIBUTES_AT_END]:
            span.set_attribute(f"end.{key}", "Success")
        span.set_status(Status(StatusCode.OK))
        span.end()

    def produce(count: int, totals: dict[str, int]) -> None:
        """One trace of `count` spans, as a flow run makes it: a root span (the flow run's)
        and `count - 1` children, with the `totals` of everything else spread over them."""
        root = tracer.start_span("flow", attributes=start_attributes)
        parent = trace.set_span_in_context(root)
        record(root, count, totals, 0)
        for i in range(1, count):
            span = tracer.start_span("noop", context=parent, attributes=start_attributes)
            record(span, count, totals, i)
            end(span)
        end(root)

    # One small round first, as the bridged run had its warm-up flow: first-use costs excluded.
    produce(2, {key: 2 * int(counts[key]) // spans for key in _TOTALS})
    pipeline.start_counting()

    with GcTimer() as collector:
        started, cpu_started = time.perf_counter(), time.process_time()
        produce(spans, {key: int(counts[key]) for key in _TOTALS})
        pipeline.flush()
        seconds = time.perf_counter() - started
        cpu_seconds = time.process_time() - cpu_started

    produced = pipeline.finish()
    return {
        "seconds": seconds,
        "cpu_seconds": cpu_seconds,
        "max_rss_mb": peak_rss_mb(),
        **collector.as_dict(),
        "telemetry": produced,
    }


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python -m benchmarks.floor COUNTS_JSON", file=sys.stderr)
        return 2
    print(json.dumps(measure_floor(json.loads(args[0]))))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
