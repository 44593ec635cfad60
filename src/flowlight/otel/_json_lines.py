"""OTLP JSON lines written straight from SDK spans and log records.

The local files are the default destination, so every span and log record a run makes is encoded
here. Going through the OTLP exporters' protobuf encoders and protobuf's JSON printer cost about
half a millisecond per task; this writes the same text directly: the same fields in the same order
(protobuf's, by field number), the same omissions of default values, 64-bit integers as strings,
enums as integers and ids as lowercase hex, exactly as `_otlp_json.request_to_json_line` prints
the request the exporters' encoders build. `tests/otel/test_json_lines.py` holds the two equal.

Anything this encoder does not handle the way the protobuf path would (a value of an unexpected
type, text that is not valid UTF-8, an integer too large for int64) raises `Unencodable`, and the
caller encodes that batch the original way, so its outcome is the original one, too.
"""

from __future__ import annotations

import base64
import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from json.encoder import encode_basestring_ascii
from typing import Any

from opentelemetry.sdk._logs import ReadableLogRecord
from opentelemetry.sdk.trace import ReadableSpan

from flowlight.otel._otlp_json import (
    logs_to_request,
    request_to_json_line,
    spans_to_request,
)

__all__ = ["Unencodable", "logs_to_json_line", "spans_to_json_line"]

_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1
_UINT64_MAX = 2**64 - 1
# SpanFlags: the parent's is_remote is known (256), and it is remote (512).
_HAS_IS_REMOTE, _IS_REMOTE = 256, 512


class Unencodable(ValueError):
    """A value this encoder leaves to the protobuf path."""


def spans_to_json_line(spans: Sequence[ReadableSpan]) -> str:
    """`request_to_json_line(spans_to_request(spans))`, computed directly when possible."""
    try:
        return _envelope(spans, "resourceSpans", "scopeSpans", "spans", _span)
    except Unencodable:
        return request_to_json_line(spans_to_request(spans))


def logs_to_json_line(records: Sequence[ReadableLogRecord]) -> str:
    """`request_to_json_line(logs_to_request(records))`, computed directly when possible."""
    try:
        return _envelope(records, "resourceLogs", "scopeLogs", "logRecords", _log_record)
    except Unencodable:
        return request_to_json_line(logs_to_request(records))


def _envelope(
    items: Sequence[Any],
    resources_key: str,
    scopes_key: str,
    items_key: str,
    encode: Callable[[Any], str],
) -> str:
    """Group by resource, then scope, in first-seen order, as the exporters' encoders do."""
    grouped: dict[Any, dict[Any, list[str]]] = {}
    # Hashing a Resource renders its attributes: look each distinct object up once.
    by_identity: dict[int, dict[Any, list[str]]] = {}
    for item in items:
        resource = item.resource
        scopes = by_identity.get(id(resource))
        if scopes is None:
            scopes = by_identity[id(resource)] = grouped.setdefault(resource, {})
        scopes.setdefault(item.instrumentation_scope or None, []).append(encode(item))
    resources = []
    for resource, scopes in grouped.items():
        scope_texts = []
        for scope, encoded in scopes.items():
            fields = [f'"scope":{_scope(scope)}']
            if encoded:
                fields.append(f'"{items_key}":[{",".join(encoded)}]')
            schema_url = scope.schema_url if scope is not None else None
            if schema_url:
                fields.append(f'"schemaUrl":{_string(schema_url)}')
            scope_texts.append("{" + ",".join(fields) + "}")
        fields = [f'"resource":{_attributes_message(resource.attributes)}']
        if scope_texts:
            fields.append(f'"{scopes_key}":[{",".join(scope_texts)}]')
        if resource.schema_url:
            fields.append(f'"schemaUrl":{_string(resource.schema_url)}')
        resources.append("{" + ",".join(fields) + "}")
    if not resources:
        return "{}"
    return f'{{"{resources_key}":[{",".join(resources)}]}}'


def _scope(scope: Any) -> str:
    if scope is None:
        return "{}"
    fields = []
    if scope.name:
        fields.append(f'"name":{_string(scope.name)}')
    if scope.version:
        fields.append(f'"version":{_string(scope.version)}')
    if scope.attributes:
        fields.append(f'"attributes":{_key_values(scope.attributes)}')
    return "{" + ",".join(fields) + "}"


