"""One structured log event per transition, linked to its trace; optionally as an OpenTelemetry log.

The events go through the run's own logger (`flowlight.context["logger"]`), so they follow the
structlog configuration the application (or flowlight's default) chose, including its level; the
bridge never calls `structlog.configure`. Without a run logger and without a structlog
configuration the bridge renders with a private logger to stderr: JSON lines when stderr is not a
terminal (for Loki and friends), console output when it is.

`add_trace_context` and `redact_secrets` are structlog processors a user can put in their own
chain so that their log lines inside a task link to the same trace.
"""

from __future__ import annotations

import logging
import sys
import threading
from collections.abc import MutableMapping
from typing import Any

from opentelemetry import _logs, trace
from opentelemetry._logs import SeverityNumber

from flowlight.otel._recording import LogRecorder
from flowlight.otel._spans import RunRecord
from flowlight.utilities.logging import RunLogger
from flowlight.utilities.redaction import redact_value

__all__ = ["EVENT_NAME", "add_trace_context", "emit_transition", "redact_secrets"]

EVENT_NAME = "flowlight.state_transition"

_SEVERITY = {
    "error": (SeverityNumber.ERROR, "ERROR"),
    "warning": (SeverityNumber.WARN, "WARN"),
    "info": (SeverityNumber.INFO, "INFO"),
}

# Transition fields that name the run, not the transition: bound once to the run's lines.
_SAME_FOR_THE_RUN = frozenset(
    {"flow", "flow_run_id", "task", "task_run_id", "task_slug", "map_index"}
)
_LEVEL_NUMBERS = {"error": logging.ERROR, "warning": logging.WARNING, "info": logging.INFO}

_private_lock = threading.Lock()
_private_logger: tuple[Any, Any] | None = None  # (stream, logger)


def redact_secrets(
    _logger: Any, _method: str, event_dict: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    """structlog processor: mask registered Secret values in every field."""
    for key, value in event_dict.items():
        event_dict[key] = redact_value(value)
    return event_dict


def add_trace_context(
    _logger: Any, _method: str, event_dict: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    """structlog processor: add `trace_id`/`span_id` of the current run (or current span) as hex."""
    if "trace_id" in event_dict:
        return event_dict
    traceparent = _current_traceparent()
    if traceparent:
        parts = traceparent.split("-")
        if len(parts) == 4:
            event_dict["trace_id"], event_dict["span_id"] = parts[1], parts[2]
            return event_dict
    span_context = trace.get_current_span().get_span_context()
    if span_context.is_valid:
        event_dict["trace_id"] = format(span_context.trace_id, "032x")
        event_dict["span_id"] = format(span_context.span_id, "016x")
    return event_dict


def _current_traceparent() -> str | None:
    # Read through sys.modules: this processor must not import the engine into a process that
    # only uses structlog.
    flowlight = sys.modules.get("flowlight")
    run_context = getattr(flowlight, "context", None)
    if run_context is None:
        return None
    try:
        value = run_context.get("traceparent")
    except Exception:
        return None
    return value if isinstance(value, str) else None


def _logger(run_logger: Any) -> Any:
    """The run's logger from the context, else the user's structlog pipeline if they configured
    one, else our private stderr logger."""
    if run_logger is not None and callable(getattr(run_logger, "info", None)):
        return run_logger
    # Imported here: a run's own logger needs no structlog, and importing it (with the rich and
    # asyncio it brings) was a third of a process's first traced run. An application that
    # configured structlog has imported it already.
    import structlog

    if structlog.is_configured():
        return structlog.get_logger("flowlight.otel")
    global _private_logger
    stream = sys.stderr
    cached = _private_logger
    if cached is not None and cached[0] is stream:
        return cached[1]
    with _private_lock:
        is_terminal = bool(getattr(stream, "isatty", lambda: False)())
        renderer: Any = (
            structlog.dev.ConsoleRenderer(colors=True)
            if is_terminal
            else structlog.processors.JSONRenderer()
        )
        logger = structlog.wrap_logger(
            structlog.PrintLogger(stream),
            processors=[
                structlog.processors.add_log_level,
                structlog.processors.TimeStamper(fmt="iso", utc=True),
                redact_secrets,
                renderer,
            ],
            wrapper_class=structlog.BoundLogger,
        )
        _private_logger = (stream, logger)
        return logger


def emit_transition(
    fields: dict[str, Any],
    level: str,
    record: RunRecord,
    run_logger: Any,
    console: bool,
    otel_logger: _logs.Logger | None,
    log_recorder: LogRecorder | None = None,
    secrets: int = 0,
) -> None:
    """Write one transition as a structlog event and, if configured, as an OpenTelemetry log.

    `fields` are already redacted and are the log record's attributes as they are; the structlog
    event gets them plus `trace_id`/`span_id` of the run's span. `run_logger` is the run's own
    structlog logger (`flowlight.context["logger"]`), so the event follows the level and
    rendering the application chose for its runs. With `log_recorder` (an SDK logger, see
    `_recording`) the record is made directly, else through `otel_logger`'s API. `secrets` is
    how many secrets were registered when `fields` were masked.
    """
    if log_recorder is not None:
        number, text = _SEVERITY[level]
        log_recorder.emit(
            _body(fields),
            number,
            text,
            fields,
            EVENT_NAME,
            record.span_in_context,
            record.span.get_span_context(),
        )
    elif otel_logger is not None:
        number, text = _SEVERITY[level]
        otel_logger.emit(
            body=_body(fields),
            severity_number=number,
            severity_text=text,
            attributes=fields,
            event_name=EVENT_NAME,
            context=record.span_in_context,
        )
    # Last: a broken stderr (closed by a test runner, say) must not cost the OpenTelemetry record.
    if console:
        _write_line(fields, level, record, run_logger, secrets)


def _write_line(
    fields: dict[str, Any], level: str, record: RunRecord, run_logger: Any, secrets: int
) -> None:
    """The transition's structlog event: through the run's `RunLines` when the run logger is
    flowlight's (its fields that stay the same for the run bound once, made again when a secret
    was registered since, so that they are masked), else through whatever logger there is."""
    if type(run_logger) is not RunLogger:
        getattr(_logger(run_logger), level)(
            EVENT_NAME, **fields, trace_id=record.trace_id, span_id=record.span_id
        )
        return
    lines = record.lines
    if lines is None or record.lines_secrets != secrets:
        fixed = {key: value for key, value in fields.items() if key in _SAME_FOR_THE_RUN}
        lines = run_logger.lines_of_run(**fixed, trace_id=record.trace_id, span_id=record.span_id)
        record.lines, record.lines_secrets = lines, secrets
    changed = {key: value for key, value in fields.items() if key not in _SAME_FOR_THE_RUN}
    lines.write(_LEVEL_NUMBERS[level], level, EVENT_NAME, changed)


def _body(fields: dict[str, Any]) -> str:
    who = fields.get("task") or fields.get("flow") or ""
    index = fields.get("map_index")
    if index is not None:
        who = f"{who}[{index}]"
    text = f"{who}: {fields.get('old_state')} -> {fields.get('new_state')}"
    message = fields.get("message")
    return f"{text} ({message})" if message else text
