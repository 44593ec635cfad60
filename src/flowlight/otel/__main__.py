"""`python -m flowlight.otel replay [DIRECTORY]`: the same as `flowlight telemetry replay`."""

from __future__ import annotations

import sys

from flowlight.cli import main as cli_main

__all__ = ["main"]


def main(argv: list[str] | None = None) -> int:
    return cli_main(["telemetry", *(sys.argv[1:] if argv is None else argv)])


if __name__ == "__main__":
    sys.exit(main())
