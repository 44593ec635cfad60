"""`flowlight telemetry replay [DIRECTORY] [--endpoint URL] [--protocol P] [--keep]`."""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from flowlight.otel import ReplayReport

__all__ = ["add_parser", "close_crashed_command", "replay_command"]

_PROTOCOLS = ("grpc", "http/protobuf")


def add_parser(commands: Any) -> None:
    telemetry = commands.add_parser(
        "telemetry", help="the local telemetry files: send them to a collector"
    )
    actions = telemetry.add_subparsers(dest="telemetry_command", required=True, metavar="ACTION")
    replay = actions.add_parser(
        "replay",
        help="send the local OTLP JSON files to a collector",
        description=(
            "Send the OTLP JSON files under DIRECTORY (spooled while a collector was down, or "
            "written with no collector configured) to a collector. Without --keep, each file is "
            "removed once the collector confirmed every request in it; what it refused stays."
        ),
    )
    replay.add_argument(
        "directory", nargs="?", help="the telemetry directory (default: .flowlight/telemetry)"
    )
    replay.add_argument(
        "--endpoint",
        help="the collector's OTLP URL, e.g. http://127.0.0.1:4318 "
        "(default: OTEL_EXPORTER_OTLP_ENDPOINT)",
    )
    replay.add_argument(
        "--protocol", choices=_PROTOCOLS, help="default: OTEL_EXPORTER_OTLP_PROTOCOL"
    )
    replay.add_argument(
        "--keep", action="store_true", help="send, and leave the local files as they are"
    )
    replay.set_defaults(handler=replay_command)
    crashed = actions.add_parser(
        "close-crashed",
        help="close the flow runs whose process died mid-run (ERROR span, log, metric)",
    )
    crashed.add_argument(
        "directory", nargs="?", help="the telemetry directory (default: .flowlight/telemetry)"
    )
    crashed.set_defaults(handler=close_crashed_command)


def close_crashed_command(args: argparse.Namespace) -> int:
    from flowlight.otel import close_crashed_runs, configure, flush, shutdown, statistics

    before = statistics().get("crashed_runs_closed", 0)
    if args.directory:
        configure(telemetry_dir=args.directory)  # configuring closes them already
    close_crashed_runs()
    flush()
    shutdown()
    print(f"closed {statistics().get('crashed_runs_closed', 0) - before} crashed run(s)")
    return 0


def _has_endpoint(args: argparse.Namespace) -> bool:
    if args.endpoint:
        return True
    names = ["OTEL_EXPORTER_OTLP_ENDPOINT"] + [
        f"OTEL_EXPORTER_OTLP_{signal}_ENDPOINT" for signal in ("TRACES", "METRICS", "LOGS")
    ]
    return any(os.environ.get(name, "").strip() for name in names)


def replay_command(args: argparse.Namespace) -> int:
    from flowlight.telemetry_files import default_directory

    directory = Path(args.directory) if args.directory else default_directory()
    if not directory.is_dir():
        print(
            f"flowlight telemetry replay: no telemetry directory at {directory}; pass the "
            "directory the bridge wrote to (FLOWLIGHT__OTEL__TELEMETRY_DIR), or run a traced "
            "flow first.",
            file=sys.stderr,
        )
        return 2
    if not _has_endpoint(args):
        print(
            "flowlight telemetry replay: no collector to send to; pass --endpoint "
            "http://HOST:4318 (or set OTEL_EXPORTER_OTLP_ENDPOINT).",
            file=sys.stderr,
        )
        return 2
    from flowlight.otel import replay

    source = directory
    scratch = None
    if args.keep:
        # Replay a copy: the replay moves and removes what it sent, the originals stay.
        scratch = tempfile.mkdtemp(prefix="flowlight-replay-")
        source = Path(scratch)
        for path in directory.glob("*.jsonl*"):
            shutil.copy2(path, source / path.name)
    try:
        report = replay(source, endpoint=args.endpoint, protocol=args.protocol)
    except ValueError as error:
        print(f"flowlight telemetry replay: {error}", file=sys.stderr)
        return 2
    finally:
        if scratch is not None:
            shutil.rmtree(scratch, ignore_errors=True)
    for signal, count in report.sent.items():
        line = f"{signal}: sent {count}, kept {report.kept.get(signal, 0)}"
        quarantined = report.quarantined.get(signal, 0)
        if quarantined and args.keep:
            line += f", skipped {quarantined} bad line(s) (left in place: --keep)"
        elif quarantined:
            line += f", quarantined {quarantined} bad line(s) in {signal}.jsonl.bad"
        print(line)
    if not report.sent:
        print(f"nothing to send in {directory}")
    _print_problems(report.errors)
    for message in _what_is_left(report, directory, keep=args.keep):
        print(f"flowlight telemetry replay: {message}", file=sys.stderr)
    return 0 if report.complete else 1


def _what_is_left(report: ReplayReport, directory: Path, *, keep: bool) -> list[str]:
    """What was not delivered, each kind with what to do about it: requests the collector did
    not take wait for it; bad lines are never sent, a collector would not fix them."""
    messages = []
    kept = sum(report.kept.values())
    if kept:
        messages.append(
            f"{kept} request(s) the collector did not take are still in {directory}, waiting "
            "for it: start the collector (or fix the endpoint) and replay again."
        )
    bad = sum(report.quarantined.values())
    if bad and keep:
        messages.append(
            f"{bad} line(s) are not OTLP JSON (why: above) and were not sent; --keep left them "
            f"in place in {directory}."
        )
    elif bad:
        files = ", ".join(f"{s}.jsonl.bad" for s, n in report.quarantined.items() if n)
        messages.append(
            f"{bad} line(s) are not OTLP JSON (why: above) and were not sent; they were moved to "
            f"{files} in {directory}, and a replay never sends them."
        )
    return messages


def _print_problems(problems: list[str], limit: int = 10) -> None:
    """Each distinct problem once: a collector that is down refuses every request alike. A
    problem may quote a collector's answer or a file's name: its control characters are shown
    escaped."""
    from flowlight.cli.render import printable

    counts: dict[str, int] = {}
    for problem in problems:
        counts[problem] = counts.get(problem, 0) + 1
    for problem, count in list(counts.items())[:limit]:
        times = f" ({count} requests)" if count > 1 else ""
        print(f"error: {printable(problem)}{times}", file=sys.stderr)
    if len(counts) > limit:
        print(f"error: ... and {len(counts) - limit} more", file=sys.stderr)
