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


def _broken_handler(obj: object, old: object, new: object) -> object:
    raise LookupError("handler broke")


def _not_a_state_handler(obj: object, old: object, new: object) -> object:
    return True


@pytest.mark.parametrize("on", ["task", "flow"])
def test_a_state_handler_error_propagates_out_of_flow_run(on: str) -> None:
    """As in Prefect 1, a handler's error leaves the run inside the block (so a debugger stops
    in the handler), for a task's handlers and a flow's alike; outside it the run ends Failed."""

    def build() -> Flow:
        handlers = [_broken_handler]
        step = one.copy(state_handlers=handlers) if on == "task" else one
        with Flow("handled", state_handlers=handlers if on == "flow" else None) as flow:
            step()
        return flow

    with raise_on_exception(), pytest.raises(LookupError, match="handler broke"):
        build().run()
    assert build().run().is_failed()


def test_a_handler_value_that_is_not_a_state_propagates_as_a_type_error() -> None:
    """A handler returning something that is not a state is refused as a TypeError naming the
    handler; inside the block that error leaves the run instead of failing the task."""
    with Flow("handled") as flow:
        one.copy(state_handlers=[_not_a_state_handler])()
    with raise_on_exception(), pytest.raises(TypeError, match="_not_a_state_handler returned"):
        flow.run()
    assert flow.run().is_failed()
