"""What a notification says, and how it is written for Slack, for a webhook and for e-mail.

A `Notice` gathers the facts of one transition once (flow, task and map index, state, message,
run count, retry time, trace) from the state and the run context, already redacted; the renderers
only lay them out. Keeping the facts in one place is what lets the three channels agree.
"""

from __future__ import annotations

import html
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from flowlight.utilities.notifications.failures import FailedTask, failed_tasks
from flowlight.utilities.redaction import redact

__all__ = [
    "WEBHOOK_PAYLOAD_VERSION",
    "Notice",
    "NoticeKind",
    "SuppressedCount",
    "email_parts",
    "notice_for",
    "slack_payload",
    "webhook_body",
    "webhook_payload",
]

WEBHOOK_PAYLOAD_VERSION = 1

NoticeKind = Literal["state_change", "suppressed_summary"]

# Long enough for a traceback's last lines; short enough for Slack's 3,000-character blocks.
_MAX_TEXT = 1500


@dataclass(frozen=True)
class SuppressedCount:
    """Notifications held back by flood control: `count` of `state` for `task` (None: the flow)."""

    task: str | None
    state: str
    count: int


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

    @property
    def subject(self) -> str:
        """Who changed: `task 'load[3]' in flow 'etl'` or `flow 'etl'`."""
        flow = f"flow '{self.flow_name}'" if self.flow_name else "a flow"
        if self.task_full_name is None:
            return flow
        return f"task '{self.task_full_name}' in {flow}"

    @property
    def headline(self) -> str:
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


def _check(state: Any, method: str) -> bool:
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
    if _check(new_state, "is_retrying"):
        retry_at = _as_datetime(getattr(new_state, "start_time", None))
    trace_id = run_context.get("trace_id")
    trace_url = None
    if trace_id and trace_url_template:
        trace_url = trace_url_template.format(trace_id=trace_id)
    flow_name = run_context.get("flow_name") or (getattr(obj, "name", None) if is_flow else None)
    failed: tuple[FailedTask, ...] = ()
    failed_count = 0
    if is_flow and _check(new_state, "is_failed"):
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
        is_failed=_check(new_state, "is_failed"),
        is_finished=_check(new_state, "is_finished"),
        trace_id=trace_id,
        traceparent=run_context.get("traceparent"),
        trace_url=trace_url,
        suppressed=suppressed,
        failed_tasks=failed,
        failed_task_count=failed_count,
    )


def _detail_rows(notice: Notice) -> list[tuple[str, str]]:
    """The labelled facts under the headline, for the plain text (Slack's fallback, the webhook's
    `text`, an e-mail's text part) and an e-mail's HTML table alike, so the two parts of one
    e-mail cannot disagree.

    A suppressed summary is about the notifications held back, not about the flow's final state,
    so it carries no message, error, run count or retry time.
    """
    rows: list[tuple[str, str]] = []
    if notice.kind == "state_change":
        if notice.message:
            rows.append(("Message", notice.message))
        if notice.error and notice.error not in (notice.message or ""):
            rows.append(("Error", notice.error))
        if notice.run_count is not None:
            rows.append(("Run count", str(notice.run_count)))
        if notice.retry_at is not None:
            rows.append(("Retrying at", str(notice.retry_at)))
    if notice.flow_run_id:
        rows.append(("Flow run", notice.flow_run_name or notice.flow_run_id))
    return rows


def _plain_lines(notice: Notice) -> list[str]:
    lines = [notice.headline + "."]
    lines.extend(f"{label}: {value}" for label, value in _detail_rows(notice))
    if notice.failed_tasks and notice.kind == "state_change":
        lines.append(f"Failed tasks ({notice.failed_task_count}):")
        lines.extend(f"- {line}" for line in notice.failure_lines())
    if notice.trace_id:
        lines.append(f"Trace: {notice.trace_url or notice.trace_id}")
    if notice.logs_url:
        lines.append(f"Logs: {notice.logs_url}")
    if notice.suppressed:
        label = "Held back" if notice.kind == "suppressed_summary" else "Also held back"
        lines.append(f"{label} by flood control: " + "; ".join(notice.summary_lines()))
    return lines


def _slack_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


_SLACK_EMOJI = {"Failed": ":x:", "Retrying": ":repeat:", "Success": ":white_check_mark:"}


