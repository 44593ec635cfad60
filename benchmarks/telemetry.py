"""The OpenTelemetry pipeline both sides of the bridge-versus-floor comparison record into.

Spans and OpenTelemetry log records go through the SDK's batch processors into exporters that
count what they receive and drop it; metrics go through a periodic reader into a counting exporter
that is only read on flush; structlog renders JSON lines (add_log_level, an ISO timestamp,
JSONRenderer) into a sink that counts them. Nothing is encoded or sent: what is measured is the
work done in the process that records, which is what the bridge adds to a flow run.

The bridge finds these providers installed as the global ones and records into them (it keeps an
application's own providers), so it and the floor pay for exactly the same SDK machinery. Queues
are made large enough that no span or record is dropped, so the counts are complete.
"""

from __future__ import annotations

import logging
import tempfile
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import structlog
from opentelemetry import _logs, metrics, trace
from opentelemetry.sdk._logs import LoggerProvider
from opentelemetry.sdk._logs.export import (
    BatchLogRecordProcessor,
    LogRecordExporter,
    LogRecordExportResult,
)
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import (
    HistogramDataPoint,
    MetricExporter,
    MetricExportResult,
    MetricsData,
    NumberDataPoint,
    PeriodicExportingMetricReader,
)
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter, SpanExportResult

__all__ = ["DiscardingPipeline", "TelemetryCounts"]

# Far above what a 10,000-task run produces, so the batch processors never drop anything.
_QUEUE_SIZE = 1_000_000
# Metrics are collected on flush only; the periodic export never fires during a run.
_METRIC_INTERVAL_MS = 3_600_000


@dataclass
class TelemetryCounts:
    """What reached the exporters and the log sink: the work the floor must repeat."""

    spans: int = 0
    span_attributes: int = 0
    events: int = 0
    event_attributes: int = 0
    otel_logs: int = 0
    otel_log_attributes: int = 0
    log_lines: int = 0
    log_line_fields: int = 0
    counter_total: int = 0
    histogram_records: int = 0
    bridge_statistics: dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "spans": self.spans,
            "span_attributes": self.span_attributes,
            "events": self.events,
            "event_attributes": self.event_attributes,
            "otel_logs": self.otel_logs,
            "otel_log_attributes": self.otel_log_attributes,
            "log_lines": self.log_lines,
            "log_line_fields": self.log_line_fields,
            "counter_total": self.counter_total,
            "histogram_records": self.histogram_records,
            "bridge_statistics": dict(self.bridge_statistics),
        }


class _CountingSpanExporter(SpanExporter):
    def __init__(self, counts: TelemetryCounts) -> None:
        self.counts = counts

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        for span in spans:
            self.counts.spans += 1
            self.counts.span_attributes += len(span.attributes or {})
            self.counts.events += len(span.events)
            self.counts.event_attributes += sum(len(e.attributes or {}) for e in span.events)
        return SpanExportResult.SUCCESS


class _CountingLogExporter(LogRecordExporter):
    def __init__(self, counts: TelemetryCounts) -> None:
        self.counts = counts

    def export(self, batch: Sequence[Any]) -> LogRecordExportResult:
        for readable in batch:
            self.counts.otel_logs += 1
            self.counts.otel_log_attributes += len(readable.log_record.attributes or {})
        return LogRecordExportResult.SUCCESS

    def shutdown(self) -> None:
        pass

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return True


class _CountingMetricExporter(MetricExporter):
    """Keeps the totals of the last collection (cumulative, the SDK's default temporality): the
    sum of every counter (how many runs and transitions were counted, however they were added)
    and the number of histogram records, less those before `start_counting`."""

    def __init__(self, counts: TelemetryCounts) -> None:
        super().__init__()
        self.counts = counts
        self.baseline = (0, 0)

    def export(
        self, metrics_data: MetricsData, timeout_millis: float = 10_000, **kwargs: Any
    ) -> MetricExportResult:
        adds = records = 0
        for resource_metrics in metrics_data.resource_metrics:
            for scope_metrics in resource_metrics.scope_metrics:
                for metric in scope_metrics.metrics:
                    for point in metric.data.data_points:
                        if isinstance(point, HistogramDataPoint):
                            records += point.count
                        elif isinstance(point, NumberDataPoint):
                            adds += int(point.value)
        self.counts.counter_total = adds - self.baseline[0]
        self.counts.histogram_records = records - self.baseline[1]
        return MetricExportResult.SUCCESS

    def force_flush(self, timeout_millis: float = 10_000) -> bool:
        return True

    def shutdown(self, timeout_millis: float = 30_000, **kwargs: Any) -> None:
        pass


class _CountingSink:
    """A file for structlog's PrintLogger: counts the lines, keeps the first, writes nothing."""

    def __init__(self, counts: TelemetryCounts) -> None:
        self.counts = counts
        self.first_line: str | None = None
        self._lock = threading.Lock()

    def write(self, text: str) -> int:
        if text and text != "\n":
            with self._lock:
                self.counts.log_lines += 1
                if self.first_line is None:
                    self.first_line = text
        return len(text)

    def flush(self) -> None:
        pass


