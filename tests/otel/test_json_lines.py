"""The direct OTLP JSON encoder writes exactly the line the protobuf path writes.

Spans and log records are made with the real SDK (in-memory exporters), covering every field and
every kind of attribute value; each batch is encoded both ways and the lines must be equal,
character for character. Values the direct encoder leaves to the protobuf path must come out the
same, too. Masked, the line must be the protobuf path's line of the batch after the redaction
pass (`_redact`), with secrets registered before and after the values were first written.
"""

from __future__ import annotations

import math
import uuid
from typing import Any

import pytest
from opentelemetry import trace
from opentelemetry._logs import SeverityNumber
from opentelemetry.sdk._logs import LoggerProvider, ReadableLogRecord
from opentelemetry.sdk._logs.export import InMemoryLogRecordExporter, SimpleLogRecordProcessor
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, SpanLimits, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import Link, SpanContext, SpanKind, Status, StatusCode, TraceFlags
from opentelemetry.trace.span import TraceState

import flowlight
import flowlight.otel as otel
from flowlight.otel import _spool
from flowlight.otel._json_lines import logs_to_json_line, spans_to_json_line
from flowlight.otel._otlp_json import logs_to_request, request_to_json_line, spans_to_request
from flowlight.otel._redact import redact_log_records, redact_spans
from flowlight.utilities.redaction import MASK, register_secret

from . import flows

ATTRIBUTE_VALUES: dict[str, Any] = {
    "text": "plain",
    "empty": "",
    "unicode": 'naïve 東京 \U0001f600 "quoted" back\\slash\nnew line\x00',
    "true": True,
    "false": False,
    "zero": 0,
    "negative": -(2**63),
    "large": 2**63 - 1,
    "float": 1.5,
    "whole float": 2.0,
    "tiny": 5e-324,
    "negative zero": -0.0,
    "nan": math.nan,
    "infinity": math.inf,
    "minus infinity": -math.inf,
    "strings": ("a", "b"),
    "ints": (1, 2, 3),
    "floats": (0.1, 1e300),
    "bools": (True, False),
    "empty sequence": (),
    "": "empty key",
}


def spans_made(resource: Resource | None = None) -> list[ReadableSpan]:
    exporter = InMemorySpanExporter()
    provider = TracerProvider(resource=resource or Resource.create({"service.name": "tests"}))
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracer = provider.get_tracer("json-lines", "1.2.3", schema_url="https://example.com/s")
    other = provider.get_tracer("another-scope")
    remote = SpanContext(
        trace_id=0x0102030405060708090A0B0C0D0E0F10,
        span_id=0x1112131415161718,
        is_remote=True,
        trace_flags=TraceFlags(TraceFlags.SAMPLED),
        trace_state=TraceState([("vendor", "value"), ("other", "x")]),
    )
    with tracer.start_as_current_span("root", kind=SpanKind.SERVER) as root:
        root.set_attributes(ATTRIBUTE_VALUES)
        root.add_event("event", {"n": 1, "s": "é"})
        root.add_event("bare")
        root.set_status(Status(StatusCode.ERROR, "it broke: ünïcode"))
        for kind in SpanKind:
            with tracer.start_as_current_span(f"child {kind.name}", kind=kind) as child:
                child.set_status(Status(StatusCode.OK))
        other.start_span("other scope", links=[Link(remote, {"why": "because"})]).end()
    tracer.start_span("remote parent", context=trace.set_span_in_context(
        trace.NonRecordingSpan(remote))).end()  # fmt: skip
    tracer.start_span("").end()
    provider.shutdown()
    return list(exporter.get_finished_spans())


def records_made() -> list[ReadableLogRecord]:
    exporter = InMemoryLogRecordExporter()
    provider = LoggerProvider(resource=Resource.create({"service.name": "tests"}))
    provider.add_log_record_processor(SimpleLogRecordProcessor(exporter))
    logger = provider.get_logger("json-lines")
    tracer = TracerProvider().get_tracer("t")
    with tracer.start_as_current_span("s"):
        logger.emit(body="inside a span", severity_number=SeverityNumber.INFO, severity_text="INFO")
    logger.emit(body={"a": 1, "b": ["x", 2.5], "c": {"d": None}}, attributes=ATTRIBUTE_VALUES)
    logger.emit(body=None, severity_number=SeverityNumber.ERROR, event_name="flowlight.event")
    logger.emit(body=b"\x00\xffbytes", timestamp=1, observed_timestamp=2)
    logger.emit(body=("tuple", 1))
    provider.shutdown()
    return [
        ReadableLogRecord(
            log_record=data.log_record,
            resource=data.resource,
            instrumentation_scope=data.instrumentation_scope,
            limits=data.limits,
        )
        if not isinstance(data, ReadableLogRecord)
        else data
        for data in exporter.get_finished_logs()
    ]


def test_spans_are_written_as_the_protobuf_path_writes_them() -> None:
    """Every span field, kind, status, link, trace state and attribute type; two scopes."""
    spans = spans_made()
    assert spans_to_json_line(spans) == request_to_json_line(spans_to_request(spans))
    for span in spans:
        assert spans_to_json_line([span]) == request_to_json_line(spans_to_request([span]))


