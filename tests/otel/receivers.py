"""OTLP receivers for tests: real gRPC and HTTP/protobuf servers on 127.0.0.1 that decode requests.

Both keep every export request they accept in a `ReceivedTelemetry`, which tests read through
decoded, protocol-level views (spans, log records, metric points) and can wait on without sleeping.
Reusable by any test that needs to see what an OTLP exporter really sent; `spans_in` reads the
spans the bridge wrote to a local traces.jsonl instead.
"""

from __future__ import annotations

import gzip
import http.server
import json
import socket
import subprocess
import threading
import time
from collections.abc import Callable
from concurrent import futures
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import grpc
from opentelemetry.proto.collector.logs.v1 import logs_service_pb2, logs_service_pb2_grpc
from opentelemetry.proto.collector.metrics.v1 import metrics_service_pb2, metrics_service_pb2_grpc
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2, trace_service_pb2_grpc
from opentelemetry.proto.common.v1.common_pb2 import AnyValue
from opentelemetry.proto.trace.v1.trace_pb2 import Span
from tests.notifications.servers import free_port

__all__ = [
    "GrpcReceiver",
    "HttpReceiver",
    "ReceivedTelemetry",
    "RotelCollector",
    "SpanView",
    "attributes_of",
    "by_name",
    "spans_in",
    "value_of",
]

_REQUEST_TYPES = {
    "traces": trace_service_pb2.ExportTraceServiceRequest,
    "metrics": metrics_service_pb2.ExportMetricsServiceRequest,
    "logs": logs_service_pb2.ExportLogsServiceRequest,
}


def value_of(value: AnyValue) -> Any:
    """A Python value from an OTLP AnyValue (arrays become lists)."""
    kind = value.WhichOneof("value")
    if kind is None:
        return None
    if kind == "array_value":
        return [value_of(item) for item in value.array_value.values]
    if kind == "kvlist_value":
        return {kv.key: value_of(kv.value) for kv in value.kvlist_value.values}
    return getattr(value, kind)


def attributes_of(attributes: Any) -> dict[str, Any]:
    return {kv.key: value_of(kv.value) for kv in attributes}


@dataclass
class SpanView:
    """One received span, with ids as hex and attributes as a dict."""

    name: str
    trace_id: str
    span_id: str
    parent_span_id: str
    attributes: dict[str, Any]
    events: list[tuple[str, dict[str, Any]]]
    status_code: int
    status_message: str
    resource: dict[str, Any]
    start_ns: int
    end_ns: int

    @property
    def event_names(self) -> list[str]:
        return [name for name, _ in self.events]

    @property
    def transition_names(self) -> list[str]:
        """The state transitions recorded on the span: its events but the `exception` ones."""
        return [name for name in self.event_names if name != "exception"]

    @property
    def is_error(self) -> bool:
        return self.status_code == 2  # STATUS_CODE_ERROR


def spans_in(path: Path) -> list[dict[str, Any]]:
    """Every span in an OTLP JSON lines file (one export request per line), in file order."""
    return [
        span
        for line in path.read_text().splitlines()
        for resource_spans in json.loads(line)["resourceSpans"]
        for scope_spans in resource_spans["scopeSpans"]
        for span in scope_spans["spans"]
    ]


def by_name(spans: list[SpanView]) -> dict[str, list[SpanView]]:
    """The spans grouped by name, each group in the order received."""
    named: dict[str, list[SpanView]] = {}
    for span in spans:
        named.setdefault(span.name, []).append(span)
    return named


