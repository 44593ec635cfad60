"""Configuration from the standard OTEL_* variables and flowlight's own FLOWLIGHT__OTEL__*."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pytest

import flowlight.otel as otel
from flowlight.otel._config import read_settings

from . import flows


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    for name in list(os.environ):
        if name.startswith(("OTEL_", "FLOWLIGHT__OTEL__")):
            monkeypatch.delenv(name)


def test_one_endpoint_serves_every_signal_with_the_http_paths(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """OTEL_EXPORTER_OTLP_ENDPOINT is a base URL: HTTP adds /v1/<signal>; gRPC uses it as is;
    the per-signal variable wins for its signal and is used as given."""
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:4318/")
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_LOGS_ENDPOINT", "http://127.0.0.1:9999/custom/logs")
    settings = read_settings()
    assert settings.protocols["traces"] == "http/protobuf"
    assert settings.endpoints == {
        "traces": "http://127.0.0.1:4318/v1/traces",
        "metrics": "http://127.0.0.1:4318/v1/metrics",
        "logs": "http://127.0.0.1:9999/custom/logs",
    }
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc")
    assert read_settings().endpoints["traces"] == "http://127.0.0.1:4318/"


def test_no_endpoint_means_local_files(tmp_path: Path) -> None:
    settings = read_settings(telemetry_dir=tmp_path)
    assert not settings.uses_collector
    assert settings.telemetry_dir == tmp_path


@pytest.mark.parametrize(
    ("variable", "value", "complaint"),
    [
        ("OTEL_EXPORTER_OTLP_PROTOCOL", "http/json", "use 'grpc' or 'http/protobuf'"),
        ("OTEL_EXPORTER_OTLP_ENDPOINT", "127.0.0.1:4317", "not an http:// or https:// URL"),
        ("FLOWLIGHT__OTEL__FLUSH_TIMEOUT", "soon", "FLOWLIGHT__OTEL__FLUSH_TIMEOUT"),
        ("FLOWLIGHT__OTEL__RECORD_VALUES", "maybe", "use true or false"),
    ],
)
def test_a_bad_setting_is_named_with_what_to_write_instead(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str, complaint: str
) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(ValueError, match=complaint):
        read_settings()


def test_standard_variables_set_service_resource_and_endpoint(
    receiver: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """configure() with no arguments reads OTEL_SERVICE_NAME, OTEL_RESOURCE_ATTRIBUTES,
    OTEL_EXPORTER_OTLP_ENDPOINT and OTEL_EXPORTER_OTLP_PROTOCOL."""
    monkeypatch.setenv("OTEL_SERVICE_NAME", "nightly-etl")
    monkeypatch.setenv("OTEL_RESOURCE_ATTRIBUTES", "deployment.environment=test,team=data")
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", receiver.endpoint)
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_PROTOCOL", receiver.protocol)
    monkeypatch.setenv("FLOWLIGHT__OTEL__TELEMETRY_DIR", str(tmp_path))
    otel.configure()
    try:
        otel.instrument(flows.success_flow()).run()
        receiver.received.wait_for(lambda r: len(r.spans()) >= 3)
    finally:
        otel.shutdown()
    resource = receiver.received.spans()[0].resource
    assert resource["service.name"] == "nightly-etl"
    assert resource["deployment.environment"] == "test"
    assert resource["team"] == "data"
    assert list(tmp_path.glob("*.jsonl")) == []


def test_otlp_headers_go_with_every_export_and_every_replay(
    receiver: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """OTEL_EXPORTER_OTLP_HEADERS reach the collector on each signal's export, and a replay of
    spooled files sends them too."""
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_HEADERS", "x-tenant=team-a,x-scope=flows")
    otel.configure(
        endpoint=receiver.endpoint, protocol=receiver.protocol, telemetry_dir=str(tmp_path)
    )
    try:
        otel.instrument(flows.success_flow()).run()
        received = receiver.received
        received.wait_for(lambda r: all(r.requests[s] for s in ("traces", "metrics", "logs")))
    finally:
        otel.shutdown()
    assert received.headers
    assert all(h.get("x-tenant") == "team-a" for h in received.headers)
    assert all(h.get("x-scope") == "flows" for h in received.headers)

    otel.configure(telemetry_dir=str(tmp_path / "offline"))
    try:
        otel.instrument(flows.success_flow()).run()
    finally:
        otel.shutdown()
    before = len(received.headers)
    report = otel.replay(
        tmp_path / "offline", endpoint=receiver.endpoint, protocol=receiver.protocol
    )
    assert report.complete
    assert len(received.headers) > before
    assert all(h.get("x-tenant") == "team-a" for h in received.headers[before:])


def test_active_options_send_another_process_where_this_one_sends(tmp_path: Any) -> None:
    """What executors hand to workers: None until the bridge is active, then the base endpoint
    (without the per-signal path), protocol and service, and reading them configures nothing."""
    otel.shutdown()
    assert otel.active_options() is None
    otel.configure(
        endpoint="http://127.0.0.1:4318",
        protocol="http/protobuf",
        service_name="svc",
        telemetry_dir=str(tmp_path),
    )
    try:
        options = otel.active_options()
        assert options is not None
        assert options["endpoint"] == "http://127.0.0.1:4318"
        assert (options["protocol"], options["service_name"]) == ("http/protobuf", "svc")
    finally:
        otel.shutdown()
    assert otel.active_options() is None


@pytest.mark.parametrize(
    ("option", "value", "says"),
    [
        ("record_values", "false", "give True or False"),
        ("flush_timeout_s", "5", "must be a number"),
        ("flush_timeout_s", -1, "must be > 0"),
        ("flush_timeout_s", float("nan"), "finite"),
        ("prometheus_port", True, "must be a number"),
        ("prometheus_port", 70000, "<= 65535"),
        ("endpoint", "ftp://x", "http:// or https://"),
        ("service_name", 5, "non-empty text"),
        ("telemetry_dir", "", "directory path"),
    ],
)
def test_configure_refuses_what_its_environment_variable_would(
    option: str, value: Any, says: str
) -> None:
    with pytest.raises(ValueError, match=rf"configure\({option}=\.\.\.\) is .*{says}"):
        read_settings(**{option: value})


def test_an_unusable_telemetry_directory_is_refused_when_given(tmp_path: Path) -> None:
    a_file = tmp_path / "a-file"
    a_file.write_text("")
    for directory in (a_file, a_file / "below"):
        with pytest.raises(ValueError, match="is a file, not a directory"):
            otel.configure(telemetry_dir=str(directory))


def test_an_unusable_telemetry_directory_from_the_environment_warns_once_and_flush_says_lost(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """Every batch is lost: one warning at configure, one when writing (no tracebacks), the run
    itself succeeds, and flush() returns False."""
    a_file = tmp_path / "a-file"
    a_file.write_text("")
    monkeypatch.setenv("FLOWLIGHT__OTEL__TELEMETRY_DIR", str(a_file))
    monkeypatch.delenv("OTEL_EXPORTER_OTLP_ENDPOINT", raising=False)
    caplog.set_level(logging.WARNING, logger="flowlight.otel")
    try:
        flow = otel.instrument(flows.success_flow())
        assert flow.run().is_successful()
        assert otel.flush() is False
    finally:
        otel.shutdown()
    warnings = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(warnings) == 2, [r.getMessage() for r in warnings]
    assert all(r.exc_info is None for r in warnings)
    assert "FLOWLIGHT__OTEL__TELEMETRY_DIR" in warnings[0].getMessage()
    assert otel.statistics()["batches_lost"] >= 1


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("OTEL_METRIC_EXPORT_INTERVAL", "-1"),
        ("OTEL_METRIC_EXPORT_INTERVAL", "0"),
        ("OTEL_METRIC_EXPORT_TIMEOUT", "-1"),
        ("OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT", "-1"),
        ("OTEL_ATTRIBUTE_COUNT_LIMIT", "abc"),
        ("OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT", "abc"),
        ("OTEL_SPAN_EVENT_COUNT_LIMIT", "-5"),
        ("OTEL_LOGRECORD_ATTRIBUTE_COUNT_LIMIT", "abc"),
        ("OTEL_METRICS_EXEMPLAR_FILTER", "bogus"),
    ],
)
def test_a_standard_variable_the_sdk_cannot_use_warns_and_takes_the_default(
    variable: str,
    value: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """OpenTelemetry's rule: a warning and the default; the SDK raised, and the whole bridge was
    off (no traces, logs or metrics)."""
    monkeypatch.setenv(variable, value)
    monkeypatch.delenv("OTEL_EXPORTER_OTLP_ENDPOINT", raising=False)
    caplog.set_level(logging.WARNING, logger="flowlight.otel")
    try:
        otel.configure(telemetry_dir=str(tmp_path))
        assert otel.instrument(flows.success_flow()).run().is_successful()
        assert otel.flush()
    finally:
        otel.shutdown()
    assert [r.getMessage() for r in caplog.records if variable in r.getMessage()]
    assert (tmp_path / "traces.jsonl").read_text().count("traceId") >= 2


def test_importing_the_bridge_survives_a_bad_span_attribute_count_limit(tmp_path: Path) -> None:
    """The SDK's trace module reads that variable when it is imported, and raised."""
    import os
    import subprocess
    import sys

    code = "import flowlight.otel, os; print(os.environ['OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT'])"
    environment = {**os.environ, "OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT": "-1"}
    done = subprocess.run(
        [sys.executable, "-c", code], env=environment, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "-1"
