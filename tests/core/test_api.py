"""Prefect 1's public API on flows, tasks, states and the context (compared with Prefect 1.4.1
itself in tests/prefect1/test_api_parity.py; these run without it)."""

from __future__ import annotations

import datetime
import logging
import pickle
from pathlib import Path

import pytest

import flowlight
from flowlight import Flow, Parameter, Task, task
from flowlight.engine.state import Failed, Finished, Pending, State, Success, TimedOut
from flowlight.tasks.core.operators import Add, GetItem

ZERO = datetime.timedelta(0)


@task
def number(n: int) -> int:
    return n


def test_expressions_on_tasks_build_operator_tasks_that_compute_at_run_time() -> None:
    with Flow("ops") as flow:
        a = number(6)
        total, first = a + 1, number([4, 5])[0]
    assert isinstance(total, Add) and isinstance(first, GetItem)
    assert first.name == "number[0]"
    result = flow.run().result
    assert (result[total].result, result[first].result) == (7, 4)


def test_pipe_passes_the_task_as_first_argument() -> None:
    @task
    def scale(x: int, by: int) -> int:
        return x * by

    with Flow("pipe") as flow:
        scaled = number(3).pipe(scale, by=5)
    assert flow.run().result[scaled].result == 15
    with pytest.raises(ValueError, match='keyword argument "self"'):
        Task().pipe(scale, self=1)


def test_retry_on_retries_only_failures_of_those_types() -> None:
    attempts: list[str] = []

    @task(max_retries=3, retry_delay=ZERO, retry_on={KeyError})
    def flaky(kind: str) -> None:
        attempts.append(kind)
        raise KeyError(kind) if kind == "key" else ValueError(kind)

    with Flow("retry-on") as flow:
        flaky("key")
        flaky("value")
    flow.run()
    assert attempts.count("key") == 4 and attempts.count("value") == 1
    assert flaky.retry_on == {KeyError}
    assert flaky.retry_delay == ZERO  # kept a timedelta, as given


def test_retry_on_needs_retries_and_exception_classes() -> None:
    with pytest.raises(ValueError, match="max_retries"):
        Task(retry_on=ValueError)
    with pytest.raises(TypeError, match="retry_on"):
        Task(max_retries=1, retry_delay=ZERO, retry_on=[int])  # type: ignore[list-item]


def test_task_run_name_is_filled_per_mapped_child_and_a_bad_template_fails_the_run() -> None:
    names: list[str] = []

    @task(task_run_name="square-{x}-of-{flow_name}")
    def square(x: int) -> int:
        names.append(flowlight.context.get("task_run_name"))
        return x * x

    @task(task_run_name="{missing}")
    def unnamed() -> None:
        names.append("ran")

    with Flow("names") as flow:
        square.map([2, 3])
        broken = unnamed()
    state = flow.run()
    assert sorted(names) == ["square-2-of-names", "square-3-of-names"]
    assert isinstance(state.result[broken], Failed) and "'{missing}'" in str(
        state.result[broken].message
    )


def test_flow_run_from_a_given_state() -> None:
    ran: list[int] = []

    @task
    def work() -> None:
        ran.append(1)

    with Flow("given") as flow:
        work()
    done = flow.run(state=Success("already done"))
    assert done.message == "already done" and ran == []
    assert [s.message for s in done.result.values()] == ["Task not run."]
    assert flow.run(state=Pending()).is_successful() and ran == [1]


def test_terminal_state_handler_decides_the_final_state() -> None:
    def keep_going(flow: Flow, state: State, reference: set[State]) -> State:
        assert {type(s) for s in reference} == {Failed}
        return Success("failures were expected", result=state.result)

    failing = Task(name="failing")
    failing.run = lambda: 1 / 0  # type: ignore[method-assign]
    flow = Flow("terminal", tasks=[failing], terminal_state_handler=keep_going)
    state = flow.run()
    assert state.is_successful() and state.message == "failures were expected"
    assert isinstance(state.result[failing], Failed)


def test_flow_editing_keeps_edges_and_reference_tasks() -> None:
    a, b, c = Task(name="a"), Task(name="b"), Task(name="c")
    flow = Flow("edit")
    flow.chain(a, b, c)
    flow.set_reference_tasks([b])
    copy = flow.copy()
    new = Task(name="new")
    copy.replace(b, new)
    assert copy.upstream_tasks(new) == {a} and copy.downstream_tasks(new) == {c}
    assert copy.reference_tasks() == {new} and flow.reference_tasks() == {b}
    assert b in flow.tasks and b not in copy.tasks and copy != flow

    other = Flow("other")
    p = Parameter("p")
    other.add_edge(p, Task(name="d"))
    copy.update(other)
    assert p in copy.tasks and copy.sorted_tasks(root_tasks=[p])[0] is p


def test_explicit_slugs_must_be_unique_in_a_flow() -> None:
    flow = Flow("slugs")
    flow.add_task(Task(slug="same"))
    with pytest.raises(ValueError, match='slug "same" already exists'):
        flow.add_task(Task(slug="same"))


def test_state_classes_list_their_parents_and_children() -> None:
    assert set(Failed.children(names_only=True)) >= {"TimedOut", "TriggerFailed"}
    assert TimedOut.parents() == [Failed, Finished, State]
    assert Failed.children(include_self=True)[-1] is Failed


def test_loggers_exist_outside_any_run() -> None:
    assert isinstance(flowlight.context.get("logger"), logging.Logger)
    assert Task(name="t").logger.name == "flowlight.t"
    assert Flow("f").logger.name == "flowlight.f"
    with Flow("inside") as flow:
        assert flowlight.context.flow is flow
    assert "flow" not in flowlight.context


