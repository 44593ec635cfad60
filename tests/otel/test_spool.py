"""Nothing lost, nothing blocked: the local OTLP JSON files, the spool and its replay."""

from __future__ import annotations

import json
import logging
import socket
import time
from pathlib import Path
from typing import Any

import pytest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from tests.notifications.servers import free_port

import flowlight.otel as otel
from flowlight.otel._otlp_json import (
    request_from_json_line,
    request_to_json_line,
    spans_to_request,
)
from flowlight.otel._stats import STATS

from . import flows
from .receivers import GrpcReceiver, HttpReceiver, spans_in


def test_with_no_endpoint_telemetry_is_written_as_otlp_json_lines(local_files: Path) -> None:
    """The embedded default: traces, metrics and logs as one OTLP JSON export request per line,
    ids in hex, parent links intact."""
    otel.instrument(flows.success_flow()).run()
    spans = spans_in(local_files / "traces.jsonl")
    assert sorted(s["name"] for s in spans) == ["etl", "extract", "load"]
    root = next(s for s in spans if s["name"] == "etl")
    assert len(root["traceId"]) == 32 and len(root["spanId"]) == 16
    int(root["traceId"], 16)
    assert "parentSpanId" not in root or root["parentSpanId"] == ""
    assert {s.get("parentSpanId") for s in spans if s["name"] != "etl"} == {root["spanId"]}
    assert {s["traceId"] for s in spans} == {root["traceId"]}
    metrics_text = (local_files / "metrics.jsonl").read_text()
    assert '"name":"flowlight.flow_runs"' in metrics_text
    logs = (local_files / "logs.jsonl").read_text().splitlines()
    records = [
        record
        for line in logs
        for resource_logs in json.loads(line)["resourceLogs"]
        for scope_logs in resource_logs["scopeLogs"]
        for record in scope_logs["logRecords"]
    ]
    assert len(records) == 6
    assert {r["traceId"] for r in records} == {root["traceId"]}
    assert STATS.snapshot().get("batches_written", 0) >= 3


def test_otlp_json_lines_read_back_into_the_same_export_request() -> None:
    """Encoding to a line and parsing it back gives the protobuf request the OTLP exporters
    would have sent, byte for byte (ids converted hex <-> bytes correctly)."""
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracer = provider.get_tracer("test")
    with tracer.start_as_current_span("parent"), tracer.start_as_current_span("child") as child:
        child.add_event("Running", {"flowlight.state.old": "Pending"})
    request = spans_to_request(exporter.get_finished_spans())
    line = request_to_json_line(request)
    assert "\n" not in line
    document = json.loads(line)
    first = document["resourceSpans"][0]["scopeSpans"][0]["spans"][0]
    assert first["traceId"] == format(exporter.get_finished_spans()[0].context.trace_id, "032x")
    assert first["kind"] == 1  # enums are integers in OTLP JSON
    again = request_from_json_line("traces", line)
    assert again.SerializeToString(deterministic=True) == request.SerializeToString(
        deterministic=True
    )


def test_a_line_that_is_not_otlp_json_is_refused_with_a_reason() -> None:
    """A corrupt id names itself in the error instead of sending garbage."""
    with pytest.raises(ValueError, match="neither hex nor base64"):
        request_from_json_line(
            "traces",
            '{"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"zz!"}]}]}]}',
        )


