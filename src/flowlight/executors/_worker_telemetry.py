"""Telemetry on workers: configured like the flow's process, flushed in bounded batches.

A task run's span is made where the task runs. On a worker process that is a process nobody
called `flowlight.otel.configure()` in, and one that may be stopped (or killed) right after its
last task. So an executor that crosses processes takes the bridge's settings from the flow's
process when it starts and has every worker configure itself with them.

Flushing after every task run cost about 2 ms per task, more than the task run itself; a worker
now flushes after `FLUSH_EVERY_RUNS` task runs or, when a task run ends, once `FLUSH_EVERY_S` has
passed since its last flush; the executor flushes every worker when the flow run ends, and a
worker flushes as it stops. What a worker killed outright (SIGKILL, out of memory) can lose is
the telemetry of the task runs it finished since its last flush: at most `FLUSH_EVERY_RUNS` of
them, and in practice only those of the last second or so, since the bridge's batch processors
also export on their own every second. The flow's process still records each lost run as
`Failed` through the task's handlers.

None of this imports OpenTelemetry: when the flow's process never imported `flowlight.otel`, there
is nothing to carry, and a worker flushes only when the bridge is active there.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
import time
from typing import Any

__all__ = [
    "FLUSH_EVERY_RUNS",
    "FLUSH_EVERY_S",
    "configure_worker",
    "flush_worker",
    "task_run_finished",
    "worker_options",
]

FLUSH_EVERY_RUNS = 64
FLUSH_EVERY_S = 1.0

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
    _flush_as_worker_stops()
    return True


_finalizer: Any = None


def _flush_as_worker_stops() -> None:
    """A process pool's worker ends through multiprocessing, which runs its finalizers (and
    not always `atexit`): flush there, so an orderly stop loses nothing."""
    global _finalizer
    if _finalizer is None:
        import multiprocessing.util

        _finalizer = multiprocessing.util.Finalize(None, flush_worker, exitpriority=100)


_lock = threading.Lock()
_runs_since_flush = 0
_last_flush = time.monotonic()


def task_run_finished() -> None:
    """Called after each task run on a worker: flush once the batch bound is reached."""
    global _runs_since_flush
    if _bridge_options() is None:
        return
    with _lock:
        _runs_since_flush += 1
        due = (
            _runs_since_flush >= FLUSH_EVERY_RUNS or time.monotonic() - _last_flush >= FLUSH_EVERY_S
        )
    if due:
        flush_worker()


def flush_worker() -> None:
    """Export what this process recorded, within the bridge's flush bound, if it is active here.

    Called every `FLUSH_EVERY_RUNS` task runs, when a flow run ends and when a worker stops.
    """
    global _runs_since_flush, _last_flush
    if _bridge_options() is None:
        return
    with _lock:
        _runs_since_flush, _last_flush = 0, time.monotonic()
    try:
        sys.modules["flowlight.otel"].flush()
    except Exception:
        _log.warning("flowlight: could not flush telemetry on a worker", exc_info=True)
