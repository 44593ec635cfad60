"""The `flowlight` command.

`flowlight telemetry replay [DIR]` sends the OTLP JSON files the OpenTelemetry bridge wrote
(with no collector configured, or while the collector was down) to the collector named by
`OTEL_EXPORTER_OTLP_ENDPOINT`. OpenTelemetry is imported only when a telemetry command runs.
"""

from __future__ import annotations

import argparse
import sys

__all__ = ["main"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="flowlight")
    commands = parser.add_subparsers(dest="command", required=True)
    telemetry = commands.add_parser("telemetry", help="the OpenTelemetry bridge's local files")
    actions = telemetry.add_subparsers(dest="action", required=True)
    replay = actions.add_parser(
        "replay", help="send the local OTLP JSON files (spooled or offline) to a collector"
    )
    replay.add_argument("directory", nargs="?", help="default: .flowlight/telemetry")
    replay.add_argument("--endpoint", help="default: OTEL_EXPORTER_OTLP_ENDPOINT")
    replay.add_argument("--protocol", choices=["grpc", "http/protobuf"])
    args = parser.parse_args(argv)

    from flowlight.otel.__main__ import main as otel_main

    forwarded = ["replay"]
    if args.directory:
        forwarded.append(args.directory)
    if args.endpoint:
        forwarded += ["--endpoint", args.endpoint]
    if args.protocol:
        forwarded += ["--protocol", args.protocol]
    return otel_main(forwarded)


if __name__ == "__main__":
    sys.exit(main())
