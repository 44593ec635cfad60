"""Fixtures for the bridge's tests: an OTLP receiver per protocol and a bridge configured for it.

The receivers live in `receivers.py` so other test packages can import them.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import flowlight.otel as otel
from flowlight.otel._stats import STATS

from .receivers import GrpcReceiver, HttpReceiver, ReceivedTelemetry


@pytest.fixture(params=["grpc", "http/protobuf"])
def receiver(request: pytest.FixtureRequest) -> Iterator[Any]:
    """A running OTLP receiver on 127.0.0.1, once over gRPC and once over HTTP/protobuf."""
    server: Any = GrpcReceiver() if request.param == "grpc" else HttpReceiver()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def telemetry_dir(tmp_path: Path) -> Path:
    return tmp_path / "telemetry"


@pytest.fixture
def received(receiver: Any, telemetry_dir: Path) -> Iterator[ReceivedTelemetry]:
    """The bridge configured to export to `receiver`; yields what the receiver got."""
    STATS.reset()
    otel.configure(
        endpoint=receiver.endpoint,
        protocol=receiver.protocol,
        telemetry_dir=str(telemetry_dir),
        service_name="flowlight-tests",
    )
    yield receiver.received
    otel.shutdown()


@pytest.fixture
def local_files(telemetry_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """The bridge with no endpoint: the embedded default, writing OTLP JSON under telemetry_dir."""
    for name in ("OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"):
        monkeypatch.delenv(name, raising=False)
    STATS.reset()
    otel.configure(telemetry_dir=str(telemetry_dir), service_name="flowlight-tests")
    yield telemetry_dir
    otel.shutdown()
