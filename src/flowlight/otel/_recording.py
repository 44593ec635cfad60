"""The recording path: run spans and transition log records made directly as the SDK's objects.

The SDK's public API costs far more per run than the telemetry itself: a span's lifecycle through
`Tracer.start_span` takes ~26 µs, building the same `ReadableSpan` directly ~2 µs; `Logger.emit`
~9 µs against ~2 µs for the record it builds. Most of the difference is generic work the bridge
does not need for its own data (every attribute cleaned and re-checked, locks per call, a
snapshot copy at the end). So for a tracer or logger of the SDK itself, the bridge makes the
same objects the SDK would (`ReadableSpan` with `BoundedAttributes` and the provider's limits,
resource, scope, sampler and id generator; `ReadWriteLogRecord`) and hands them to the provider's
own processors: the official exporters, the bridge's batching and an application's processors
see exactly what the public API would have given them.

`RunSpan` is a full `opentelemetry.trace.Span`: user code inside a task finds it as the current
span, parents its own spans to it, and what it sets on it is exported. Anything else (an
application's own non-SDK provider, a disabled SDK) keeps the public API (`recorder_for` answers
None), which stays the reference the recording path is tested against.
"""

from __future__ import annotations

import threading
import time
import warnings
from collections.abc import Mapping, Sequence
from typing import Any, cast

from opentelemetry import trace
from opentelemetry._logs import LogRecord, SeverityNumber
from opentelemetry.attributes import BoundedAttributes
from opentelemetry.context import Context
from opentelemetry.sdk import trace as sdk_trace
from opentelemetry.sdk._logs import Logger as SdkLogger
from opentelemetry.sdk._logs import LogRecordDroppedAttributesWarning, ReadWriteLogRecord
from opentelemetry.sdk.trace import Event, ReadableSpan
from opentelemetry.sdk.trace.sampling import Decision, ParentBased, StaticSampler
from opentelemetry.sdk.util import BoundedList
from opentelemetry.trace import Link, SpanContext, SpanKind, Status, StatusCode, TraceFlags
from opentelemetry.util import types

__all__ = [
    "LogRecorder",
    "RunSpan",
    "SpanRecorder",
    "add_own_event",
    "log_recorder_for",
    "set_own_attributes",
]

_SAMPLED = TraceFlags(TraceFlags.SAMPLED)
_NOT_SAMPLED = TraceFlags(TraceFlags.DEFAULT)
_UNSET = Status(StatusCode.UNSET)


def bounded(
    attributes: dict[str, Any], maxlen: int | None, max_value_len: int | None
) -> BoundedAttributes:
    """A span's `BoundedAttributes`, starting with attributes the bridge built itself (texts,
    numbers, tuples of texts): not cleaned again when the limits cannot change any of them,
    otherwise exactly as the SDK cleans, truncates and drops. Later attributes (user code's
    `set_attribute`) go through the SDK's own checks."""
    if max_value_len is None and (maxlen is None or len(attributes) <= maxlen):
        made: BoundedAttributes = object.__new__(BoundedAttributes)
        made._dict = attributes
        made.maxlen = maxlen
        made.dropped = 0
        made.max_value_len = None
        made._lock = threading.Lock()
        made._immutable = False
        return made
    return BoundedAttributes(maxlen, attributes, immutable=False, max_value_len=max_value_len)


def limited(
    attributes: dict[str, Any], maxlen: int | None, max_value_len: int | None
) -> Mapping[str, Any]:
    """An event's or a log record's attributes the bridge built itself, as exported: the plain
    dict when the limits cannot change it (an exporter reads the same values and no dropped
    count, and a dict of texts is no work for the garbage collector), else the SDK's
    `BoundedAttributes` with what the limits cut and dropped."""
    if max_value_len is None and (maxlen is None or len(attributes) <= maxlen):
        return attributes
    return BoundedAttributes(maxlen, attributes, immutable=True, max_value_len=max_value_len)


