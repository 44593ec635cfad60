"""The `flowlight` command: one module per subcommand, each adding its own parser.

`flowlight run` runs a flow from a file or module; `flowlight trace show` and `flowlight runs`
read the local telemetry store; `flowlight telemetry replay` sends it to a collector. Nothing
here is imported by the engine, and each command imports rich or OpenTelemetry only when it runs.
"""

from __future__ import annotations

import argparse
import sys

from flowlight.cli import run, runs, telemetry, trace

__all__ = ["main"]

_COMMANDS = (run, trace, runs, telemetry)


def build_parser() -> argparse.ArgumentParser:
    from flowlight import __version__

    parser = argparse.ArgumentParser(
        prog="flowlight",
        description="Run flows, and look at what they did.",
    )
    parser.add_argument("--version", action="version", version=f"flowlight {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for command in _COMMANDS:
        command.add_parser(commands)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the command line `argv` (default: `sys.argv[1:]`); return the exit status."""
    args = build_parser().parse_args(argv)
    status: int = args.handler(args)
    return status


if __name__ == "__main__":
    sys.exit(main())
