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
    # The telemetry commands and their options are declared once, by the bridge's own entry
    # point; this parser only picks the command and hands it the rest.
    commands.add_parser(
        "telemetry",
        add_help=False,
        help="the OpenTelemetry bridge's local files: `flowlight telemetry replay --help`",
    )
    _, rest = parser.parse_known_args(argv)

    from flowlight.otel.__main__ import main as otel_main

    return otel_main(rest, prog="flowlight telemetry")


if __name__ == "__main__":
    sys.exit(main())
