"""The bridge's providers in this process: built by `configure()`, flushed at each flow run's end.

An application that already installed its own global tracer, meter or logger provider keeps it: the
bridge then records into that provider and leaves its exporters alone. Otherwise the bridge builds
SDK providers whose exporters send to the configured collector and spool to local files, and
makes the global providers forward to them (`_delegating`), so the user's own spans join the same
pipeline, and keep joining it after the bridge is configured again.
"""

from __future__ import annotations

import importlib
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from opentelemetry import _logs, metrics, trace
from opentelemetry.sdk._logs import LoggerProvider, LogRecordLimits
from opentelemetry.sdk.metrics import MeterProvider, TraceBasedExemplarFilter
from opentelemetry.sdk.metrics.export import PeriodicExportingMetricReader
from opentelemetry.sdk.resources import SERVICE_NAME, Resource
from opentelemetry.sdk.trace import SpanLimits, TracerProvider

from flowlight.otel._batching import LosslessLogProcessor, LosslessSpanProcessor
from flowlight.otel._config import BridgeSettings
from flowlight.otel._delegating import (
    DelegatingLoggerProvider,
    DelegatingMeterProvider,
    DelegatingTracerProvider,
)
from flowlight.otel._metrics import FlowMetrics, PrometheusEndpoint, start_prometheus_endpoint
from flowlight.otel._otlp_json import Signal
from flowlight.otel._recording import LogRecorder, SpanRecorder, log_recorder_for
from flowlight.otel._spool import (
    CollectorHealth,
    JsonLinesFile,
    SpoolingLogExporter,
    SpoolingMetricExporter,
    SpoolingSpanExporter,
)
from flowlight.otel._stats import STATS

__all__ = ["SCOPE", "Telemetry", "build_telemetry"]

SCOPE = "flowlight.otel"
_log = logging.getLogger("flowlight.otel")

# The globals this module installed (once per process each): delegates that forward to the
# bridge's current providers, so a later configure() re-points them instead of leaving the
# application's tracers, meters and loggers on providers that were shut down (see _delegating).
_delegates: dict[str, Any] = {}


@dataclass
class Telemetry:
    """What the handler records into, and what must be flushed or shut down with it."""

    settings: BridgeSettings
    tracer: trace.Tracer
    metrics: FlowMetrics
    otel_logger: _logs.Logger | None
    owned: list[Any] = field(default_factory=list)
    borrowed: list[Any] = field(default_factory=list)
    prometheus: PrometheusEndpoint | None = None
    # The bridge's own span processor and resource (None when the application's provider is
    # used): where a crashed run's flow span, rebuilt from its open-run file, is handed.
    span_processor: Any = None
    resource: Any = None
    # What a flush pushes: providers and push readers, never a pull (Prometheus) reader.
    flushables: list[Any] = field(default_factory=list)
    # The recording path's recorders (see `_recording`), each with what it was made for.
    _span_recorder: tuple[Any, SpanRecorder | None] | None = field(default=None, repr=False)
    _log_recorder: tuple[Any, LogRecorder | None] | None = field(default=None, repr=False)
    # `batches_lost` as the last flush saw it (see `flush`).
    _lost_at_flush: int = field(default_factory=lambda: STATS.snapshot().get("batches_lost", 0))

    def span_recorder(self) -> SpanRecorder | None:
        """What makes run spans directly when `tracer` is the SDK's own (see `_recording`);
        None keeps the public API (an application's non-SDK provider, a disabled SDK). Made
        for `tracer` as it is now: whoever replaces it gets what they put there."""
        made = self._span_recorder
        if made is None or made[0] is not self.tracer:
            made = self._span_recorder = (self.tracer, SpanRecorder.for_tracer(self.tracer))
        return made[1]

    def log_recorder(self) -> LogRecorder | None:
        """As `span_recorder`, for `otel_logger`'s records."""
        made = self._log_recorder
        if made is None or made[0] is not self.otel_logger:
            made = self._log_recorder = (self.otel_logger, log_recorder_for(self.otel_logger))
        return made[1]

    def flush(self, timeout_s: float | None = None) -> bool:
        """Export everything recorded so far, waiting at most `timeout_s` (default: the setting);
        False when the bound passed, or when a batch was lost (could be neither sent nor written
        to the local files) since the last flush.

        The SDK's own force_flush blocks for as long as its exporter retries; running it on a helper
        thread keeps the bound. A batch still being exported when the bound passes is not lost: its
        exporter spools it if the export then fails, and provider shutdown at exit waits for it.
        """
        finished = self._flush(self.flushables, timeout_s)
        lost = STATS.snapshot().get("batches_lost", 0)
        lost_since, self._lost_at_flush = lost - self._lost_at_flush, lost
        return finished and lost_since <= 0

    def shutdown(self) -> None:
        """Stop the providers the bridge built and flush the application's own, which keep running.

        No flush of ours first: a provider exports everything it holds as it shuts down, so a flush
        before would only send the same metrics twice.
        """
        self._flush(self.borrowed, None)
        for provider in self.owned:
            for delegate in _delegates.values():
                delegate.target.release(provider)
            try:
                provider.shutdown()
            except Exception:
                STATS.add("shutdown_errors")
        if self.prometheus is not None:
            self.prometheus.close()

    def _flush(self, providers: list[Any], timeout_s: float | None) -> bool:
        bound = self.settings.flush_timeout_s if timeout_s is None else timeout_s
        done = threading.Event()

        def flush_all() -> None:
            for provider in providers:
                try:
                    provider.force_flush()
                except Exception:
                    STATS.add("flush_errors")
            done.set()

        threading.Thread(target=flush_all, name="flowlight-otel-flush", daemon=True).start()
        if done.wait(bound):
            return True
        STATS.add("flush_timeouts")
        return False


