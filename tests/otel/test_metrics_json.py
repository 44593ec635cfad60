"""The direct metrics encoder writes exactly the line the protobuf path writes.

Metric snapshots are made with the real SDK (in-memory readers): sums, gauges, explicit and
exponential histograms, int and float values, exemplars with and without a span, both
temporalities and every kind of attribute value. Each snapshot is encoded both ways and the lines
must be equal, character for character; values the direct encoder leaves to the protobuf path
must come out the same, too.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from typing import Any

import pytest
from opentelemetry.metrics import CallbackOptions, Observation
from opentelemetry.sdk.metrics import (
    Counter,
    Histogram,
    MeterProvider,
    ObservableCounter,
    ObservableGauge,
    ObservableUpDownCounter,
    UpDownCounter,
)
from opentelemetry.sdk.metrics._internal.exemplar import AlwaysOnExemplarFilter
from opentelemetry.sdk.metrics._internal.point import Buckets
from opentelemetry.sdk.metrics.export import (
    AggregationTemporality,
    ExponentialHistogram,
    ExponentialHistogramDataPoint,
    Gauge,
    HistogramDataPoint,
    InMemoryMetricReader,
    Metric,
    MetricsData,
    NumberDataPoint,
    ResourceMetrics,
    ScopeMetrics,
)
from opentelemetry.sdk.metrics.export import Histogram as HistogramData
from opentelemetry.sdk.metrics.view import (
    ExplicitBucketHistogramAggregation,
    ExponentialBucketHistogramAggregation,
    View,
)
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.util.instrumentation import InstrumentationScope

import flowlight
import flowlight.otel as otel
from flowlight.otel import _metrics_json, _spool
from flowlight.otel._metrics_json import metrics_to_json_line
from flowlight.otel._otlp_json import metrics_to_request, request_to_json_line

from . import flows
from .test_json_lines import ATTRIBUTE_VALUES

DELTA = dict.fromkeys(
    (
        Counter,
        UpDownCounter,
        Histogram,
        ObservableCounter,
        ObservableUpDownCounter,
        ObservableGauge,
    ),
    AggregationTemporality.DELTA,
)


def protobuf_line(data: MetricsData) -> str:
    return request_to_json_line(metrics_to_request(data))


def direct_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """The direct encoder must handle the snapshot itself, not hand it to the protobuf path."""

    def refuse(data: MetricsData) -> Any:
        raise AssertionError("the direct encoder fell back to the protobuf path")

    monkeypatch.setattr(_metrics_json, "metrics_to_request", refuse)


def snapshot(
    resource: Resource | None = None,
    temporality: dict[type, AggregationTemporality] | None = None,
    exemplars_everywhere: bool = False,
) -> MetricsData:
    """One collection of every instrument kind, recorded inside and outside a sampled span."""
    reader = InMemoryMetricReader(preferred_temporality=temporality)
    provider = MeterProvider(
        resource=resource or Resource.create({"service.name": "tests"}),
        metric_readers=[reader],
        views=[
            View(
                instrument_name="exponential", aggregation=ExponentialBucketHistogramAggregation()
            ),
            View(
                instrument_name="bounded",
                aggregation=ExplicitBucketHistogramAggregation(boundaries=(0, 2.5, 10)),
            ),
            View(instrument_name="*"),
        ],
        exemplar_filter=AlwaysOnExemplarFilter() if exemplars_everywhere else None,
    )
    meter = provider.get_meter("metrics-json", "1.2.3", schema_url="https://example.com/m")
    other = provider.get_meter("another-scope")
    tracer = TracerProvider().get_tracer("t")

    def observe_ints(_options: CallbackOptions) -> Iterable[Observation]:
        return [Observation(7, {"state": "Success"}), Observation(-3, {"state": "Failed"})]

    def observe_floats(_options: CallbackOptions) -> Iterable[Observation]:
        return [Observation(0.25, ATTRIBUTE_VALUES), Observation(0.0)]

    ints = meter.create_counter("runs", unit="1", description="finished runs: ünïcode")
    floats = meter.create_counter("seconds", unit="s")
    up_down = meter.create_up_down_counter("running")
    histogram = meter.create_histogram("duration", unit="ms", description="how long")
    bounded = meter.create_histogram("bounded")
    exponential = meter.create_histogram("exponential")
    meter.create_histogram("never_recorded")
    meter.create_observable_gauge("queue", callbacks=[observe_ints])
    meter.create_observable_gauge("ratio", callbacks=[observe_floats])
    meter.create_observable_counter("observed_total", callbacks=[observe_ints])
    meter.create_observable_up_down_counter("observed_level", callbacks=[observe_floats])
    other.create_counter("elsewhere").add(1)
    with tracer.start_as_current_span("sampled"):
        ints.add(1, {"flow": "f", "state": "Success"})
        floats.add(1.5, {"flow": "f"})
        histogram.record(12.5, {"flow": "f", "task": "t"})
        histogram.record(3, {"flow": "f", "task": "t"})
        exponential.record(0.001)
    ints.add(2, {"flow": "f", "state": "Failed"})
    ints.add(0, ATTRIBUTE_VALUES)
    up_down.add(-5)
    up_down.add(2, {"n": 1})
    bounded.record(0)
    bounded.record(2)
    bounded.record(100, {"big": True})
    for value in (0, 0.5, 4, 1000, -2.5, -0.125):
        exponential.record(value, {"signs": "mixed"})
    data = reader.get_metrics_data()
    provider.shutdown()
    assert data is not None
    return data


def exemplars_in(data: MetricsData) -> list[Any]:
    return [
        exemplar
        for resource in data.resource_metrics
        for scope in resource.scope_metrics
        for metric in scope.metrics
        for point in metric.data.data_points
        for exemplar in point.exemplars
    ]


@pytest.mark.parametrize("temporality", [None, DELTA], ids=["cumulative", "delta"])
def test_every_kind_of_metric_is_written_as_the_protobuf_path_writes_it(
    temporality: dict[type, AggregationTemporality] | None, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = snapshot(temporality=temporality)
    expected = protobuf_line(data)
    kinds = {
        type(metric.data).__name__
        for resource in data.resource_metrics
        for scope in resource.scope_metrics
        for metric in scope.metrics
    }
    assert kinds == {"Sum", "Gauge", "Histogram", "ExponentialHistogram"}
    direct_only(monkeypatch)
    line = metrics_to_json_line(data)
    assert line == expected
    expected_temporality = 1 if temporality else 2
    assert f'"aggregationTemporality":{expected_temporality}' in line


def test_exemplars_with_and_without_a_span_are_written_as_the_protobuf_path_writes_them(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    data = snapshot(exemplars_everywhere=True)
    expected = protobuf_line(data)
    direct_only(monkeypatch)
    exemplars = exemplars_in(data)
    assert any(e.span_id is not None for e in exemplars)
    assert any(e.span_id is None for e in exemplars)
    assert any(isinstance(e.value, int) for e in exemplars)
    assert any(isinstance(e.value, float) for e in exemplars)
    line = metrics_to_json_line(data)
    assert '"exemplars"' in line and '"spanId"' in line
    assert line == expected


def test_metrics_of_two_resources_are_grouped_as_the_protobuf_path_groups_them() -> None:
    first = snapshot(Resource.create({"service.name": "one"}))
    second = snapshot(Resource({"service.name": "two"}, schema_url="https://example.com/r"))
    same_again = snapshot(Resource.create({"service.name": "one"}))
    combined = MetricsData(
        resource_metrics=[
            *first.resource_metrics,
            *second.resource_metrics,
            *same_again.resource_metrics,
        ]
    )
    assert metrics_to_json_line(combined) == protobuf_line(combined)
    empty = MetricsData(resource_metrics=[])
    assert metrics_to_json_line(empty) == protobuf_line(empty) == "{}"


def test_points_the_sdk_rarely_makes_are_written_as_the_protobuf_path_writes_them(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Negative exponential buckets, flags, an int sum and int bounds, infinite min and max, an
    empty description, a metric without points, a scope without metrics."""
    exponential = ExponentialHistogramDataPoint(
        attributes={"a": 1},
        start_time_unix_nano=1,
        time_unix_nano=2,
        count=5,
        sum=-3,
        scale=-2,
        zero_count=0,
        positive=Buckets(offset=0, bucket_counts=[1, 0, 2]),
        negative=Buckets(offset=-4, bucket_counts=[2]),
        flags=1,
        min=-7.5,
        max=0.0,
    )
    empty_buckets = dataclasses.replace(
        exponential, positive=Buckets(0, []), negative=Buckets(3, []), flags=0, scale=0
    )
    histogram = HistogramDataPoint(
        attributes=None,
        start_time_unix_nano=0,
        time_unix_nano=3,
        count=0,
        sum=0,
        bucket_counts=[0, 0],
        explicit_bounds=[5],
        min=float("inf"),
        max=float("-inf"),
    )
    gauge = NumberDataPoint(attributes={}, start_time_unix_nano=9, time_unix_nano=0, value=-0.0)
    metrics = [
        Metric("exp", None, None, ExponentialHistogram([exponential, empty_buckets], 1)),
        Metric("hist", "", "ms", HistogramData([histogram], AggregationTemporality.DELTA)),
        Metric("gauge", "d", "", Gauge([gauge])),
        Metric("nothing", "no points", "1", Gauge([])),
    ]
    data = MetricsData(
        resource_metrics=[
            ResourceMetrics(
                Resource({}),
                [
                    ScopeMetrics(InstrumentationScope("s", None, None, {"k": "v"}), metrics, ""),
                    ScopeMetrics(InstrumentationScope("", "2"), [], "https://example.com/s"),
                ],
                "",
            )
        ]
    )
    expected = protobuf_line(data)
    direct_only(monkeypatch)
    assert metrics_to_json_line(data) == expected


