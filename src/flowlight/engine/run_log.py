"""What the engine says about runs, in Prefect 1's words, through the run logger.

Each function asks first whether its line would be written, so a run with nothing to show (the
default off a terminal) builds no message. Failures are logged at ERROR with their traceback, so
they reach stderr on a terminal and off one.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from flowlight.engine.state import State
from flowlight.settings import setting
from flowlight.utilities.logging import enabled, run_logger, stderr_is_terminal

__all__ = [
    "flow_run_finished",
    "flow_run_started",
    "map_refused",
    "task_display_name",
    "task_failed",
    "task_finished",
    "task_retrying",
    "task_started",
    "wants_summary",
]

_flow_log = run_logger("flowlight.FlowRunner")
_task_log = run_logger("flowlight.TaskRunner")


def task_display_name(name: str, context: dict[str, Any]) -> str:
    """`transform[3]` for mapped child 3, the task's name otherwise (Prefect 1's label)."""
    index = context.get("map_index")
    return name if index is None else f"{name}[{index}]"


def flow_run_started(flow_name: str) -> None:
    if enabled(logging.INFO):
        _flow_log.info(f"Beginning Flow run for '{flow_name}'")


def flow_run_finished(state: State) -> None:
    if state.is_failed():
        if enabled(logging.ERROR):
            _flow_log.error(f"Flow run {type(state).__name__.upper()}: {_lower_first(state)}")
    elif enabled(logging.INFO):
        _flow_log.info(f"Flow run {type(state).__name__.upper()}: {_lower_first(state)}")


def task_started(name: str, context: dict[str, Any]) -> None:
    if enabled(logging.INFO):
        _task_log.info(f"Task '{task_display_name(name, context)}': Starting task run...")


def task_failed(name: str, context: dict[str, Any], error: BaseException) -> None:
    if enabled(logging.ERROR):
        _task_log.error(
            f"Task '{task_display_name(name, context)}': Exception encountered during task "
            "execution!",
            exc_info=error,
        )


def map_refused(name: str, context: dict[str, Any], problem: Exception) -> None:
    """Why a map could not start: which upstream result cannot be mapped over, and the fix."""
    if enabled(logging.ERROR):
        _task_log.error(f"Task '{task_display_name(name, context)}': cannot map: {problem}")


def task_retrying(name: str, context: dict[str, Any], state: State, wait_s: float | None) -> None:
    """The retry and when the next attempt starts (`wait_s` from now, by the engine's clock)."""
    if not enabled(logging.WARNING):
        return
    when = ""
    if wait_s is not None:
        wait_s = max(0.0, wait_s)
        start = time.localtime(time.time() + wait_s)
        when = f"; next attempt at {time.strftime('%H:%M:%S', start)} (in {wait_s:.1f} s)"
    _task_log.warning(
        f"Task '{task_display_name(name, context)}': {state.message or 'Retrying'}{when}"
    )


def task_finished(name: str, context: dict[str, Any], state: State) -> None:
    level = logging.INFO
    if enabled(level):
        _task_log.info(
            f"Task '{task_display_name(name, context)}': Finished task run for task with final "
            f"state: '{type(state).__name__}'"
        )


def _lower_first(state: State) -> str:
    message = state.message or ""
    return message[:1].lower() + message[1:]


def wants_summary() -> bool:
    """A summary block ends each flow run on a terminal (`FLOWLIGHT__LOGGING__SUMMARY=false`
    turns it off); off a terminal the log lines and the returned state say it all."""
    return stderr_is_terminal() and setting("logging", "summary", default=True) is not False