def _attributes_message(attributes: Any) -> str:
    return f'{{"attributes":{_key_values(attributes)}}}' if attributes else "{}"


def _span(span: ReadableSpan) -> str:
    context = span.get_span_context()
    if context is None:
        raise Unencodable("span without a context")
    fields = [
        f'"traceId":"{_trace_id(context.trace_id)}"',
        f'"spanId":"{_span_id(context.span_id)}"',
    ]
    if context.trace_state:
        state = ",".join(f"{key}={value}" for key, value in context.trace_state.items())
        if state:
            fields.append(f'"traceState":{_string(state)}')
    parent = span.parent
    if parent:
        fields.append(f'"parentSpanId":"{_span_id(parent.span_id)}"')
    if span.name:
        fields.append(f'"name":{_string(span.name)}')
    kind = span.kind.value + 1  # the SDK's SpanKind counts from INTERNAL = 0, OTLP's from 1
    fields.append(f'"kind":{kind}')
    if span.start_time:
        fields.append(f'"startTimeUnixNano":"{_fixed64(span.start_time)}"')
    if span.end_time:
        fields.append(f'"endTimeUnixNano":"{_fixed64(span.end_time)}"')
    if span.attributes:
        fields.append(f'"attributes":{_key_values(span.attributes)}')
    if span.dropped_attributes:
        fields.append(f'"droppedAttributesCount":{_uint32(span.dropped_attributes)}')
    if span.events:
        fields.append(f'"events":[{",".join(_event(event) for event in span.events)}]')
    if span.dropped_events:
        fields.append(f'"droppedEventsCount":{_uint32(span.dropped_events)}')
    if span.links:
        fields.append(f'"links":[{",".join(_link(link) for link in span.links)}]')
    if span.dropped_links:
        fields.append(f'"droppedLinksCount":{_uint32(span.dropped_links)}')
    status = span.status
    if status is not None:
        status_fields = []
        if status.description:
            status_fields.append(f'"message":{_string(status.description)}')
        if status.status_code.value:
            status_fields.append(f'"code":{status.status_code.value}')
        fields.append(f'"status":{{{",".join(status_fields)}}}')
    fields.append(f'"flags":{_flags(parent)}')
    return "{" + ",".join(fields) + "}"


def _flags(context: Any) -> int:
    if context and context.is_remote:
        return _HAS_IS_REMOTE | _IS_REMOTE
    return _HAS_IS_REMOTE


def _event(event: Any) -> str:
    fields = []
    if event.timestamp:
        fields.append(f'"timeUnixNano":"{_fixed64(event.timestamp)}"')
    if event.name:
        fields.append(f'"name":{_string(event.name)}')
    if event.attributes:
        fields.append(f'"attributes":{_key_values(event.attributes)}')
    if event.dropped_attributes:
        fields.append(f'"droppedAttributesCount":{_uint32(event.dropped_attributes)}')
    return "{" + ",".join(fields) + "}"


def _link(link: Any) -> str:
    context = link.context
    fields = [
        f'"traceId":"{_trace_id(context.trace_id)}"',
        f'"spanId":"{_span_id(context.span_id)}"',
    ]
    if link.attributes:
        fields.append(f'"attributes":{_key_values(link.attributes)}')
    if link.dropped_attributes:
        fields.append(f'"droppedAttributesCount":{_uint32(link.dropped_attributes)}')
    fields.append(f'"flags":{_flags(context)}')
    return "{" + ",".join(fields) + "}"


def _log_record(readable: ReadableLogRecord) -> str:
    record = readable.log_record
    fields = []
    if record.timestamp:
        fields.append(f'"timeUnixNano":"{_fixed64(record.timestamp)}"')
    severity = getattr(record.severity_number, "value", None)
    if severity:
        if not isinstance(severity, int) or not 0 < severity < 2**31:
            raise Unencodable("severity number")
        fields.append(f'"severityNumber":{severity}')
    if record.severity_text:
        fields.append(f'"severityText":{_string(record.severity_text)}')
    fields.append(f'"body":{_any_value(record.body)}')
    if record.attributes:
        fields.append(f'"attributes":{_key_values(record.attributes)}')
    if readable.dropped_attributes:
        fields.append(f'"droppedAttributesCount":{_uint32(readable.dropped_attributes)}')
    flags = int(record.trace_flags) if record.trace_flags is not None else 0
    if flags:
        fields.append(f'"flags":{_uint32(flags)}')
    if record.trace_id:
        fields.append(f'"traceId":"{_trace_id(record.trace_id)}"')
    if record.span_id:
        fields.append(f'"spanId":"{_span_id(record.span_id)}"')
    if record.observed_timestamp:
        fields.append(f'"observedTimeUnixNano":"{_fixed64(record.observed_timestamp)}"')
    event_name = getattr(record, "event_name", None)
    if event_name:
        fields.append(f'"eventName":{_string(event_name)}')
    return "{" + ",".join(fields) + "}"


