"""`flowlight trace show [TRACE_ID | --last | --flow NAME] [--expand]`: a run's trace, drawn.

A tree of spans (flow run, task runs, mapped children `name[i]`), each with its final state, its
duration and a bar placed on the run's timeline (a waterfall, as Jaeger draws it), then the
messages of failures and retries and the tracebacks of exceptions. Many mapped children fold into
one line counting them by state (the failed ones are still listed); `--expand` lists them all.
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from pathlib import Path
from typing import Any

from flowlight.cli.render import printable, read_store
from flowlight.telemetry_files import SpanRecord
from flowlight.telemetry_lines import SkippedLines

__all__ = ["add_parser", "trace_rows", "trace_show_command"]

FOLD_OVER = 10  # mapped children beyond this many fold into one line
_SHOWN_WHEN_FOLDED = 5  # failed children still listed one by one in a folded map
_BAR_WIDTH = 32
_NOTED_EVENTS = frozenset({"Retrying", "Failed", "TriggerFailed", "TimedOut"})


def add_parser(commands: Any) -> None:
    trace = commands.add_parser("trace", help="look at a traced run from the local store")
    actions = trace.add_subparsers(dest="trace_command", required=True, metavar="ACTION")
    show = actions.add_parser(
        "show",
        help="draw a run's trace: tree, states, durations, timeline, errors",
        description="Draw a flow run's trace from the local telemetry store (the last run when "
        "no TRACE_ID or --flow is given).",
    )
    show.add_argument("trace_id", nargs="?", help="a trace id (or its first characters)")
    show.add_argument("--last", action="store_true", help="the most recent run (the default)")
    show.add_argument("--flow", help="the most recent run of this flow")
    show.add_argument("--expand", action="store_true", help="list every mapped child")
    show.add_argument("--dir", help="the telemetry directory (default: .flowlight/telemetry)")
    show.set_defaults(handler=trace_show_command)


def _choose_trace(args: argparse.Namespace, directory: Path, skipped: SkippedLines) -> str | None:
    from flowlight.telemetry_files import flow_runs

    runs = flow_runs(directory, skipped)
    if args.trace_id:
        matches = sorted({r.trace_id for r in runs if r.trace_id.startswith(args.trace_id)})
        if len(matches) > 1:
            raise LookupError(f"trace id {args.trace_id!r} matches {len(matches)} traces")
        return matches[0] if matches else args.trace_id
    if args.flow:
        runs = [r for r in runs if r.flow == args.flow]
        if not runs:
            raise LookupError(f"no run of flow {args.flow!r} in {directory}")
    return runs[-1].trace_id if runs else None


def trace_show_command(args: argparse.Namespace) -> int:
    return read_store("flowlight trace show", args, _show)


def _show(args: argparse.Namespace, directory: Path, skipped: SkippedLines) -> int:
    from rich.table import Table
    from rich.text import Text

    from flowlight.cli.render import console, duration, markup_safe
    from flowlight.telemetry_files import read_spans

    try:
        trace_id = _choose_trace(args, directory, skipped)
    except LookupError as error:
        print(f"flowlight trace show: {error}", file=sys.stderr)
        return 2
    if trace_id is None:
        print(
            f"flowlight trace show: no traced run in {directory}; trace a run with "
            "`flowlight run FILE --trace` or flowlight.otel.instrument(flow).",
            file=sys.stderr,
        )
        return 2
    spans = read_spans(directory, trace_id, skipped)
    if not spans:
        print(f"flowlight trace show: no trace {trace_id} in {directory}", file=sys.stderr)
        return 2
    rows = trace_rows(spans, expand=args.expand)
    start = min(s.start_ns for s in spans)
    end = max(s.end_ns for s in spans)
    table = Table(box=None, pad_edge=False, show_header=True, header_style="bold")
    # Long tracebacks are cut inside the span column rather than widen it past the timeline.
    out = console()
    state_width = max((len(Text.from_markup(r.state_text)) for r in rows), default=8)
    room = out.width - state_width - 8 - (_BAR_WIDTH + 2) - 6  # the other columns and gaps
    table.add_column("span", max_width=max(24, room), no_wrap=True, overflow="ellipsis")
    table.add_column("state", no_wrap=True)
    table.add_column("duration", justify="right", no_wrap=True, min_width=8)
    table.add_column("timeline", no_wrap=True, min_width=_BAR_WIDTH + 2)
    for row in rows:
        if row.note is not None:
            # One line per note, cut rather than wrapped, so the tree's lines stay joined.
            note = Text(row.prefix, no_wrap=True, overflow="ellipsis")
            note.append(printable(row.note), style="dim")
            table.add_row(note, "", "", "")
            continue
        table.add_row(
            f"{row.prefix}{markup_safe(row.label)}",
            row.state_text,
            duration(row.seconds),
            _bar(row.start_ns, row.end_ns, start, end, row.style),
        )
    took = duration((end - start) / 1e9)
    out.print(f"trace [bold]{markup_safe(trace_id)}[/] ({len(spans)} spans, {took})")
    out.print(table)
    return 0


def _bar(start_ns: int, end_ns: int, t0: int, t1: int, style: str) -> str:
    total = max(1, t1 - t0)
    offset = round((start_ns - t0) / total * _BAR_WIDTH)
    length = max(1, round((end_ns - start_ns) / total * _BAR_WIDTH))
    offset = min(offset, _BAR_WIDTH - 1)
    length = min(length, _BAR_WIDTH - offset)
    rest = " " * (_BAR_WIDTH - offset - length)
    return f"[dim]│[/]{' ' * offset}[{style}]{'█' * length}[/]{rest}[dim]│[/]"


class Row:
    """One line of the drawing: a span (or a folded group of mapped children), or a note."""

    def __init__(
        self,
        prefix: str,
        label: str = "",
        state_text: str = "",
        seconds: float = 0.0,
        start_ns: int = 0,
        end_ns: int = 0,
        style: str = "white",
        note: str | None = None,
    ) -> None:
        self.prefix = prefix
        self.label = label
        self.state_text = state_text
        self.seconds = seconds
        self.start_ns = start_ns
        self.end_ns = end_ns
        self.style = style
        self.note = note


def _label(span: SpanRecord) -> str:
    index = span.map_index
    if index is not None and not span.name.endswith(f"[{index}]"):
        return f"{span.name}[{index}]"
    return span.name


def trace_rows(spans: list[SpanRecord], *, expand: bool = False) -> list[Row]:
    """The lines that draw `spans` as a tree, in order (what `trace show` prints)."""
    from flowlight.cli.render import markup_safe, state_style

    ids = {s.span_id for s in spans}
    children: dict[str, list[SpanRecord]] = {}
    roots: list[SpanRecord] = []
    for span in spans:
        if span.parent_id and span.parent_id in ids:
            children.setdefault(span.parent_id, []).append(span)
        else:
            roots.append(span)
    rows: list[Row] = []

    def notes(span: SpanRecord, indent: str) -> None:
        for event in span.events:
            message = event.attributes.get("flowlight.state.message")
            if event.name in _NOTED_EVENTS and message:
                rows.append(Row(indent, note=f"{event.name}: {message}"))
            elif event.name == "exception":
                trace = str(event.attributes.get("exception.stacktrace") or "").rstrip()
                text = trace or (
                    f"{event.attributes.get('exception.type')}: "
                    f"{event.attributes.get('exception.message')}"
                )
                for line in text.splitlines():
                    rows.append(Row(indent, note=line))

    def span_row(span: SpanRecord, prefix: str) -> Row:
        state = span.state
        style = state_style(state)
        return Row(
            prefix,
            _label(span),
            f"[{style}]{markup_safe(state)}[/]"
            + (" [red]✗[/]" if span.is_error and state == "Mapped" else ""),
            span.seconds,
            span.start_ns,
            span.end_ns,
            "red" if span.is_error else style,
        )

    def walk(span: SpanRecord, lead: str, last: bool, top: bool) -> None:
        branch = "" if top else ("└─ " if last else "├─ ")
        rows.append(span_row(span, lead + branch))
        below = lead + ("" if top else ("   " if last else "│  "))
        notes(span, below + "   ")
        kids = sorted(children.get(span.span_id, []), key=lambda s: (s.start_ns, s.name))
        mapped = [k for k in kids if k.map_index is not None]
        if mapped and len(mapped) > FOLD_OVER and not expand:
            others = [k for k in kids if k.map_index is None]
            entries: list[Any] = [*others, mapped]
        else:
            entries = list(kids)
        for position, entry in enumerate(entries):
            is_last = position == len(entries) - 1
            if isinstance(entry, list):
                fold(entry, below, is_last)
            else:
                walk(entry, below, is_last, False)

    def fold(group: list[SpanRecord], lead: str, last: bool) -> None:
        group = sorted(group, key=lambda s: s.map_index or 0)
        counts = Counter(s.state for s in group)
        first, final = group[0].map_index, group[-1].map_index
        text = ", ".join(
            f"[{state_style(name)}]{count} × {markup_safe(name)}[/]"  # noqa: RUF001
            for name, count in counts.most_common()
        )
        start = min(s.start_ns for s in group)
        end = max(s.end_ns for s in group)
        failed = [s for s in group if s.is_error]
        rows.append(
            Row(
                lead + ("└─ " if last else "├─ "),
                f"{group[0].name.split('[')[0]}[{first}..{final}]",
                text,
                (end - start) / 1e9,
                start,
                end,
                "red" if failed else "green",
            )
        )
        below = lead + ("   " if last else "│  ")
        for position, span in enumerate(failed[:_SHOWN_WHEN_FOLDED]):
            is_last = position == min(len(failed), _SHOWN_WHEN_FOLDED) - 1
            walk(span, below, is_last and len(failed) <= _SHOWN_WHEN_FOLDED, False)
        if len(failed) > _SHOWN_WHEN_FOLDED:
            more = len(failed) - _SHOWN_WHEN_FOLDED
            rows.append(Row(below + "└─ ", note=f"… {more} more failed (--expand lists all)"))

    for root in sorted(roots, key=lambda s: s.start_ns):
        walk(root, "", True, True)
    return rows
