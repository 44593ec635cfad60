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

from opentelemetry.attributes import BoundedAttributes
from opentelemetry.sdk._logs import ReadableLogRecord
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.util import BoundedList
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
    attributes, events, links, dropped = _contents(span)
    attributes_text = f',"attributes":{encoder.key_values(attributes)}' if attributes else ""
    if dropped[0]:
        attributes_text += f',"droppedAttributesCount":{uint32(dropped[0])}'
    events_text = (
        ',"events":[' + ",".join([_event(event, encoder) for event in events]) + "]"
        if events
        else ""
    )
    if dropped[1]:
        events_text += f',"droppedEventsCount":{uint32(dropped[1])}'
    links_text = ',"links":[' + ",".join([_link(link) for link in links]) + "]" if links else ""
    if dropped[2]:
        links_text += f',"droppedLinksCount":{uint32(dropped[2])}'
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


_NOTHING_DROPPED = (0, 0, 0)


def _contents(span: ReadableSpan) -> tuple[Any, Any, Any, tuple[int, int, int]]:
    """A span's attributes, events, links and the counts dropped of each. The SDK's own
    `ReadableSpan` is read directly: its properties copy the events and links, put the
    attributes behind a proxy and check each container's type through the ABC machinery."""
    if type(span) is not ReadableSpan:
        dropped = (span.dropped_attributes, span.dropped_events, span.dropped_links)
        return span.attributes, span.events, span.links, dropped
    attributes: Any = span._attributes
    events: Any = span._events
    links: Any = span._links
    if type(attributes) is dict and type(events) is list and type(links) in (list, tuple):
        return attributes, events, links, _NOTHING_DROPPED
    dropped = (
        attributes.dropped if type(attributes) is BoundedAttributes else span.dropped_attributes,
        events.dropped if type(events) is BoundedList else span.dropped_events,
        links.dropped if type(links) is BoundedList else span.dropped_links,
    )
    return attributes, tuple(events or ()), tuple(links or ()), dropped


def _event(event: Any, encoder: TextEncoder) -> str:
    timestamp = event.timestamp
    time_text = f'"timeUnixNano":"{fixed64(timestamp)}",' if timestamp else ""
    name = event.name
    name_text = f'"name":{encoder.plain_text(name)},' if name else ""
    attributes = event.attributes
    attributes_text = f'"attributes":{encoder.key_values(attributes)},' if attributes else ""
    dropped = 0 if type(attributes) is dict else event.dropped_attributes
    dropped_text = f'"droppedAttributesCount":{uint32(dropped)},' if dropped else ""
    fields = f"{time_text}{name_text}{attributes_text}{dropped_text}"
    return "{" + fields[:-1] + "}"


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
    timestamp = record.timestamp
    head = f',"timeUnixNano":"{fixed64(timestamp)}"' if timestamp else ""
    head += _severity(record.severity_number)
    severity_text = record.severity_text
    if severity_text:
        head += f',"severityText":{encoder.plain_text(severity_text)}'
    body = record.body
    body_text = (
        f'{{"stringValue":{encoder.text(body)}}}' if type(body) is str else encoder.any_value(body)
    )
    attributes = record.attributes
    attributes_text = f',"attributes":{encoder.key_values(attributes)}' if attributes else ""
    dropped = 0 if type(attributes) is dict else readable.dropped_attributes
    dropped_text = f',"droppedAttributesCount":{uint32(dropped)}' if dropped else ""
    trace_flags = record.trace_flags
    flags = int(trace_flags) if trace_flags is not None else 0
    flags_text = f',"flags":{uint32(flags)}' if flags else ""
    trace_id = record.trace_id
    trace_text = f',"traceId":"{trace_id_text(trace_id)}"' if trace_id else ""
    span_id = record.span_id
    span_text = f',"spanId":"{span_id_text(span_id)}"' if span_id else ""
    observed = record.observed_timestamp
    observed_text = f',"observedTimeUnixNano":"{fixed64(observed)}"' if observed else ""
    event_name = getattr(record, "event_name", None)
    event_text = f',"eventName":{encoder.plain_text(event_name)}' if event_name else ""
    return (
        f'{{{head[1:] + "," if head else ""}"body":{body_text}{attributes_text}{dropped_text}'
        f"{flags_text}{trace_text}{span_text}{observed_text}{event_text}}}"
    )


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
