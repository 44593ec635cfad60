"""`flowlight runs`: the recent flow runs in the local telemetry store."""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Any

__all__ = ["add_parser", "runs_command"]


def add_parser(commands: Any) -> None:
    runs = commands.add_parser(
        "runs",
        help="list recent flow runs from the local telemetry store",
        description="List the flow runs recorded in the local telemetry store, newest last.",
    )
    runs.add_argument("--dir", help="the telemetry directory (default: .flowlight/telemetry)")
    runs.add_argument("--limit", "-n", type=int, default=20, help="how many runs (default 20)")
    runs.add_argument("--flow", help="only the runs of this flow")
    runs.set_defaults(handler=runs_command)


def runs_command(args: argparse.Namespace) -> int:
    from rich.table import Table

    from flowlight.cli.render import console, duration, state_style
    from flowlight.telemetry_files import default_directory, flow_runs

    directory = Path(args.dir) if args.dir else default_directory()
    found = [r for r in flow_runs(directory) if args.flow in (None, r.flow)]
    out = console()
    if not found:
        out.print(f"no flow runs recorded in {directory}")
        return 0
    table = Table(box=None, pad_edge=False)
    for column in ("started", "flow", "state", "duration", "trace id"):
        table.add_column(column, no_wrap=True)
    for run in found[-max(1, args.limit) :]:
        started = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(run.start_ns / 1e9))
        table.add_row(
            started,
            run.flow,
            f"[{state_style(run.state)}]{run.state}[/]",
            duration(run.seconds),
            run.trace_id,
        )
    out.print(table)
    return 0