class DiscardingPipeline:
    """Global tracer, logger and meter providers and a structlog configuration, all counting."""

    def __init__(self) -> None:
        self.counts = TelemetryCounts()
        self.sink = _CountingSink(self.counts)
        self.tracer_provider = TracerProvider()
        self.tracer_provider.add_span_processor(
            BatchSpanProcessor(_CountingSpanExporter(self.counts), max_queue_size=_QUEUE_SIZE)
        )
        self.logger_provider = LoggerProvider()
        self.logger_provider.add_log_record_processor(
            BatchLogRecordProcessor(_CountingLogExporter(self.counts), max_queue_size=_QUEUE_SIZE)
        )
        self._metric_exporter = _CountingMetricExporter(self.counts)
        reader = PeriodicExportingMetricReader(
            self._metric_exporter, export_interval_millis=_METRIC_INTERVAL_MS
        )
        self.meter_provider = MeterProvider(metric_readers=[reader])
        self._bridge: Any = None
        self._spool: tempfile.TemporaryDirectory[str] | None = None
        self._statistics_before: dict[str, int] = {}
        self._files = False
        self._file_bytes_before: dict[str, int] = {}

    @classmethod
    def install(cls, *, bridge: bool = True, files: bool = False) -> DiscardingPipeline:
        """Install the providers and structlog configuration; with `bridge`, configure flowlight's
        bridge now (as an application does at start-up) so no run pays for it.

        With `files`, no provider is installed: the bridge builds its default ones, which write
        OTLP JSON files (into a temporary directory), as `make run` does. structlog is configured
        alike in both cases, so the two differ only in where spans, logs and metrics go.
        """
        pipeline = cls()
        pipeline._files = files
        if not files:
            trace.set_tracer_provider(pipeline.tracer_provider)
            _logs.set_logger_provider(pipeline.logger_provider)
            metrics.set_meter_provider(pipeline.meter_provider)
        structlog.configure(
            processors=[
                structlog.processors.add_log_level,
                structlog.processors.TimeStamper(fmt="iso", utc=True),
                structlog.processors.JSONRenderer(),
            ],
            wrapper_class=structlog.make_filtering_bound_logger(logging.INFO),
            logger_factory=structlog.PrintLoggerFactory(file=pipeline.sink),  # type: ignore[arg-type]
            cache_logger_on_first_use=True,
        )
        if bridge:
            import flowlight.otel

            # The bridge records into the providers above (its own spool directory stays empty),
            # or, with `files`, writes its files there; removed when the process exits.
            pipeline._spool = tempfile.TemporaryDirectory(prefix="flowlight-bench-")
            flowlight.otel.configure(telemetry_dir=pipeline._spool.name)
            pipeline._bridge = flowlight.otel
        return pipeline

    def instrument(self, flow: Any) -> None:
        self._bridge.instrument(flow)

    def flush(self) -> None:
        """Export everything recorded so far, waiting as long as it takes."""
        if self._files:
            if not self._bridge.flush(timeout_s=3600):
                raise RuntimeError("the bridge did not finish writing its files")
            return
        self.tracer_provider.force_flush()
        self.logger_provider.force_flush()
        self.meter_provider.force_flush()

    def start_counting(self) -> None:
        """Flush what was recorded so far (a warm-up run) and count from zero."""
        self.flush()
        exporter = self._metric_exporter
        exporter.baseline = (
            exporter.baseline[0] + self.counts.counter_total,
            exporter.baseline[1] + self.counts.histogram_records,
        )
        fresh = TelemetryCounts()
        for name in fresh.__dataclass_fields__:
            setattr(self.counts, name, getattr(fresh, name))
        self.sink.first_line = None
        self._file_bytes_before = self._file_bytes()
        self._statistics_before = self._bridge.statistics() if self._bridge is not None else {}

    def finish(self) -> dict[str, Any]:
        """Flush (outside any timed region) and return the counts since `start_counting`."""
        self.flush()
        if self.sink.first_line is not None:
            import json

            self.counts.log_line_fields = len(json.loads(self.sink.first_line))
        if self._bridge is not None:
            before = self._statistics_before
            self.counts.bridge_statistics = {
                name: value - before.get(name, 0)
                for name, value in self._bridge.statistics().items()
            }
        counts = self.counts.as_dict()
        if self._files:
            before = self._file_bytes_before
            counts["file_bytes"] = {
                name: size - before.get(name, 0) for name, size in self._file_bytes().items()
            }
        return counts

    def _file_bytes(self) -> dict[str, int]:
        """The size of each OTLP JSON file the bridge writes (only with `files`)."""
        if not self._files or self._spool is None:
            return {}
        directory = Path(self._spool.name)
        return {path.name: path.stat().st_size for path in directory.glob("*.jsonl")}
