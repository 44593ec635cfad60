"""flowlight's logger: structlog, to stderr, and only formatted when a line is actually written.

flowlight leaves stdout to the user's own output (Prefect 1 printed its logs there). When the user
has configured structlog themselves, their configuration is used as it is; otherwise flowlight
logs at WARNING and above to stderr, so a flow run prints nothing unless something is wrong.
`FLOWLIGHT__LOGGING__LEVEL=INFO` shows every state change.
"""

from __future__ import annotations

import logging
import sys
from typing import Any, TextIO, cast

import structlog

from flowlight.settings import setting

__all__ = ["get_logger"]

_configured = False


class _CurrentStderr:
    """Writes to whatever `sys.stderr` is at write time, not when logging was configured, so
    a test harness or an application that swaps stderr later still gets flowlight's lines."""

    def write(self, text: str) -> int:
        return sys.stderr.write(text)

    def flush(self) -> None:
        sys.stderr.flush()


def _ensure_configured() -> None:
    global _configured
    if _configured:
        return
    _configured = True
    if structlog.is_configured():
        return
    level_name = str(setting("logging", "level", default="WARNING")).upper()
    level = logging.getLevelName(level_name)
    if not isinstance(level, int):
        level = logging.WARNING
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso"),
            structlog.dev.ConsoleRenderer(colors=False)
            if sys.stderr.isatty()
            else structlog.processors.JSONRenderer(),
        ],
        wrapper_class=structlog.make_filtering_bound_logger(level),
        logger_factory=structlog.PrintLoggerFactory(file=cast(TextIO, _CurrentStderr())),
        cache_logger_on_first_use=True,
    )


def get_logger(name: str = "flowlight", **bindings: Any) -> Any:
    """A structlog logger named `name` with `bindings` attached to every line."""
    _ensure_configured()
    return structlog.get_logger(name).bind(**bindings) if bindings else structlog.get_logger(name)
