"""`flowlight runs`: the recent flow runs in the local telemetry store."""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Any

from flowlight.cli.render import read_store
from flowlight.telemetry_lines import SkippedLines

__all__ = ["add_parser", "runs_command"]


def add_parser(commands: Any) -> None:
    runs = commands.add_parser(
        "runs",
        help="list recent flow runs from the local telemetry store",
        description="List the flow runs recorded in the local telemetry store, newest last.",
    )
    runs.add_argument("--dir", help="the telemetry directory (default: .flowlight/telemetry)")
    runs.add_argument(
        "--limit", "-n", type=_count, default=20, help="how many runs, 1 or more (default 20)"
    )
    runs.add_argument("--flow", help="only the runs of this flow")
    runs.set_defaults(handler=runs_command)


def _count(text: str) -> int:
    """A whole number of runs, 1 or more: `-n 0` or `-n -5` would list nothing or everything."""
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a whole number of runs, 1 or more; got {text!r}")
    return value


def runs_command(args: argparse.Namespace) -> int:
    return read_store("flowlight runs", args, _list_runs)


def _list_runs(args: argparse.Namespace, directory: Path, skipped: SkippedLines) -> int:
    from rich.table import Table

    from flowlight.cli.render import console, duration, markup_safe, state_style
    from flowlight.telemetry_files import flow_runs

    found = [r for r in flow_runs(directory, skipped) if args.flow in (None, r.flow)]
    out = console()
    if not found:
        out.print(f"no flow runs recorded in {markup_safe(str(directory))}")
        return 0
    table = Table(box=None, pad_edge=False)
    for column in ("started", "flow", "state", "duration", "trace id"):
        table.add_column(column, no_wrap=True)
    for run in found[-args.limit :]:
        started = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(run.start_ns / 1e9))
        table.add_row(
            started,
            markup_safe(run.flow),
            f"[{state_style(run.state)}]{markup_safe(run.state)}[/]",
            duration(run.seconds),
            markup_safe(run.trace_id),
        )
    out.print(table)
    return 0