def test_the_same_tasks_may_be_bound_or_joined_in_two_flows_outside_a_with_block() -> None:
    """As in Prefect 1: a task bound in two flows runs in each with that flow's inputs, and two
    flows may hold the same edge (the with-block check only refuses an argument that is a task
    of another flow)."""

    class Add(Task):
        def run(self, x: int, y: int) -> int:
            return x + y

    adder = Add()
    with Flow("f") as f:
        adder.bind(4, 2)
    with Flow("g") as g:
        adder.bind(7, 8)
    assert f.run().result[adder].result == 6 and g.run().result[adder].result == 15
    a, b = Task(name="a"), Task(name="b")
    first, second = Flow("first"), Flow("second")
    first.add_edge(a, b)
    second.add_edge(a, b)
    assert first.edges == second.edges


def test_durations_stay_timedeltas_and_task_args_may_set_them_either_way() -> None:
    """retry_delay and cache_for are kept as the timedelta given (Prefect 1's attributes); one
    set through task_args, as a timedelta or a number of seconds, is what the run uses."""
    attempts: list[int] = []

    @task(cache_for=datetime.timedelta(minutes=5))
    def cached() -> int:
        attempts.append(1)
        return 1

    assert cached.cache_for == datetime.timedelta(minutes=5)
    with Flow("durations") as flow:
        cached()
        Task(name="retried")(task_args={"max_retries": 1, "retry_delay": 0})
        cached(task_args={"name": "cached-for-a-number", "cache_for": 30})
    state = flow.run()
    assert state.is_successful() and len(attempts) == 2
    assert sorted(type(s).__name__ for s in state.result.values()) == [
        "Cached",
        "Cached",
        "Success",
    ]


def test_a_run_given_a_scheduled_state_waits_for_its_start_time() -> None:
    from tests.engine._recording import FakeClock

    from flowlight.engine.clock import use_clock
    from flowlight.engine.state import Scheduled

    with use_clock(FakeClock(1000.0)) as clock:
        state = Flow("later", tasks=[Task()]).run(state=Scheduled(start_time=1030.0))
    assert state.is_successful() and clock.slept[0] == 30.0


def test_removing_a_task_through_flow_tasks_leaves_its_edges_for_validate_to_report() -> None:
    """flow.tasks is the flow's set as in Prefect 1: removing from it removes the task (its
    edges stay, so validate() names them); reading it otherwise changes nothing."""
    a, b = Task(name="a"), Task(name="b")
    flow = Flow("live")
    flow.add_edge(a, b)
    flow.tasks.add(Task(name="not added"))  # a plain set operation on the copy handed out
    assert flow.tasks == {a, b}
    flow.tasks.remove(b)
    assert flow.tasks == {a} and b not in flow.slugs
    with pytest.raises(ValueError, match="edges refer to tasks not contained"):
        flow.validate()


def test_calling_a_task_outside_a_flow_says_no_flow_context_was_found() -> None:
    """Prefect 1 code matches the words "infer an active Flow"; ours also say what to do."""
    with pytest.raises(ValueError, match=r"infer an active Flow.*pass flow="):
        Parameter("x")()


def test_an_edge_checks_its_key_and_ends_and_names_both_tasks() -> None:
    from flowlight.core.edge import Edge

    a, b = Task(name="a"), Task(name="b")
    for bad in (1, "two words", "5th", "a.b", "class"):
        with pytest.raises(
            ValueError, match=r"Key must be a valid identifier .*names the argument"
        ):
            Edge(a, b, key=bad)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="Edges can not connect a task to itself: <Task: a>"):
        Edge(a, a)
    edge = Edge(a, b, key="x", flattened=True)
    assert edge.tasks == {a, b}
    assert edge.flattened and edge.flatten
    assert Edge(a, b, key="x", flatten=True) == edge
    constant = Edge(3, b, key="x").upstream_task
    assert isinstance(constant, flowlight.Constant)
    assert constant.value == 3


def test_a_saved_flow_loads_back_with_its_tasks_and_slugs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    flow = Flow("Saved Flow", tasks=[Task(name="foo", slug="foo-slug")])
    path = tmp_path / "saved"
    assert flow.save(path) == str(path)
    loaded = Flow.load(path)
    assert isinstance(loaded, Flow) and loaded.name == "Saved Flow"
    assert [(t.name, t.slug) for t in loaded.tasks] == [("foo", "foo-slug")]
    assert list(loaded.slugs.values()) == ["foo-slug"]
    monkeypatch.setenv("HOME", str(tmp_path))
    assert flow.save() == str(tmp_path / ".flowlight" / "flows" / "saved-flow.flowlight")
    (tmp_path / "not-a-flow").write_bytes(pickle.dumps([1]))
    with pytest.raises(TypeError, match="not a flow saved by save"):
        Flow.load(tmp_path / "not-a-flow")


def test_a_flow_saved_by_default_goes_under_home_dir_and_loads_back_by_name(
    tmp_path: Path,
) -> None:
    """As in Prefect 1, `save()` with no path writes under `config.home_dir`, and `Flow.load`
    takes the flow's name or its slug as well as a path."""
    from flowlight.utilities.configuration import set_temporary_config

    flow = Flow("I aM a-test!", tasks=[Task(name="foo")])
    with set_temporary_config({"home_dir": str(tmp_path)}):
        saved = flow.save()
        assert saved == str(tmp_path / "flows" / "i-am-a-test.flowlight")
        by_name, by_slug = Flow.load("I aM a-test!"), Flow.load("i-am-a-test")
        with pytest.raises(FileNotFoundError, match="no flow saved under that name"):
            Flow.load("never saved")
    assert by_name.name == by_slug.name == "I aM a-test!"
    assert [t.name for t in by_slug.tasks] == ["foo"]
