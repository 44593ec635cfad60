"""Running a flow on its schedule: one flow run per start time, until the schedule ends or the
process is interrupted.

Ctrl-C (SIGINT) or SIGTERM while waiting stops at once; during a run, the run finishes (its
handlers, including telemetry flushes, complete) and then the loop returns. Either way the
process can exit 0 with nothing lost.
"""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import pendulum

from flowlight.engine.clock import SystemClock, get_clock
from flowlight.engine.state import Scheduled, State

if TYPE_CHECKING:
    from flowlight.core.flow import Flow

__all__ = ["run_on_schedule"]


def run_on_schedule(
    flow: Flow,
    run_once: Callable[[dict[str, Any], dict[str, Any]], State],
    context: dict[str, Any] | None,
) -> State:
    """Run `run_once(context, parameter_defaults)` at each of the flow schedule's start times
    (with the parameter defaults of the clock that made it); return the last run's state."""
    schedule = flow.schedule
    clock = get_clock()
    upcoming = schedule.next(1, return_events=True)
    if not upcoming:
        # Prefect 1.4.1 refuses to start a scheduled run of a schedule that has ended
        raise ValueError(
            f"Flow has no more scheduled runs: the schedule of flow '{flow.name}' has no start "
            "time after now. Extend its end_date, or run once with "
            "flow.run(run_on_schedule=False)."
        )
    stop = _StopRequest()
    last: State = Scheduled("No scheduled run started.", result={})
    previous = _install_stop_handlers(stop)
    try:
        while not stop.requested:
            if not upcoming:
                break
            start = upcoming[0].start_time
            wait = start.timestamp() - clock.now()
            if wait > 0 and _wait(stop, wait, clock):
                break
            run_context = {**(context or {}), "scheduled_start_time": start}
            last = run_once(run_context, dict(upcoming[0].parameter_defaults))
            # As in Prefect 1, start times missed while a run took longer are skipped, not
            # caught up in a burst: the next run is the next start time after now.
            after = max(start, pendulum.from_timestamp(clock.now(), tz="UTC"))
            upcoming = schedule.next(1, after=after, return_events=True)
    finally:
        _restore_handlers(previous)
    return last


class _StopRequest:
    """Set by a signal handler, read by the loop.

    A plain attribute, not a `threading.Event`: a signal handler runs between two bytecodes of
    the main thread, and `Event.set()` there deadlocks if the main thread was inside
    `Event.wait()` holding the event's lock at that moment.
    """

    requested = False


_WAKE_INTERVAL = 0.1
"""How often a wait looks at the stop request: the longest a stop signal can go unnoticed."""


def _wait(stop: _StopRequest, seconds: float, clock: Any) -> bool:
    """Wait `seconds` or until stopped; True when stopped. A test clock just advances.

    Real time is slept in short slices: `time.sleep` resumes after a signal handler returns
    (PEP 475), so each slice bounds how late a stop is seen, even when the signal was taken by
    another thread than the one sleeping.
    """
    if not isinstance(clock, SystemClock):
        clock.sleep(seconds)
        return stop.requested
    deadline = time.monotonic() + seconds
    while not stop.requested:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return False
        time.sleep(min(remaining, _WAKE_INTERVAL))
    return True


def _install_stop_handlers(stop: _StopRequest) -> dict[int, Any]:
    previous: dict[int, Any] = {}
    if threading.current_thread() is not threading.main_thread():
        return previous

    def request_stop(signum: int, frame: Any) -> None:
        stop.requested = True

    for signum in (signal.SIGINT, signal.SIGTERM):
        previous[signum] = signal.signal(signum, request_stop)
    return previous


def _restore_handlers(previous: dict[int, Any]) -> None:
    for signum, handler in previous.items():
        signal.signal(signum, handler)
