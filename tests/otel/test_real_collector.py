"""Through a real collector: flowlight -> rotel (an OpenTelemetry collector from PyPI) -> receiver.

What the bridge sends over OTLP/gRPC and OTLP/HTTP, and what `replay` sends from the local files,
is accepted by a collector and arrives on the other side with its structure intact.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

import flowlight.otel as otel

from . import flows
from .receivers import GrpcReceiver, RotelCollector


@pytest.fixture
def downstream() -> Iterator[GrpcReceiver]:
    receiver = GrpcReceiver().start()
    yield receiver
    receiver.stop()


@pytest.fixture
def collector(downstream: GrpcReceiver, tmp_path: Path) -> Iterator[RotelCollector]:
    rotel = RotelCollector(downstream, tmp_path / "rotel").start()
    yield rotel
    rotel.stop()


@pytest.mark.parametrize("protocol", ["grpc", "http/protobuf"])
def test_a_flow_runs_telemetry_passes_through_a_real_collector(
    protocol: str, collector: RotelCollector, downstream: GrpcReceiver, tmp_path: Path
) -> None:
    """Spans (one trace, parent links, events), log records linked to them and metrics all come
    out of the collector."""
    otel.configure(
        endpoint=collector.endpoint(protocol), protocol=protocol, telemetry_dir=str(tmp_path)
    )
    try:
        otel.instrument(flows.failing_flow()).run()
    finally:
        otel.shutdown()
    received = downstream.received
    received.wait_for(
        lambda r: (
            len(r.spans()) >= 2
            and len(r.log_records()) >= 4
            and r.metric_value("flowlight.flow_runs", state="Failed") >= 1
        )
    )
    # The collector may batch the flush's and the shutdown's snapshots into one request: each
    # cumulative point says 1.
    failed_points = [
        point.as_int
        for attributes, point in received.metric_points("flowlight.flow_runs")
        if attributes == {"flow": "fails", "state": "Failed"}
    ]
    assert failed_points and set(failed_points) == {1}
    spans = {s.name: s for s in received.spans()}
    assert spans["bad"].parent_span_id == spans["fails"].span_id
    assert spans["bad"].event_names == ["Running", "Failed", "exception"]
    assert {r.trace_id.hex() for _, r in received.log_records()} == {spans["fails"].trace_id}
    assert otel.statistics().get("export_failures", 0) == 0
    assert list(tmp_path.glob("*.jsonl")) == []


def test_files_written_offline_replay_through_a_real_collector(
    collector: RotelCollector, downstream: GrpcReceiver, tmp_path: Path
) -> None:
    """The embedded default's OTLP JSON lines, replayed later, pass through the collector."""
    otel.configure(telemetry_dir=str(tmp_path))
    try:
        otel.instrument(flows.mapped_flow()).run()
    finally:
        otel.shutdown()
    report = otel.replay(tmp_path, endpoint=collector.endpoint("grpc"), protocol="grpc")
    assert report.complete
    downstream.received.wait_for(lambda r: len(r.spans()) >= 5)
    children = [
        s for s in downstream.received.spans() if "flowlight.task.map_index" in s.attributes
    ]
    assert len(children) == 3