class SpanRecorder:
    """Starts run spans for one SDK tracer, as its `start_span` would, for less."""

    __slots__ = (
        "event_attribute_limit",
        "events_limit",
        "id_generator",
        "info",
        "link_attribute_limit",
        "links_limit",
        "metrics",
        "processor",
        "sampler",
        "scope",
        "span_attribute_limit",
        "span_value_limit",
        "static_decisions",
        "tracer",
        "value_limit",
    )

    def __init__(self, tracer: sdk_trace.Tracer) -> None:
        limits = tracer._span_limits
        self.tracer = tracer
        self.scope = tracer._instrumentation_scope
        self.info = tracer.instrumentation_info
        self.processor = tracer.span_processor
        self.sampler = tracer.sampler
        self.static_decisions = _static_decisions(tracer.sampler)
        self.id_generator = tracer.id_generator
        self.metrics = tracer._tracer_metrics
        self.span_attribute_limit = limits.max_span_attributes
        self.span_value_limit = limits.max_span_attribute_length
        self.event_attribute_limit = limits.max_event_attributes
        self.value_limit = limits.max_attribute_length
        self.events_limit = limits.max_events
        self.links_limit = limits.max_links
        self.link_attribute_limit = limits.max_link_attributes

    @classmethod
    def for_tracer(cls, tracer: Any) -> SpanRecorder | None:
        """A recorder for `tracer` if it is the SDK's own tracer, else None (public API)."""
        return cls(tracer) if type(tracer) is sdk_trace.Tracer else None

    def start(self, name: str, parent: Context | None, attributes: dict[str, Any]) -> trace.Span:
        """The run's span under `parent` (None: the current context), started now."""
        found = trace.get_current_span(parent).get_span_context()
        if not self.tracer._is_enabled():
            return trace.NonRecordingSpan(found)
        parent_span_context: SpanContext | None = found
        if not found.is_valid:
            parent_span_context = None
            trace_id = self.id_generator.generate_trace_id()
            random_trace_id = self.id_generator.is_trace_id_random()
        else:
            trace_id = found.trace_id
            random_trace_id = found.trace_flags.random_trace_id
        decisions = self.static_decisions
        if decisions is None:
            kind = SpanKind.INTERNAL
            sampling = self.sampler.should_sample(parent, trace_id, name, kind, attributes, ())
            decision, trace_state = sampling.decision, sampling.trace_state
            returned: Mapping[str, Any] = sampling.attributes
        else:  # the sampler's answer, known without asking it (see `_static_decisions`)
            if parent_span_context is None:
                decision, trace_state = decisions[0], None
            else:
                sampled = found.trace_flags.sampled
                offset = 1 if found.is_remote else 3
                decision = decisions[offset if sampled else offset + 1]
                trace_state = found.trace_state
            returned = attributes
        flags = _SAMPLED if decision is Decision.RECORD_AND_SAMPLE else _NOT_SAMPLED
        if random_trace_id:
            flags = TraceFlags(flags | TraceFlags.RANDOM_TRACE_ID)
        context = SpanContext(
            trace_id,
            self.id_generator.generate_span_id(),
            is_remote=False,
            trace_flags=flags,
            trace_state=trace_state,
        )
        end_metrics = self.metrics.start_span(parent_span_context, decision)
        if decision is Decision.DROP:
            return trace.NonRecordingSpan(context)
        # The span gets the attributes the sampler returns (as the SDK's): ours, unless it
        # changed them, and then cleaned as the SDK cleans anyone's.
        if returned is attributes or (len(returned) == len(attributes) and returned == attributes):
            kept = bounded(attributes, self.span_attribute_limit, self.span_value_limit)
        else:
            kept = BoundedAttributes(
                self.span_attribute_limit, returned, False, self.span_value_limit
            )
        span = RunSpan(self, name, context, parent_span_context, kept, end_metrics)
        self.processor.on_start(cast(Any, span), parent_context=parent)
        return span


def _static_decisions(sampler: Any) -> tuple[Decision, ...] | None:
    """The decisions of a sampler that answers by the parent alone, for (no parent, remote
    sampled parent, remote unsampled, local sampled, local unsampled): `ALWAYS_ON`,
    `ALWAYS_OFF` and the SDK's default `ParentBased` over them. Such a sampler returns the
    attributes it was given and the parent's trace state, so asking it per span only costs.
    None for any other sampler, which is asked for every span."""
    if type(sampler) is StaticSampler:
        return (sampler._decision,) * 5
    if type(sampler) is not ParentBased:
        return None
    delegates = (
        sampler._root,
        sampler._remote_parent_sampled,
        sampler._remote_parent_not_sampled,
        sampler._local_parent_sampled,
        sampler._local_parent_not_sampled,
    )
    if any(type(delegate) is not StaticSampler for delegate in delegates):
        return None
    return tuple(cast(StaticSampler, delegate)._decision for delegate in delegates)