@pytest.mark.parametrize("protocol", ["grpc", "http/protobuf"])
def test_an_unreachable_collector_costs_one_bounded_wait_and_loses_nothing(
    protocol: str, telemetry_dir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Collector down at start: the flow finishes within the flush bound, every span, log record
    and metric goes to the spool with one warning naming the directory, and a replay once the
    collector is up delivers the same spans."""
    STATS.reset()
    endpoint = f"http://127.0.0.1:{free_port()}"
    otel.configure(
        endpoint=endpoint, protocol=protocol, telemetry_dir=str(telemetry_dir), flush_timeout_s=4
    )
    try:
        caplog.set_level(logging.WARNING, logger="flowlight.otel")
        started = time.monotonic()
        state = otel.instrument(flows.success_flow()).run()
        elapsed = time.monotonic() - started
        assert state.is_successful()
        assert elapsed < 4 + 1.0, f"the flow waited {elapsed:.1f}s for a dead collector"
        # Batches still in flight at the bound are spooled when their export gives up.
        assert otel.flush(timeout_s=10)
    finally:
        otel.shutdown()
    spooled = spans_in(telemetry_dir / "traces.jsonl")
    assert sorted(s["name"] for s in spooled) == ["etl", "extract", "load"]
    assert (telemetry_dir / "logs.jsonl").exists()
    assert '"flowlight.flow_runs"' in (telemetry_dir / "metrics.jsonl").read_text()
    warnings = [r for r in caplog.records if "could not export telemetry" in r.getMessage()]
    assert len(warnings) == 1
    assert str(telemetry_dir) in warnings[0].getMessage()
    assert STATS.snapshot().get("batches_lost", 0) == 0

    receiver: Any = GrpcReceiver() if protocol == "grpc" else HttpReceiver()
    receiver.start()
    try:
        report = otel.replay(telemetry_dir, endpoint=receiver.endpoint, protocol=protocol)
        assert report.complete and report.sent["traces"] >= 1
        received = sorted((s.name, s.span_id) for s in receiver.received.spans())
        assert received == sorted((s["name"], s["spanId"]) for s in spooled)
        assert receiver.received.metric_value("flowlight.flow_runs", state="Success") == 1
        assert len(receiver.received.log_records()) == 6
    finally:
        receiver.stop()
    assert not (telemetry_dir / "traces.jsonl").exists()


def test_replay_without_a_collector_says_what_to_set(
    telemetry_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("OTEL_EXPORTER_OTLP_ENDPOINT", raising=False)
    with pytest.raises(ValueError, match="OTEL_EXPORTER_OTLP_ENDPOINT"):
        otel.replay(telemetry_dir)


def test_the_flowlight_command_replays_the_files(local_files: Path, receiver: Any) -> None:
    """`flowlight telemetry replay DIR --endpoint URL` sends what a run wrote while offline and
    reports the count per signal."""
    from flowlight.cli import main

    otel.instrument(flows.success_flow()).run()
    otel.flush(timeout_s=10)
    assert (
        main(
            [
                "telemetry",
                "replay",
                str(local_files),
                "--endpoint",
                receiver.endpoint,
                "--protocol",
                receiver.protocol,
            ]
        )
        == 0
    )
    assert sorted(s.name for s in receiver.received.spans()) == ["etl", "extract", "load"]


@pytest.mark.parametrize("protocol", ["grpc", "http/protobuf"])
def test_a_collector_that_never_answers_costs_at_most_the_flush_bound(
    protocol: str, telemetry_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A collector that accepts connections but never answers: the flow run's end waits no
    longer than the flush bound, and the batches still in flight are spooled once their export
    times out."""
    monkeypatch.setenv("FLOWLIGHT__OTEL__EXPORT_TIMEOUT", "1")
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(16)  # connections complete in the backlog; nothing is ever read or answered
    try:
        STATS.reset()
        otel.configure(
            endpoint=f"http://127.0.0.1:{silent.getsockname()[1]}",
            protocol=protocol,
            telemetry_dir=str(telemetry_dir),
            flush_timeout_s=0.5,
        )
        try:
            started = time.monotonic()
            assert otel.instrument(flows.success_flow()).run().is_successful()
            elapsed = time.monotonic() - started
            assert otel.flush(timeout_s=15)  # lets the timed-out exports reach the spool
        finally:
            otel.shutdown()
    finally:
        silent.close()
    assert elapsed < 0.5 + 1.0, f"the flow waited {elapsed:.1f}s for a silent collector"
    assert STATS.snapshot().get("flush_timeouts", 0) >= 1
    assert sorted(s["name"] for s in spans_in(telemetry_dir / "traces.jsonl")) == [
        "etl",
        "extract",
        "load",
    ]


def test_shutdown_exports_the_metrics_once(local_files: Path) -> None:
    """Stopping the bridge sends the final metric snapshot once: the providers export as they
    stop, so no extra flush (and no duplicate snapshot) comes before."""
    otel.instrument(flows.success_flow()).run()
    metrics_file = local_files / "metrics.jsonl"
    before = len(metrics_file.read_text().splitlines())
    otel.shutdown()
    after = metrics_file.read_text().splitlines()
    assert len(after) == before + 1
    assert '"name":"flowlight.task_runs"' in after[-1]
