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


class _Unreadable:
    """A handler whose signature `inspect` cannot read, as with builtins and C-extension
    callables (a stand-in: no builtin with three arguments returns a usable state)."""

    @property
    def __signature__(self) -> Any:
        raise ValueError("no signature found")

    def __init__(self) -> None:
        self.calls: list[str] = []

    def __call__(self, obj: Any, old: State, new: State) -> None:
        self.calls.append(repr(new))


def test_a_handler_without_a_readable_signature_is_trusted_and_later_handlers_still_run() -> None:
    opaque = _Unreadable()
    later: list[str] = []

    def after(obj: Any, old: State, new: State) -> State:
        later.append(repr(new))
        return new

    t = Task(name="t", state_handlers=[opaque, after])
    assert t.state_handlers == [opaque, after]
    Flow("opaque", tasks=[t]).run()
    expected = ['Running("Starting task run.")', 'Success("Task run succeeded.")']
    assert opaque.calls == expected and later == expected


def _two(obj: Any, new: State) -> State:
    return new


def _two_and_options(obj: Any, new: State, **options: Any) -> State:
    return new


class _NamedNotifier:
    """A callable object that names itself the way a function would, without a qualname."""

    def __init__(self) -> None:
        self.__name__ = "notify_team"

    def __call__(self, obj: Any, new: State) -> State:
        return new


class _Anonymous:
    def __call__(self, obj: Any, new: State) -> State:
        return new

    def __repr__(self) -> str:
        return "<anonymous handler>"


@pytest.mark.parametrize(
    ("handlers", "message"),
    [
        (
            ["not callable"],
            "Task 'load' has state handler 'not callable', which is not callable; a state handler "
            "is a function handler(obj, old_state, new_state) -> State.",
        ),
        (
            [_two],
            "Task 'load' has state handler '_two' that takes 2 argument(s); a state handler takes "
            "(obj, old_state, new_state).",
        ),
        (
            [_two_and_options],
            "Task 'load' has state handler '_two_and_options' that takes 2 argument(s); a state "
            "handler takes (obj, old_state, new_state).",
        ),
        (
            [_NamedNotifier()],
            "Task 'load' has state handler 'notify_team' that takes 2 argument(s); a state handler "
            "takes (obj, old_state, new_state).",
        ),
        (
            [_Anonymous()],
            "Task 'load' has state handler '<anonymous handler>' that takes 2 argument(s); a state "
            "handler takes (obj, old_state, new_state).",
        ),
        (
            _two,
            "state_handlers should be iterable: Task 'load' got state_handlers=REPR; "
            "state_handlers takes a list of callables, e.g. state_handlers=[_two].",
        ),
        (
            "notify",
            "state_handlers should be iterable: Task 'load' got state_handlers='notify'; "
            "state_handlers takes a list of callables, e.g. state_handlers=['notify'].",
        ),
    ],
)
def test_bad_handler_errors_say_what_is_wrong_and_how_to_fix_it(
    handlers: Any, message: str
) -> None:
    with pytest.raises(TypeError) as caught:
        Task(name="load", state_handlers=handlers)
    assert str(caught.value) == message.replace("REPR", repr(handlers))


def test_a_nested_handler_is_named_by_its_qualified_name() -> None:
    def inner(obj: Any) -> None:
        return None

    with pytest.raises(TypeError) as caught:
        Flow("f", state_handlers=[inner])
    assert str(caught.value).startswith(
        "Flow 'f' has state handler "
        "'test_a_nested_handler_is_named_by_its_qualified_name.<locals>.inner' that takes 1"
    )


@pytest.mark.parametrize(
    ("returned", "named"),
    [(5, "5 (int)"), ("Success", "'Success' (str)"), (Success, "(the class Success)")],
)
def test_a_handler_returning_something_other_than_a_state_fails_the_run_naming_it(
    returned: Any, named: str
) -> None:
    def relabel(obj: Any, old: State, new: State) -> Any:
        return returned

    t = Task(name="t", state_handlers=[relabel])
    state = Flow("junk", tasks=[t]).run().result[t]
    assert state.is_failed()
    assert "state handler " in state.message and "relabel returned" in state.message
    assert named in state.message
    assert isinstance(state.result, TypeError)

    flow_state = Flow("junk flow", tasks=[Task(name="u")], state_handlers=[relabel]).run()
    assert flow_state.is_failed() and "relabel returned" in flow_state.message


@pytest.mark.parametrize("returned", [0, False, ""])
def test_a_handler_returning_a_false_value_keeps_the_state_as_prefect_1_does(
    returned: Any,
) -> None:
    t = Task(name="t", state_handlers=[lambda obj, old, new: returned])
    assert Flow("falsy", tasks=[t]).run().result[t].is_successful()
