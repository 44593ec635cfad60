"""OTLP JSON lines written straight from SDK spans and log records.

The local files are the default destination, so every span and log record a run makes is encoded
here. Going through the OTLP exporters' protobuf encoders and protobuf's JSON printer cost about
half a millisecond per task; this writes the same text directly: the same fields in the same order
(protobuf's, by field number), the same omissions of default values, 64-bit integers as strings,
enums as integers and ids as lowercase hex, exactly as `_otlp_json.request_to_json_line` prints
the request the exporters' encoders build. `tests/otel/test_json_lines.py` holds the two equal.

With `masked=True` the line is that of the batch after `_redact`'s last redaction pass, made in
the same pass as the text (see `_json_values`): the files need no second walk over every value.

Anything this encoder does not handle the way the protobuf path would (a value of an unexpected
type, text that is not valid UTF-8, an integer too large for int64) raises `Unencodable`, and the
caller encodes that batch the original way, so its outcome is the original one, too.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from opentelemetry.sdk._logs import ReadableLogRecord
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.trace import SpanKind, StatusCode

from flowlight.otel._json_values import (
    TextEncoder,
    Unencodable,
    attributes_message,
    current,
    fixed64,
    plain_key_values,
    plain_string,
    scope_text,
    span_id_text,
    trace_id_text,
    uint32,
)
from flowlight.otel._otlp_json import logs_to_request, request_to_json_line, spans_to_request

__all__ = ["Unencodable", "logs_to_json_line", "spans_to_json_line"]

# SpanFlags: the parent's is_remote is known (256), and it is remote (512).
_HAS_IS_REMOTE, _IS_REMOTE = 256, 512
_LOCAL_FLAGS, _REMOTE_FLAGS = _HAS_IS_REMOTE, _HAS_IS_REMOTE | _IS_REMOTE
_INTERNAL = SpanKind.INTERNAL
_UNSET, _OK = StatusCode.UNSET, StatusCode.OK
_SPAN_ATTRIBUTES = ReadableSpan.attributes


def spans_to_json_line(spans: Sequence[ReadableSpan], *, masked: bool = False) -> str:
    """`request_to_json_line(spans_to_request(spans))`, computed directly when possible; with
    `masked`, that of `_redact.redact_spans(spans)`."""
    try:
        return _envelope(spans, "resourceSpans", "scopeSpans", "spans", _span, current(masked))
    except Unencodable:
        if masked:
            from flowlight.otel._redact import redact_spans

            spans = redact_spans(spans)
        return request_to_json_line(spans_to_request(spans))


def logs_to_json_line(records: Sequence[ReadableLogRecord], *, masked: bool = False) -> str:
    """`request_to_json_line(logs_to_request(records))`, computed directly when possible; with
    `masked`, that of `_redact.redact_log_records(records)`."""
    try:
        return _envelope(
            records, "resourceLogs", "scopeLogs", "logRecords", _log_record, current(masked)
        )
    except Unencodable:
        if masked:
            from flowlight.otel._redact import redact_log_records

            records = redact_log_records(records)
        return request_to_json_line(logs_to_request(records))


def _envelope(
    items: Sequence[Any],
    resources_key: str,
    scopes_key: str,
    items_key: str,
    encode: Callable[[Any, TextEncoder], str],
    encoder: TextEncoder,
) -> str:
    """Group by resource, then scope, in first-seen order, as the exporters' encoders do."""
    grouped: dict[Any, dict[Any, list[str]]] = {}
    # Hashing a Resource renders its attributes: look each distinct object up once; and most
    # batches hold one resource and one scope, so compare with the previous item's first.
    by_identity: dict[int, dict[Any, list[str]]] = {}
    last_resource: Any = None
    last_scope: Any = None
    target: list[str] = []
    for item in items:
        resource = item.resource
        scope = item.instrumentation_scope or None
        if resource is not last_resource or scope is not last_scope or not target:
            scopes = by_identity.get(id(resource))
            if scopes is None:
                scopes = by_identity[id(resource)] = grouped.setdefault(resource, {})
            target = scopes.setdefault(scope, [])
            last_resource, last_scope = resource, scope
        target.append(encode(item, encoder))
    resources = []
    for resource, scopes in grouped.items():
        scope_texts = []
        for scope, encoded in scopes.items():
            fields = [f'"scope":{scope_text(scope)}']
            if encoded:
                fields.append(f'"{items_key}":[{",".join(encoded)}]')
            schema_url = scope.schema_url if scope is not None else None
            if schema_url:
                fields.append(f'"schemaUrl":{plain_string(schema_url)}')
            scope_texts.append("{" + ",".join(fields) + "}")
        fields = [f'"resource":{attributes_message(resource.attributes)}']
        if scope_texts:
            fields.append(f'"{scopes_key}":[{",".join(scope_texts)}]')
        if resource.schema_url:
            fields.append(f'"schemaUrl":{plain_string(resource.schema_url)}')
        resources.append("{" + ",".join(fields) + "}")
    if not resources:
        return "{}"
    return f'{{"{resources_key}":[{",".join(resources)}]}}'