def test_spans_of_two_resources_are_grouped_as_the_protobuf_path_groups_them() -> None:
    first = spans_made(Resource.create({"service.name": "one"}))
    second = spans_made(Resource.create({"service.name": "two"}))
    mixed = [span for pair in zip(first, second, strict=True) for span in pair]
    assert spans_to_json_line(mixed) == request_to_json_line(spans_to_request(mixed))


def test_log_records_are_written_as_the_protobuf_path_writes_them() -> None:
    records = records_made()
    assert logs_to_json_line(records) == request_to_json_line(logs_to_request(records))
    for record in records:
        assert logs_to_json_line([record]) == request_to_json_line(logs_to_request([record]))


def test_values_left_to_the_protobuf_path_come_out_as_it_writes_them() -> None:
    """Out of range integers, text that is not UTF-8, types the encoder does not know: the
    exporters' encoder drops such an attribute (and logs why); the line says the same."""

    class Custom:
        pass

    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    span = provider.get_tracer("t").start_span("odd values")
    span.set_attribute("kept", "yes")
    span.end()
    provider.shutdown()
    finished = exporter.get_finished_spans()[0]
    for odd in (2**64, "lone \ud800 surrogate", Custom(), {"nested": 1}):
        attributes = dict(finished.attributes or {}, odd=odd)
        altered = ReadableSpan(
            name=finished.name,
            context=finished.context,
            resource=finished.resource,
            attributes=attributes,
            instrumentation_scope=finished.instrumentation_scope,
            start_time=finished.start_time,
            end_time=finished.end_time,
        )
        expected = request_to_json_line(spans_to_request([altered]))
        assert spans_to_json_line([altered]) == expected
        assert '"kept"' in expected