class RunSpan(trace.Span, ReadableSpan):
    """A run's span while it is open: plain fields, turned into one `ReadableSpan` on `end()`.

    It is what `trace.get_current_span()` returns inside the task, so every method of the API
    works on it as on the SDK's span; the read-only view (`name`, `attributes`, `events`, ...)
    is the SDK's own (`ReadableSpan`), for processors that look at a span when it starts.
    """

    def __init__(
        self,
        recorder: SpanRecorder,
        name: str,
        context: SpanContext,
        parent: SpanContext | None,
        attributes: BoundedAttributes,
        end_metrics: Any,
    ) -> None:
        self._recorder = recorder
        self._end_metrics = end_metrics
        self._name = name
        self._context = context
        self._parent = parent
        self._attributes = attributes
        self._held = attributes  # the same object, typed as what it is
        self._events: list[Event] = []
        self._links: list[Link] | tuple[()] = ()  # a list once a link is added
        self._kind = SpanKind.INTERNAL
        self._status = _UNSET
        self._start_time: int | None = time.time_ns()
        self._end_time: int | None = None
        self._resource = recorder.tracer.resource  # read now: the SDK updates it after a fork
        self._instrumentation_scope = recorder.scope
        self._instrumentation_info = recorder.info

    def __repr__(self) -> str:
        return f'RunSpan(name="{self._name}", context={self._context})'

    def get_span_context(self) -> SpanContext:
        return cast(SpanContext, self._context)

    def is_recording(self) -> bool:
        return self._end_time is None

    def set_attributes(self, attributes: Mapping[str, types.AnyValue]) -> None:
        if self._end_time is None:
            self._held._set_items(attributes)

    def set_attribute(self, key: str, value: types.AnyValue) -> None:
        if self._end_time is None:
            self._held[key] = value

    def add_event(
        self, name: str, attributes: types.Attributes = None, timestamp: int | None = None
    ) -> None:
        if self._end_time is None:
            recorder = self._recorder
            self._events.append(
                Event(
                    name,
                    BoundedAttributes(
                        recorder.event_attribute_limit,
                        attributes,
                        immutable=True,
                        max_value_len=recorder.value_limit,
                    ),
                    timestamp,
                )
            )

    def add_link(self, context: SpanContext, attributes: types.Attributes = None) -> None:
        if self._end_time is not None or not sdk_trace._is_valid_link(context, attributes):
            return
        recorder = self._recorder
        if not isinstance(self._links, list):
            self._links = []
        self._links.append(
            Link(
                context,
                BoundedAttributes(
                    recorder.link_attribute_limit,
                    attributes,
                    immutable=True,
                    max_value_len=recorder.value_limit,
                ),
            )
        )

    def update_name(self, name: str) -> None:
        if self._end_time is None:
            self._name = name

    def set_status(self, status: Status | StatusCode, description: str | None = None) -> None:
        """As the SDK: OK is final, UNSET is ignored."""
        if self._end_time is not None or self._status.status_code is StatusCode.OK:
            return
        if isinstance(status, Status):
            if status.status_code is not StatusCode.UNSET:
                self._status = status
        elif status is not StatusCode.UNSET:
            self._status = Status(status, description)

    def record_exception(
        self,
        exception: BaseException,
        attributes: types.Attributes = None,
        timestamp: int | None = None,
        escaped: bool = False,
    ) -> None:
        """The SDK's `exception` event (it is the same method, given this span's `add_event`)."""
        sdk_trace.Span.record_exception(self, exception, attributes, timestamp, escaped)  # type: ignore[arg-type]

    def end(self, end_time: int | None = None) -> None:
        if self._end_time is not None:
            return
        self._end_time = end_time if end_time is not None else time.time_ns()
        self._held._immutable = True
        self._end_metrics()
        recorder = self._recorder
        processor = recorder.processor
        processor._on_ending(cast(Any, self))
        held = self._held
        processor.on_end(
            ReadableSpan(
                name=self._name,
                context=self._context,
                parent=self._parent,
                resource=self._resource,
                # With nothing dropped, the plain dict exports the same (a dropped count of 0)
                # and is one object fewer for the garbage collector while the span waits.
                attributes=held if held.dropped else held._dict,
                events=_bounded_list(self._events, recorder.events_limit),
                links=_bounded_list(self._links, recorder.links_limit),
                kind=self._kind,
                status=self._status,
                start_time=self._start_time,
                end_time=self._end_time,
                instrumentation_info=self._instrumentation_info,
                instrumentation_scope=self._instrumentation_scope,
            )
        )


def _bounded_list(items: Sequence[Any], limit: int | None) -> Sequence[Any]:
    """`items` as the SDK keeps them: all of them within the limit, else the newest `limit`
    with how many were dropped."""
    if limit is None or len(items) <= limit:
        return items
    kept: BoundedList[Any] = BoundedList(limit)
    kept.extend(items)
    return kept