@dataclass
class ReceivedTelemetry:
    """Every request a receiver accepted, raw and decoded; thread-safe; awaitable."""

    requests: dict[str, list[Any]] = field(
        default_factory=lambda: {"traces": [], "metrics": [], "logs": []}
    )
    raw: list[bytes] = field(default_factory=list)
    headers: list[dict[str, str]] = field(default_factory=list)
    _changed: threading.Condition = field(default_factory=threading.Condition)

    def add(self, signal: str, raw: bytes, headers: dict[str, str] | None = None) -> None:
        request = _REQUEST_TYPES[signal]()
        request.ParseFromString(raw)
        with self._changed:
            self.requests[signal].append(request)
            self.raw.append(raw)
            self.headers.append({k.lower(): v for k, v in (headers or {}).items()})
            self._changed.notify_all()

    def wait_for(self, predicate: Callable[[ReceivedTelemetry], bool], timeout: float = 20) -> None:
        """Block until `predicate(self)` holds; fail the test if it does not within `timeout`."""
        with self._changed:
            if not self._changed.wait_for(lambda: predicate(self), timeout):
                raise AssertionError(f"receiver did not get what was awaited within {timeout}s")

    # Decoded views -------------------------------------------------------------------------

    def spans(self) -> list[SpanView]:
        views = []
        for request in list(self.requests["traces"]):
            for resource_spans in request.resource_spans:
                resource = attributes_of(resource_spans.resource.attributes)
                for scope_spans in resource_spans.scope_spans:
                    for span in scope_spans.spans:
                        views.append(_span_view(span, resource))
        return views

    def log_records(self) -> list[tuple[dict[str, Any], Any]]:
        """(resource attributes, LogRecord) pairs."""
        records = []
        for request in list(self.requests["logs"]):
            for resource_logs in request.resource_logs:
                resource = attributes_of(resource_logs.resource.attributes)
                for scope_logs in resource_logs.scope_logs:
                    for record in scope_logs.log_records:
                        records.append((resource, record))
        return records

    def metric_points(self, name: str) -> list[tuple[dict[str, Any], Any]]:
        """(attributes, data point) of metric `name`, from the latest request that has it."""
        latest: list[tuple[dict[str, Any], Any]] = []
        for request in list(self.requests["metrics"]):
            found: list[tuple[dict[str, Any], Any]] = []
            for resource_metrics in request.resource_metrics:
                for scope_metrics in resource_metrics.scope_metrics:
                    for metric in scope_metrics.metrics:
                        if metric.name != name:
                            continue
                        data = getattr(metric, metric.WhichOneof("data"))
                        found.extend((attributes_of(p.attributes), p) for p in data.data_points)
            if found:
                latest = found
        return latest

    def metric_value(self, name: str, **attributes: str) -> float:
        """Sum (counters) or count (histograms) of the points of `name` matching `attributes`."""
        total = 0.0
        for point_attributes, point in self.metric_points(name):
            if all(point_attributes.get(k) == v for k, v in attributes.items()):
                if hasattr(point, "bucket_counts"):
                    total += point.count
                else:
                    total += getattr(point, point.WhichOneof("value"))
        return total

    def all_bytes(self) -> bytes:
        with self._changed:
            return b"".join(self.raw)


def _span_view(span: Span, resource: dict[str, Any]) -> SpanView:
    return SpanView(
        name=span.name,
        trace_id=span.trace_id.hex(),
        span_id=span.span_id.hex(),
        parent_span_id=span.parent_span_id.hex(),
        attributes=attributes_of(span.attributes),
        events=[(event.name, attributes_of(event.attributes)) for event in span.events],
        status_code=span.status.code,
        status_message=span.status.message,
        resource=resource,
        start_ns=span.start_time_unix_nano,
        end_ns=span.end_time_unix_nano,
    )


def _metadata(context: Any) -> dict[str, str]:
    return {item.key: item.value for item in context.invocation_metadata()}


