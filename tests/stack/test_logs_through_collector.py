"""Logs by the collector's route: the bridge's log records go over OTLP to the real collector, whose
otlphttp/loki exporter posts them to an OTLP/HTTP receiver standing in for Loki (Loki is under
the AGPL and is not run here), with each record's trace and span ids intact."""

from __future__ import annotations

from typing import Any

import pytest
from tests.otel import flows
from tests.otel.receivers import HttpReceiver

import flowlight.otel as otel

from ._jaeger import JaegerQuery
from ._programs import Program


@pytest.mark.parametrize("protocol", ["grpc", "http/protobuf"])
def test_log_records_reach_the_loki_stand_in_with_their_trace_ids(
    protocol: str,
    collector_program: Program,
    jaeger_query: JaegerQuery,
    loki: HttpReceiver,
    bridge_to: Any,
) -> None:
    """Every transition's log record of a failing run arrives through the collector, each with
    the trace id and span id of the span Jaeger holds for it."""
    service = f"flowlight-stack-logs-{protocol.split('/')[0]}"
    bridge_to(protocol, service)
    otel.instrument(flows.failing_flow()).run()
    otel.shutdown()
    spans = jaeger_query.wait_for_spans(service, 2)
    span_ids = {s.span_id for s in spans}
    (trace_id,) = {s.trace_id for s in spans}

    def records() -> list[Any]:
        return [
            record
            for resource, record in loki.received.log_records()
            if resource.get("service.name") == service
        ]

    # Running and Failed of the flow run and of task "bad": four transitions.
    loki.received.wait_for(lambda _: len(records()) >= 4, timeout=30)
    assert len(loki.received.requests["logs"]) >= 1
    assert {r.trace_id.hex() for r in records()} == {trace_id}
    assert {r.span_id.hex() for r in records()} <= span_ids
    assert {r.span_id.hex() for r in records()} == span_ids
