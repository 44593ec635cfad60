"""OTLP JSON lines written straight from the SDK's metric snapshots.

The local metrics file gets one snapshot per flush, the first at the end of a process's first
traced flow run. Going through the OTLP exporters' protobuf encoder meant importing protobuf and
opentelemetry-proto for that one line, a noticeable part of the first traced run's cost. This
writes the same text directly, as `_json_lines` does for spans and log records: fields in
protobuf's order (by field number), default values left out, 64-bit integers as strings, enums as
integers, ids as lowercase hex, exactly as `_otlp_json.request_to_json_line` prints what the
exporters' `encode_metrics` builds. `tests/otel/test_metrics_json.py` holds the two equal.

What this encoder does not handle the way the protobuf path would (a data type or value of an
unexpected type, an integer outside int64) raises `Unencodable`, and the batch is encoded the
original way, so its outcome is the original one.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from opentelemetry.sdk.metrics.export import (
    ExponentialHistogram,
    Gauge,
    Histogram,
    Metric,
    MetricsData,
    Sum,
)

from flowlight.otel._json_values import (
    Unencodable,
    attributes_message,
    double,
    fixed64,
    plain_key_values,
    plain_string,
    scope_text,
    span_id_text,
    trace_id_text,
    uint32,
)
from flowlight.otel._otlp_json import metrics_to_request, request_to_json_line

__all__ = ["metrics_to_json_line"]

_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1
_INT32_MIN, _INT32_MAX = -(2**31), 2**31 - 1


def metrics_to_json_line(data: MetricsData) -> str:
    """`request_to_json_line(metrics_to_request(data))`, computed directly when possible."""
    try:
        return _request(data)
    except Unencodable:
        return request_to_json_line(metrics_to_request(data))


def _request(data: MetricsData) -> str:
    # Keyed by resource, then scope, as the exporters' encoder keys them: an equal resource or
    # scope seen again replaces the earlier entry in its first-seen place.
    resources: dict[Any, dict[Any, str]] = {}
    for resource_metrics in data.resource_metrics:
        scopes: dict[Any, str] = {}
        resources[resource_metrics.resource] = scopes
        for scope_metrics in resource_metrics.scope_metrics:
            scope = scope_metrics.scope
            fields = [f'"scope":{scope_text(scope)}']
            if scope_metrics.metrics:
                encoded = ",".join(_metric(metric) for metric in scope_metrics.metrics)
                fields.append(f'"metrics":[{encoded}]')
            if scope.schema_url:
                fields.append(f'"schemaUrl":{plain_string(scope.schema_url)}')
            scopes[scope] = "{" + ",".join(fields) + "}"
    texts = []
    for resource, scope_texts in resources.items():
        fields = [f'"resource":{attributes_message(resource.attributes)}']
        if scope_texts:
            fields.append(f'"scopeMetrics":[{",".join(scope_texts.values())}]')
        if resource.schema_url:
            fields.append(f'"schemaUrl":{plain_string(resource.schema_url)}')
        texts.append("{" + ",".join(fields) + "}")
    if not texts:
        return "{}"
    return f'{{"resourceMetrics":[{",".join(texts)}]}}'


def _metric(metric: Metric) -> str:
    fields = []
    if metric.name:
        fields.append(f'"name":{plain_string(metric.name)}')
    if metric.description:
        fields.append(f'"description":{plain_string(metric.description)}')
    if metric.unit:
        fields.append(f'"unit":{plain_string(metric.unit)}')
    data: Any = metric.data
    kind = type(data)
    if kind not in (Gauge, Sum, Histogram, ExponentialHistogram):
        raise Unencodable(f"metric data of type {kind.__name__}")
    # A data type without points leaves the metric without data, as the exporters' encoder does.
    if data.data_points:
        if kind is Gauge:
            points = ",".join(_number_point(point, with_start=False) for point in data.data_points)
            fields.append(f'"gauge":{{"dataPoints":[{points}]}}')
        elif kind is Sum:
            points = ",".join(_number_point(point, with_start=True) for point in data.data_points)
            extra = _temporality(data.aggregation_temporality)
            if _bool(data.is_monotonic):
                extra += ',"isMonotonic":true'
            fields.append(f'"sum":{{"dataPoints":[{points}]{extra}}}')
        elif kind is Histogram:
            points = ",".join(_histogram_point(point) for point in data.data_points)
            extra = _temporality(data.aggregation_temporality)
            fields.append(f'"histogram":{{"dataPoints":[{points}]{extra}}}')
        else:
            points = ",".join(_exponential_point(point) for point in data.data_points)
            extra = _temporality(data.aggregation_temporality)
            fields.append(f'"exponentialHistogram":{{"dataPoints":[{points}]{extra}}}')
    return "{" + ",".join(fields) + "}"


def _number_point(point: Any, *, with_start: bool) -> str:
    fields = []
    if with_start and point.start_time_unix_nano:
        fields.append(f'"startTimeUnixNano":"{fixed64(point.start_time_unix_nano)}"')
    if point.time_unix_nano:
        fields.append(f'"timeUnixNano":"{fixed64(point.time_unix_nano)}"')
    value = point.value
    if type(value) is float:
        fields.append(f'"asDouble":{double(value)}')
    if point.exemplars:
        fields.append(f'"exemplars":{_exemplars(point.exemplars)}')
    if type(value) is int:
        fields.append(f'"asInt":"{_int64(value)}"')
    elif type(value) is not float:
        raise Unencodable(f"data point value of type {type(value).__name__}")
    if point.attributes:
        fields.append(f'"attributes":{plain_key_values(point.attributes)}')
    return "{" + ",".join(fields) + "}"


def _histogram_point(point: Any) -> str:
    fields = []
    if point.start_time_unix_nano:
        fields.append(f'"startTimeUnixNano":"{fixed64(point.start_time_unix_nano)}"')
    if point.time_unix_nano:
        fields.append(f'"timeUnixNano":"{fixed64(point.time_unix_nano)}"')
    if point.count:
        fields.append(f'"count":"{fixed64(point.count)}"')
    if point.sum is not None:
        fields.append(f'"sum":{_as_double(point.sum)}')
    if point.bucket_counts:
        counts = ",".join(f'"{fixed64(count)}"' for count in point.bucket_counts)
        fields.append(f'"bucketCounts":[{counts}]')
    if point.explicit_bounds:
        bounds = ",".join(_as_double(bound) for bound in point.explicit_bounds)
        fields.append(f'"explicitBounds":[{bounds}]')
    if point.exemplars:
        fields.append(f'"exemplars":{_exemplars(point.exemplars)}')
    if point.attributes:
        fields.append(f'"attributes":{plain_key_values(point.attributes)}')
    if point.min is not None:
        fields.append(f'"min":{_as_double(point.min)}')
    if point.max is not None:
        fields.append(f'"max":{_as_double(point.max)}')
    return "{" + ",".join(fields) + "}"


def _exponential_point(point: Any) -> str:
    fields = []
    if point.attributes:
        fields.append(f'"attributes":{plain_key_values(point.attributes)}')
    if point.start_time_unix_nano:
        fields.append(f'"startTimeUnixNano":"{fixed64(point.start_time_unix_nano)}"')
    if point.time_unix_nano:
        fields.append(f'"timeUnixNano":"{fixed64(point.time_unix_nano)}"')
    if point.count:
        fields.append(f'"count":"{fixed64(point.count)}"')
    if point.sum is not None:
        fields.append(f'"sum":{_as_double(point.sum)}')
    if point.scale:
        fields.append(f'"scale":{_int32(point.scale)}')
    if point.zero_count:
        fields.append(f'"zeroCount":"{fixed64(point.zero_count)}"')
    for name, buckets in (("positive", point.positive), ("negative", point.negative)):
        if buckets.bucket_counts:
            fields.append(f'"{name}":{_buckets(buckets)}')
    if point.flags:
        fields.append(f'"flags":{uint32(point.flags)}')
    if point.exemplars:
        fields.append(f'"exemplars":{_exemplars(point.exemplars)}')
    if point.min is not None:
        fields.append(f'"min":{_as_double(point.min)}')
    if point.max is not None:
        fields.append(f'"max":{_as_double(point.max)}')
    return "{" + ",".join(fields) + "}"


def _buckets(buckets: Any) -> str:
    fields = []
    if buckets.offset:
        fields.append(f'"offset":{_int32(buckets.offset)}')
    counts = ",".join(f'"{fixed64(count)}"' for count in buckets.bucket_counts)
    fields.append(f'"bucketCounts":[{counts}]')
    return "{" + ",".join(fields) + "}"


def _exemplars(exemplars: Sequence[Any]) -> str:
    texts = []
    for exemplar in exemplars:
        fields = []
        if exemplar.time_unix_nano:
            fields.append(f'"timeUnixNano":"{fixed64(exemplar.time_unix_nano)}"')
        value = exemplar.value
        # The exporters' encoder asks isinstance(value, float) first, then int.
        if isinstance(value, float):
            if type(value) is not float:
                raise Unencodable("exemplar value of a float subclass")
            fields.append(f'"asDouble":{double(value)}')
        if exemplar.span_id is not None and exemplar.trace_id is not None:
            fields.append(f'"spanId":"{span_id_text(exemplar.span_id)}"')
            fields.append(f'"traceId":"{trace_id_text(exemplar.trace_id)}"')
        if not isinstance(value, float):
            if type(value) is not int:
                raise Unencodable(f"exemplar value of type {type(value).__name__}")
            fields.append(f'"asInt":"{_int64(value)}"')
        if exemplar.filtered_attributes:
            fields.append(f'"filteredAttributes":{plain_key_values(exemplar.filtered_attributes)}')
        texts.append("{" + ",".join(fields) + "}")
    return "[" + ",".join(texts) + "]"


def _temporality(value: Any) -> str:
    number = int(value) if isinstance(value, int) else None
    if number is None or not _INT32_MIN <= number <= _INT32_MAX:
        raise Unencodable("aggregation temporality")
    return f',"aggregationTemporality":{number}' if number else ""


def _as_double(value: Any) -> str:
    """A double field given a float or an int, converted as protobuf converts it."""
    if type(value) is float:
        return double(value)
    if type(value) is int:
        try:
            return double(float(value))
        except OverflowError as error:
            raise Unencodable("integer too large for a double") from error
    raise Unencodable(f"double value of type {type(value).__name__}")


def _bool(value: Any) -> bool:
    if type(value) is not bool:
        raise Unencodable(f"boolean of type {type(value).__name__}")
    return value


def _int64(value: int) -> int:
    if not _INT64_MIN <= value <= _INT64_MAX:
        raise Unencodable("integer outside int64")
    return value


def _int32(value: Any) -> int:
    if type(value) is not int or not _INT32_MIN <= value <= _INT32_MAX:
        raise Unencodable("integer outside int32")
    return value
