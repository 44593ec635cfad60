"""FlowRunner driven directly with Prefect 1's arguments, and the signal base classes that ported
code imports from flowlight.exceptions."""

from __future__ import annotations

from typing import Any

import pytest

from flowlight import Flow, Parameter, Task, task
from flowlight.engine import signals
from flowlight.engine.flow_runner import FlowRunner
from flowlight.engine.state import Failed, Running, State, Success
from flowlight.exceptions import PrefectException, PrefectSignal, TaskTimeoutSignal


@task
def double(x: int) -> int:
    return 2 * x


def _flow() -> tuple[Flow, Any, Any]:
    with Flow("runner") as flow:
        n = Parameter("n", default=3)
        out = double(n)
    return flow, n, out


def test_run_returns_only_the_states_asked_for() -> None:
    flow, _, out = _flow()
    assert FlowRunner(flow=flow).run().result == {}
    state = FlowRunner(flow=flow).run(return_tasks=[out], parameters={"n": 5})
    assert state.is_successful()
    assert set(state.result) == {out}
    assert state.result[out].result == 10


def test_defaults_fill_parameters_and_task_states_are_reused() -> None:
    flow, n, out = _flow()
    first = FlowRunner(flow).run(return_tasks=flow.tasks)
    assert first.result[out].result == 6
    again = FlowRunner(flow).run(
        task_states={n: Success(result=21)}, return_tasks=[out], parameters={"n": 1}
    )
    assert again.result[out].result == 42


def test_a_missing_required_parameter_fails_its_task_not_the_call() -> None:
    with Flow("needs") as flow:
        x = Parameter("x")
        out = double(x)
    state = FlowRunner(flow).run(return_tasks=[x, out])
    assert state.is_failed()
    assert state.result[x].is_failed()


def test_return_tasks_outside_the_flow_are_refused() -> None:
    flow, _, _ = _flow()
    with pytest.raises(ValueError, match="return_tasks were not found"):
        FlowRunner(flow).run(return_tasks=[Task(name="stranger")])


def test_task_contexts_reach_the_task_and_runner_handlers_see_the_runner() -> None:
    import flowlight

    @task
    def read() -> Any:
        return flowlight.context.get("colour")

    with Flow("ctx") as flow:
        r = read()
    seen: list[tuple[Any, str, str]] = []

    def handler(obj: Any, old: State, new: State) -> None:
        seen.append((obj, type(old).__name__, type(new).__name__))

    runner = FlowRunner(flow, state_handlers=[handler])
    state = runner.run(return_tasks=[r], task_contexts={r: {"colour": "green"}})
    assert state.result[r].result == "green"
    assert [s[0] for s in seen] == [runner, runner]
    assert seen[-1][1:] == ("Running", "Success")


def test_a_given_running_state_continues_and_unsupported_options_are_named() -> None:
    flow, _, out = _flow()
    assert FlowRunner(flow).run(state=Running(), return_tasks=[out]).is_successful()
    with pytest.raises(ValueError, match="task_runner_state_handlers"):
        FlowRunner(flow).run(task_runner_state_handlers=[lambda *a: None])
    with pytest.raises(TypeError, match="task_runner_cls"):
        FlowRunner(flow, task_runner_cls=dict)


def test_signals_share_the_prefect_signal_base() -> None:
    for cls in (signals.FAIL, signals.SKIP, signals.LOOP, signals.ENDRUN, TaskTimeoutSignal):
        assert issubclass(cls, PrefectSignal)
        assert not issubclass(cls, Exception)  # `except Exception` lets signals pass
    assert signals.TaskTimeoutSignal is TaskTimeoutSignal
    assert issubclass(PrefectException, Exception)
    with pytest.raises(PrefectSignal):
        raise signals.ENDRUN(Failed("stop"))


