"""Users' own wording: message templates and log-query links, filled from a notice's facts.

A template is text with `{field}` placeholders (the fields are `FIELDS`, documented in
docs/notification-templates.md). Only a `{name}` made of lower-case letters and underscores is a
placeholder, so the JSON inside a Grafana Explore URL (`{"datasource":"loki",...}`) passes
through as written, with no doubling of braces. An unknown field is refused when the notifier or
action is made, naming the field and the ones there are, never at the moment an alert is due.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from urllib.parse import quote

from flowlight.settings import setting
from flowlight.utilities.notifications.notice import Notice

__all__ = ["FIELDS", "LOG_URL_FIELDS", "MessageTemplate", "log_url_template", "template_values"]

FIELDS: dict[str, str] = {
    "event": "state_change; suppressed_summary (held-back notifications); resolved (recovered)",
    "headline": "the default first line, e.g. Task 'load' in flow 'etl' is now Failed",
    "subject": "task 'load[3]' in flow 'etl', or flow 'etl'",
    "flow": "the flow's name",
    "flow_run_id": "the flow run's id",
    "flow_run_name": "the flow run's name (its id unless given)",
    "task": "the task's full name (load, or load[3] for a mapped child); empty for the flow",
    "task_run_id": "the task run's id; empty for the flow",
    "map_index": "the mapped child's index; empty otherwise",
    "state": "the new state's class: Failed, Retrying, Success, TriggerFailed, ...",
    "previous_state": "the state class before the transition; empty when not known",
    "message": "the state's message (masked, clipped to 1,500 characters)",
    "error": "the repr of the exception a failed state carries; empty otherwise",
    "run_count": "1 on the first attempt, +1 per retry; empty for the flow",
    "retry_at": "when a Retrying task runs again; empty otherwise",
    "trace_id": "the run's trace id (with the OpenTelemetry bridge on); empty otherwise",
    "trace_url": "trace_url_template filled with the trace id; empty without either",
    "logs_url": "log_url_template filled in; empty without it",
    "failed_tasks": "a failed flow's failed task runs, one '- name: message' line each",
    "failed_task_count": "how many task runs failed (a flow's notification); 0 otherwise",
    "suppressed": "notifications held back by flood control, e.g. 999 x Failed for task 'child'",
    "suppressed_count": "how many notifications were held back, in all",
    "failing_since": "a resolved notice's failure streak: its start, length and failed runs",
}

LOG_URL_FIELDS = ("trace_id", "flow_run_id", "flow", "task_run_id")

_PLACEHOLDER = re.compile(r"\{([a-z_]+)\}")


def _fill(template: str, values: Mapping[str, str]) -> str:
    return _PLACEHOLDER.sub(lambda match: values.get(match.group(1), match.group(0)), template)


def _unknown(template: str, known: tuple[str, ...] | dict[str, str]) -> list[str]:
    return [name for name in _PLACEHOLDER.findall(template) if name not in known]


class MessageTemplate:
    """A message text with `{field}` placeholders, checked when made."""

    __slots__ = ("text",)

    def __init__(self, text: str) -> None:
        if not isinstance(text, str) or not text.strip():
            raise ValueError(
                f"template={text!r} must be non-empty text with {{field}} placeholders, e.g. "
                "template='{headline}: {message} {trace_url}'."
            )
        unknown = _unknown(text, FIELDS)
        if unknown:
            raise ValueError(
                f"template has unknown field(s) {', '.join(sorted(set(unknown)))}; the fields "
                f"are {', '.join(FIELDS)} (docs/notification-templates.md)."
            )
        self.text = text

    def render(self, notice: Notice) -> str:
        return _fill(self.text, template_values(notice))

    def __repr__(self) -> str:
        return f"MessageTemplate({self.text!r})"


def log_url_template(template: str | None) -> str | None:
    """The checked log-query URL template: the argument, else the setting
    `FLOWLIGHT__NOTIFICATIONS__LOG_URL_TEMPLATE`, else None."""
    if template is None:
        template = setting("notifications", "log_url_template", default=None)
    if template is None or template == "":
        return None
    template = str(template)
    unknown = _unknown(template, LOG_URL_FIELDS)
    used = set(_PLACEHOLDER.findall(template))
    if unknown or not used & {"trace_id", "flow_run_id"}:
        raise ValueError(
            f"log_url_template {template!r} must use {{trace_id}} or {{flow_run_id}} and only "
            f"the fields {', '.join(LOG_URL_FIELDS)}; e.g. a Grafana Explore link whose Loki "
            'query is {flow_run_id="{flow_run_id}"}.'
        )
    return template


def log_url(template: str, notice: Notice) -> str | None:
    """`template` filled from `notice` (each value URL-encoded), or None when a field it uses
    has no value (no trace id without the bridge, say)."""
    values = {
        "trace_id": notice.trace_id,
        "flow_run_id": notice.flow_run_id,
        "flow": notice.flow_name,
        "task_run_id": notice.task_run_id,
    }
    if any(values.get(name) is None for name in _PLACEHOLDER.findall(template)):
        return None
    return _fill(template, {k: quote(v, safe="") for k, v in values.items() if v is not None})


def _text(value: object) -> str:
    return "" if value is None else str(value)


def template_values(notice: Notice) -> dict[str, str]:
    """Every field of `FIELDS` as text, from `notice` (already masked)."""
    return {
        "event": notice.kind,
        "headline": notice.headline,
        "subject": notice.subject,
        "flow": _text(notice.flow_name),
        "flow_run_id": _text(notice.flow_run_id),
        "flow_run_name": _text(notice.flow_run_name or notice.flow_run_id),
        "task": _text(notice.task_full_name),
        "task_run_id": _text(notice.task_run_id),
        "map_index": _text(notice.map_index),
        "state": notice.state,
        "previous_state": _text(notice.previous_state),
        "message": _text(notice.message),
        "error": _text(notice.error),
        "run_count": _text(notice.run_count),
        "retry_at": _text(notice.retry_at),
        "trace_id": _text(notice.trace_id),
        "trace_url": _text(notice.trace_url),
        "logs_url": _text(notice.logs_url),
        "failed_tasks": "\n".join(f"- {line}" for line in notice.failure_lines()),
        "failed_task_count": str(notice.failed_task_count),
        "suppressed": "; ".join(notice.summary_lines()),
        "suppressed_count": str(sum(s.count for s in notice.suppressed)),
        "failing_since": notice.recovery.describe() if notice.recovery is not None else "",
    }
