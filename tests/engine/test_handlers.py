"""State handlers: order, return values, failures, signals and bad handlers."""

from __future__ import annotations

import datetime
from typing import Any

import pytest

from flowlight import Flow, Task, task
from flowlight.engine import signals
from flowlight.engine.state import Failed, State, Success


def test_handlers_run_in_order_each_seeing_what_the_previous_returned() -> None:
    seen: list[str] = []

    def first(obj: Any, old: State, new: State) -> State | None:
        seen.append(f"first {new!r}")
        return Success("changed") if new.is_successful() else None

    def second(obj: Any, old: State, new: State) -> State:
        seen.append(f"second {new!r}")
        return new

    t = Task(name="t", state_handlers=[first, second])
    state = Flow("order", tasks=[t]).run().result[t]
    assert seen == [
        'first Running("Starting task run.")',
        'second Running("Starting task run.")',
        'first Success("Task run succeeded.")',
        'second Success("changed")',
    ]
    assert repr(state) == 'Success("changed")'


def test_a_handler_raising_a_signal_sets_that_state_and_skips_the_rest() -> None:
    later: list[State] = []

    def veto(obj: Any, old: State, new: State) -> State:
        if new.is_successful():
            raise signals.FAIL("handler says no")
        return new

    t = Task(name="t", state_handlers=[veto, lambda o, a, b: later.append(b)])
    state = Flow("veto", tasks=[t]).run().result[t]
    assert repr(state) == 'Failed("handler says no")' and isinstance(state.result, signals.FAIL)
    assert [repr(s) for s in later] == ['Running("Starting task run.")']


def test_a_handler_raising_on_pending_to_running_means_the_body_never_runs() -> None:
    ran: list[int] = []

    def broken(obj: Any, old: State, new: State) -> State:
        raise RuntimeError("handler broke")

    @task(state_handlers=[broken], max_retries=2, retry_delay=datetime.timedelta(0))
    def body() -> None:
        ran.append(1)

    with Flow("hr") as flow:
        bound = body()
    state = flow.run().result[bound]
    assert ran == []
    assert repr(state) == (
        "Failed(\"Unexpected error while calling state handlers: RuntimeError('handler broke')\")"
    )


def test_a_flow_handler_that_raises_fails_the_flow_run() -> None:
    def broken(obj: Any, old: State, new: State) -> State:
        if new.is_finished():
            raise KeyError("oops")
        return new

    state = Flow("f", tasks=[Task()], state_handlers=[broken]).run()
    assert isinstance(state, Failed)
    assert state.message == "Unexpected error while calling state handlers: KeyError('oops')"
    assert isinstance(state.result, dict)


def test_a_flow_handler_returning_a_state_without_result_still_gets_the_task_states() -> None:
    """Prefect 1.4.1 crashed with a TypeError here; flowlight fills in the task states."""
    t = Task()
    flow = Flow(
        "f", tasks=[t], state_handlers=[lambda o, a, b: Success("mine") if b.is_finished() else b]
    )
    state = flow.run()
    assert repr(state) == 'Success("mine")' and set(state.result) == {t}


def test_on_failure_runs_last_and_does_not_mutate_the_callers_list() -> None:
    calls: list[str] = []
    handlers = [lambda o, a, b: calls.append("user") or b]
    t = Task(name="t", state_handlers=handlers, on_failure=lambda o, s: calls.append("fail"))
    assert len(handlers) == 1 and len(t.state_handlers) == 2


@pytest.mark.parametrize(
    ("handlers", "message"),
    [
        (["not callable"], "which is not callable"),
        ([lambda obj, new: new], "takes 2 argument(s); a state handler takes (obj, old_state"),
        (lambda o, a, b: b, "takes a list of callables"),
    ],
)
def test_bad_handlers_fail_at_construction_naming_the_task(handlers: Any, message: str) -> None:
    with pytest.raises(TypeError, match=r"Task 'load'") as caught:
        Task(name="load", state_handlers=handlers)
    assert message in str(caught.value)
    with pytest.raises(TypeError, match=r"Flow 'f'"):
        Flow("f", state_handlers=handlers)