def slack_payload(notice: Notice) -> dict[str, Any]:
    """A Slack incoming-webhook body: blocks, plus `text` as the plain-text fallback."""
    emoji = _SLACK_EMOJI.get(notice.state, ":x:" if notice.is_failed else ":information_source:")
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": notice.headline[:150]}}
    ]
    if notice.kind == "state_change":
        detail = notice.message or "(no message)"
        text = f"{emoji} *{_slack_escape(notice.state)}*: {_slack_escape(detail)}"
        if notice.error and notice.error not in detail:
            text += f"\n```{_slack_escape(notice.error)}```"
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": text}})
        fields = [f"*State*\n{notice.previous_state or '?'} → {notice.state}"]
        if notice.run_count is not None:
            fields.append(f"*Run count*\n{notice.run_count}")
        if notice.retry_at is not None:
            fields.append(f"*Retrying at*\n{notice.retry_at}")
        if notice.flow_run_id:
            fields.append(
                f"*Flow run*\n{_slack_escape(notice.flow_run_name or notice.flow_run_id)}"
            )
        blocks.append(
            {"type": "section", "fields": [{"type": "mrkdwn", "text": f} for f in fields]}
        )
    if notice.failed_tasks and notice.kind == "state_change":
        listed = "\n".join(f"• {_slack_escape(line)}" for line in notice.failure_lines())
        title = f"*Failed tasks ({notice.failed_task_count})*"
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": f"{title}\n{listed}"}})
    if notice.trace_id:
        link = f"<{notice.trace_url}|{notice.trace_id}>" if notice.trace_url else notice.trace_id
        blocks.append(
            {"type": "context", "elements": [{"type": "mrkdwn", "text": f"Trace {link}"}]}
        )
    if notice.logs_url:
        logs = {"type": "mrkdwn", "text": f"<{notice.logs_url}|Logs of this run>"}
        blocks.append({"type": "context", "elements": [logs]})
    if notice.suppressed:
        held = "\n".join(f"• {_slack_escape(line)}" for line in notice.summary_lines())
        blocks.append(
            {"type": "section", "text": {"type": "mrkdwn", "text": f"*Held back*\n{held}"}}
        )
    return {"text": "\n".join(_plain_lines(notice)), "blocks": blocks}


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def webhook_payload(notice: Notice, sent_at: datetime) -> dict[str, Any]:
    """The version-1 webhook body, as documented in docs/webhook-payload.md."""
    task = None
    if notice.task_full_name is not None:
        task = {
            "name": notice.task_name,
            "slug": notice.task_slug,
            "full_name": notice.task_full_name,
            "run_id": notice.task_run_id,
            "map_index": notice.map_index,
            "run_count": notice.run_count,
            "tags": list(notice.task_tags),
        }
    trace = None
    if notice.trace_id:
        trace = {"trace_id": notice.trace_id, "traceparent": notice.traceparent}
        trace["url"] = notice.trace_url
    return {
        "version": WEBHOOK_PAYLOAD_VERSION,
        "event": notice.kind,
        "sent_at": sent_at.isoformat(),
        "text": "\n".join(_plain_lines(notice)),
        "flow": {
            "name": notice.flow_name,
            "run_id": notice.flow_run_id,
            "run_name": notice.flow_run_name,
            "failed_tasks": _failed_task_list(notice),
            "failed_task_count": notice.failed_task_count
            if notice.task_full_name is None
            else None,
        },
        "task": task,
        "state": {
            "type": notice.state,
            "previous": notice.previous_state,
            "message": notice.message,
            "error": notice.error,
            "is_failed": notice.is_failed,
            "is_finished": notice.is_finished,
            "timestamp": _iso(notice.timestamp),
            "retry_at": _iso(notice.retry_at),
        },
        "trace": trace,
        "suppressed": [
            {"task": s.task, "state": s.state, "count": s.count} for s in notice.suppressed
        ],
    }


def _failed_task_list(notice: Notice) -> list[dict[str, Any]] | None:
    if notice.task_full_name is not None:
        return None  # a task's notification: the flow run has not ended
    return [
        {
            "name": entry.name,
            "full_name": entry.full_name,
            "map_index": entry.map_index,
            "state": entry.state,
            "message": entry.message,
            "upstream_failed": entry.upstream_failed,
            "trace_url": notice.trace_url,
        }
        for entry in notice.failed_tasks
    ]


def webhook_body(payload: Mapping[str, Any]) -> bytes:
    """The exact bytes sent (and signed): compact JSON, keys in the documented order, UTF-8."""
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def email_parts(notice: Notice) -> tuple[str, str, str]:
    """Subject, plain-text body and HTML body of an e-mail alert."""
    # A newline in a task or flow name must not end the Subject header.
    subject = " ".join(f"[flowlight] {notice.headline}".split())
    text = "\n".join(_plain_lines(notice)) + "\n"
    rows = "".join(
        f"<tr><th align='left'>{html.escape(label)}</th><td>{html.escape(value)}</td></tr>"
        for label, value in _email_rows(notice)
    )
    trace = ""
    if notice.trace_url:
        url = html.escape(notice.trace_url, quote=True)
        trace = f'<p><a href="{url}">Open the trace {html.escape(notice.trace_id or "")}</a></p>'
    failed = ""
    if notice.failed_tasks and notice.kind == "state_change":
        items = "".join(f"<li>{html.escape(line)}</li>" for line in notice.failure_lines())
        failed = f"<p>Failed tasks ({notice.failed_task_count}):</p><ul>{items}</ul>"
    held = ""
    if notice.suppressed:
        items = "".join(f"<li>{html.escape(line)}</li>" for line in notice.summary_lines())
        held = f"<p>Held back by flood control:</p><ul>{items}</ul>"
    body = (
        f"<html><body><h2>{html.escape(notice.headline)}</h2>"
        f"<table>{rows}</table>{failed}{trace}{held}</body></html>"
    )
    return subject, text, body


def _email_rows(notice: Notice) -> list[tuple[str, str]]:
    rows = [("State", notice.state), *_detail_rows(notice)]
    if notice.trace_id:
        rows.append(("Trace", notice.trace_id))
    return rows
