"""Fixtures for the stack tests: the real collector and Jaeger (built once by the Makefile), an
OTLP/HTTP receiver standing in for Loki, and the bridge pointed at the collector."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from tests.otel.receivers import HttpReceiver

import flowlight.otel as otel
from flowlight.otel._stats import STATS

from ._jaeger import JaegerQuery
from ._programs import BUILD_TIMEOUT_S, Program, collector, ensure_binaries, free_ports, jaeger


@pytest.fixture(scope="session")
def binaries() -> None:
    ensure_binaries()


@pytest.fixture
def ports(binaries: None) -> Any:
    return free_ports()


@pytest.fixture
def loki() -> Iterator[HttpReceiver]:
    """Stands in for Loki (AGPL, not run here): an OTLP/HTTP receiver the collector's
    otlphttp/loki exporter sends logs to."""
    receiver = HttpReceiver().start()
    yield receiver
    receiver.stop()


@pytest.fixture
def jaeger_program(ports: Any, tmp_path: Path) -> Iterator[Program]:
    program = jaeger(ports, tmp_path / "jaeger")
    try:
        yield program.start()
    finally:
        program.stop()


@pytest.fixture
def collector_program(
    ports: Any, tmp_path: Path, loki: HttpReceiver, jaeger_program: Program
) -> Iterator[Program]:
    program = collector(ports, tmp_path / "collector", f"{loki.endpoint}/otlp")
    try:
        yield program.start()
    finally:
        program.stop()


def collector_endpoint(ports: Any, protocol: str) -> str:
    port = ports.otlp_grpc if protocol == "grpc" else ports.otlp_http
    return f"http://127.0.0.1:{port}"


@pytest.fixture
def bridge_to(ports: Any, tmp_path: Path) -> Iterator[Any]:
    """`bridge_to(protocol, service)` configures the bridge to export to the collector; the
    bridge is shut down (flushed) at the end of the test."""
    STATS.reset()

    def configure(protocol: str, service: str) -> Path:
        telemetry_dir = tmp_path / "telemetry"
        otel.configure(
            endpoint=collector_endpoint(ports, protocol),
            protocol=protocol,
            service_name=service,
            telemetry_dir=str(telemetry_dir),
        )
        return telemetry_dir

    yield configure
    otel.shutdown()


@pytest.fixture
def jaeger_query(jaeger_program: Program, ports: Any) -> JaegerQuery:
    return JaegerQuery(f"http://127.0.0.1:{ports.jaeger_query_http}")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The first test that needs the binaries may build them (minutes on a fresh machine, when
    pytest runs without `make test`, which builds them first): it alone gets the build's bound
    instead of the suite's per-test timeout."""
    for item in items:
        if "binaries" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.timeout(BUILD_TIMEOUT_S + 300))
            return
