"""What failed in a flow run, for the flow's own notification: each failed task (and mapped
child) with its message, and whether it failed itself or only because something upstream did.

Read from the flow's final state (its result maps each task to its final state), so it works for
a notifier or action on the flow alone, on flowlight and on Prefect 1 alike. A flow with a
thousand failed children does not make a thousand-line message: the first `MAX_LISTED` are
named and the rest counted.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flowlight.utilities.redaction import redact

__all__ = ["MAX_LISTED", "FailedTask", "failed_tasks", "is_upstream_failure"]

MAX_LISTED = 20
_MAX_MESSAGE = 300


@dataclass(frozen=True)
class FailedTask:
    """One task run that ended failed in a flow run (secrets masked)."""

    name: str
    full_name: str
    map_index: int | None
    state: str
    message: str | None
    upstream_failed: bool  # TriggerFailed: it never ran because a task it depends on failed


def is_upstream_failure(state: Any) -> bool:
    """A TriggerFailed state, flowlight's or Prefect 1's (matched by class name, so Prefect is
    never imported)."""
    return any(cls.__name__ == "TriggerFailed" for cls in type(state).__mro__)


def _failed(state: Any) -> bool:
    probe = getattr(state, "is_failed", None)
    return bool(probe()) if callable(probe) else False


def _entry(name: str, index: int | None, state: Any) -> FailedTask:
    message = getattr(state, "message", None)
    text = redact(str(message)) if message else None
    if text is not None and len(text) > _MAX_MESSAGE:
        text = text[: _MAX_MESSAGE - 1] + "…"
    return FailedTask(
        name=redact(name),
        full_name=redact(f"{name}[{index}]" if index is not None else name),
        map_index=index,
        state=type(state).__name__,
        message=text,
        upstream_failed=is_upstream_failure(state),
    )


def failed_tasks(flow_state: Any) -> tuple[tuple[FailedTask, ...], int]:
    """The first `MAX_LISTED` failed task runs of a finished flow run, causes before the tasks
    that failed only because of them, and how many there are in all."""
    results = getattr(flow_state, "result", None)
    if not isinstance(results, dict):
        return (), 0
    found: list[FailedTask] = []
    for task, state in results.items():
        name = str(getattr(task, "name", task))
        children = getattr(state, "map_states", None)
        if children and not _failed(state):
            found.extend(
                _entry(name, index, child) for index, child in enumerate(children) if _failed(child)
            )
        elif _failed(state):
            found.append(_entry(name, None, state))
    found.sort(key=lambda entry: entry.upstream_failed)  # stable: causes first, in flow order
    return tuple(found[:MAX_LISTED]), len(found)
