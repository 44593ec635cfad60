"""The bridge's last redaction pass over span and log record batches, on spans and log records
made by the real OpenTelemetry SDK (collected in memory, exactly as an exporter receives them)."""

from __future__ import annotations

import uuid
from typing import Any

from opentelemetry._logs import SeverityNumber
from opentelemetry.sdk._logs import LoggerProvider, ReadableLogRecord
from opentelemetry.sdk._logs.export import InMemoryLogRecordExporter, SimpleLogRecordProcessor
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, Status, StatusCode
from tests.fresh_interpreter import printed_by_a_fresh_interpreter

from flowlight.otel._redact import redact_log_records, redact_spans
from flowlight.utilities.redaction import MASK, register_secret


def one_span(
    name: str, *, attributes: dict[str, Any], event: dict[str, Any], status: str
) -> ReadableSpan:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracer = provider.get_tracer("redact-tests")
    with (
        tracer.start_as_current_span("parent"),
        tracer.start_as_current_span(name, kind=SpanKind.CLIENT, attributes=attributes) as span,
    ):
        span.add_event("plain", {"n": 1})
        span.add_event("said", event)
        span.set_status(Status(StatusCode.ERROR, status))
    provider.shutdown()
    return next(s for s in exporter.get_finished_spans() if s.name == name)


def one_log_record(body: Any, attributes: dict[str, Any]) -> ReadableLogRecord:
    exporter = InMemoryLogRecordExporter()
    provider = LoggerProvider()
    provider.add_log_record_processor(SimpleLogRecordProcessor(exporter))
    provider.get_logger("redact-tests").emit(
        body=body, attributes=attributes, severity_number=SeverityNumber.INFO, event_name="e"
    )
    provider.shutdown()
    (record,) = exporter.get_finished_logs()
    return record


def test_every_text_of_a_span_is_masked_and_everything_else_kept() -> None:
    secret = f"tok-{uuid.uuid4().hex}"
    register_secret(secret)
    span = one_span(
        f"call-{secret}",
        attributes={
            "text": f"with {secret}",
            "texts": [f"a {secret}", "b"],
            "numbers": [1, 2],
            "flag": True,
            "plain": "nothing",
        },
        event={"message": f"refused {secret}", "count": 3},
        status=f"failed: {secret}",
    )
    (masked,) = redact_spans([span])
    assert masked.name == f"call-{MASK}"
    assert dict(masked.attributes or {}) == {
        "text": f"with {MASK}",
        "texts": (f"a {MASK}", "b"),
        "numbers": (1, 2),
        "flag": True,
        "plain": "nothing",
    }
    assert [(e.name, dict(e.attributes or {})) for e in masked.events] == [
        ("plain", {"n": 1}),
        ("said", {"message": f"refused {MASK}", "count": 3}),
    ]
    assert masked.events[0] is span.events[0]
    assert masked.events[1].timestamp == span.events[1].timestamp
    assert masked.status.status_code is StatusCode.ERROR
    assert masked.status.description == f"failed: {MASK}"
    assert masked.context == span.context
    assert masked.parent == span.parent
    assert masked.kind is SpanKind.CLIENT
    assert (masked.start_time, masked.end_time) == (span.start_time, span.end_time)
    assert masked.resource is span.resource
    assert masked.instrumentation_scope == span.instrumentation_scope
    assert list(masked.links) == list(span.links)


def test_a_span_without_a_secret_is_passed_through_as_it_is() -> None:
    register_secret(f"tok-{uuid.uuid4().hex}")
    span = one_span("clean", attributes={"a": "b", "c": [1]}, event={"m": "x"}, status="boom")
    (same,) = redact_spans([span])
    assert same is span


def test_only_the_status_holding_a_secret_is_enough_to_mask_a_span() -> None:
    secret = f"tok-{uuid.uuid4().hex}"
    register_secret(secret)
    span = one_span("status-only", attributes={}, event={}, status=f"no: {secret}")
    (masked,) = redact_spans([span])
    assert masked is not span
    assert masked.status.description == f"no: {MASK}"
    assert masked.name == "status-only"


def test_only_an_event_holding_a_secret_is_enough_to_mask_a_span() -> None:
    secret = f"tok-{uuid.uuid4().hex}"
    register_secret(secret)
    span = one_span("event-only", attributes={"k": "v"}, event={"m": secret}, status="")
    (masked,) = redact_spans([span])
    assert dict(masked.events[1].attributes or {}) == {"m": MASK}
    assert dict(masked.attributes or {}) == {"k": "v"}


def test_log_records_have_body_and_attributes_masked() -> None:
    secret = f"tok-{uuid.uuid4().hex}"
    register_secret(secret)
    record = one_log_record(f"task push-{secret}: Running", {"task": f"push-{secret}", "n": 2})
    clean = one_log_record("nothing here", {"task": "plain"})
    masked, untouched = redact_log_records([record, clean])
    assert masked.log_record.body == f"task push-{MASK}: Running"
    assert dict(masked.log_record.attributes or {}) == {"task": f"push-{MASK}", "n": 2}
    assert masked.log_record.severity_number is SeverityNumber.INFO
    assert masked.log_record.timestamp == record.log_record.timestamp
    assert masked.resource is record.resource
    assert record.log_record.body == f"task push-{secret}: Running"
    assert untouched is clean


def test_a_log_record_with_only_a_secret_attribute_is_masked() -> None:
    secret = f"tok-{uuid.uuid4().hex}"
    register_secret(secret)
    record = one_log_record("no secret in the body", {"task": secret})
    (masked,) = redact_log_records([record])
    assert dict(masked.log_record.attributes or {}) == {"task": MASK}


FRESH_PROCESS = """
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
    from flowlight.otel._redact import redact_log_records, redact_spans
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    provider.get_tracer("t").start_span("s").end()
    spans = exporter.get_finished_spans()
    records = ()
    same = all(a is b for a, b in zip(redact_spans(spans), spans, strict=True))
    print(same, list(redact_log_records(records)) == [])
"""


def test_with_no_secret_registered_batches_are_handed_on_untouched() -> None:
    assert printed_by_a_fresh_interpreter(FRESH_PROCESS) == ["True", "True"]
