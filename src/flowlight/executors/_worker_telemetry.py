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


def _bridge_options() -> dict[str, Any] | None:
    """The active bridge's options in this process, or None; never imports or configures it."""
    otel = sys.modules.get("flowlight.otel")
    return None if otel is None else otel.active_options()


def worker_options() -> dict[str, Any] | None:
    """What a worker passes to `flowlight.otel.configure()` to send where this process sends.

    None when the bridge is not active in this process (nothing instrumented) or the SDK is
    disabled. Workers send every signal to the collector of this process's traces.
    """
    options = _bridge_options()
    if options is None:
        return None
    return {**options, _ORIGIN_PID: os.getpid()}


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
    if _bridge_options() is None:
        return
    try:
        sys.modules["flowlight.otel"].flush()
    except Exception:
        _log.warning("flowlight: could not flush telemetry on a worker", exc_info=True)
