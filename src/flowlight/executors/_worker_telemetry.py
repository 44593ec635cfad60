"""Telemetry on workers: configured like the flow's process, flushed before each result returns.

A task run's span is made where the task runs. On a worker process that is a process nobody
called `flowlight.otel.configure()` in, and one that may be stopped (or killed) right after its
last task. So an executor that crosses processes takes the bridge's settings from the flow's
process when it starts, has every worker configure itself with them, and has each task run flush
its worker's telemetry before its result is sent back.

None of this imports OpenTelemetry: when the flow's process never imported `flowlight.otel`, there
is nothing to carry, and a worker flushes only when the bridge is active there.
"""

from __future__ import annotations

import logging
import os
import sys
from typing import Any

__all__ = ["configure_worker", "flush_worker", "worker_options"]

_log = logging.getLogger("flowlight.executors")

_ORIGIN_PID = "origin_pid"


def _active_bridge_settings() -> Any:
    """The settings the bridge is active with in this process, or None (never configures it)."""
    session = sys.modules.get("flowlight.otel._session")
    if session is None:
        return None
    telemetry = getattr(session, "_active", None)
    if telemetry is None or getattr(session, "_active_pid", None) != os.getpid():
        return None
    return getattr(telemetry, "settings", None)


def worker_options() -> dict[str, Any] | None:
    """What a worker passes to `flowlight.otel.configure()` to send where this process sends.

    None when the bridge is not active in this process (nothing instrumented) or the SDK is
    disabled. Workers send every signal to the collector of this process's traces.
    """
    settings = _active_bridge_settings()
    if settings is None or getattr(settings, "sdk_disabled", False):
        return None
    protocol = settings.protocols.get("traces")
    endpoint = settings.endpoints.get("traces")
    suffix = "/v1/traces"
    if endpoint and protocol == "http/protobuf" and endpoint.endswith(suffix):
        endpoint = endpoint[: -len(suffix)]
    return {
        "endpoint": endpoint,
        "protocol": protocol,
        "service_name": settings.service_name,
        "telemetry_dir": str(settings.telemetry_dir),
        "flush_timeout_s": settings.flush_timeout_s,
        "record_values": settings.record_values,
        _ORIGIN_PID: os.getpid(),
    }


_applied: dict[str, Any] | None = None


def configure_worker(options: dict[str, Any] | None) -> bool:
    """Configure the bridge in this worker process with `options` from `worker_options()`.

    Does nothing in the flow's own process (a cluster of threads), nor twice with the same
    options. Never raises: a worker without telemetry still runs tasks. True when configured.
    """
    global _applied
    if options is None or options.get(_ORIGIN_PID) == os.getpid() or options == _applied:
        return False
    try:
        import flowlight.otel

        flowlight.otel.configure(**{k: v for k, v in options.items() if k != _ORIGIN_PID})
    except Exception:
        _log.warning("flowlight: could not configure telemetry on a worker", exc_info=True)
        return False
    _applied = dict(options)
    return True


def flush_worker() -> None:
    """Export what this process recorded, within the bridge's flush bound, if it is active here.

    Called after each task run on a worker, before its result is returned.
    """
    otel = sys.modules.get("flowlight.otel")
    if otel is None or _active_bridge_settings() is None:
        return
    try:
        otel.flush()
    except Exception:
        _log.warning("flowlight: could not flush telemetry on a worker", exc_info=True)
