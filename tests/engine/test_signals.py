"""Signals become their states; the signal object is the state's result."""

from __future__ import annotations

from flowlight import Flow, context, task
from flowlight.engine import signals
from flowlight.engine.state import Failed, Paused, Skipped


def _run_one(fn):  # type: ignore[no-untyped-def]
    t = task(fn)
    with Flow("signals") as flow:
        bound = t()
    return flow.run().result[bound]


def test_fail_with_attributes_keeps_them_on_the_result() -> None:
    def body() -> None:
        signal = signals.FAIL("a equaled b!")
        signal.flag = True  # type: ignore[attr-defined]
        raise signal

    state = _run_one(body)
    assert isinstance(state, Failed) and state.message == "a equaled b!"
    assert isinstance(state.result, signals.FAIL) and state.result.flag is True


def test_success_signal_with_result_ends_early_with_that_result() -> None:
    def body() -> None:
        raise signals.SUCCESS("done early", result=42)

    state = _run_one(body)
    assert repr(state) == 'Success("done early")' and state.result == 42


def test_bare_signals_give_states_without_message() -> None:
    def body() -> None:
        raise signals.SKIP()

    state = _run_one(body)
    assert isinstance(state, Skipped) and repr(state) == "Skipped()"


def test_signals_are_not_caught_by_a_tasks_except_exception() -> None:
    def body() -> None:
        try:
            raise signals.PAUSE("wait for me")
        except Exception:  # a task's own error handling must not swallow the signal
            pass

    state = _run_one(body)
    assert isinstance(state, Paused) and state.message == "wait for me"


def test_signal_repr_matches_prefect() -> None:
    assert repr(signals.SKIP("not today")) == "SKIP('not today')"
    assert repr(signals.TaskTimeoutSignal("Execution timed out.")) == (
        "TaskTimeoutSignal('Execution timed out.')"
    )


def test_a_loop_without_a_result_passes_its_description_to_the_next_iteration() -> None:
    seen: list[object] = []

    @task
    def twice() -> int:
        seen.append(context.get("task_loop_result"))
        if context.get("task_loop_count", 1) < 2:
            raise signals.LOOP("once more")
        return 7

    with Flow("loop") as flow:
        twice()
    assert flow.run().is_successful()
    assert seen == [None, "LOOP('once more')"]
