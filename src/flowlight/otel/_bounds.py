"""How much text one span, event or log record may carry.

A collector's gRPC receiver refuses messages over 4 MiB by default, and a failure message is copied
into several places (the Failed event, the span's status, the exception's message and stacktrace,
the log record): a 1 MB message used to make a 4 MB span that no collector took. Long texts keep
their beginning and their end, with a marker saying how much was cut between them.
"""

from __future__ import annotations

__all__ = ["MESSAGE_LIMIT", "STACKTRACE_LIMIT", "bounded"]

MESSAGE_LIMIT = 4096
"""Characters kept of a state message or an exception message."""

STACKTRACE_LIMIT = 16384
"""Characters kept of an exception's stacktrace."""


def bounded(text: str, limit: int) -> str:
    """`text` if it fits in `limit` characters, else its first and last parts around a marker
    `…[N characters cut]…` (the result is at most `limit` characters plus the marker)."""
    if len(text) <= limit:
        return text
    head = limit // 2
    tail = limit - head
    cut = len(text) - head - tail
    return f"{text[:head]}…[{cut} characters cut]…{text[len(text) - tail :]}"
