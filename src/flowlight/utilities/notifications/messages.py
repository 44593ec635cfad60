"""How a notification is written for Slack, for a webhook and for e-mail.

The facts come from a `Notice` (`notice.py`, re-exported here), gathered once and already
redacted; the renderers only lay them out, so the three channels agree.
"""

from __future__ import annotations

import html
import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from flowlight.utilities.notifications.notice import (
    Notice,
    NoticeKind,
    Recovery,
    SuppressedCount,
    notice_for,
)

__all__ = [
    "WEBHOOK_PAYLOAD_VERSION",
    "Notice",
    "NoticeKind",
    "Recovery",
    "SuppressedCount",
    "email_parts",
    "notice_for",
    "slack_message_formatter",
    "slack_payload",
    "webhook_body",
    "webhook_payload",
]

WEBHOOK_PAYLOAD_VERSION = 1


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
    if notice.recovery is not None:
        rows.append(("Failing since", notice.recovery.describe()))
        if notice.recovery.last_failed_run_id:
            rows.append(("Last failed run", notice.recovery.last_failed_run_id))
    if notice.flow_run_id:
        label = "Fixed by run" if notice.kind == "resolved" else "Flow run"
        rows.append((label, notice.flow_run_name or notice.flow_run_id))
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
    if notice.kind == "resolved":
        rows = "\n".join(f"*{k}*: {_slack_escape(v)}" for k, v in _detail_rows(notice))
        text = f":white_check_mark: {rows}"
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": text}})
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
            "recovered": _recovered(notice),
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


def _recovered(notice: Notice) -> dict[str, Any] | None:
    if notice.recovery is None:
        return None
    return {
        "failing_since": notice.recovery.failing_since.isoformat(),
        "failing_for_seconds": round(notice.recovery.failing_for_seconds, 3),
        "failed_runs": notice.recovery.failed_runs,
        "last_failed_run_id": notice.recovery.last_failed_run_id,
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


def slack_message_formatter(
    tracked_obj: Any, state: Any, backend_info: bool = True
) -> dict[str, Any]:
    """Prefect 1's Slack attachment for one state change, for code that posts its own
    messages: the state's name and color, a line naming the task or flow, and a "Message"
    field with the state's message (or, when the result is an exception, its repr in a code
    block). `backend_info` is taken for Prefect 1's signature; there is no backend to link."""
    error = state.result if isinstance(state.result, Exception) else None
    text = f"```{error!r}```" if error is not None else state.message
    fields = [] if text is None else [{"title": "Message", "value": str(text), "short": False}]
    name = type(state).__name__
    attachment = {
        "fallback": "State change notification",
        "color": state.color,
        "author_name": "flowlight",
        "title": name,
        "fields": fields,
        "text": f"{getattr(tracked_obj, 'name', tracked_obj)} is now in a {name} state",
        "footer": "flowlight notification",
    }
    return {"attachments": [attachment]}
