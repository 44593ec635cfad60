"""The recording path exports exactly what the public API path exports.

For the SDK's own tracer and logger the bridge makes run spans and transition log records
directly (`flowlight.otel._recording`); for any other provider it goes through the API. Each test
runs the same flows twice, each in a fresh interpreter (a global provider can be set once per
process): once with the application's SDK providers installed as they are (the recording path),
once with the same SDK providers behind an application's own forwarding provider, which is not
the SDK's (the API path). The exported spans and log records must agree field by field, with
ids, uuids and times replaced by the order they first appear in.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from .test_layering import run_python

_SCRIPT = """
    import json, re, sys
    from opentelemetry import _logs, trace
    from opentelemetry.sdk._logs import LoggerProvider, LogRecordLimits
    from opentelemetry.sdk._logs.export import SimpleLogRecordProcessor
    from opentelemetry.sdk._logs.export import InMemoryLogRecordExporter
    from opentelemetry.sdk.trace import SpanLimits, TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
    from opentelemetry.sdk.trace.sampling import (
        ALWAYS_OFF, Decision, Sampler, SamplingResult
    )

    MODE, CASE = sys.argv[1], sys.argv[2]

    class ForwardingTracer(trace.Tracer):
        def __init__(self, real): self.real = real
        def start_span(self, *args, **kwargs): return self.real.start_span(*args, **kwargs)
        def start_as_current_span(self, *args, **kwargs):
            return self.real.start_as_current_span(*args, **kwargs)

    class ForwardingTracerProvider(trace.TracerProvider):
        "An application's own provider, not the SDK's: the bridge must use its API."
        def __init__(self, real): self.real = real
        def get_tracer(self, *args, **kwargs):
            return ForwardingTracer(self.real.get_tracer(*args, **kwargs))

    class ForwardingLogger(_logs.Logger):
        def __init__(self, real): super().__init__("forwarding"); self.real = real
        def emit(self, *args, **kwargs): self.real.emit(*args, **kwargs)
        def enabled(self, *args, **kwargs): return self.real.enabled(*args, **kwargs)

    class ForwardingLoggerProvider(_logs.LoggerProvider):
        def __init__(self, real): self.real = real
        def get_logger(self, *args, **kwargs):
            return ForwardingLogger(self.real.get_logger(*args, **kwargs))

    class TaggingSampler(Sampler):
        "A sampler that decides per span and adds an attribute of its own."
        def should_sample(self, parent_context, trace_id, name, kind=None, attributes=None,
                          links=None, trace_state=None):
            tagged = {**(attributes or {}), "sampled.by": "tagging"}
            return SamplingResult(Decision.RECORD_AND_SAMPLE, tagged, None)
        def get_description(self):
            return "TaggingSampler"

    tracer_options, logger_options = {}, {}
    if CASE == "unsampled":
        tracer_options["sampler"] = ALWAYS_OFF
    if CASE == "tagging":
        tracer_options["sampler"] = TaggingSampler()
    if CASE == "limits":
        tracer_options["span_limits"] = SpanLimits(
            max_span_attributes=6, max_events=3, max_event_attributes=2, max_attribute_length=12
        )
        logger_options["log_record_limits"] = LogRecordLimits(
            max_log_record_attributes=4, max_log_record_attribute_length=10
        )
    spans, records = InMemorySpanExporter(), InMemoryLogRecordExporter()
    tracer_provider = TracerProvider(**tracer_options)
    tracer_provider.add_span_processor(SimpleSpanProcessor(spans))
    logger_provider = LoggerProvider(**logger_options)
    logger_provider.add_log_record_processor(SimpleLogRecordProcessor(records))
    if MODE == "api":
        trace.set_tracer_provider(ForwardingTracerProvider(tracer_provider))
        _logs.set_logger_provider(ForwardingLoggerProvider(logger_provider))
    else:
        trace.set_tracer_provider(tracer_provider)
        _logs.set_logger_provider(logger_provider)

    import flowlight
    import flowlight.otel
    from flowlight import Flow, task
    from tests.otel import flows

    telemetry = flowlight.otel.configure()
    recording = telemetry.span_recorder() is not None and telemetry.log_recorder() is not None
    seen = {}

    @task
    def users_code():
        "A task whose code uses the current span as an application would."
        current = trace.get_current_span()
        current.set_attribute("user.key", "user value")
        current.set_attributes({"user.count": 3, "user.tags": ["a", "b"]})
        current.add_event("user.event", {"user.detail": "something happened"})
        try:
            raise KeyError("looked up")
        except KeyError as error:
            current.record_exception(error)
        with trace.get_tracer("users.app").start_as_current_span("users-child") as child:
            child.set_attribute("child.key", 1)
        current.add_link(child.get_span_context(), {"link.reason": "made by this task"})
        seen["traceparent"] = flowlight.context.get("traceparent")
        seen["span"] = type(current).__name__
        return 1

    with Flow("users") as users_flow:
        users_code()

    for flow in (
        users_flow,
        flows.retrying_flow(),
        flows.failing_flow(),
        flows.mapped_flow(),
        flows.trigger_failed_flow(),
    ):
        flowlight.otel.instrument(flow).run()
    flowlight.otel.flush()

    names = {}
    def label(kind, value):
        return f"{kind}{names.setdefault((kind, value), len(names))}"

    UUID = re.compile(r"[0-9a-f]{8}(-[0-9a-f]{1,12})+")  # whole, or as a limit cut it
    TIME = re.compile(r"\\d{4}-\\d\\d-\\d\\dT[0-9:.]+(\\+00:00|Z)?")
    def plain(value):
        if isinstance(value, str):
            value = UUID.sub(lambda m: label("uuid", m.group(0)), value)
            return TIME.sub("<time>", value)
        if isinstance(value, (list, tuple)):
            return [type(value).__name__] + [plain(v) for v in value]
        return value
    def attributes(mapping):
        return [[key, plain(value)] for key, value in (mapping or {}).items()]

    def span_context(context):
        if context is None:
            return None
        return [label("trace", context.trace_id), label("span", context.span_id),
                int(context.trace_flags), context.is_remote]

    exported_spans = [
        {
            "name": s.name,
            "context": span_context(s.context),
            "parent": span_context(s.parent),
            "kind": str(s.kind),
            "attributes": attributes(s.attributes),
            "attributes_type": type(s.attributes).__name__,
            "dropped_attributes": s.dropped_attributes,
            "events": [[e.name, attributes(e.attributes), e.dropped_attributes] for e in s.events],
            "dropped_events": s.dropped_events,
            "links": len(s.links),
            "status": [str(s.status.status_code), plain(s.status.description)],
            "resource": attributes(s.resource.attributes),
            "scope": [s.instrumentation_scope.name, s.instrumentation_scope.version],
            "ordered_times": s.start_time <= s.end_time,
        }
        for s in spans.get_finished_spans()
    ]
    exported_logs = []
    for readable in records.get_finished_logs():
        record = readable.log_record
        exported_logs.append({
            "body": plain(record.body),
            "severity": [str(record.severity_number), record.severity_text],
            "attributes": attributes(record.attributes),
            "dropped_attributes": readable.dropped_attributes,
            "event_name": record.event_name,
            "trace": [label("trace", record.trace_id), label("span", record.span_id),
                      int(record.trace_flags)],
            "timestamp": record.timestamp,
            "observed": record.observed_timestamp > 0,
            "resource": attributes(readable.resource.attributes),
            "scope": [readable.instrumentation_scope.name],
        })
    print(json.dumps({
        "recording": recording,
        "span_in_task": seen["span"],
        "traceparent": plain(seen["traceparent"]).rsplit("-", 1)[-1],
        "trace_id_valid": seen["traceparent"].split("-")[1] != "0" * 32,
        "spans": exported_spans,
        "logs": exported_logs,
    }))
