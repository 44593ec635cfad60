"""The bridge's state in this process: the active telemetry and the table of open runs.

`configure()` replaces the active telemetry; a handler that runs in a process where nobody called
it (a Dask worker, a script with `FLOWLIGHT_OTEL=1`) configures from the environment on first use.
"""

from __future__ import annotations

import atexit
import logging
import os
import threading
from typing import Any

from flowlight.otel._config import read_settings
from flowlight.otel._crashed import close_crashed_runs, record_closed
from flowlight.otel._runtime import Telemetry, build_telemetry
from flowlight.otel._spans import RunTable
from flowlight.otel._states import state_name
from flowlight.otel._stats import STATS

__all__ = ["TABLE", "active", "configure", "shutdown"]

_log = logging.getLogger("flowlight.otel")

TABLE = RunTable()

_lock = threading.RLock()
_active: Telemetry | None = None
_active_pid: int | None = None
_listener_added = False


def active() -> Telemetry:
    """The telemetry of this process, configured from the environment if nobody did yet."""
    telemetry = _active
    if telemetry is not None and _active_pid == os.getpid():
        return telemetry
    with _lock:  # task runs starting together on several threads configure once
        telemetry = _active
        if telemetry is not None and _active_pid == os.getpid():
            return telemetry
        return configure()


def configure(**options: Any) -> Telemetry:
    """Build providers from `options` over the environment, replacing (and shutting down) the
    previous ones."""
    global _active, _active_pid
    settings = read_settings(**options)
    with _lock:
        previous = _active
        if previous is not None and _active_pid == os.getpid():
            previous.shutdown()
        _active = build_telemetry(settings)
        _active_pid = os.getpid()
        _add_notification_listener()
        _end_open_runs_at_exit()
        if not settings.sdk_disabled:
            # A later process is what notices a run whose process was killed: close those now.
            try:
                close_crashed_runs(_active)
            except Exception:
                STATS.add("handler_errors")
        return _active


def active_options() -> dict[str, Any] | None:
    """See `flowlight.otel.active_options`."""
    telemetry = _active if _active_pid == os.getpid() else None
    if telemetry is None or telemetry.settings.sdk_disabled:
        return None
    settings = telemetry.settings
    protocol = settings.protocols.get("traces")
    endpoint = settings.endpoints.get("traces")
    suffix = "/v1/traces"  # configure() takes the base URL and adds the per-signal path itself
    if endpoint and protocol == "http/protobuf" and endpoint.endswith(suffix):
        endpoint = endpoint[: -len(suffix)]
    return {
        "endpoint": endpoint,
        "protocol": protocol,
        "service_name": settings.service_name,
        "telemetry_dir": str(settings.telemetry_dir),
        "flush_timeout_s": settings.flush_timeout_s,
        "record_values": settings.record_values,
    }


def shutdown() -> None:
    """Flush and stop what `configure()` built; the next transition configures again."""
    global _active, _active_pid
    end_open_runs()
    with _lock:
        previous, _active, _active_pid = _active, None, None
    if previous is not None:
        previous.shutdown()


def end_open_runs() -> int:
    """End the span of every run still open in this process; return how many there were.

    A flow run that stops with a task Paused (or a process that stops mid-run) has no final
    transition to end its spans. They are ended here, with the last state they reached and
    `flowlight.unfinished = true`, so they are exported instead of lost.
    """
    records = TABLE.pop_all()
    telemetry = _active if _active_pid == os.getpid() else None
    for record in records:
        if record.is_flow and telemetry is not None:
            record_closed(telemetry.settings.telemetry_dir, record.flow_run_id)
        try:
            record.span.set_attributes(
                {"flowlight.state": state_name(record.last_state), "flowlight.unfinished": True}
            )
            record.span.end()
            STATS.add("spans_ended_unfinished")
        except Exception:
            STATS.add("handler_errors")
    return len(records)


def _end_open_runs_at_exit() -> None:
    """(Re-)registered after each set of providers is built: atexit runs hooks last-in first-out,
    so open spans are ended before the providers' own exit hooks flush and stop the exporters."""
    atexit.unregister(end_open_runs)
    atexit.register(end_open_runs)


def _add_notification_listener() -> None:
    """Listen to the notifiers' delivery outcomes, once per process."""
    global _listener_added
    if _listener_added:
        return
    # The delivery module alone: the notifiers' channels (an HTTP client) load when used.
    from flowlight.utilities.notifications.delivery import add_delivery_listener

    add_delivery_listener(on_delivery)
    _listener_added = True


def on_delivery(record: Any) -> None:
    """Count a notification and mark it on the span of the run that sent it."""
    try:
        telemetry = _active if _active_pid == os.getpid() else None
        if telemetry is None:  # the bridge was shut down (or never started) in this process
            STATS.add("notifications_without_bridge")
            return
        notifier = str(getattr(record, "notifier", "unknown"))
        outcome = str(getattr(record, "outcome", "unknown"))
        telemetry.metrics.notification(notifier, outcome)
        run_id = getattr(record, "task_run_id", None) or getattr(record, "flow_run_id", None)
        run = TABLE.get(str(run_id)) if run_id else None
        if run is not None:
            # The record's reason is redacted where the record is made (see DeliveryRecord).
            run.span.add_event(
                f"notification.{outcome}",
                {
                    "flowlight.notification.notifier": notifier,
                    "flowlight.notification.outcome": outcome,
                    "flowlight.notification.reason": str(getattr(record, "reason", "")),
                    "flowlight.notification.attempts": int(getattr(record, "attempts", 0) or 0),
                },
            )
        else:
            STATS.add("notifications_without_span")
        STATS.add("notifications")
    except Exception:
        STATS.add("listener_errors")
