"""`raise_on_exception()`: a task's error leaves `flow.run()` instead of becoming a state
(compared with Prefect 1.4.1: signals and a trigger returning False still become states)."""

from __future__ import annotations

import pytest

from flowlight import Flow, task
from flowlight.engine import signals
from flowlight.utilities.debug import raise_on_exception


@task
def divide(x: int) -> float:
    return 1 / x


@task
def skipper() -> None:
    raise signals.SKIP("skip me")


@task
def one() -> int:
    return 1


@task(trigger=lambda upstream: False)
def never(x: int) -> int:
    return x


def test_a_task_error_propagates_out_of_flow_run() -> None:
    with Flow("errors") as flow:
        divide(0)
    with raise_on_exception(), pytest.raises(ZeroDivisionError):
        flow.run()
    assert flow.run().is_failed()  # outside the block the error is a state again


def test_signals_and_failed_triggers_still_become_states() -> None:
    with Flow("signals") as flow:
        skipped = skipper()
        refused = never(one())
    with raise_on_exception():
        state = flow.run()
    assert state.result[skipped].is_skipped()
    assert type(state.result[refused]).__name__ == "TriggerFailed"
