"""The facts of one notification, gathered once: a `Notice` built by `notice_for` from a state and
the run context, already redacted. `messages.py` lays a notice out for each channel; keeping the
facts apart from the layouts is what lets the three channels agree.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from flowlight.utilities.notifications.failures import FailedTask, failed_tasks
from flowlight.utilities.redaction import redact

__all__ = ["Notice", "NoticeKind", "Recovery", "SuppressedCount", "notice_for", "state_check"]

NoticeKind = Literal["state_change", "suppressed_summary", "resolved"]

# Long enough for a traceback's last lines; short enough for Slack's 3,000-character blocks.
_MAX_TEXT = 1500


@dataclass(frozen=True)
class SuppressedCount:
    """Notifications held back by flood control: `count` of `state` for `task` (None: the flow)."""

    task: str | None
    state: str
    count: int


@dataclass(frozen=True)
class Recovery:
    """What a resolved notice says about the failures it ends (from the notifier's memory)."""

    failing_since: datetime
    failing_for_seconds: float
    failed_runs: int
    last_failed_run_id: str | None

    def describe(self) -> str:
        minutes, seconds = divmod(int(self.failing_for_seconds), 60)
        hours, minutes = divmod(minutes, 60)
        span = f"{hours}h {minutes}m" if hours else f"{minutes}m {seconds}s"
        return f"{self.failing_since.isoformat()} ({span}, {self.failed_runs} failed run(s))"


@dataclass(frozen=True)
class Notice:
    """The redacted facts one notification is built from."""

    kind: NoticeKind
    flow_name: str | None
    flow_run_id: str | None
    flow_run_name: str | None
    task_name: str | None
    task_slug: str | None
    task_full_name: str | None
    task_run_id: str | None
    map_index: int | None
    task_tags: tuple[str, ...]
    state: str
    previous_state: str | None
    message: str | None
    error: str | None
    run_count: int | None
    retry_at: datetime | None
    timestamp: datetime | None
    is_failed: bool
    is_finished: bool
    trace_id: str | None
    traceparent: str | None
    trace_url: str | None
    suppressed: tuple[SuppressedCount, ...] = field(default=())
    failed_tasks: tuple[FailedTask, ...] = field(default=())
    failed_task_count: int = 0
    logs_url: str | None = None
    recovery: Recovery | None = None

    @property
    def subject(self) -> str:
        """Who changed: `task 'load[3]' in flow 'etl'` or `flow 'etl'`."""
        flow = f"flow '{self.flow_name}'" if self.flow_name else "a flow"
        if self.task_full_name is None:
            return flow
        return f"task '{self.task_full_name}' in {flow}"

    @property
    def headline(self) -> str:
        if self.kind == "resolved":
            return f"{self.subject[0].upper()}{self.subject[1:]} recovered: it is now {self.state}"
        if self.kind == "suppressed_summary":
            total = sum(s.count for s in self.suppressed)
            return f"{total} notification(s) for {self.subject} were held back by flood control"
        return f"{self.subject[0].upper()}{self.subject[1:]} is now {self.state}"

    def failure_lines(self) -> list[str]:
        """One plain line per failed task of a failed flow run, causes first."""
        lines = []
        for entry in self.failed_tasks:
            if entry.upstream_failed:
                lines.append(f"{entry.full_name}: not run, an upstream task failed")
            else:
                lines.append(f"{entry.full_name}: {entry.message or entry.state}")
        if self.failed_task_count > len(self.failed_tasks):
            lines.append(f"... and {self.failed_task_count - len(self.failed_tasks)} more")
        return lines

    def summary_lines(self) -> list[str]:
        """One plain line per group of suppressed notifications."""
        return [
            f"{s.count} x {s.state} for {'task ' + repr(s.task) if s.task else 'the flow'}"
            for s in self.suppressed
        ]


def _clip(text: str) -> str:
    text = redact(text)
    return text if len(text) <= _MAX_TEXT else text[: _MAX_TEXT - 1] + "…"


def _optional_text(value: Any) -> str | None:
    return redact(str(value)) if value is not None else None


def _as_datetime(value: Any) -> datetime | None:
    return value if isinstance(value, datetime) else None


def state_check(state: Any, method: str) -> bool:
    """`state.<method>()` as a bool; False when the state has no such method."""
    """`state.<method>()` as a bool; False when the state has no such method."""
    probe = getattr(state, method, None)
    return bool(probe()) if callable(probe) else False


def notice_for(
    obj: Any,
    old_state: Any,
    new_state: Any,
    run_context: Mapping[str, Any],
    *,
    is_flow: bool,
    trace_url_template: str | None,
    suppressed: tuple[SuppressedCount, ...] = (),
    kind: NoticeKind = "state_change",
) -> Notice:
    """Gather the facts of `old_state -> new_state` of `obj` (a Flow or a Task) in `run_context`."""
    result = getattr(new_state, "result", None)
    message = getattr(new_state, "message", None)
    error = repr(result) if isinstance(result, BaseException) else None
    tags: tuple[str, ...] = ()
    if is_flow:
        task_name = task_slug = task_full_name = task_run_id = None
        map_index, run_count = None, None
    else:
        task_name = run_context.get("task_name") or getattr(obj, "name", None)
        task_slug = run_context.get("task_slug") or getattr(obj, "slug", None)
        map_index = run_context.get("map_index")
        task_full_name = run_context.get("task_full_name") or (
            f"{task_name}[{map_index}]" if map_index is not None else task_name
        )
        task_run_id = run_context.get("task_run_id")
        tags = tuple(sorted(str(t) for t in run_context.get("task_tags") or ()))
        run_count = getattr(new_state, "run_count", None) or run_context.get("task_run_count")
    retry_at = None
    if state_check(new_state, "is_retrying"):
        retry_at = _as_datetime(getattr(new_state, "start_time", None))
    trace_id = run_context.get("trace_id")
    trace_url = None
    if trace_id and trace_url_template:
        trace_url = trace_url_template.format(trace_id=trace_id)
    flow_name = run_context.get("flow_name") or (getattr(obj, "name", None) if is_flow else None)
    failed: tuple[FailedTask, ...] = ()
    failed_count = 0
    if is_flow and state_check(new_state, "is_failed"):
        failed, failed_count = failed_tasks(new_state)
    return Notice(
        kind=kind,
        flow_name=_optional_text(flow_name),
        flow_run_id=run_context.get("flow_run_id"),
        flow_run_name=_optional_text(run_context.get("flow_run_name")),
        task_name=_optional_text(task_name),
        task_slug=_optional_text(task_slug),
        task_full_name=_optional_text(task_full_name),
        task_run_id=task_run_id,
        map_index=map_index,
        task_tags=tuple(redact(t) for t in tags),
        state=type(new_state).__name__,
        previous_state=type(old_state).__name__ if old_state is not None else None,
        message=_clip(str(message)) if message else None,
        error=_clip(error) if error else None,
        run_count=run_count if isinstance(run_count, int) else None,
        retry_at=retry_at,
        timestamp=_as_datetime(getattr(new_state, "timestamp", None)),
        is_failed=state_check(new_state, "is_failed"),
        is_finished=state_check(new_state, "is_finished"),
        trace_id=trace_id,
        traceparent=run_context.get("traceparent"),
        trace_url=trace_url,
        suppressed=suppressed,
        failed_tasks=failed,
        failed_task_count=failed_count,
    )
