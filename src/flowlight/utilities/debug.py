"""Debugging helpers (Prefect 1's `prefect.utilities.debug`)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from flowlight.utilities.context import context

__all__ = ["raise_on_exception"]


@contextlib.contextmanager
def raise_on_exception() -> Iterator[None]:
    """Inside the block, the first error a task, a trigger or a state handler raises (a
    handler's value that is not a state as a TypeError) propagates out of `flow.run()` instead
    of becoming a `Failed` state: for local debugging and tests, so a debugger stops where the
    error happened. Signals (SKIP, FAIL, RETRY, ...) still become
    states, as in Prefect 1.4.1.

        with raise_on_exception():
            flow.run()  # raises the task's ZeroDivisionError
    """
    with context(raise_on_exception=True):
        yield