def set_own_attributes(span: trace.Span, attributes: dict[str, Any]) -> None:
    """Attributes the bridge built, set on `span`: on a `RunSpan` without cleaning them again
    when the limits cannot change them (a key set again moves to the end, as in the SDK)."""
    if type(span) is not RunSpan:
        span.set_attributes(attributes)
        return
    if span._end_time is not None:
        return
    kept = span._held
    held = kept._dict
    limit = kept.maxlen
    if kept.max_value_len is None and (limit is None or len(held) + len(attributes) <= limit):
        for key, value in attributes.items():
            held.pop(key, None)
            held[key] = value
    else:
        kept._set_items(attributes)


def add_own_event(span: trace.Span, name: str, attributes: dict[str, Any]) -> None:
    """An event whose attributes the bridge built (texts and numbers): on a `RunSpan` without
    cleaning them again when the limits allow, on any other span through its API."""
    if type(span) is RunSpan:
        if span._end_time is None:
            recorder = span._recorder
            span._events.append(
                Event(
                    name,
                    limited(attributes, recorder.event_attribute_limit, recorder.value_limit),
                )
            )
    else:
        span.add_event(name, attributes)


class TransitionLogRecord(LogRecord):
    """The API's `LogRecord`, with a shallow copy that copies its fields one by one: batching
    processors (the SDK's and ours) copy every record to drop its context, and `copy.copy`
    without `__copy__` goes the long way through the pickle protocol (and leaves both records
    with a dict of their fields for the garbage collector to follow while they wait)."""

    def __copy__(self) -> TransitionLogRecord:
        fresh: TransitionLogRecord = object.__new__(TransitionLogRecord)
        fresh.timestamp = self.timestamp
        fresh.observed_timestamp = self.observed_timestamp
        fresh.context = self.context
        fresh.trace_id = self.trace_id
        fresh.span_id = self.span_id
        fresh.trace_flags = self.trace_flags
        fresh.severity_text = self.severity_text
        fresh.severity_number = self.severity_number
        fresh.body = self.body
        fresh.attributes = self.attributes
        fresh.event_name = self.event_name
        fresh.exception = self.exception
        return fresh


class LogRecorder:
    """Emits transition log records to one SDK logger's processors, as its `emit` would."""

    __slots__ = ("attribute_limit", "limits", "logger", "processor", "scope", "value_limit")

    def __init__(self, logger: SdkLogger) -> None:
        self.logger = logger
        self.scope = logger.instrumentation_scope
        self.processor = logger._multi_log_record_processor
        self.limits = logger._log_record_limits
        self.attribute_limit = self.limits.max_log_record_attributes
        self.value_limit = self.limits.max_log_record_attribute_length

    def emit(
        self,
        body: str,
        severity_number: SeverityNumber,
        severity_text: str,
        attributes: dict[str, Any],
        event_name: str,
        context: Context,
        span_context: SpanContext,
    ) -> None:
        """One record, with the run's span as its context; `attributes` are the bridge's own."""
        logger = self.logger
        if not logger._is_enabled():
            return
        record: LogRecord = object.__new__(TransitionLogRecord)
        record.timestamp = None
        record.observed_timestamp = time.time_ns()
        record.context = context
        record.trace_id = span_context.trace_id
        record.span_id = span_context.span_id
        record.trace_flags = span_context.trace_flags
        record.severity_text = severity_text
        record.severity_number = severity_number
        record.body = body
        kept = limited(attributes, self.attribute_limit, self.value_limit)
        if isinstance(kept, BoundedAttributes) and kept.dropped:
            warnings.warn(  # as the SDK's ReadWriteLogRecord does
                "Log record attributes were dropped due to limits",
                LogRecordDroppedAttributesWarning,
                stacklevel=2,
            )
        record.attributes = kept
        record.event_name = event_name
        record.exception = None
        writable: ReadWriteLogRecord = object.__new__(ReadWriteLogRecord)
        writable.log_record = record
        writable.resource = logger.resource  # read now: the SDK updates it after a fork
        writable.instrumentation_scope = self.scope
        writable.limits = self.limits
        logger._logger_metrics.emit_log()
        self.processor.on_emit(writable)


def log_recorder_for(logger: Any) -> LogRecorder | None:
    """A recorder for `logger` if it is the SDK's own logger, else None (public API)."""
    return LogRecorder(logger) if type(logger) is SdkLogger else None
