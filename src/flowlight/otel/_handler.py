"""The state handler that turns every transition into a span event, a log line and metrics.

One object serves flows and tasks. It holds no state of its own, so it pickles to any worker; the
providers and the table of open spans belong to the process it runs in. It never raises into a
run and never changes a state: whatever goes wrong is counted in `statistics()`.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from typing import Any

from flowlight.otel import _session
from flowlight.otel._bounds import bounded
from flowlight.otel._crashed import record_closed, record_open
from flowlight.otel._logs import emit_transition
from flowlight.otel._runtime import Telemetry
from flowlight.otel._spans import (
    RunRecord,
    add_transition_event,
    end_run_span,
    make_current,
    parent_context,
    release_current,
    start_span,
)
from flowlight.otel._states import (
    Transition,
    is_failed,
    is_final,
    state_name,
)
from flowlight.otel._stats import STATS
from flowlight.utilities import _prefect1
from flowlight.utilities.context import current
from flowlight.utilities.redaction import (
    redact,
    redact_value,
    registered_secret_count,
    repr_of,
    text_of,
)

__all__ = ["OtelHandler"]

_log = logging.getLogger("flowlight.otel")


class OtelHandler:
    """`state_handlers=[OtelHandler()]` on a flow or a task (or let `instrument(flow)` add it).

    Returns the proposed state unchanged, always.
    """

    __slots__ = ()

    def __call__(self, obj: Any, old_state: Any, new_state: Any) -> Any:
        try:
            _record_transition(obj, old_state, new_state)
        except Exception as error:
            STATS.add("handler_errors")
            _report_recording_error(error, obj, old_state, new_state)
            _end_if_final(obj, new_state)
        return new_state

    def __eq__(self, other: object) -> bool:
        return isinstance(other, OtelHandler)

    def __hash__(self) -> int:
        return hash(OtelHandler)

    def __repr__(self) -> str:
        return "OtelHandler()"


def _run_context(obj: Any) -> Any:
    """The current run's context as a mapping: the dict behind `flowlight.context`, or for a
    Prefect 1 flow or task the view over prefect.context."""
    if _prefect1.is_prefect1_object(obj):
        return _prefect1.run_context(obj)
    return current()


def _record_transition(obj: Any, old_state: Any, new_state: Any) -> None:
    telemetry = _session.active()
    context = _run_context(obj)
    task_run_id = context.get("task_run_id")
    run_id = task_run_id or context.get("flow_run_id")
    if not run_id:
        # Called outside any run (by hand, say): there is no run to record, and writing a
        # traceparent into this context would make it the parent of unrelated runs.
        STATS.add("transitions_outside_runs")
        return
    table = _session.TABLE
    record = table.get(run_id)
    if record is None:
        record = _open_run(telemetry, context, obj, is_flow=task_run_id is None)
        table.put(run_id, record)
    record.run_count = int(context.get("task_run_count") or 1) if not record.is_flow else 1
    record.last_state = new_state
    STATS.add("transitions")

    transition = Transition.between(old_state, new_state)
    add_transition_event(record.span, transition, new_state, record.run_count)
    if not record.is_flow:
        # Current exactly while the task's code runs: a paused or hidden final state must not
        # leave it current in the thread.
        if transition.kind.running:
            make_current(record)
        else:
            release_current(record)
    telemetry.metrics.transition(record.flow, record.task, transition.new)
    if transition.kind.retrying:
        telemetry.metrics.retry(record.flow, record.task)
    try:
        _log_transition(telemetry, record, context, transition)
    except Exception:
        # A broken log sink must not cost the span its end or the run its metrics.
        STATS.add("log_errors")
        _log.debug("flowlight.otel: could not log a transition", exc_info=True)

    if (
        transition.kind.final
        and not _retry_follows(obj, record, new_state)
        and not _cache_follows(obj, record, new_state)
        and not _children_follow(record, new_state)
    ):
        table.pop(run_id)
        release_current(record)
        try:
            if record.is_flow:
                if telemetry.settings.record_values:
                    # At the end, not the start: secrets read during the run are registered now.
                    record.span.set_attributes(_parameter_attributes(context.get("parameters")))
                _finish_flow_run(telemetry, record, new_state, obj)
            else:
                _finish_run(telemetry, record, new_state)
        except Exception:
            # Out of the table already: end the span here, or nothing ever would.
            _end_with_what_is_known(telemetry, record, new_state)
            raise


def _children_follow(record: RunRecord, state: Any) -> bool:
    """A mapped parent is `Mapped` before its children run: its span stays open, and ends when
    the flow run does, at the time its last child finished (see `_finish_mapped_parent`)."""
    if record.is_flow or record.map_index is not None or state_name(state) != "Mapped":
        return False
    release_current(record)
    return True


def _cache_follows(obj: Any, record: RunRecord, state: Any) -> bool:
    """A successful run of a task with `cache_for` ends with one more transition,
    Success -> Cached (Prefect 1's cache step): the span ends on that one."""
    return (
        not record.is_flow
        and state_name(state) == "Success"
        and getattr(obj, "cache_for", None) is not None
    )


def _retry_follows(obj: Any, record: RunRecord, state: Any) -> bool:
    """A Failed task run with attempts left is retried: its Retrying transition comes next.

    Prefect 1's rule: a failure other than TriggerFailed is retried while the run count is at
    most `max_retries`.
    """
    if record.is_flow or not is_failed(state) or state_name(state) == "TriggerFailed":
        return False
    return record.run_count <= int(getattr(obj, "max_retries", 0) or 0)


def _open_run(telemetry: Telemetry, context: Any, obj: Any, *, is_flow: bool) -> RunRecord:
    """Start the run's span under the parent named in the context, and name it in the context."""
    flow = redact(text_of(context.get("flow_name") or getattr(obj, "name", "") or "flow"))
    flow_run_id = str(context.get("flow_run_id") or "")
    attributes: dict[str, Any] = {
        "cicd.pipeline.name": flow,
        "cicd.pipeline.run.id": flow_run_id,
    }
    task = ""
    map_index = context.get("map_index")
    if is_flow:
        attributes["flowlight.run.kind"] = "flow"
        run_name = context.get("flow_run_name")
        if run_name and run_name != flow_run_id:
            attributes["flowlight.flow_run.name"] = redact(text_of(run_name))
        name = flow
    else:
        task = redact(text_of(context.get("task_name") or getattr(obj, "name", "") or "task"))
        attributes.update(
            {
                "flowlight.run.kind": "task",
                "cicd.pipeline.task.name": task,
                "cicd.pipeline.task.run.id": text_of(context.get("task_run_id")),
                "flowlight.task.slug": redact(text_of(context.get("task_slug") or "")),
            }
        )
        tags = context.get("task_tags")
        if tags:
            attributes["flowlight.task.tags"] = _tag_texts(tags)
        name = task
        if map_index is not None:
            attributes["flowlight.task.map_index"] = int(map_index)
            attributes["flowlight.task.parent_run_id"] = str(
                context.get("parent_task_run_id") or ""
            )
            label = f"[{int(map_index)}]"  # as Prefect 1 names a mapped child
            name = task if task.endswith(label) else task + label
    parent = parent_context(
        context.get("traceparent"), context.get("tracestate"), from_environment=is_flow
    )
    span = start_span(telemetry.tracer, name, parent, attributes, telemetry.span_recorder())
    record = RunRecord(
        span=span,
        flow=flow,
        flow_run_id=flow_run_id,
        task=task,
        started=time.perf_counter(),
        task_object=None if is_flow else obj,
        map_index=None if map_index is None else int(map_index),
        task_run_id="" if is_flow else attributes["cicd.pipeline.task.run.id"],
        task_slug="" if is_flow else attributes["flowlight.task.slug"],
        parent_run_id=str(context.get("parent_task_run_id") or "") if map_index is not None else "",
    )
    context["traceparent"] = record.traceparent
    context["trace_id"] = record.trace_id
    trace_state = span.get_span_context().trace_state
    if trace_state:
        context["tracestate"] = trace_state.to_header()
    STATS.add("spans_started")
    if is_flow:
        context["telemetry_destination"] = _destination(telemetry)
        telemetry.metrics.flow_started(flow, flow_run_id, time.time(), _next_start(obj))
        if not telemetry.settings.sdk_disabled:
            _record_open(telemetry, record, span, flow, flow_run_id)
    return record


def _record_open(
    telemetry: Telemetry, record: RunRecord, span: Any, flow: str, flow_run_id: str
) -> None:
    """Note the flow run as open in the store, so a later process can close it if this one
    dies (see `_crashed`)."""
    parent = getattr(span, "parent", None)
    record_open(
        telemetry.settings.telemetry_dir,
        flow=flow,
        flow_run_id=flow_run_id,
        trace_id=record.trace_id,
        span_id=record.span_id,
        parent_span_id=format(parent.span_id, "016x") if parent is not None else None,
        start_ns=int(getattr(span, "start_time", None) or time.time_ns()),
    )


def _destination(telemetry: Telemetry) -> str:
    """Where this run's telemetry goes, in words, for the run's summary."""
    settings = telemetry.settings
    if settings.sdk_disabled:
        return "nowhere (OTEL_SDK_DISABLED=true)"
    if settings.uses_collector:
        targets = sorted({t for t in settings.endpoints.values() if t})
        return f"OTLP to {', '.join(targets)} (kept in {settings.telemetry_dir}/ if unreachable)"
    return f"OTLP JSON files in {settings.telemetry_dir}/"


def _finish_run(telemetry: Telemetry, record: RunRecord, final_state: Any) -> None:
    """End a task run's span with its final state and count the run and its duration."""
    if (
        telemetry.settings.record_values
        and not is_failed(final_state)
        and not _is_parameter(record.task_object)
    ):
        result = getattr(final_state, "result", None)
        if result is not None and not isinstance(result, BaseException):
            record.span.set_attribute("flowlight.result", _value_text(result))
    end_run_span(record, final_state)
    STATS.add("spans_ended")
    if record.parent_run_id:
        parent = _session.TABLE.get(record.parent_run_id)
        ended = getattr(record.span, "end_time", None)
        if parent is not None and isinstance(ended, int):
            parent.children_end_ns = max(parent.children_end_ns, ended)
    telemetry.metrics.task_finished(
        record.flow, record.task, state_name(final_state), record.seconds()
    )


def _is_parameter(task: Any) -> bool:
    """Parameters are recorded once, on the flow span, when the run ends."""
    return any(cls.__name__ == "Parameter" for cls in type(task).__mro__)


def _next_start(flow: Any) -> float | None:
    """When `flow`'s schedule says its next run is due (epoch seconds); None when the schedule
    has no more runs; NaN when the flow has no schedule (or one that cannot answer)."""
    schedule = getattr(flow, "schedule", None)
    upcoming = getattr(schedule, "next", None)
    if not callable(upcoming):
        return math.nan
    try:
        due = upcoming(1)
    except Exception:  # a schedule that cannot answer must not cost the run its telemetry
        return math.nan
    if not due:
        return None
    timestamp = getattr(due[0], "timestamp", None)
    return float(timestamp()) if callable(timestamp) else math.nan


def _finish_flow_run(
    telemetry: Telemetry, record: RunRecord, final_state: Any, flow_object: Any = None
) -> None:
    """End the task spans this process still holds, then the flow's, then flush with a bound.

    The flow's final transition comes after every task run's handlers returned, so a task span
    still open here is one whose final transition was never passed to the handlers (a handler
    before ours raised) or that paused: its final state is read from the flow's result.
    """
    final_states = getattr(final_state, "result", None)
    for _run_id, leftover in _session.TABLE.pop_task_runs_of(record.flow_run_id):
        try:
            _finish_leftover(telemetry, leftover, final_states)
        except Exception as error:
            STATS.add("handler_errors")
            _report_recording_error(error, leftover.task_object, leftover.last_state, None)
            _end_with_what_is_known(telemetry, leftover, None)
    end_run_span(record, final_state)
    STATS.add("spans_ended")
    record_closed(telemetry.settings.telemetry_dir, record.flow_run_id)
    telemetry.metrics.flow_finished(
        record.flow,
        state_name(final_state),
        record.seconds(),
        record.flow_run_id,
        succeeded=bool(getattr(final_state, "is_successful", lambda: False)()),
        at=time.time(),
        next_start=_next_start(flow_object),
    )
    telemetry.flush()


def _finish_leftover(telemetry: Telemetry, leftover: RunRecord, final_states: Any) -> None:
    """End a task run's span that was still open when its flow run ended."""
    release_current(leftover)
    state = _final_state_of(leftover, final_states)
    if state_name(leftover.last_state) == "Mapped" and leftover.map_index is None:
        _finish_mapped_parent(telemetry, leftover, state or leftover.last_state)
        return
    if state is None:
        leftover.span.set_attribute("flowlight.state", state_name(leftover.last_state))
        leftover.span.end()
        STATS.add("spans_ended_unfinished")
        return
    transition = Transition.between(leftover.last_state, state)
    add_transition_event(leftover.span, transition, state, leftover.run_count)
    leftover.span.set_attribute("flowlight.state.reported_by", "flow_run")
    _finish_run(telemetry, leftover, state)


def _finish_mapped_parent(telemetry: Telemetry, record: RunRecord, state: Any) -> None:
    """End a mapped parent's span when its last child ended, ERROR when a child failed (its
    state stays `Mapped`, as Prefect 1 has it)."""
    children = list(getattr(state, "map_states", None) or [])
    # Children whose spans ended here say exactly when; those that ran in another process are
    # known by when their final state was made.
    ends = [getattr(child, "created_at", None) for child in children]
    finished = [int(t * 1e9) for t in ends if isinstance(t, (int, float))]
    end_ns = max([*finished, record.children_end_ns]) or None
    failed = sum(1 for child in children if is_failed(child))
    end_run_span(record, state, end_ns=end_ns, failed_children=failed)
    STATS.add("spans_ended")
    telemetry.metrics.task_finished(record.flow, record.task, "Mapped", record.seconds())


def _final_state_of(record: RunRecord, final_states: Any) -> Any:
    if not isinstance(final_states, dict):
        return None
    state = final_states.get(record.task_object)
    if state is not None and record.map_index is not None:
        children = getattr(state, "map_states", None) or []
        state = children[record.map_index] if record.map_index < len(children) else None
    return state if state is not None and is_final(state) else None


def _log_transition(
    telemetry: Telemetry, record: RunRecord, context: Any, transition: Transition
) -> None:
    settings = telemetry.settings
    if not settings.console_logs and telemetry.otel_logger is None:
        return
    fields: dict[str, Any] = {
        "flow": record.flow,
        "flow_run_id": record.flow_run_id,
        "old_state": transition.old,
        "new_state": transition.new,
        "message": transition.message,
        "run_count": record.run_count,
    }
    if not record.is_flow:
        fields["task"] = record.task
        fields["task_run_id"] = record.task_run_id
        fields["task_slug"] = record.task_slug
        if record.map_index is not None:
            fields["map_index"] = record.map_index
    if transition.retry_start_time is not None:
        fields["retry_start_time"] = transition.retry_start_time
    if transition.kind.failed:
        level = "error"
    elif transition.kind.retrying:
        level = "warning"
    else:
        level = "info"
    secrets = registered_secret_count()
    if secrets:
        # At write time, every field: a name may hold a secret read after the span opened.
        # With none registered there is nothing to mask: each text was made encodable when
        # the run's record was made, or by `message_of`.
        fields = redact_value(fields)
    emit_transition(
        fields,
        level,
        record,
        context.get("logger") if settings.console_logs else None,
        settings.console_logs,
        telemetry.otel_logger,
        telemetry.log_recorder(),
        secrets,
    )


def _parameter_attributes(parameters: Any) -> dict[str, str]:
    if not isinstance(parameters, dict):
        return {}
    return {
        f"flowlight.parameter.{redact(text_of(name))}": _value_text(value)
        for name, value in parameters.items()
    }


def _value_text(value: Any, limit: int = 1000) -> str:
    """A short, redacted text for an opted-in value (repr, cut at `limit` characters).

    Total: a value that contains itself or nests too deep is shown with a placeholder where it
    does (see `redact_value`), and one whose repr raises as a placeholder naming its type.
    """
    try:
        shown = redact_value(value)
    except Exception as error:
        shown = f"<{type(value).__name__} that could not be read: {type(error).__name__}>"
    text = redact(repr_of(shown))
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _tag_texts(tags: Any) -> tuple[str, ...]:
    """A task's tags as texts (a set, a list, or one odd object that is not a collection)."""
    items = tags if isinstance(tags, (list, tuple, set, frozenset)) else (tags,)
    return tuple(sorted(redact(text_of(tag)) for tag in items))


_warned_once = threading.Event()


def _report_recording_error(error: Exception, obj: Any, old_state: Any, new_state: Any) -> None:
    """Say once per process, at WARNING, that a transition could not be recorded in full, and
    what to do about it; every occurrence goes to DEBUG with its traceback."""
    _log.debug("flowlight.otel: could not record a transition", exc_info=error)
    if _warned_once.is_set():
        return
    _warned_once.set()
    what = "" if new_state is None else f" ({state_name(old_state)} -> {state_name(new_state)})"
    _log.warning(
        "flowlight.otel: could not record a transition of %r%s: %s: %s. Its span was ended "
        "with what was known (flowlight.recording_error = true). If the message names a value "
        "of yours (a parameter, result, name or tag), give it a working __str__ and __repr__; "
        "otherwise please report it as a bug in flowlight. statistics()['handler_errors'] "
        "counts each such error; the next ones are logged at DEBUG on the 'flowlight.otel' "
        "logger, with their traceback.",
        text_of(getattr(obj, "name", None) or type(obj).__name__),
        what,
        type(error).__name__,
        bounded(text_of(error), 500),
    )


def _end_if_final(obj: Any, new_state: Any) -> None:
    """After a failed recording: end the run's span now if this was its last transition (it
    would otherwise stay open until the process exits, or be lost with a killed process)."""
    try:
        if not is_final(new_state):
            return
        context = _run_context(obj)
        task_run_id = context.get("task_run_id")
        run_id = task_run_id or context.get("flow_run_id")
        record = _session.TABLE.get(run_id) if run_id else None
        if record is None:
            return
        if not record.is_flow and (
            _retry_follows(obj, record, new_state)
            or _cache_follows(obj, record, new_state)
            or (state_name(new_state) == "Mapped" and record.map_index is None)
        ):
            return
        _session.TABLE.pop(run_id)
        release_current(record)
        _end_with_what_is_known(_session.active(), record, new_state)
    except Exception:
        _log.debug("flowlight.otel: could not end a run's span after an error", exc_info=True)


def _end_with_what_is_known(telemetry: Telemetry | None, record: RunRecord, state: Any) -> None:
    """End `record`'s span if it is still open, with the state it reached and
    `flowlight.recording_error`; for a flow run, its task runs' spans still open here too."""
    if record.is_flow:
        for _run_id, leftover in _session.TABLE.pop_task_runs_of(record.flow_run_id):
            release_current(leftover)
            _end_with_what_is_known(telemetry, leftover, None)
    try:
        if record.span.is_recording():
            reached = record.last_state if state is None else state
            record.span.set_attributes(
                {"flowlight.state": state_name(reached), "flowlight.recording_error": True}
            )
            record.span.end()
            STATS.add("spans_ended_after_errors")
    except Exception:
        _log.debug("flowlight.otel: could not end a run's span", exc_info=True)
    if record.is_flow and telemetry is not None:
        record_closed(telemetry.settings.telemetry_dir, record.flow_run_id)
        telemetry.flush()
