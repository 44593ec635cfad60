"""Importing the OpenTelemetry SDK's trace module despite a bad OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT.

That module reads the variable when it is imported (for a constant kept for backward
compatibility) and raises on anything but a whole number >= 0: importing the bridge, and so
`FLOWLIGHT_OTEL=1`, failed. OpenTelemetry's rule for its variables is a warning and the default,
which `configure()` applies (see `_config`); here the module is imported once with that variable
hidden, and the environment is restored at once.
"""

from __future__ import annotations

import os
import sys

__all__: list[str] = []  # imported for its effect, once, before anything imports the SDK

_NAME = "OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT"


def _import_sdk_trace() -> None:
    if "opentelemetry.sdk.trace" in sys.modules:
        return
    raw = os.environ.get(_NAME, "").strip()
    try:
        usable = not raw or int(raw) >= 0
    except ValueError:
        usable = False
    if usable:
        return
    hidden = os.environ.pop(_NAME)
    try:
        import opentelemetry.sdk.trace  # noqa: F401
    finally:
        os.environ[_NAME] = hidden


_import_sdk_trace()
