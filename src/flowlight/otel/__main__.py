"""`python -m flowlight.otel replay [DIRECTORY]`: send the local telemetry files to a collector."""

from __future__ import annotations

import argparse
import sys

from flowlight.otel._config import PROTOCOLS
from flowlight.otel._replay import replay

__all__ = ["main"]


def main(argv: list[str] | None = None, prog: str = "python -m flowlight.otel") -> int:
    parser = argparse.ArgumentParser(prog=prog)
    commands = parser.add_subparsers(dest="command", required=True)
    send = commands.add_parser(
        "replay",
        help="send the OTLP JSON files (spooled or written offline) to the configured collector",
    )
    send.add_argument("directory", nargs="?", help="default: .flowlight/telemetry")
    send.add_argument("--endpoint", help="default: OTEL_EXPORTER_OTLP_ENDPOINT")
    send.add_argument("--protocol", choices=PROTOCOLS)
    crashed = commands.add_parser(
        "close-crashed",
        help="close the flow runs whose process died mid-run (ERROR span, log, metric)",
    )
    crashed.add_argument("directory", nargs="?", help="default: .flowlight/telemetry")
    args = parser.parse_args(argv)
    if args.command == "close-crashed":
        from flowlight.otel import close_crashed_runs, configure, flush, shutdown, statistics

        before = statistics().get("crashed_runs_closed", 0)
        if args.directory:
            configure(telemetry_dir=args.directory)  # configuring closes them already
        close_crashed_runs()
        flush()
        shutdown()
        print(f"closed {statistics().get('crashed_runs_closed', 0) - before} crashed run(s)")
        return 0
    try:
        report = replay(args.directory, endpoint=args.endpoint, protocol=args.protocol)
    except ValueError as error:
        print(error, file=sys.stderr)
        return 2
    for signal, count in report.sent.items():
        line = f"{signal}: sent {count}, kept {report.kept.get(signal, 0)}"
        quarantined = report.quarantined.get(signal, 0)
        if quarantined:
            line += f", quarantined {quarantined} bad line(s) in {signal}.jsonl.bad"
        print(line)
    for problem in report.errors[:10]:
        print(f"error: {problem}", file=sys.stderr)
    return 0 if report.complete else 1


if __name__ == "__main__":
    sys.exit(main())
