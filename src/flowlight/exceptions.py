"""Base classes of flowlight's signals and errors, under the module path Prefect 1 gives them.

Ported code catches `PrefectSignal` to treat every engine signal alike (a state signal, ENDRUN,
a timeout) while still letting an ordinary `except Exception:` pass them by: signals derive from
BaseException on purpose. The names are Prefect 1's so that only the import changes.
"""

from __future__ import annotations

__all__ = ["PrefectException", "PrefectSignal", "TaskTimeoutSignal"]


class PrefectSignal(BaseException):
    """Base of every engine signal: state signals (FAIL, SKIP, ...), ENDRUN and timeouts."""


class TaskTimeoutSignal(PrefectSignal):
    """Raised in a task run that exceeded its timeout; the `TimedOut` state carries it."""


class PrefectException(Exception):
    """Base of flowlight's own errors that ported code may catch by Prefect 1's name."""
