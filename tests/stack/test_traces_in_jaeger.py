"""Flow runs traced by the bridge, sent over OTLP/gRPC and OTLP/HTTP to the real collector, which
forwards them to the real Jaeger; read back from Jaeger's query API and checked whole."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from tests.otel import flows
from tests.otel.receivers import SpanView, by_name

import flowlight.otel as otel

from ._jaeger import JaegerQuery, spans_in_files
from ._programs import Program

# flow name -> spans its run makes: the flow run and each task run (mapped children included)
FLOW_SPANS = {"retries": 2, "mapping": 5, "trigger": 3}


def run_traced_flows() -> None:
    """The three flows of FLOW_SPANS, instrumented and run once each, then flushed."""
    for build in (flows.retrying_flow, flows.mapped_flow, flows.trigger_failed_flow):
        otel.instrument(build()).run()
    otel.shutdown()


def traces_by_flow(spans: list[SpanView]) -> dict[str, list[SpanView]]:
    """The spans of each trace, keyed by the name of its root span; one root per trace."""
    traces: dict[str, list[SpanView]] = {}
    for span in spans:
        traces.setdefault(span.trace_id, []).append(span)
    keyed: dict[str, list[SpanView]] = {}
    for trace_id, members in traces.items():
        roots = [s for s in members if s.parent_span_id == ""]
        assert len(roots) == 1, f"trace {trace_id} has roots {[r.name for r in roots]}"
        keyed[roots[0].name] = members
    return keyed


def assert_flow_traces(spans: list[SpanView], service: str) -> None:
    """Everything the bridge promises about these three runs, as Jaeger stored it."""
    assert not [k for k, n in Counter(s.span_id for s in spans).items() if n > 1], "duplicates"
    traces = traces_by_flow(spans)
    assert {name: len(members) for name, members in traces.items()} == FLOW_SPANS
    for name, members in traces.items():
        (root,) = [s for s in members if s.parent_span_id == ""]
        assert root.attributes["cicd.pipeline.name"] == name
        run_id = root.attributes["cicd.pipeline.run.id"]
        for span in members:
            assert span.resource["service.name"] == service
            assert span.resource["telemetry.sdk.language"] == "python"
            assert span.attributes["cicd.pipeline.run.id"] == run_id
            assert span.start_ns <= span.end_ns
            assert span.events, f"{span.name} has no transition events"

    retries = by_name(traces["retries"])
    (flaky,) = retries["flaky"]
    assert flaky.parent_span_id == retries["retries"][0].span_id
    assert flaky.transition_names == flows.THIRD_ATTEMPT_SUCCEEDS
    retrying = [attrs for name, attrs in flaky.events if name == "Retrying"]
    assert [r["flowlight.run_count"] for r in retrying] == [1, 2]
    assert retrying[0]["flowlight.state.message"] == "Retrying Task (after attempt 1 of 3)"
    assert flaky.attributes["flowlight.run_count"] == 3 and not flaky.is_error
    assert retries["retries"][0].event_names == ["Running", "Success"]

    mapping = by_name(traces["mapping"])
    flow_span = mapping["mapping"][0]
    parents = mapping["double"]
    children = [mapping[f"double[{i}]"][0] for i in range(3)]  # named as Prefect 1 names them
    assert len(parents) == 1 and parents[0].parent_span_id == flow_span.span_id
    assert parents[0].event_names == ["Mapped"]
    assert parents[0].is_error  # a child failed; the parent's state stays Mapped
    assert [c.attributes["flowlight.task.map_index"] for c in children] == [0, 1, 2]
    for child in children:
        assert child.parent_span_id == parents[0].span_id
        failing = child.attributes["flowlight.task.map_index"] == 2
        assert child.is_error == failing
        assert child.event_names == (
            ["Running", "Failed", "exception"] if failing else ["Running", "Success"]
        )
    (zero,) = [c for c in children if c.is_error]
    exception = dict(zero.events)["exception"]
    assert exception["exception.type"] == "builtins.ZeroDivisionError"
    assert exception["exception.message"] == "zero"
    assert flow_span.is_error

    trigger = by_name(traces["trigger"])
    down = trigger["down"][0]
    assert down.event_names == ["TriggerFailed", "exception"]
    assert down.is_error and "all_successful" in down.status_message
    assert dict(down.events)["exception"]["exception.type"].endswith("TRIGGERFAIL")
    bad = trigger["bad"][0]
    assert bad.is_error
    assert bad.status_message == "Error during execution of task: ValueError('nope')"
    assert bad.event_names == ["Running", "Failed", "exception"]
    assert trigger["trigger"][0].is_error


@pytest.mark.parametrize("protocol", ["grpc", "http/protobuf"])
def test_flow_runs_reach_jaeger_through_the_collector(
    protocol: str,
    collector_program: Program,
    jaeger_query: JaegerQuery,
    bridge_to: Any,
) -> None:
    """A retried task, a map with one failing child and a trigger failure, exported over
    `protocol` to the collector: Jaeger holds one trace per flow run, each span once, with its
    parent, its transition events in order with their attributes, error statuses with exception
    events and the service's resource attributes."""
    service = f"flowlight-stack-{protocol.split('/')[0]}"
    bridge_to(protocol, service)
    run_traced_flows()
    assert otel.statistics().get("export_failures", 0) == 0
    spans = jaeger_query.wait_for_spans(service, sum(FLOW_SPANS.values()))
    assert_flow_traces(spans, service)


def comparable(span: SpanView) -> dict[str, Any]:
    return {
        "name": span.name,
        "trace_id": span.trace_id,
        "span_id": span.span_id,
        "parent_span_id": span.parent_span_id,
        "attributes": span.attributes,
        "events": span.events,
        "status": (span.status_code, span.status_message),
        "resource": span.resource,
        "times": (span.start_ns, span.end_ns),
    }


def test_replayed_local_files_reach_jaeger_equal_to_what_the_bridge_wrote(
    collector_program: Program,
    jaeger_query: JaegerQuery,
    ports: Any,
    tmp_path: Path,
) -> None:
    """The same runs written by the bridge to its local OTLP JSON files (no endpoint), then
    `replay`ed through the collector: Jaeger's copy of every span equals the file's, ids,
    timestamps, attributes, events and status included, and nothing arrives twice."""
    service = "flowlight-stack-files"
    telemetry_dir = tmp_path / "telemetry"
    otel.configure(telemetry_dir=str(telemetry_dir), service_name=service)
    run_traced_flows()
    written = spans_in_files(telemetry_dir)
    assert len(written) == sum(FLOW_SPANS.values())
    report = otel.replay(
        telemetry_dir, endpoint=f"http://127.0.0.1:{ports.otlp_grpc}", protocol="grpc"
    )
    assert report.complete, report
    stored = jaeger_query.wait_for_spans(service, len(written))
    assert_flow_traces(stored, service)
    key = lambda span: span.span_id  # noqa: E731
    assert [comparable(s) for s in sorted(stored, key=key)] == [
        comparable(s) for s in sorted(written, key=key)
    ]