def _span(span: ReadableSpan, encoder: TextEncoder) -> str:
    context = span.get_span_context()
    if context is None:
        raise Unencodable("span without a context")
    state = ""
    if context.trace_state:
        text = ",".join(f"{key}={value}" for key, value in context.trace_state.items())
        if text:
            state = f',"traceState":{plain_string(text)}'
    parent = span.parent
    parent_id = f',"parentSpanId":"{span_id_text(parent.span_id)}"' if parent else ""
    name = f',"name":{encoder.text(span.name)}' if span.name else ""
    kind = span.kind
    kind_value = 1 if kind is _INTERNAL else kind.value + 1  # the SDK counts from 0, OTLP from 1
    start = f',"startTimeUnixNano":"{fixed64(span.start_time)}"' if span.start_time else ""
    end = f',"endTimeUnixNano":"{fixed64(span.end_time)}"' if span.end_time else ""
    # The SDK hands attributes out behind a read-only proxy; its own are read directly.
    attributes: Any = (
        span._attributes if type(span).attributes is _SPAN_ATTRIBUTES else span.attributes
    )
    attributes_text = f',"attributes":{encoder.key_values(attributes)}' if attributes else ""
    dropped = span.dropped_attributes
    if dropped:
        attributes_text += f',"droppedAttributesCount":{uint32(dropped)}'
    events = span.events
    events_text = (
        ',"events":[' + ",".join([_event(event, encoder) for event in events]) + "]"
        if events
        else ""
    )
    dropped = span.dropped_events
    if dropped:
        events_text += f',"droppedEventsCount":{uint32(dropped)}'
    links = span.links
    links_text = ',"links":[' + ",".join([_link(link) for link in links]) + "]" if links else ""
    dropped = span.dropped_links
    if dropped:
        links_text += f',"droppedLinksCount":{uint32(dropped)}'
    status_text = ""
    status = span.status
    if status is not None:
        code = status.status_code
        code_value = 0 if code is _UNSET else 1 if code is _OK else code.value
        code_text = f'"code":{code_value}' if code_value else ""
        if status.description:
            message = f'"message":{encoder.text(status.description)}'
            code_text = f"{message},{code_text}" if code_text else message
        status_text = f',"status":{{{code_text}}}'
    flags = _REMOTE_FLAGS if parent and parent.is_remote else _LOCAL_FLAGS
    return (
        f'{{"traceId":"{trace_id_text(context.trace_id)}","spanId":"{span_id_text(context.span_id)}"'
        f"{state}{parent_id}{name}"
        f',"kind":{kind_value}{start}{end}{attributes_text}{events_text}{links_text}'
        f'{status_text},"flags":{flags}}}'
    )


def _event(event: Any, encoder: TextEncoder) -> str:
    timestamp = event.timestamp
    text = f',"timeUnixNano":"{fixed64(timestamp)}"' if timestamp else ""
    if event.name:
        text += f',"name":{encoder.plain_text(event.name)}'
    attributes = event.attributes
    if attributes:
        text += f',"attributes":{encoder.key_values(attributes)}'
    dropped = event.dropped_attributes
    if dropped:
        text += f',"droppedAttributesCount":{uint32(dropped)}'
    return "{" + text[1:] + "}"


def _link(link: Any) -> str:
    context = link.context
    fields = [
        f'"traceId":"{trace_id_text(context.trace_id)}"',
        f'"spanId":"{span_id_text(context.span_id)}"',
    ]
    if link.attributes:
        fields.append(f'"attributes":{plain_key_values(link.attributes)}')
    if link.dropped_attributes:
        fields.append(f'"droppedAttributesCount":{uint32(link.dropped_attributes)}')
    fields.append(f'"flags":{_REMOTE_FLAGS if context.is_remote else _LOCAL_FLAGS}')
    return "{" + ",".join(fields) + "}"


def _log_record(readable: ReadableLogRecord, encoder: TextEncoder) -> str:
    record = readable.log_record
    text = f',"timeUnixNano":"{fixed64(record.timestamp)}"' if record.timestamp else ""
    text += _severity(record.severity_number)
    if record.severity_text:
        text += f',"severityText":{encoder.plain_text(record.severity_text)}'
    body = record.body
    if type(body) is str:
        text += f',"body":{{"stringValue":{encoder.text(body)}}}'
    else:
        text += f',"body":{encoder.any_value(body)}'
    attributes = record.attributes
    if attributes:
        text += f',"attributes":{encoder.key_values(attributes)}'
    dropped = readable.dropped_attributes
    if dropped:
        text += f',"droppedAttributesCount":{uint32(dropped)}'
    flags = int(record.trace_flags) if record.trace_flags is not None else 0
    if flags:
        text += f',"flags":{uint32(flags)}'
    if record.trace_id:
        text += f',"traceId":"{trace_id_text(record.trace_id)}"'
    if record.span_id:
        text += f',"spanId":"{span_id_text(record.span_id)}"'
    if record.observed_timestamp:
        text += f',"observedTimeUnixNano":"{fixed64(record.observed_timestamp)}"'
    event_name = getattr(record, "event_name", None)
    if event_name:
        text += f',"eventName":{encoder.plain_text(event_name)}'
    return "{" + text[1:] + "}"


# A record's severity is an enum member, slow to hash and to read: the last one's text is kept.
_last_severity: tuple[Any, str] = (None, "")


def _severity(number: Any) -> str:
    global _last_severity
    last = _last_severity
    if number is last[0]:
        return last[1]
    severity = getattr(number, "value", None)
    text = ""
    if severity:
        if not isinstance(severity, int) or not 0 < severity < 2**31:
            raise Unencodable("severity number")
        text = f',"severityNumber":{severity}'
    _last_severity = (number, text)
    return text