"""


def _exported(tmp_path: Path, mode: str, case: str) -> dict[str, Any]:
    script = f"import sys; sys.argv[1:] = [{mode!r}, {case!r}]\n" + _dedented(_SCRIPT)
    where = tmp_path / f"{mode}-{case}"
    where.mkdir()
    result: dict[str, Any] = json.loads(run_python(script, where).strip().splitlines()[-1])
    return result


def _dedented(script: str) -> str:
    import textwrap

    return textwrap.dedent(script)


def _both(tmp_path: Path, case: str) -> tuple[dict[str, Any], dict[str, Any]]:
    direct, api = _exported(tmp_path, "direct", case), _exported(tmp_path, "api", case)
    # Each really took its path: the SDK's providers are recorded into directly, the forwarding
    # ones through their API.
    assert (direct.pop("recording"), api.pop("recording")) == (True, False)
    spans_in_task = (direct.pop("span_in_task"), api.pop("span_in_task"))
    if case == "unsampled":
        assert spans_in_task == ("NonRecordingSpan", "NonRecordingSpan")
    else:
        assert spans_in_task == ("RunSpan", "_Span")
    return direct, api


def test_the_recording_path_exports_what_the_api_path_exports(tmp_path: Path) -> None:
    """A user's attributes, events, exception and child span on the current span, a retry, a
    failure with its traceback, a mapped run and a trigger failure: the same spans and log
    records, field by field, in the same order."""
    direct, api = _both(tmp_path, "default")
    assert direct["spans"], "nothing was exported"
    names = [span["name"] for span in direct["spans"]]
    assert {"users_code", "users-child", "flaky", "bad", "double[2]", "down"} <= set(names)
    users = next(span for span in direct["spans"] if span["name"] == "users_code")
    assert ["user.tags", ["tuple", "a", "b"]] in users["attributes"]
    events = [event[0] for event in users["events"]]
    assert events == ["Running", "user.event", "exception", "Success"]
    assert users["links"] == 1
    child = next(span for span in direct["spans"] if span["name"] == "users-child")
    assert child["parent"] == users["context"]
    assert int(direct["traceparent"], 16) & 1  # sampled
    for kind in ("spans", "logs"):
        assert len(direct[kind]) == len(api[kind])
        for mine, reference in zip(direct[kind], api[kind], strict=True):
            assert mine == reference
    assert direct == api


def test_an_unsampled_run_exports_no_span_and_still_propagates_its_trace(tmp_path: Path) -> None:
    """With a sampler that samples nothing, no span is exported on either path, the task's code
    still sees a traceparent (flags 00) naming a valid trace, and the log records agree."""
    direct, api = _both(tmp_path, "unsampled")
    assert direct["spans"] == api["spans"] == []
    assert direct["traceparent"] == api["traceparent"]
    assert not int(direct["traceparent"], 16) & 1  # not sampled
    assert direct["trace_id_valid"] and api["trace_id_valid"]
    assert direct["logs"] and direct["logs"] == api["logs"]


def test_span_and_log_limits_drop_and_count_as_the_sdk_does(tmp_path: Path) -> None:
    """Provider limits on attributes, events and value lengths: the same attributes kept, the
    same values cut, the same dropped counts exported."""
    direct, api = _both(tmp_path, "limits")
    assert any(span["dropped_attributes"] for span in direct["spans"])
    assert any(span["dropped_events"] for span in direct["spans"])
    assert any(log["dropped_attributes"] for log in direct["logs"])
    assert direct == api


def test_a_sampler_that_decides_per_span_is_asked_and_its_attributes_kept(tmp_path: Path) -> None:
    """A sampler other than the SDK's parent-based or constant ones is asked for every run span,
    and the attributes it returns are the span's, on both paths."""
    direct, api = _both(tmp_path, "tagging")
    assert direct["spans"]
    assert all(["sampled.by", "tagging"] in span["attributes"] for span in direct["spans"])
    assert direct == api
