"""The last redaction pass, on spans and log records about to be exported.

The handler redacts what it writes, but a value can become secret after it was recorded: a
parameter or a result holding a token is only known to be one once `Secret.get()` hands it out,
perhaps later in the same run. Spans leave the process in batches (at the latest when the flow
run ends), so redacting each batch again on its way out masks those too, off the task's path.

Every string inside an attribute's value is masked, at any depth, as `redact_value` does; keys
are not. The local files get the same masking from their encoder (`_json_lines` with `masked`),
in the pass that writes them: only a batch for a collector goes through here.
"""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Sequence
from typing import Any

from opentelemetry.sdk._logs import ReadableLogRecord
from opentelemetry.sdk.trace import Event, ReadableSpan
from opentelemetry.trace import Status

from flowlight.otel._json_values import items_of
from flowlight.utilities.redaction import redact, redact_value

__all__ = ["redact_log_records", "redact_spans"]


def redact_spans(spans: Sequence[ReadableSpan]) -> Sequence[ReadableSpan]:
    """`spans` with every registered secret masked and every text made encodable; a span with
    nothing to change is passed through as it is."""
    return [_redact_span(span) for span in spans]


def _redact_span(span: ReadableSpan) -> ReadableSpan:
    attributes, changed = _redact_attributes(span.attributes)
    events = []
    for event in span.events:
        event_attributes, event_changed = _redact_attributes(event.attributes)
        if event_changed:
            events.append(Event(event.name, event_attributes, event.timestamp))
            changed = True
        else:
            events.append(event)
    status = span.status
    if status.description and redact(status.description) != status.description:
        status = Status(status.status_code, redact(status.description))
        changed = True
    name = redact(span.name)
    if not changed and name == span.name:
        return span
    return ReadableSpan(
        name=name,
        context=span.context,
        parent=span.parent,
        resource=span.resource,
        attributes=attributes,
        events=events,
        links=span.links,
        kind=span.kind,
        status=status,
        start_time=span.start_time,
        end_time=span.end_time,
        instrumentation_scope=span.instrumentation_scope,
    )


def _redact_attributes(attributes: Any) -> tuple[dict[str, Any], bool]:
    cleaned: dict[str, Any] = {}
    changed = False
    for key, value in items_of(attributes or {}):
        new = redact_value(value)
        changed = changed or new != value
        cleaned[key] = new
    return cleaned, changed


def redact_log_records(records: Sequence[ReadableLogRecord]) -> Sequence[ReadableLogRecord]:
    """`records` with every registered secret masked in body and attributes (see `redact_spans`:
    a record written before its run read a secret leaves the process after it)."""
    return [_redact_log_record(record) for record in records]


def _redact_log_record(record: ReadableLogRecord) -> ReadableLogRecord:
    inner = record.log_record
    attributes, changed = _redact_attributes(inner.attributes)
    body = redact_value(inner.body)
    if not changed and body == inner.body:
        return record
    copied = copy.copy(inner)
    copied.body = body
    copied.attributes = attributes
    return dataclasses.replace(record, log_record=copied)
