"""Local OTLP JSON files: the embedded default, and the spool for what a collector did not take.

Both are the same thing on purpose: `<dir>/traces.jsonl`, `metrics.jsonl`, `logs.jsonl`, one OTLP
export request per line. With no endpoint configured they are where telemetry goes; with an endpoint
configured, a batch whose export failed is appended there instead of being dropped, and `replay`
sends the files to a collector later.

A failed export opens a short "collector down" window during which batches go straight to the files,
so a dead collector costs one bounded export attempt, not one per batch.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import urllib.parse
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from opentelemetry.sdk._logs import ReadableLogRecord
from opentelemetry.sdk._logs.export import LogRecordExporter, LogRecordExportResult
from opentelemetry.sdk.metrics.export import MetricExporter, MetricExportResult, MetricsData
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult

from flowlight.otel._json_lines import logs_to_json_line, spans_to_json_line
from flowlight.otel._metrics_json import metrics_to_json_line
from flowlight.otel._otlp_json import Signal, request_to_json_line
from flowlight.otel._redact import redact_log_records, redact_spans
from flowlight.otel._stats import STATS
from flowlight.telemetry_files import default_directory as store_directory
from flowlight.telemetry_files import mark_unsent, rotate_if_full, rotation_limits

if TYPE_CHECKING:
    from google.protobuf.message import Message

__all__ = [
    "CollectorHealth",
    "JsonLinesFile",
    "SpoolingLogExporter",
    "SpoolingMetricExporter",
    "SpoolingSpanExporter",
    "default_directory",
]

_log = logging.getLogger("flowlight.otel")

# The directories whose lost batches were reported (see `JsonLinesFile.report_lost`).
_lost_reported: set[Path] = set()
_lost_lock = threading.Lock()

_APPEND_FLAGS = os.O_WRONLY | os.O_APPEND | os.O_CREAT | getattr(os, "O_CLOEXEC", 0)


class JsonLinesFile:
    """Appends OTLP JSON lines to `<directory>/<signal>.jsonl`, safely from many threads.

    The file is opened per write, so a replay that renames it away never loses a line: the next
    write simply creates a new file.
    """

    def __init__(self, directory: Path, signal: Signal) -> None:
        self.directory = directory
        self.signal = signal
        self.path = directory / f"{signal}.jsonl"
        self._lock = threading.Lock()
        self._max_bytes, self._keep = rotation_limits()

    def append(self, request: Message | str, unsent: bool = False) -> None:
        """Append an export request, or its line already encoded (see `_json_lines`); `unsent`
        when it was meant for a collector that did not take it (the file is then kept through
        rotation until a replay sent it). The file is rotated once it reached
        FLOWLIGHT__OTEL__MAX_FILE_MB."""
        text = request if isinstance(request, str) else request_to_json_line(request)
        data = (text + "\n").encode("utf-8")
        with self._lock:
            if unsent:
                self.directory.mkdir(parents=True, exist_ok=True)
                mark_unsent(self.path)
            if self._write(data) >= self._max_bytes:
                rotate_if_full(self.path, self._max_bytes, self._keep)

    def report_lost(self, error: Exception) -> None:
        """Say once per directory and process, at WARNING and without a traceback, that batches
        are being lost and what to fix; each later loss goes to DEBUG (and is counted in
        `batches_lost`)."""
        with _lost_lock:
            first = self.directory not in _lost_reported
            _lost_reported.add(self.directory)
        if not first:
            _log.debug("flowlight.otel: could not write to %s", self.path, exc_info=error)
            return
        _log.warning(
            "flowlight.otel: could not write %s to %s (%s: %s); telemetry is lost until this is "
            "fixed: set FLOWLIGHT__OTEL__TELEMETRY_DIR (or configure(telemetry_dir=...)) to a "
            "writable directory. statistics()['batches_lost'] counts the batches lost.",
            self.signal,
            self.path,
            type(error).__name__,
            error,
        )

    def _write(self, data: bytes) -> int:
        """Append `data` with one `write` (another process's line never lands inside it) and
        return the file's size after it. A plain descriptor: a text file object, a directory
        check and a second `stat` per line cost the local files about half their writing time."""
        try:
            descriptor = os.open(self.path, _APPEND_FLAGS, 0o666)
        except FileNotFoundError:
            self.directory.mkdir(parents=True, exist_ok=True)
            descriptor = os.open(self.path, _APPEND_FLAGS, 0o666)
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(descriptor, view) :]
            return os.fstat(descriptor).st_size
        finally:
            os.close(descriptor)


class CollectorHealth:
    """Remembers that exports to a collector failed, so the next batches skip it for a while.

    Shared by the three signals' exporters of one configuration; says once, per process, where the
    telemetry that could not be sent is kept. Before the first export, and again after a failure
    once `retry_after_s` has passed, it checks that the collector accepts a TCP connection: a
    collector that is not there at all is then noticed at once, instead of after the exporter's
    retries have used up the whole export timeout.
    """

    def __init__(self, endpoints: list[str], directory: Path, retry_after_s: float) -> None:
        self.endpoint = ", ".join(sorted(set(endpoints)))
        self.directory = directory
        self.retry_after_s = retry_after_s
        self._addresses = sorted({a for a in map(_address, endpoints) if a is not None})
        self._down_until = 0.0
        self._verified = False
        self._warned = False
        self._lock = threading.Lock()

    def is_down(self) -> bool:
        if time.monotonic() < self._down_until:
            return True
        if not self._verified:
            if not all(_accepts_connections(address) for address in self._addresses):
                self.mark_down()
                return True
            self._verified = True
        return False

    def mark_down(self) -> None:
        with self._lock:
            self._down_until = time.monotonic() + self.retry_after_s
            self._verified = False
            warn = not self._warned
            self._warned = True
        if warn:
            _log.warning(
                "flowlight.otel: could not export telemetry to %s; keeping it in %s "
                "(send it later with `flowlight telemetry replay`)",
                self.endpoint,
                self.directory,
            )


def _address(endpoint: str) -> tuple[str, int] | None:
    parsed = urllib.parse.urlsplit(endpoint if "://" in endpoint else f"http://{endpoint}")
    if not parsed.hostname:
        return None
    default = 443 if parsed.scheme == "https" else 80
    try:
        return parsed.hostname, parsed.port or default
    except ValueError:
        return None


def _accepts_connections(address: tuple[str, int], timeout_s: float = 1.0) -> bool:
    try:
        socket.create_connection(address, timeout=timeout_s).close()
    except OSError:
        return False
    return True


class _Spooler:
    """What the three spooling exporters share: try the collector, else append to the file."""

    def __init__(
        self,
        signal: Signal,
        spool: JsonLinesFile,
        health: CollectorHealth | None,
    ) -> None:
        self.signal = signal
        self.spool = spool
        self.health = health

    def deliver(self, send: Callable[[], bool] | None, encode: Callable[[], Message | str]) -> bool:
        """Send with `send` (None: files only); on failure keep `encode()` in the spool.

        Returns False only when the batch could be neither sent nor kept.
        """
        if send is not None and self.health is not None and not self.health.is_down():
            try:
                if send():
                    STATS.add("batches_exported")
                    return True
            except Exception:
                pass
            STATS.add("export_failures")
            self.health.mark_down()
        try:
            self.spool.append(encode(), unsent=send is not None)
        except Exception as error:
            STATS.add("batches_lost")
            self.spool.report_lost(error)
            return False
        STATS.add("batches_spooled" if send is not None else "batches_written")
        return True


class SpoolingSpanExporter(SpanExporter):
    """Spans to a collector (`primary`), or to the local file when there is none or it fails.

    Each batch is redacted once more on its way out (see `_redact`): for the collector by
    `redact_spans`, for the file by its encoder, in the same pass that writes it.
    """

    def __init__(
        self,
        primary: SpanExporter | None,
        spool: JsonLinesFile,
        health: CollectorHealth | None = None,
    ) -> None:
        self._primary = primary
        self._spooler = _Spooler("traces", spool, health)

    @property
    def local_only(self) -> bool:
        """True when batches only go to the local file (no collector configured)."""
        return self._primary is None

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        primary = self._primary
        send = None if primary is None else lambda: _ok(primary.export(redact_spans(spans)))
        delivered = self._spooler.deliver(send, lambda: spans_to_json_line(spans, masked=True))
        return SpanExportResult.SUCCESS if delivered else SpanExportResult.FAILURE

    def shutdown(self) -> None:
        if self._primary is not None:
            self._primary.shutdown()

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return True


class SpoolingLogExporter(LogRecordExporter):
    """Log records to a collector, or to the local file when there is none or it fails.

    Each batch is redacted once more on its way out, as spans are.
    """

    def __init__(
        self,
        primary: LogRecordExporter | None,
        spool: JsonLinesFile,
        health: CollectorHealth | None = None,
    ) -> None:
        self._primary = primary
        self._spooler = _Spooler("logs", spool, health)

    @property
    def local_only(self) -> bool:
        """True when batches only go to the local file (no collector configured)."""
        return self._primary is None

    def export(self, batch: Sequence[ReadableLogRecord]) -> LogRecordExportResult:
        primary = self._primary
        send = None if primary is None else lambda: _ok(primary.export(redact_log_records(batch)))
        delivered = self._spooler.deliver(send, lambda: logs_to_json_line(batch, masked=True))
        return LogRecordExportResult.SUCCESS if delivered else LogRecordExportResult.FAILURE

    def shutdown(self) -> None:
        if self._primary is not None:
            self._primary.shutdown()  # type: ignore[no-untyped-call]

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return True


class SpoolingMetricExporter(MetricExporter):
    """Metric snapshots to a collector, or to the local file when there is none or it fails.

    Temporality and aggregation preferences are taken from the collector's exporter, so what lands
    in the file is what the collector would have received.
    """

    def __init__(
        self,
        primary: MetricExporter | None,
        spool: JsonLinesFile,
        health: CollectorHealth | None = None,
    ) -> None:
        super().__init__(
            preferred_temporality=_preference(primary, "_preferred_temporality"),
            preferred_aggregation=_preference(primary, "_preferred_aggregation"),
        )
        self._primary = primary
        self._spooler = _Spooler("metrics", spool, health)

    def export(
        self, metrics_data: MetricsData, timeout_millis: float = 10_000, **kwargs: Any
    ) -> MetricExportResult:
        if not _has_points(metrics_data):
            return MetricExportResult.SUCCESS
        primary = self._primary
        send = (
            None
            if primary is None
            else lambda: _ok(primary.export(metrics_data, timeout_millis=timeout_millis))
        )
        delivered = self._spooler.deliver(send, lambda: metrics_to_json_line(metrics_data))
        return MetricExportResult.SUCCESS if delivered else MetricExportResult.FAILURE

    def shutdown(self, timeout_millis: float = 30_000, **kwargs: Any) -> None:
        if self._primary is not None:
            self._primary.shutdown(timeout_millis=timeout_millis)

    def force_flush(self, timeout_millis: float = 10_000) -> bool:
        return True


def _ok(result: Any) -> bool:
    return getattr(result, "name", "") == "SUCCESS"


def _preference(exporter: MetricExporter | None, name: str) -> Any:
    value = getattr(exporter, name, None) if exporter is not None else None
    return dict(value) if value else None


def _has_points(data: MetricsData) -> bool:
    return any(
        metric.data.data_points
        for resource in data.resource_metrics
        for scope in resource.scope_metrics
        for metric in scope.metrics
    )


def default_directory() -> Path:
    """`FLOWLIGHT__OTEL__TELEMETRY_DIR`, else `.flowlight/telemetry` under the working directory."""
    return store_directory()