class GrpcReceiver:
    """An OTLP/gRPC receiver on 127.0.0.1 (a free port); `endpoint` is what exporters dial."""

    protocol = "grpc"

    def __init__(self) -> None:
        self.received = ReceivedTelemetry()
        received = self.received

        class Traces(trace_service_pb2_grpc.TraceServiceServicer):
            def Export(self, request: Any, context: Any) -> Any:
                received.add("traces", request.SerializeToString(), _metadata(context))
                return trace_service_pb2.ExportTraceServiceResponse()

        class Metrics(metrics_service_pb2_grpc.MetricsServiceServicer):
            def Export(self, request: Any, context: Any) -> Any:
                received.add("metrics", request.SerializeToString(), _metadata(context))
                return metrics_service_pb2.ExportMetricsServiceResponse()

        class Logs(logs_service_pb2_grpc.LogsServiceServicer):
            def Export(self, request: Any, context: Any) -> Any:
                received.add("logs", request.SerializeToString(), _metadata(context))
                return logs_service_pb2.ExportLogsServiceResponse()

        self._server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
        trace_service_pb2_grpc.add_TraceServiceServicer_to_server(Traces(), self._server)
        metrics_service_pb2_grpc.add_MetricsServiceServicer_to_server(Metrics(), self._server)
        logs_service_pb2_grpc.add_LogsServiceServicer_to_server(Logs(), self._server)
        self.port = self._server.add_insecure_port("127.0.0.1:0")
        self.endpoint = f"http://127.0.0.1:{self.port}"

    def start(self) -> GrpcReceiver:
        self._server.start()
        return self

    def stop(self) -> None:
        self._server.stop(grace=None)


class HttpReceiver:
    """An OTLP/HTTP (protobuf) receiver on 127.0.0.1; `endpoint` is the base URL (no /v1/...)."""

    protocol = "http/protobuf"

    def __init__(self, port: int = 0) -> None:
        self.received = ReceivedTelemetry()
        received = self.received

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                signal = self.path.rstrip("/").rsplit("/", 1)[-1]
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                if self.headers.get("Content-Encoding") == "gzip":  # the collector's default
                    body = gzip.decompress(body)
                if signal not in _REQUEST_TYPES or (
                    self.headers.get("Content-Type") != "application/x-protobuf"
                ):
                    self.send_response(404)
                    self.end_headers()
                    return
                received.add(signal, body, dict(self.headers.items()))
                self.send_response(200)
                self.send_header("Content-Type", "application/x-protobuf")
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                return

        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.port = self._server.server_address[1]
        self.endpoint = f"http://127.0.0.1:{self.port}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def start(self) -> HttpReceiver:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()


class RotelCollector:
    """A real OpenTelemetry collector (rotel, from PyPI) on 127.0.0.1 that forwards everything it
    receives over OTLP/gRPC to `forward_to` (a GrpcReceiver): proof that what flowlight sends is
    accepted and passed on by a collector, not only decoded by our own receivers."""

    def __init__(self, forward_to: GrpcReceiver, workdir: Path) -> None:
        import rotel

        self.binary = Path(rotel.__file__).parent / "rotel-agent"
        self.grpc_port = free_port()
        self.http_port = free_port()
        self.forward_to = forward_to
        self.workdir = workdir
        self._process: subprocess.Popen[bytes] | None = None

    def endpoint(self, protocol: str) -> str:
        port = self.grpc_port if protocol == "grpc" else self.http_port
        return f"http://127.0.0.1:{port}"

    def start(self, timeout: float = 20) -> RotelCollector:
        self.workdir.mkdir(parents=True, exist_ok=True)
        self._process = subprocess.Popen(
            [
                str(self.binary),
                "start",
                "--otlp-grpc-endpoint",
                f"127.0.0.1:{self.grpc_port}",
                "--otlp-http-endpoint",
                f"127.0.0.1:{self.http_port}",
                "--exporter",
                "otlp",
                "--otlp-exporter-endpoint",
                self.forward_to.endpoint,
                "--otlp-exporter-protocol",
                "grpc",
                "--batch-timeout",
                "100ms",
                "--pid-file",
                str(self.workdir / "rotel.pid"),
                "--log-file",
                str(self.workdir / "rotel.log"),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + timeout
        for port in (self.grpc_port, self.http_port):
            while True:
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                    break
                except OSError:
                    if self._process.poll() is not None or time.monotonic() > deadline:
                        raise RuntimeError(f"rotel did not start listening on {port}") from None
                    time.sleep(0.02)  # polling a port: there is no event to wait on
        return self

    def stop(self) -> None:
        if self._process is not None:
            self._process.terminate()
            try:
                self._process.wait(10)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