def replace_first_point(data: MetricsData, **changes: Any) -> MetricsData:
    resource = data.resource_metrics[0]
    scope = resource.scope_metrics[0]
    metric = next(m for m in scope.metrics if isinstance(m.data.data_points[0], NumberDataPoint))
    point = dataclasses.replace(metric.data.data_points[0], **changes)
    new_metric = dataclasses.replace(
        metric, data=dataclasses.replace(metric.data, data_points=[point])
    )
    new_scope = dataclasses.replace(scope, metrics=[new_metric])
    return MetricsData(
        resource_metrics=[ResourceMetrics(resource.resource, [new_scope], resource.schema_url)]
    )


def test_values_left_to_the_protobuf_path_come_out_as_it_writes_them() -> None:
    """Integers outside int64, attribute values the encoder does not know, a value of a type the
    encoder does not expect: the line is the exporters' line for the same snapshot."""

    class Custom:
        pass

    data = snapshot()
    for attributes in ({"odd": 2**64, "kept": "yes"}, {"odd": Custom(), "kept": "yes"}):
        altered = replace_first_point(data, attributes=attributes)
        expected = protobuf_line(altered)
        assert metrics_to_json_line(altered) == expected
        assert '"kept"' in expected
    huge = replace_first_point(data, value=-(2**63))
    assert metrics_to_json_line(huge) == protobuf_line(huge)
    with pytest.raises(Exception) as protobuf_error:
        protobuf_line(replace_first_point(data, value=2**64))
    with pytest.raises(type(protobuf_error.value)):
        metrics_to_json_line(replace_first_point(data, value=2**64))


def test_a_flow_runs_metrics_are_written_to_the_file_as_the_protobuf_path_writes_them(
    local_files: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A real instrumented run, through the bridge's own metric reader: every line in the
    metrics file equals the protobuf path's line for the same snapshot."""
    captured: list[MetricsData] = []

    def keep(data: MetricsData) -> str:
        captured.append(data)
        return metrics_to_json_line(data)

    monkeypatch.setattr(_spool, "metrics_to_json_line", keep)
    state = otel.instrument(flows.success_flow()).run()
    otel.flush()
    assert isinstance(state, flowlight.engine.state.State) and state.is_successful()
    lines = (local_files / "metrics.jsonl").read_text().splitlines()
    assert captured
    assert lines == [protobuf_line(data) for data in captured]