def test_a_flow_run_is_written_to_the_files_as_the_protobuf_path_writes_it(
    local_files: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A real instrumented run, through the bridge's own processors: every line in the trace
    and log files equals the protobuf path's line for the same batch."""
    captured: dict[str, list[Any]] = {"traces": [], "logs": []}

    def keep_spans(batch: Any, **options: Any) -> str:
        captured["traces"].append(list(batch))
        return spans_to_json_line(batch, **options)

    def keep_logs(batch: Any, **options: Any) -> str:
        captured["logs"].append(list(batch))
        return logs_to_json_line(batch, **options)

    monkeypatch.setattr(_spool, "spans_to_json_line", keep_spans)
    monkeypatch.setattr(_spool, "logs_to_json_line", keep_logs)
    state = otel.instrument(flows.success_flow()).run()
    otel.flush()
    assert isinstance(state, flowlight.engine.state.State) and state.is_successful()
    trace_lines = (local_files / "traces.jsonl").read_text().splitlines()
    log_lines = (local_files / "logs.jsonl").read_text().splitlines()
    assert captured["traces"] and captured["logs"]
    assert trace_lines == [
        request_to_json_line(spans_to_request(batch)) for batch in captured["traces"]
    ]
    assert log_lines == [request_to_json_line(logs_to_request(batch)) for batch in captured["logs"]]


def secret_spans(secret: str) -> list[ReadableSpan]:
    """A secret in every place a span carries text: masked ones and the ones left as they are
    (an event's name, the resource, a link's attributes, a key)."""
    exporter = InMemorySpanExporter()
    provider = TracerProvider(resource=Resource.create({"service.name": f"svc-{secret}"}))
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracer = provider.get_tracer("json-lines")
    remote = SpanContext(trace_id=7, span_id=8, is_remote=True)
    with tracer.start_as_current_span(
        f"call {secret}", links=[Link(remote, {"link": secret})]
    ) as span:
        span.set_attributes(
            {
                "text": f"token={secret}",
                "texts": (f"a {secret}", "b", secret),
                "numbers": (1, 2),
                "flag": True,
                f"key-{secret}": "value",
                "clean": "nothing to hide",
            }
        )
        span.add_event(f"event {secret}", {"said": f"refused {secret}", "n": 3})
        span.add_event("again", {"said": f"refused {secret}", "n": 3})
        span.set_status(Status(StatusCode.ERROR, f"failed: {secret}"))
    provider.shutdown()
    return list(exporter.get_finished_spans())


def secret_records(secret: str) -> list[ReadableLogRecord]:
    exporter = InMemoryLogRecordExporter()
    provider = LoggerProvider(resource=Resource.create({"service.name": "tests"}))
    provider.add_log_record_processor(SimpleLogRecordProcessor(exporter))
    logger = provider.get_logger("json-lines")
    for body in (
        f"task push-{secret}: Running",
        {"url": f"https://x/?t={secret}", "nested": [secret, 1, {"deeper": secret}]},
        ("tuple", secret),
        "no secret here",
    ):
        logger.emit(
            body=body,
            attributes={"task": f"push-{secret}", "n": 2, "list": (secret, "x")},
            severity_number=SeverityNumber.INFO,
            severity_text="INFO",
            event_name=f"e-{secret}",
        )
    provider.shutdown()
    return list(exporter.get_finished_logs())


def test_masked_lines_are_those_of_the_redacted_batch() -> None:
    """Spans and records written with `masked` are the protobuf path's line of the batch after
    the redaction pass: every registered secret masked exactly where that pass masks it."""
    secret = f"tok-{uuid.uuid4().hex}"
    register_secret(secret)
    spans = secret_spans(secret)
    records = secret_records(secret)
    for _ in range(2):  # the second time from the text the encoder kept
        line = spans_to_json_line(spans, masked=True)
        assert line == request_to_json_line(spans_to_request(redact_spans(spans)))
        assert f"call {MASK}" in line and f"event {secret}" in line
        logs_line = logs_to_json_line(records, masked=True)
        assert logs_line == request_to_json_line(logs_to_request(redact_log_records(records)))
        assert f"push-{MASK}" in logs_line and f"e-{secret}" in logs_line
    assert spans_to_json_line(spans) == request_to_json_line(spans_to_request(spans))


def test_a_secret_registered_after_a_value_was_written_is_masked_in_the_next_line() -> None:
    secret = f"tok-{uuid.uuid4().hex}"
    spans = secret_spans(secret)
    records = secret_records(secret)
    assert f"call {secret}" in spans_to_json_line(spans, masked=True)
    assert f"push-{secret}" in logs_to_json_line(records, masked=True)
    register_secret(secret)
    spans_line = spans_to_json_line(spans, masked=True)
    logs_line = logs_to_json_line(records, masked=True)
    assert f"call {MASK}" in spans_line and f"token={MASK}" in spans_line
    assert f"push-{MASK}" in logs_line and f"push-{secret}" not in logs_line
    assert spans_line == request_to_json_line(spans_to_request(redact_spans(spans)))


def test_masked_text_that_utf8_cannot_encode_is_written_as_its_escape() -> None:
    """The redaction pass makes such text encodable: the masked line keeps the attribute (as
    its escape) where the unmasked one leaves the batch to protobuf, which drops it."""
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    span = provider.get_tracer("t").start_span("lone \ud800 name")
    span.set_attribute("odd", "lone \udcff surrogate")
    span.end()
    provider.shutdown()
    spans = list(exporter.get_finished_spans())
    line = spans_to_json_line(spans, masked=True)
    assert line == request_to_json_line(spans_to_request(redact_spans(spans)))
    assert "\\\\udcff" in line


def test_attribute_values_that_repeat_many_times_are_written_the_same() -> None:
    """Past the number of values kept per key, and past the whole kept budget, the text is the
    same as when it was kept."""
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracer = provider.get_tracer("t")
    for i in range(3000):
        with tracer.start_as_current_span(f"s{i % 7}") as span:
            span.set_attributes(
                {"id": f"run-{i}", "n": i, "same": "x", f"k{i}": i % 3, f"j{i}": f"v{i % 2}"}
            )
    provider.shutdown()
    spans = list(exporter.get_finished_spans())
    # masked, the reference is the redacted batch: secrets registered by other code in this
    # process (say "1234") are masked in these values too
    for masked, reference in ((False, spans), (True, redact_spans(spans))):
        for _ in range(2):
            line = spans_to_json_line(spans, masked=masked)
            assert line == request_to_json_line(spans_to_request(reference))


def test_dropped_counts_and_span_subclasses_are_written_as_the_protobuf_path_writes_them() -> None:
    """Limits that drop attributes, events and links (the counts are written), and a span of a
    ReadableSpan subclass (read through its public properties only)."""

    class Subclassed(ReadableSpan):
        pass

    exporter = InMemorySpanExporter()
    limits = SpanLimits(max_span_attributes=2, max_events=1, max_links=1, max_event_attributes=1)
    provider = TracerProvider(span_limits=limits)
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    remote = SpanContext(trace_id=5, span_id=6, is_remote=True)
    span = provider.get_tracer("limits").start_span(
        "limited", links=[Link(remote, {"a": 1}), Link(remote, {"b": 2})]
    )
    span.set_attributes({"a": 1, "b": "two", "c": 3.0})
    span.add_event("first", {"x": 1, "y": 2})
    span.add_event("second")
    span.end()
    provider.shutdown()
    (limited,) = exporter.get_finished_spans()
    assert limited.dropped_attributes and limited.dropped_events and limited.dropped_links
    copied = Subclassed(
        name=limited.name,
        context=limited.context,
        parent=limited.parent,
        resource=limited.resource,
        attributes=limited.attributes,
        events=limited.events,
        links=limited.links,
        status=limited.status,
        start_time=limited.start_time,
        end_time=limited.end_time,
        instrumentation_scope=limited.instrumentation_scope,
    )
    for spans in ([limited], [copied]):
        for masked in (False, True):
            expected = request_to_json_line(spans_to_request(spans))
            assert spans_to_json_line(spans, masked=masked) == expected
    assert '"droppedAttributesCount":1' in spans_to_json_line([limited])
    assert '"droppedEventsCount":1' in spans_to_json_line([limited])
    assert '"droppedLinksCount":1' in spans_to_json_line([limited])