def test_a_runner_driven_directly_starts_from_pending_and_flow_run_from_scheduled() -> None:
    """As in Prefect 1.4.1: FlowRunner.run() with no state starts the run Pending, while
    flow.run() hands the runner a Scheduled state."""
    seen: list[str] = []

    def note(obj: Any, old: State, new: State) -> None:
        seen.append(f"{type(old).__name__}->{type(new).__name__}")

    flow = Flow("starts", tasks=[Task(name="t")], state_handlers=[note])
    FlowRunner(flow=flow).run()
    assert seen == ["Pending->Running", "Running->Success"]
    seen.clear()
    flow.run()
    assert seen == ["Scheduled->Running", "Running->Success"]


def test_one_pass_leaves_a_task_to_retry_retrying_and_the_flow_running() -> None:
    """FlowRunner.run is one pass (Prefect 1): a retry is not waited for; given the states back,
    a task whose retry is due runs again and one whose retry is not due is left as it is."""
    import datetime

    from flowlight.engine.state import Retrying

    class Broken(Task):  # type: ignore[misc]
        def run(self) -> None:
            raise ValueError("broken")

    flow = Flow("retries")
    first = Task()
    soon = Broken(max_retries=1, retry_delay=datetime.timedelta(0))
    later = Broken(max_retries=1, retry_delay=datetime.timedelta(minutes=10))
    flow.add_edge(first, soon)
    flow.add_edge(first, later)
    state = FlowRunner(flow).run(return_tasks=flow.tasks)
    assert isinstance(state, Running)
    assert isinstance(state.result[soon], Retrying) and isinstance(state.result[later], Retrying)
    again = FlowRunner(flow).run(return_tasks=flow.tasks, task_states=state.result)
    assert isinstance(again.result[soon], Failed)
    assert again.result[later] is state.result[later]  # not due: untouched
    assert isinstance(again, Running)  # a terminal task is still unfinished


def test_a_finished_state_given_to_the_runner_comes_back_as_it_is() -> None:
    flow, _, _ = _flow()
    done = Success(result=5)
    assert FlowRunner(flow).run(state=done) is done


def test_runners_report_on_their_own_loggers() -> None:
    from flowlight.engine.task_runner import TaskRunner

    flow, _, out = _flow()
    assert FlowRunner(flow).logger.name == "flowlight.FlowRunner"
    assert TaskRunner(out).logger.name == "flowlight.TaskRunner"


def test_parameters_in_the_runners_context_are_used_unless_given() -> None:
    x, y = Parameter("x"), Parameter("y")
    flow = Flow("from context", tasks=[x, y])
    state = FlowRunner(flow).run(
        parameters={"x": 2}, context={"parameters": {"x": 5, "y": 6}}, return_tasks=[x, y]
    )
    assert (state.result[x].result, state.result[y].result) == (2, 6)


def test_flow_run_sets_the_scheduled_start_time_itself() -> None:
    from flowlight import context

    @task
    def scheduled() -> Any:
        return context.get("scheduled_start_time")

    flow = Flow("start", tasks=[scheduled])
    assert flow.run(context={"scheduled_start_time": 42}).result[scheduled].result != 42


def test_one_pass_leaves_a_map_that_is_not_due_scheduled() -> None:
    import pendulum

    from flowlight.engine.state import Scheduled

    with Flow("later") as flow:
        out = double.map([1, 2])
    later = Scheduled(start_time=pendulum.now("utc").add(hours=1))
    state = FlowRunner(flow).run(return_tasks=[out], task_states={out: later})
    assert isinstance(state, Running) and state.result[out] is later


def test_a_flow_runner_given_one_handler_instead_of_a_list_says_so_in_prefect_1s_words() -> None:
    """Prefect 1's runners refuse state_handlers that are not a list with "state_handlers should
    be iterable"; ours says that too, and shows the list to give instead."""
    flow, _, _ = _flow()

    def note(runner: Any, old: State, new: State) -> State:
        return new

    with pytest.raises(TypeError, match=r"state_handlers should be iterable: .*=\[.*note\]"):
        FlowRunner(flow, state_handlers=note)  # type: ignore[arg-type]
