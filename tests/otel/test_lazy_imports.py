"""A traced run on the default file path loads only what it uses: proven in fresh interpreters.

The local files are written by the bridge's own OTLP JSON encoders, so protobuf,
opentelemetry-proto and the OTLP exporters (gRPC or HTTP) stay unloaded until a collector is
configured, pendulum until a run's `scheduled_start_time` is read (see
tests/utilities/test_context.py), and structlog (with the rich it loads) until something logs
through it rather than through the run's own logger. Each was a noticeable part of a process's
first traced run. The lazily loaded parts must still work when they are needed.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from .receivers import GrpcReceiver, HttpReceiver
from .test_layering import run_python

# Top-level names (or prefixes) a traced run on the default file path must not import.
NOT_ON_THE_FILE_PATH = (
    "google.protobuf",
    "opentelemetry.proto",
    "opentelemetry.exporter",
    "grpc",
    "pendulum",
    "structlog",
    "rich",
)

# A line for the scripts below: the loaded modules named by, or under, any of `prefixes`.
LOADED = (
    "loaded = lambda prefixes: sorted(name for name in list(sys.modules) "
    "if any(name == p or name.startswith(p + '.') for p in prefixes))"
)


def test_a_traced_run_on_the_file_path_loads_no_protobuf_exporters_pendulum_or_structlog(
    tmp_path: Path,
) -> None:
    """Instrument, run, flush (which writes the metrics line too): none of the heavy modules is
    imported, and all three files hold OTLP JSON with the run's telemetry."""
    script = f"""
        import sys
        import flowlight.otel
        from tests.otel import flows
        {LOADED}
        state = flowlight.otel.instrument(flows.success_flow()).run()
        assert state.is_successful(), state
        assert flowlight.otel.flush()
        print(loaded({NOT_ON_THE_FILE_PATH!r}))
    """
    assert run_python(script, tmp_path).strip() == "[]"
    directory = tmp_path / "telemetry"
    for signal, key in (
        ("traces", "resourceSpans"),
        ("logs", "resourceLogs"),
        ("metrics", "resourceMetrics"),
    ):
        lines = (directory / f"{signal}.jsonl").read_text().splitlines()
        assert lines and all(key in json.loads(line) for line in lines), signal


@pytest.mark.parametrize("receiver_type", [GrpcReceiver, HttpReceiver], ids=["grpc", "http"])
def test_a_configured_collector_gets_every_signal_through_the_otlp_exporters(
    tmp_path: Path, receiver_type: Any
) -> None:
    """With an endpoint the exporters for its protocol load (and only those), and the
    collector receives the run's spans, log records and metrics."""
    receiver = receiver_type().start()
    other = "http" if receiver.protocol == "grpc" else "grpc"
    script = f"""
        import sys
        import flowlight.otel
        from tests.otel import flows
        {LOADED}
        state = flowlight.otel.instrument(flows.success_flow()).run()
        assert state.is_successful(), state
        assert flowlight.otel.flush()
        print(bool(loaded(["opentelemetry.exporter.otlp.proto.{receiver.protocol[:4]}"])))
        print(loaded(["opentelemetry.exporter.otlp.proto.{other}"]))
    """
    try:
        printed = run_python(
            script,
            tmp_path,
            OTEL_EXPORTER_OTLP_ENDPOINT=receiver.endpoint,
            OTEL_EXPORTER_OTLP_PROTOCOL=receiver.protocol,
        ).split("\n")
        assert printed[:2] == ["True", "[]"]
        received = receiver.received
        received.wait_for(
            lambda r: len(r.spans()) >= 3 and bool(r.log_records()) and bool(r.requests["metrics"])
        )
        assert sorted(span.name for span in received.spans()) == ["etl", "extract", "load"]
    finally:
        receiver.stop()
    assert not (tmp_path / "telemetry" / "traces.jsonl").exists()