def build_telemetry(settings: BridgeSettings) -> Telemetry:
    """Providers for `settings`, reusing the application's global ones where it set its own."""
    if settings.sdk_disabled:
        return Telemetry(
            settings=settings,
            tracer=trace.NoOpTracer(),
            metrics=FlowMetrics(metrics.NoOpMeter(SCOPE)),
            otel_logger=None,
        )
    resource = _resource(settings)
    health = _health(settings)
    directory = settings.telemetry_dir
    owned: list[Any] = []
    borrowed: list[Any] = []
    flushables: list[Any] = []

    span_processor: Any = None
    tracer_provider: Any = trace.get_tracer_provider()
    if _is_unset(tracer_provider):
        tracer_provider = TracerProvider(
            resource=resource, span_limits=SpanLimits(**settings.span_limits)
        )
        span_processor = LosslessSpanProcessor(
            SpoolingSpanExporter(
                _otlp_exporter(settings, "traces"),
                JsonLinesFile(directory, "traces"),
                health,
            ),
            batch_size=settings.span_batch_size,
        )
        tracer_provider.add_span_processor(span_processor)
        _install("traces", tracer_provider)
        owned.append(tracer_provider)
    else:
        borrowed.append(tracer_provider)
    flushables.append(tracer_provider)

    prometheus: PrometheusEndpoint | None = None
    meter_provider: Any = metrics.get_meter_provider()
    if _is_unset(meter_provider):
        push_reader = PeriodicExportingMetricReader(
            SpoolingMetricExporter(
                _otlp_exporter(settings, "metrics"),
                JsonLinesFile(directory, "metrics"),
                health,
            ),
            export_interval_millis=settings.metric_export_interval_ms,
            export_timeout_millis=settings.metric_export_timeout_ms,
        )
        readers: list[Any] = [push_reader]
        if settings.prometheus_port is not None:
            prometheus = start_prometheus_endpoint(
                settings.prometheus_host, settings.prometheus_port
            )
            readers.append(prometheus.reader)
        meter_provider = MeterProvider(
            resource=resource,
            metric_readers=readers,
            exemplar_filter=TraceBasedExemplarFilter()
            if settings.exemplar_filter_unusable
            else None,
        )
        _install("metrics", meter_provider)
        owned.append(meter_provider)
        # Only the push reader: flushing the provider would also make the Prometheus reader queue
        # a snapshot, and the next scrape would serve every family twice.
        flushables.append(push_reader)
    else:
        borrowed.append(meter_provider)
        flushables.append(meter_provider)

    otel_logger: _logs.Logger | None = None
    if settings.otel_logs:
        logger_provider: Any = _logs.get_logger_provider()
        if _is_unset(logger_provider):
            logger_provider = LoggerProvider(
                resource=resource, log_record_limits=LogRecordLimits(**settings.log_limits)
            )
            logger_provider.add_log_record_processor(
                LosslessLogProcessor(
                    SpoolingLogExporter(
                        _otlp_exporter(settings, "logs"),
                        JsonLinesFile(directory, "logs"),
                        health,
                    ),
                    batch_size=settings.log_batch_size,
                )
            )
            _install("logs", logger_provider)
            owned.append(logger_provider)
        else:
            borrowed.append(logger_provider)
        flushables.append(logger_provider)
        otel_logger = logger_provider.get_logger(SCOPE)

    return Telemetry(
        settings=settings,
        tracer=tracer_provider.get_tracer(SCOPE),
        metrics=FlowMetrics.for_meter(meter_provider.get_meter(SCOPE)),
        otel_logger=otel_logger,
        owned=owned,
        borrowed=borrowed,
        prometheus=prometheus,
        flushables=flushables,
        span_processor=span_processor,
        resource=resource,
    )