def _key_values(attributes: Mapping[str, Any] | Iterable[tuple[str, Any]]) -> str:
    pairs = attributes.items() if isinstance(attributes, Mapping) else attributes
    return "[" + ",".join([_key_value(key, value) for key, value in pairs]) + "]"


# Most attributes repeat from task to task (a flow's name, state names, messages): their text is
# kept per key and per type of value (1, 1.0 and True stay apart), in nested dicts so that a look
# up allocates nothing the garbage collector tracks. Cleared when full.
_FRAGMENTS: dict[type, dict[str, dict[Any, str]]] = {str: {}, int: {}}
_FRAGMENTS_KEPT = 4096
_kept = 0


def _key_value(key: str, value: Any) -> str:
    global _kept
    by_key = _FRAGMENTS.get(type(value))
    if by_key is None:
        return _new_key_value(key, value)
    by_value = by_key.get(key)
    if by_value is None:
        by_value = by_key[key] = {}
    text = by_value.get(value)
    if text is None:
        text = _new_key_value(key, value)
        if _kept >= _FRAGMENTS_KEPT:
            for kept in _FRAGMENTS.values():
                kept.clear()
            _kept = 0
        by_value[value] = text
        _kept += 1
    return text


def _new_key_value(key: str, value: Any) -> str:
    if key:
        return f'{{"key":{_string(key)},"value":{_any_value(value)}}}'
    return f'{{"value":{_any_value(value)}}}'


def _any_value(value: Any) -> str:
    if value is None:
        return "{}"
    kind = type(value)
    if kind is str:
        return f'{{"stringValue":{_string(value)}}}'
    if kind is bool:
        return '{"boolValue":true}' if value else '{"boolValue":false}'
    if kind is int:
        if not _INT64_MIN <= value <= _INT64_MAX:
            raise Unencodable("integer outside int64")
        return f'{{"intValue":"{value}"}}'
    if kind is float:
        return f'{{"doubleValue":{_double(value)}}}'
    if kind in (list, tuple):
        if not value:
            return '{"arrayValue":{}}'
        return f'{{"arrayValue":{{"values":[{",".join(_any_value(v) for v in value)}]}}}}'
    if kind is dict:
        if not value:
            return '{"kvlistValue":{}}'
        pairs = ((str(key), item) for key, item in value.items())
        return f'{{"kvlistValue":{{"values":{_key_values(pairs)}}}}}'
    if kind is bytes:
        return f'{{"bytesValue":"{base64.b64encode(value).decode("ascii")}"}}'
    # Subclasses (an IntEnum, a str subclass, a mapping) take the exporters' own path.
    raise Unencodable(f"value of type {kind.__name__}")


def _double(value: float) -> str:
    if math.isnan(value):
        return '"NaN"'
    if math.isinf(value):
        return '"Infinity"' if value > 0 else '"-Infinity"'
    return repr(value)


def _string(text: str) -> str:
    if not text.isascii():
        try:
            text.encode("utf-8")
        except UnicodeEncodeError as error:
            raise Unencodable("text that is not valid UTF-8") from error
    return encode_basestring_ascii(text)


def _fixed64(value: Any) -> int:
    if type(value) is not int or not 0 <= value <= _UINT64_MAX:
        raise Unencodable("timestamp")
    return value


def _uint32(value: Any) -> int:
    if type(value) is not int or not 0 <= value < 2**32:
        raise Unencodable("count")
    return value


def _trace_id(value: int) -> str:
    if type(value) is not int or not 0 <= value < 2**128:
        raise Unencodable("trace id")
    return value.to_bytes(16, "big").hex()


def _span_id(value: int) -> str:
    if type(value) is not int or not 0 <= value < 2**64:
        raise Unencodable("span id")
    return value.to_bytes(8, "big").hex()
