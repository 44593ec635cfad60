"""The block printed to a terminal when a flow run ends: how it went, in a few lines.

Final state, duration, task runs counted by final state (mapped children counted one by one), the
failed runs with their messages, the trace id with a link and the command that draws it, and where
the telemetry went. Rendered with rich, imported here only: this module is loaded only when stderr
is a terminal.
"""

from __future__ import annotations

import os
import sys
from collections import Counter
from typing import Any

from flowlight.engine.state import Mapped, State
from flowlight.settings import setting
from flowlight.utilities.redaction import redact

__all__ = ["failed_runs", "print_summary", "state_counts", "trace_url"]

_STATE_STYLES = {
    "Success": "green",
    "Failed": "bold red",
    "TriggerFailed": "red",
    "TimedOut": "red",
    "Skipped": "yellow",
    "Cached": "cyan",
    "Retrying": "yellow",
    "Paused": "magenta",
    "Running": "blue",
}
_MAX_FAILURES_SHOWN = 8


def state_counts(task_states: dict[Any, State]) -> Counter[str]:
    """Task runs by final state name; a mapped task counts its children, not itself."""
    counts: Counter[str] = Counter()
    for state in task_states.values():
        if isinstance(state, Mapped) and state.map_states:
            counts.update(type(child).__name__ for child in state.map_states)
        else:
            counts[type(state).__name__] += 1
    return counts


def failed_runs(task_states: dict[Any, State]) -> list[tuple[str, str]]:
    """`(label, message)` of every failed task run, `name[i]` for a mapped child, in task order."""
    failures: list[tuple[str, str]] = []
    for task, state in task_states.items():
        name = getattr(task, "name", str(task))
        if isinstance(state, Mapped):
            for index, child in enumerate(state.map_states):
                if child.is_failed():
                    failures.append((f"{name}[{index}]", redact(child.message or "")))
        elif state.is_failed():
            failures.append((name, redact(state.message or "")))
    return failures


def trace_url(trace_id: str) -> str | None:
    """A link to the trace in a trace UI: `FLOWLIGHT__NOTIFICATIONS__TRACE_URL_TEMPLATE` (with a
    `{trace_id}` field) or `FLOWLIGHT__UI__JAEGER_URL` (Jaeger's base URL); None when unset."""
    template = setting("notifications", "trace_url_template", default=None)
    if isinstance(template, str) and "{trace_id}" in template:
        return template.replace("{trace_id}", trace_id)
    jaeger = setting("ui", "jaeger_url", default=None)
    if isinstance(jaeger, str) and jaeger:
        return f"{jaeger.rstrip('/')}/trace/{trace_id}"
    return None


def _duration(seconds: float) -> str:
    if seconds < 1:
        return f"{seconds * 1000:.0f} ms"
    if seconds < 120:
        return f"{seconds:.2f} s"
    minutes, rest = divmod(seconds, 60)
    return f"{int(minutes)} min {rest:.0f} s"


def print_summary(flow_name: str, final: State, seconds: float) -> None:
    """Print the run's summary to stderr."""
    from rich.console import Console
    from rich.markup import escape
    from rich.panel import Panel
    from rich.text import Text

    states: dict[Any, State] = final.result if isinstance(final.result, dict) else {}
    name = type(final).__name__
    style = _STATE_STYLES.get(name, "bold")
    lines = Text()
    lines.append(f"{name}", style=style)
    lines.append(f"  {redact(final.message or '')}  in {_duration(seconds)}\n")
    counts = state_counts(states)
    lines.append("task runs: ")
    for index, (state_name, count) in enumerate(sorted(counts.items(), key=lambda kv: -kv[1])):
        if index:
            lines.append(", ")
        lines.append(f"{count} {state_name}", style=_STATE_STYLES.get(state_name, ""))
    if not counts:
        lines.append("none")
    failures = failed_runs(states)
    for label, message in failures[:_MAX_FAILURES_SHOWN]:
        lines.append("\n  ✗ ", style="red")
        lines.append(label, style="bold")
        lines.append(f"  {message}")
    if len(failures) > _MAX_FAILURES_SHOWN:
        lines.append(f"\n  … and {len(failures) - _MAX_FAILURES_SHOWN} more failed task runs")
    context = final.context or {}
    trace_id = final.trace_id
    if trace_id:
        lines.append("\ntrace: ")
        lines.append(trace_id, style="bold")
        url = trace_url(trace_id)
        if url:
            lines.append(f"  {url}")
        lines.append(f"\n  see it here: flowlight trace show {trace_id}")
    destination = context.get("telemetry_destination")
    if destination:
        lines.append(f"\ntelemetry: {destination}")
    console = Console(file=sys.stderr, width=_width())
    title = f"flow run [bold]{escape(flow_name)}[/bold]"
    console.print(Panel(lines, title=title, expand=False, border_style=style))


def _width() -> int | None:
    columns = os.environ.get("COLUMNS")
    return int(columns) if columns and columns.isdigit() else None