def _is_unset(provider: Any) -> bool:
    """True for the API's placeholder providers and for the delegates we installed earlier."""
    if any(provider is ours for ours in _delegates.values()):
        return True
    return type(provider).__name__ in {
        "ProxyTracerProvider",
        "NoOpTracerProvider",
        "_ProxyMeterProvider",
        "NoOpMeterProvider",
        "ProxyLoggerProvider",
        "NoOpLoggerProvider",
    }


def _install(signal: Signal, provider: Any) -> None:
    """Make the global provider of `signal` forward to `provider` from now on."""
    delegate = _delegates.get(signal)
    if delegate is None:
        delegate, setter = _NEW_DELEGATE[signal]()
        setter(delegate)
        _delegates[signal] = delegate
    if isinstance(delegate, DelegatingMeterProvider):
        delegate.point_to(provider)
    else:
        delegate.target.point_to(provider)


_NEW_DELEGATE: dict[str, Callable[[], tuple[Any, Callable[[Any], None]]]] = {
    "traces": lambda: (DelegatingTracerProvider(), trace.set_tracer_provider),
    "metrics": lambda: (DelegatingMeterProvider(), metrics.set_meter_provider),
    "logs": lambda: (DelegatingLoggerProvider(), _logs.set_logger_provider),
}


def _resource(settings: BridgeSettings) -> Resource:
    resource = Resource.create({})
    if settings.service_name:
        resource = resource.merge(Resource({SERVICE_NAME: settings.service_name}))
    elif str(resource.attributes.get(SERVICE_NAME, "")).startswith("unknown_service"):
        resource = resource.merge(Resource({SERVICE_NAME: "flowlight"}))
    return resource


def _health(settings: BridgeSettings) -> CollectorHealth | None:
    if not settings.uses_collector:
        return None
    endpoints = [e for e in settings.endpoints.values() if e]
    return CollectorHealth(endpoints, settings.telemetry_dir, settings.retry_after_s)


def _timeout(settings: BridgeSettings, signal: Signal) -> float | None:
    """Our bounded export time, unless the user chose a usable one with
    OTEL_EXPORTER_OTLP_*TIMEOUT (validated in `_config`)."""
    chosen = settings.otlp_timeouts_s.get(signal)
    return chosen if chosen is not None else settings.export_timeout_s


# Each signal's OTLP exporter: its module under opentelemetry.exporter.otlp.proto.{grpc,http} and
# its class, named alike in both packages. Imported when used: a process that exports over one
# protocol never loads the other (grpc alone takes a noticeable time to import).
_EXPORTERS: dict[Signal, tuple[str, str]] = {
    "traces": ("trace_exporter", "OTLPSpanExporter"),
    "metrics": ("metric_exporter", "OTLPMetricExporter"),
    "logs": ("_log_exporter", "OTLPLogExporter"),
}


def _otlp_exporter(settings: BridgeSettings, signal: Signal) -> Any:
    """The OTLP exporter for `signal` over its configured protocol, or None without an endpoint."""
    endpoint = settings.endpoints[signal]
    if endpoint is None:
        return None
    package = "grpc" if settings.protocols[signal] == "grpc" else "http"
    module_name, class_name = _EXPORTERS[signal]
    module = importlib.import_module(f"opentelemetry.exporter.otlp.proto.{package}.{module_name}")
    return getattr(module, class_name)(endpoint=endpoint, timeout=_timeout(settings, signal))
