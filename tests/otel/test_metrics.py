"""The metric contract, as a collector receives it over OTLP (gRPC and HTTP/protobuf).

Names, units, attributes and values are what dashboards and alert rules are built on; these tests
pin them.
"""

from __future__ import annotations

from typing import Any

import flowlight.otel as otel
from flowlight.otel._metrics import DURATION_BUCKETS_S

from . import flows
from .receivers import ReceivedTelemetry


def run(flow: Any, received: ReceivedTelemetry) -> None:
    otel.instrument(flow)
    flow.run()
    received.wait_for(lambda r: r.metric_points("flowlight.flow_runs") != [])


def metric_descriptions(received: ReceivedTelemetry) -> dict[str, tuple[str, str]]:
    found = {}
    for request in received.requests["metrics"]:
        for resource_metrics in request.resource_metrics:
            for scope_metrics in resource_metrics.scope_metrics:
                for metric in scope_metrics.metrics:
                    found[metric.name] = (metric.unit, metric.description)
    return found


def test_a_successful_run_counts_flow_and_task_runs_by_final_state(
    received: ReceivedTelemetry,
) -> None:
    """One Success flow run, the Failed series present at 0, one Success run per task, and
    durations recorded once per run."""
    run(flows.success_flow(), received)
    assert received.metric_value("flowlight.flow_runs", flow="etl", state="Success") == 1
    failed_series = [
        attrs
        for attrs, _ in received.metric_points("flowlight.flow_runs")
        if attrs == {"flow": "etl", "state": "Failed"}
    ]
    assert len(failed_series) == 1
    assert received.metric_value("flowlight.flow_runs", flow="etl", state="Failed") == 0
    for task in ("extract", "load"):
        assert received.metric_value("flowlight.task_runs", task=task, state="Success") == 1
        assert received.metric_value("flowlight.task_run.duration", task=task) == 1
    assert received.metric_value("flowlight.flow_run.duration", flow="etl") == 1
    assert received.metric_value("flowlight.state_transitions", flow="etl", task="") == 2
    assert (
        received.metric_value("flowlight.state_transitions", task="extract", state="Running") == 1
    )


def test_retries_are_counted_and_the_run_counts_once(received: ReceivedTelemetry) -> None:
    """Two retries before success: task_retries is 2, task_runs counts one Success run."""
    run(flows.retrying_flow(), received)
    assert received.metric_value("flowlight.task_retries", flow="retries", task="flaky") == 2
    assert received.metric_value("flowlight.task_runs", task="flaky", state="Success") == 1
    assert received.metric_value("flowlight.task_runs", task="flaky", state="Failed") == 0


def test_mapped_parent_counts_once_and_each_child_by_its_state(
    received: ReceivedTelemetry,
) -> None:
    """Mapping over three values with one failure: parent Mapped 1, children Success 2 and
    Failed 1, and the flow run Failed; no map index ever becomes an attribute."""
    run(flows.mapped_flow(), received)
    assert received.metric_value("flowlight.task_runs", task="double", state="Mapped") == 1
    assert received.metric_value("flowlight.task_runs", task="double", state="Success") == 2
    assert received.metric_value("flowlight.task_runs", task="double", state="Failed") == 1
    assert received.metric_value("flowlight.flow_runs", flow="mapping", state="Failed") == 1
    for name in ("flowlight.task_runs", "flowlight.state_transitions"):
        for attrs, _ in received.metric_points(name):
            assert set(attrs) <= {"flow", "task", "state"}


def test_skips_and_trigger_failures_are_final_states_too(received: ReceivedTelemetry) -> None:
    """Runs that never ran are counted with their final state."""
    run(flows.trigger_failed_flow(), received)
    assert received.metric_value("flowlight.task_runs", task="down", state="TriggerFailed") == 1
    assert received.metric_value("flowlight.task_runs", task="bad", state="Failed") == 1


def test_instruments_have_the_contracts_units_descriptions_and_buckets(
    received: ReceivedTelemetry,
) -> None:
    """Every instrument has its unit and a description; histograms use the explicit buckets."""
    run(flows.success_flow(), received)
    described = metric_descriptions(received)
    assert described["flowlight.flow_runs"][0] == "{run}"
    assert described["flowlight.task_runs"][0] == "{run}"
    assert described["flowlight.flow_run.duration"][0] == "s"
    assert described["flowlight.task_run.duration"][0] == "s"
    assert described["flowlight.state_transitions"][0] == "{transition}"
    assert all(description for _unit, description in described.values())
    (_, point), *_ = received.metric_points("flowlight.task_run.duration")
    assert tuple(point.explicit_bounds) == DURATION_BUCKETS_S
    assert list(DURATION_BUCKETS_S) == [
        0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, 3600,
    ]  # fmt: skip
