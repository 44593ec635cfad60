"""flowlight's OpenTelemetry bridge: a trace per flow run, an event and a log line per transition.

One line instruments a flow::

    flow = flowlight.otel.instrument(flow)

or, with no code change, `FLOWLIGHT_OTEL=1` in the environment. Where the telemetry goes is set by
the standard `OTEL_*` variables; with no endpoint it is written as OTLP JSON lines under
`.flowlight/telemetry/`. The names of every attribute, event, log field and metric are listed in
docs/telemetry-reference.md.

The bridge is built only on the public state-handler API and `flowlight.context`: importing
flowlight does not import this package, or OpenTelemetry.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from typing import Any, TypeVar

# _sdk_import first: it imports the SDK's trace module despite a bad variable (see there).
from flowlight.otel import _sdk_import, _session  # noqa: F401
from flowlight.otel._handler import OtelHandler
from flowlight.otel._logs import add_trace_context, redact_secrets
from flowlight.otel._replay import ReplayReport, replay
from flowlight.otel._runtime import Telemetry
from flowlight.otel._stats import STATS

__all__ = [
    "OtelHandler",
    "ReplayReport",
    "Telemetry",
    "active_options",
    "add_trace_context",
    "close_crashed_runs",
    "configure",
    "flush",
    "instrument",
    "redact_secrets",
    "replay",
    "shutdown",
    "statistics",
    "subprocess_environment",
]

FlowT = TypeVar("FlowT")

_log = logging.getLogger("flowlight.otel")


def configure(
    *,
    endpoint: str | None = None,
    protocol: str | None = None,
    service_name: str | None = None,
    telemetry_dir: str | None = None,
    prometheus_port: int | None = None,
    prometheus_host: str | None = None,
    flush_timeout_s: float | None = None,
    record_values: bool | None = None,
) -> Telemetry:
    """Set up tracing, metrics and logs for flow runs in this process.

    Arguments override the environment (`OTEL_*`, `FLOWLIGHT__OTEL__*`). Global providers an
    application installed itself are kept and recorded into. Calling it again replaces the
    bridge's previous providers (flushing them first); the global providers the bridge installed
    forward to the new ones, so tracers, meters and loggers an application already fetched from
    the global API keep recording. Calling it is optional: the first
    instrumented transition configures from the environment.
    """
    return _session.configure(
        endpoint=endpoint,
        protocol=protocol,
        service_name=service_name,
        telemetry_dir=telemetry_dir,
        prometheus_port=prometheus_port,
        prometheus_host=prometheus_host,
        flush_timeout_s=flush_timeout_s,
        record_values=record_values,
    )


def instrument(flow: FlowT) -> FlowT:
    """Attach the bridge's handler to `flow` and each of its tasks, once; return `flow`.

    Idempotent: a flow or task that already has the handler is left as it is. The handler goes
    last, so it records the state the user's own handlers settled on. A configuration error is
    logged as a warning here; the flow still runs.
    """
    tasks = getattr(flow, "tasks", None)
    if not hasattr(flow, "state_handlers") or tasks is None:
        raise TypeError(
            f"flowlight.otel.instrument needs a Flow (with .state_handlers and .tasks), "
            f"got {flow!r}"
        )
    try:
        _session.active()
    except ValueError as error:
        # A bad OTEL_*/FLOWLIGHT__OTEL__* value: say so now; the flow still runs (the handler
        # counts each transition it could not record).
        _log.warning("%s", error)
    for obj in (flow, *tasks):
        _attach(obj)
    return flow


def active_options() -> dict[str, Any] | None:
    """The `configure()` options that make another process send where this one sends, or None
    when the bridge is not active here (nothing configured or instrumented yet) or is disabled.

    Executors hand these to their worker processes; reading them never configures the bridge.
    """
    return _session.active_options()


def close_crashed_runs(telemetry_dir: str | os.PathLike[str] | None = None) -> int:
    """Close the flow runs recorded open in the store whose process on this host is gone (killed,
    or out of memory); return how many. Each is exported as an ERROR flow span marked
    `flowlight.crashed`, a `Crashed` log record and a `Crashed` count of `flowlight.flow_runs`.

    Configuring the bridge does this once; a watchdog calls it (or `python -m flowlight.otel
    close-crashed`) to find crashes between runs. `telemetry_dir` defaults to the bridge's.
    """
    from pathlib import Path

    from flowlight.otel._crashed import close_crashed_runs as close

    before = STATS.snapshot().get("crashed_runs_closed", 0)
    telemetry = _session.active()  # configuring, if it happens now, closes them already
    close(telemetry, Path(telemetry_dir) if telemetry_dir is not None else None)
    count = STATS.snapshot().get("crashed_runs_closed", 0) - before
    if count:
        telemetry.flush()
    return count


def subprocess_environment(environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment for a subprocess that should continue this trace: a copy of `environ`
    (default `os.environ`) with `TRACEPARENT` (and `TRACESTATE`) naming the current span.

    Inside a task that is the task run's span, so a flowlight flow (or any program reading
    OpenTelemetry's environment carrier) started with
    `subprocess.run(cmd, env=flowlight.otel.subprocess_environment())` appears beneath it.
    Outside any run it names the application's current span; with no span at all the copy
    carries no `TRACEPARENT`, not even one inherited from this process's own environment.
    """
    from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

    from flowlight.utilities.context import current

    environment = dict(os.environ if environ is None else environ)
    run = current()
    carrier: dict[str, str] = {}
    if isinstance(run.get("traceparent"), str):
        carrier["traceparent"] = run["traceparent"]
        if isinstance(run.get("tracestate"), str):
            carrier["tracestate"] = run["tracestate"]
    else:
        TraceContextTextMapPropagator().inject(carrier)
    environment.pop("TRACEPARENT", None)
    environment.pop("TRACESTATE", None)
    if "traceparent" in carrier:
        environment["TRACEPARENT"] = carrier["traceparent"]
        if carrier.get("tracestate"):
            environment["TRACESTATE"] = carrier["tracestate"]
    return environment


def flush(timeout_s: float | None = None) -> bool:
    """Export what was recorded so far, waiting at most `timeout_s`; False if the bound passed."""
    return _session.active().flush(timeout_s)


def shutdown() -> None:
    """Flush and stop the bridge's providers (the next instrumented run configures again)."""
    _session.shutdown()


def statistics() -> dict[str, int]:
    """Counters the bridge keeps about itself in this process: transitions recorded, spans started
    and ended, handler errors, batches exported, spooled or lost, flush timeouts, ...
    """
    snapshot = STATS.snapshot()
    snapshot["open_runs"] = len(_session.TABLE)
    return snapshot


def _attach(obj: Any) -> None:
    handlers = list(getattr(obj, "state_handlers", None) or [])
    if any(isinstance(handler, OtelHandler) for handler in handlers):
        return
    handlers.append(OtelHandler())
    obj.state_handlers = handlers
