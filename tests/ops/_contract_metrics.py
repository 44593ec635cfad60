"""The bridge's metric contract, exported through the real Prometheus exporter.

The dashboards and rules are written against the metric contract (instrument names, units,
attributes). This module declares the same instruments with the OpenTelemetry SDK, records one
successful and one failed flow run, and renders them with opentelemetry-exporter-prometheus, so the
Prometheus names come from the exporter that serves the bridge's scrape endpoint, not from a table
written by hand.
"""

from __future__ import annotations

from dataclasses import dataclass

from opentelemetry.exporter.prometheus import PrometheusMetricReader
from opentelemetry.metrics import Observation
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.view import ExplicitBucketHistogramAggregation, View
from opentelemetry.sdk.resources import Resource
from prometheus_client import CollectorRegistry, generate_latest

DURATION_BUCKETS_S = (
    *(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60),
    *(120, 300, 600, 1800, 3600),
)


@dataclass(frozen=True)
class Instrument:
    name: str
    kind: str  # "counter", "histogram" or "gauge"
    unit: str
    attributes: tuple[str, ...]
    description: str


CONTRACT = (
    Instrument(
        "flowlight.flow_runs", "counter", "{run}", ("flow", "state"), "Flow runs by final state."
    ),
    Instrument(
        "flowlight.task_runs",
        "counter",
        "{run}",
        ("flow", "task", "state"),
        "Task runs by final state.",
    ),
    Instrument(
        "flowlight.flow_run.duration", "histogram", "s", ("flow", "state"), "Flow run duration."
    ),
    Instrument(
        "flowlight.task_run.duration",
        "histogram",
        "s",
        ("flow", "task", "state"),
        "Task run duration.",
    ),
    Instrument("flowlight.task_retries", "counter", "{retry}", ("flow", "task"), "Task retries."),
    Instrument(
        "flowlight.state_transitions",
        "counter",
        "{transition}",
        ("flow", "task", "state"),
        "State transitions.",
    ),
    Instrument(
        "flowlight.notifications",
        "counter",
        "{notification}",
        ("notifier", "outcome"),
        "Notifications.",
    ),
    Instrument("flowlight.flow_runs.in_progress", "gauge", "{run}", ("flow",), "Runs in progress."),
    Instrument(
        "flowlight.flow_run.oldest_start", "gauge", "s", ("flow",), "Oldest open run's start."
    ),
    Instrument("flowlight.flow.last_success", "gauge", "s", ("flow",), "Last success time."),
    Instrument(
        "flowlight.flow.next_scheduled_start", "gauge", "s", ("flow",), "Next run due time."
    ),
)

# What each gauge reads in the exposition: flow "etl" has one run open since a minute ago.
_GAUGE_VALUES = {
    "flowlight.flow_runs.in_progress": 1.0,
    "flowlight.flow_run.oldest_start": 1_800_000_000.0,
    "flowlight.flow.last_success": 1_799_999_000.0,
    "flowlight.flow.next_scheduled_start": 1_800_003_600.0,
}


def contract_exposition() -> str:
    """Prometheus text exposition of one Success and one Failed run of flow "etl"."""
    registry = CollectorRegistry()
    reader = PrometheusMetricReader(registry=registry)
    views = [
        View(
            instrument_name=instrument.name,
            aggregation=ExplicitBucketHistogramAggregation(DURATION_BUCKETS_S),
        )
        for instrument in CONTRACT
        if instrument.kind == "histogram"
    ]
    provider = MeterProvider(
        metric_readers=[reader],
        views=views,
        resource=Resource.create({"service.name": "flowlight"}),
    )
    meter = provider.get_meter("flowlight.otel")
    counters = {
        i.name: meter.create_counter(i.name, unit=i.unit, description=i.description)
        for i in CONTRACT
        if i.kind == "counter"
    }
    histograms = {
        i.name: meter.create_histogram(i.name, unit=i.unit, description=i.description)
        for i in CONTRACT
        if i.kind == "histogram"
    }
    for state in ("Success", "Failed"):
        flow = {"flow": "etl", "state": state}
        task = {"flow": "etl", "task": "load", "state": state}
        counters["flowlight.flow_runs"].add(1, flow)
        counters["flowlight.task_runs"].add(1, task)
        counters["flowlight.state_transitions"].add(1, task)
        counters["flowlight.state_transitions"].add(1, {**flow, "task": ""})
        histograms["flowlight.flow_run.duration"].record(0.2, flow)
        histograms["flowlight.task_run.duration"].record(0.1, task)
    # A flow's Crashed series exists at 0 from its first run (runs found crashed later count 1).
    counters["flowlight.flow_runs"].add(0, {"flow": "etl", "state": "Crashed"})
    for instrument in CONTRACT:
        if instrument.kind == "gauge":
            value = _GAUGE_VALUES[instrument.name]
            meter.create_observable_gauge(
                instrument.name,
                callbacks=[lambda _options, value=value: [Observation(value, {"flow": "etl"})]],
                unit=instrument.unit,
                description=instrument.description,
            )
    counters["flowlight.task_retries"].add(2, {"flow": "etl", "task": "load"})
    counters["flowlight.notifications"].add(1, {"notifier": "webhook", "outcome": "sent"})
    try:
        return generate_latest(registry).decode("utf-8")
    finally:
        provider.shutdown()
