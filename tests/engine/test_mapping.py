"""Mapping: `task.map(...)` runs one child per item, each through its own state machine.

Transcripts marked "spec" are the ones measured on Prefect 1.4.1; the others follow what Prefect
1.4.1's mapping documentation and source promise (cited in each docstring).
"""

from __future__ import annotations

import datetime
import uuid
from typing import Any

import pytest
from _recording import Recorder

import flowlight
from flowlight import Flow, Parameter, Task, flatten, task, unmapped
from flowlight.core.edge import mapped
from flowlight.engine.flow_runner import FlowRunner
from flowlight.engine.state import Failed, Mapped, Pending, State, Success, TriggerFailed
from flowlight.executors.base import Executor, RunFuture
from flowlight.executors.local import LocalExecutor


def _by_name(state: State) -> dict[str, State]:
    return {t.name: s for t, s in state.result.items()}


def test_map_then_reduce_matches_the_spec_transcript() -> None:
    """Spec "map over [1,2,3] then reduce": the parent goes Pending -> Mapped before any child
    runs, each child runs Pending -> Running -> Success with its map_index, and the reduce step
    receives the list of child results."""
    rec = Recorder()

    @task(state_handlers=[rec])
    def double(x: int) -> int:
        return 2 * x

    @task(state_handlers=[rec])
    def total(xs: list[int]) -> int:
        return sum(xs)

    with Flow("m", state_handlers=[rec]) as flow:
        total(double.map([1, 2, 3]))
    state = flow.run()

    assert rec.lines == [
        '<Flow: name=m>: Scheduled() -> Running("Running flow.")',
        '<Task: double>: Pending() -> Mapped("Ready to proceed with mapping.")',
        '<Task: double>[0]: Pending() -> Running("Starting task run.")',
        '<Task: double>[0]: Running("Starting task run.") -> Success("Task run succeeded.")',
        '<Task: double>[1]: Pending() -> Running("Starting task run.")',
        '<Task: double>[1]: Running("Starting task run.") -> Success("Task run succeeded.")',
        '<Task: double>[2]: Pending() -> Running("Starting task run.")',
        '<Task: double>[2]: Running("Starting task run.") -> Success("Task run succeeded.")',
        '<Task: total>: Pending() -> Running("Starting task run.")',
        '<Task: total>: Running("Starting task run.") -> Success("Task run succeeded.")',
        '<Flow: name=m>: Running("Running flow.") -> Success("All reference tasks succeeded.")',
    ]
    states = _by_name(state)
    parent = states["double"]
    assert isinstance(parent, Mapped)
    assert repr(parent) == 'Mapped("Ready to proceed with mapping.")'
    assert parent.result == [2, 4, 6]
    assert [repr(s) for s in parent.map_states] == ['Success("Task run succeeded.")'] * 3
    assert states["total"].result == 12
    assert repr(states["Constant[list]"]) == "Success()"
    assert states["Constant[list]"].result == [1, 2, 3]


def test_one_failing_child_matches_the_spec_transcript_and_fails_the_flow() -> None:
    """Spec "map with one failing child": the other child still succeeds, the parent stays
    Mapped with the exception as that child's result, and the flow fails because the mapped task
    is a reference task."""
    rec = Recorder()

    @task(state_handlers=[rec])
    def inv(x: int) -> float:
        return 1 / x

    with Flow("mf", state_handlers=[rec]) as flow:
        inv.map([1, 0])
    state = flow.run()

    assert rec.lines == [
        '<Flow: name=mf>: Scheduled() -> Running("Running flow.")',
        '<Task: inv>: Pending() -> Mapped("Ready to proceed with mapping.")',
        '<Task: inv>[0]: Pending() -> Running("Starting task run.")',
        '<Task: inv>[0]: Running("Starting task run.") -> Success("Task run succeeded.")',
        '<Task: inv>[1]: Pending() -> Running("Starting task run.")',
        '<Task: inv>[1]: Running("Starting task run.") -> Failed("Error during execution of '
        "task: ZeroDivisionError('division by zero')\")",
        '<Flow: name=mf>: Running("Running flow.") -> Failed("Some reference tasks failed.")',
    ]
    parent = _by_name(state)["inv"]
    assert isinstance(parent, Mapped)
    assert parent.result[0] == 1.0
    assert isinstance(parent.result[1], ZeroDivisionError)
    assert isinstance(parent.map_states[1], Failed)
    assert repr(state) == 'Failed("Some reference tasks failed.")'


def test_a_failed_child_does_not_fail_the_flow_when_the_map_is_not_a_reference_task() -> None:
    """Only reference tasks decide the flow run: a failed child of another task does not."""

    @task
    def inv(x: int) -> float:
        return 1 / x

    @task
    def ok() -> int:
        return 1

    with Flow("ref") as flow:
        inv.map([1, 0])
        keep = ok()
    flow.set_reference_tasks([keep])
    assert repr(flow.run()) == 'Success("All reference tasks succeeded.")'


def test_reduce_after_a_failed_child_fails_its_trigger() -> None:
    """Prefect 1's docs: a reducing task's trigger is applied to every mapped child, so with the
    default all_successful one failed child makes the reduce step TriggerFailed."""

    @task
    def inv(x: int) -> float:
        return 1 / x

    @task
    def total(xs: list[float]) -> float:
        return sum(xs)

    with Flow("r") as flow:
        total(inv.map([1, 0]))
    states = _by_name(flow.run())
    assert isinstance(states["total"], TriggerFailed)


def test_a_failed_upstream_cannot_be_mapped_over() -> None:
    """Mapping over a task that failed: the parent goes straight from Pending to
    Failed("No upstream states can be mapped over.") without children, and what follows it fails
    its trigger."""
    rec = Recorder()
    ran: list[Any] = []

    @task
    def load() -> list[int]:
        raise ValueError("no data")

    @task(state_handlers=[rec])
    def double(x: int) -> int:
        ran.append(x)
        return 2 * x

    @task
    def total(xs: list[int]) -> int:
        return sum(xs)

    with Flow("fu") as flow:
        total(double.map(load()))
    states = _by_name(flow.run())

    assert rec.lines == [
        '<Task: double>: Pending() -> Failed("No upstream states can be mapped over.")'
    ]
    assert ran == []
    assert isinstance(states["double"], Failed)
    assert not isinstance(states["double"], Mapped)
    assert isinstance(states["total"], TriggerFailed)


def test_a_failed_unmapped_argument_fails_each_childs_trigger() -> None:
    """An unmapped upstream that failed does not stop the mapping; every child sees it and fails
    its trigger (the children are still created, one per item)."""

    @task
    def config() -> int:
        raise ValueError("no config")

    @task
    def add(x: int, y: int) -> int:
        return x + y

    with Flow("fa") as flow:
        add.map([1, 2], unmapped(config()))
    parent = _by_name(flow.run())["add"]
    assert isinstance(parent, Mapped)
    assert [type(s) for s in parent.map_states] == [TriggerFailed, TriggerFailed]


def test_mapping_over_an_empty_list_makes_no_children_and_reduces_to_an_empty_list() -> None:
    """An empty list gives a Mapped parent with no children; the reduce step runs with []."""
    rec = Recorder()

    @task(state_handlers=[rec])
    def double(x: int) -> int:
        return 2 * x

    @task
    def total(xs: list[int]) -> int:
        return sum(xs)

    with Flow("e") as flow:
        total(double.map([]))
    state = flow.run()
    states = _by_name(state)
    assert rec.lines == ['<Task: double>: Pending() -> Mapped("Ready to proceed with mapping.")']
    assert states["double"].map_states == []  # type: ignore[attr-defined]
    assert states["double"].result == []
    assert states["total"].result == 0
    assert state.is_successful()


def test_mapping_over_another_tasks_result_and_an_unmapped_argument() -> None:
    """`add.map(numbers(), unmapped(10))` maps over a task's list and gives every child the whole
    unmapped value; unmapped works for a task's result as well as a literal."""

    @task
    def numbers(n: int) -> list[int]:
        return list(range(n))

    @task
    def offset() -> int:
        return 100

    @task
    def add(x: int, y: int, z: int) -> int:
        return x + y + z

    with Flow("u") as flow:
        n = Parameter("n", default=3)
        result = add.map(numbers(n), unmapped(10), z=unmapped(offset()))
    state = flow.run(parameters={"n": 4})
    assert state.result[result].result == [110, 111, 112, 113]


def test_two_mapped_arguments_are_zipped_to_the_shorter() -> None:
    """Several mapped arguments are zipped item by item; the shortest decides the child count."""

    @task
    def add(x: int, y: int) -> int:
        return x + y

    with Flow("z") as flow:
        result = add.map([1, 10, 100], [2, 3])
    assert flow.run().result[result].result == [3, 13]


def test_chained_maps_connect_child_i_to_child_i() -> None:
    """A map over a mapped task does not reduce it: child i of the second map receives child i's
    result and sees child i's state, so one failed pipeline does not stop the others."""
    rec = Recorder()

    @task
    def inv(x: int) -> float:
        return 1 / x

    @task(state_handlers=[rec])
    def neg(x: float) -> float:
        return -x

    @task
    def total(xs: list[float]) -> float:
        return sum(xs)

    with Flow("chain") as flow:
        first = inv.map([1, 0, 4])
        second = neg.map(first)
        total(second)
    state = flow.run()
    parent = state.result[second]
    assert isinstance(parent, Mapped)
    assert [type(s) for s in parent.map_states] == [Success, TriggerFailed, Success]
    assert parent.result[0] == -1.0 and parent.result[2] == -0.25
    assert rec.of("<Task: neg>[1]") == [
        '<Task: neg>[1]: Pending() -> TriggerFailed("Trigger was "all_successful" but some of '
        'the upstream tasks failed.")'
    ]


def test_flatten_maps_over_the_items_of_each_childs_list() -> None:
    """`flatten(mapped)` (Prefect 1's flat-map): a map over the lists returned by a map's
    children gets one child per item of every list; a reduce with flatten gets one flat list."""

    @task
    def repeat(x: int) -> list[int]:
        return [x] * x

    @task
    def inc(x: int) -> int:
        return x + 1

    @task
    def collect(xs: list[int]) -> list[int]:
        return xs

    with Flow("flat") as flow:
        lists = repeat.map([1, 2, 3])
        flat = inc.map(flatten(lists))
        reduced = collect(flatten(lists))
        unflattened = collect(lists)
    state = flow.run()
    assert state.result[flat].result == [2, 3, 3, 4, 4, 4]
    assert len(state.result[flat].map_states) == 6
    assert state.result[reduced].result == [1, 2, 2, 3, 3, 3]
    assert state.result[unflattened].result == [[1], [2, 2], [3, 3, 3]]


def test_flatten_of_a_plain_tasks_list_of_lists_and_of_a_literal() -> None:
    """flatten works on an unmapped task's list of lists and on a literal, for map and reduce."""

    @task
    def nested() -> list[list[int]]:
        return [[1, 2], [3]]

    @task
    def inc(x: int) -> int:
        return x + 1

    @task
    def collect(xs: list[int]) -> list[int]:
        return xs

    with Flow("flat2") as flow:
        mapped_over_task = inc.map(flatten(nested()))
        mapped_over_literal = inc.map(flatten([[10], [20, 30]]))
        reduced = collect(flatten(nested()))
    state = flow.run()
    assert state.result[mapped_over_task].result == [2, 3, 4]
    assert state.result[mapped_over_literal].result == [11, 21, 31]
    assert state.result[reduced].result == [1, 2, 3]


def test_flatten_keeps_a_failed_child_as_one_failed_input() -> None:
    """Flattening a map in which one child failed: the failed child stands for itself, so its
    downstream child fails its trigger while the items of the other lists run."""

    @task
    def split(x: int) -> list[int]:
        if x == 0:
            raise ValueError("cannot split 0")
        return [x, x]

    @task
    def inc(x: int) -> int:
        return x + 1

    with Flow("flatfail") as flow:
        flat = inc.map(flatten(split.map([1, 0, 2])))
    parent = flow.run().result[flat]
    assert [type(s) for s in parent.map_states] == [
        Success,
        Success,
        TriggerFailed,
        Success,
        Success,
    ]
    assert [parent.result[i] for i in (0, 1, 3, 4)] == [2, 2, 3, 3]


def test_mapped_annotation_maps_in_a_plain_call() -> None:
    """`task(x=mapped(items))` maps over x just as `task.map(items)` does."""

    @task
    def add(x: int, y: int) -> int:
        return x + y

    with Flow("m2") as flow:
        result = add(x=mapped([1, 2]), y=5)
    assert flow.run().result[result].result == [6, 7]


def test_upstream_tasks_of_a_map_are_mapped_unless_unmapped() -> None:
    """As in Prefect 1, `upstream_tasks` of a `.map()` call are mapped too: child i waits for (and
    its trigger sees) upstream child i. `unmapped(...)` makes a whole-task dependency."""

    @task
    def inv(x: int) -> float:
        return 1 / x

    @task
    def report(x: int) -> int:
        return x

    @task
    def setup() -> None:
        return None

    with Flow("up") as flow:
        checks = inv.map([1, 0, 2])
        per_child = report.map([10, 20, 30], upstream_tasks=[checks])
        whole = report.map([10, 20, 30], upstream_tasks=[unmapped(setup())])
    state = flow.run()
    assert [type(s) for s in state.result[per_child].map_states] == [
        Success,
        TriggerFailed,
        Success,
    ]
    assert state.result[whole].result == [10, 20, 30]


def test_a_mapped_upstream_task_without_a_list_fails_the_map_naming_it() -> None:
    """A mapped upstream whose result is not a sequence fails the parent with Prefect 1's
    "unmappable result" message word for word; the state's result names the upstream and what
    to wrap in unmapped()."""

    @task
    def setup() -> None:
        return None

    @task
    def report(x: int) -> int:
        return x

    with Flow("bad-up") as flow:
        result = report.map([1, 2], upstream_tasks=[setup()])
    parent = flow.run().result[result]
    assert isinstance(parent, Failed)
    assert parent.message == "At least one upstream state has an unmappable result."
    assert isinstance(parent.result, TypeError)
    assert "upstream task <Task: setup>" in str(parent.result)
    assert "unmapped(" in str(parent.result)


def test_mapping_over_a_task_returning_a_non_sequence_fails_the_parent() -> None:
    """A mapped argument whose upstream returned a number: the parent fails, its result naming
    the argument."""

    @task
    def count() -> int:
        return 3

    @task
    def double(x: int) -> int:
        return 2 * x

    with Flow("bad") as flow:
        result = double.map(count())
    parent = flow.run().result[result]
    assert isinstance(parent, Failed)
    assert "argument 'x' got int" in str(parent.result)


@pytest.mark.parametrize("value", [5, "abc", {"a": 1}, (i for i in range(3))])
def test_mapping_over_a_literal_that_is_not_a_sequence_fails_at_bind(value: Any) -> None:
    """A literal that is not a list or tuple is rejected when the task is bound, before any run,
    naming the task and the argument and saying how to fix it."""

    @task
    def double(x: Any) -> Any:
        return x

    with Flow("bind"), pytest.raises(TypeError) as raised:
        double.map(value)
    message = str(raised.value)
    assert "<Task: double>" in message
    assert "argument 'x'" in message
    assert "unmapped(" in message


def test_unmapped_given_as_a_class_instead_of_a_value_fails_at_bind() -> None:
    """`add.map(xs, unmapped)` (the wrapper itself, not `unmapped(value)`) is a bind error that
    names the task and the argument."""

    @task
    def add(x: int, y: int) -> int:
        return x + y

    with Flow("cls"), pytest.raises(TypeError, match=r"<Task: add>.*'y'.*unmapped\(x\)"):
        add.map([1, 2], unmapped)


def test_unmapped_constant_in_upstream_tasks_becomes_an_unmapped_constant_task() -> None:
    """As in Prefect 1.4.1: a value that is not a task in upstream_tasks is wrapped as a
    Constant task; wrapped in unmapped() its edge is not mapped."""

    @task
    def add(x: int) -> int:
        return x

    with Flow("up-constant") as flow:
        mapped = add.map([1, 2], upstream_tasks=[unmapped(5)])
    edges = sorted((e.upstream_task.name, e.mapped) for e in flow.edges)
    assert edges == [("5", False), ("[1, 2]", True)]
    assert [s.result for s in flow.run().result[mapped].map_states] == [1, 2]


def test_a_value_in_upstream_tasks_becomes_a_constant_task_as_in_prefect() -> None:
    """Prefect 1.4.1 wraps a non-task in upstream_tasks (unmapped or not) as a constant task
    with a state-only edge: the map still runs once per item of its mapped argument."""

    @task
    def add(x: int) -> int:
        return x

    with Flow("up-values") as flow:
        once = add(1, upstream_tasks=[5, None])
        each = add.map([1, 2], upstream_tasks=[unmapped(5)])
    assert sorted(e.upstream_task.name for e in flow.edges_to(once)) == ["5", "None"]
    assert all(e.key is None and not e.mapped for e in flow.edges_to(once))
    state = flow.run()
    assert state.result[once].result == 1
    assert state.result[each].result == [1, 2]


def test_handlers_see_the_parent_then_each_child_with_its_index_and_context() -> None:
    """The parent's handler call has map_index None; each child's calls carry its map_index,
    `task_full_name` name[i], a task_run_id of its own and the parent's as parent_task_run_id."""
    rec = Recorder()

    @task(state_handlers=[rec])
    def work(x: int) -> int:
        return x

    with Flow("ids") as flow:
        work.map([1, 2, 3])
    flow.run()

    parent_ctx = rec.contexts[0]
    assert parent_ctx["map_index"] is None
    assert parent_ctx["task_full_name"] == "work"
    parent_id = parent_ctx["task_run_id"]
    uuid.UUID(parent_id)
    child_ids: dict[int, set[str]] = {}
    for ctx in rec.contexts[1:]:
        index = ctx["map_index"]
        assert ctx["task_full_name"] == f"work[{index}]"
        assert ctx["parent_task_run_id"] == parent_id
        assert ctx["flow_run_id"] == parent_ctx["flow_run_id"]
        child_ids.setdefault(index, set()).add(ctx["task_run_id"])
    assert sorted(child_ids) == [0, 1, 2]
    assert all(len(ids) == 1 for ids in child_ids.values())  # one id per child, for all calls
    distinct = {next(iter(ids)) for ids in child_ids.values()}
    assert len(distinct) == 3 and parent_id not in distinct


def test_a_value_the_parents_handler_puts_in_context_reaches_every_child() -> None:
    """A mapped child's context starts as a copy of its parent's after the parent's handlers ran
    (the contract the OpenTelemetry bridge relies on for parent spans)."""
    seen: list[Any] = []

    def mark(obj: Any, old: State, new: State) -> State:
        if new.is_mapped():
            flowlight.context["marker"] = "from-parent"
        return new

    @task(state_handlers=[mark])
    def work(x: int) -> int:
        seen.append(flowlight.context.get("marker"))
        return x

    with Flow("inherit") as flow:
        work.map([1, 2])
    flow.run()
    assert seen == ["from-parent", "from-parent"]


def test_children_retry_on_their_own() -> None:
    """Each child runs the task's full state machine, retries included, independently."""
    from _recording import FakeClock

    from flowlight.engine.clock import use_clock

    attempts: dict[int, int] = {}
    rec = Recorder()

    @task(max_retries=1, retry_delay=5, state_handlers=[rec])
    def flaky(x: int) -> int:
        attempts[x] = attempts.get(x, 0) + 1
        if x == 2 and attempts[x] == 1:
            raise ValueError("first try")
        return x

    with Flow("retry") as flow:
        result = flaky.map([1, 2])
    with use_clock(FakeClock()):
        state = flow.run()
    assert state.result[result].result == [1, 2]
    assert attempts == {1: 1, 2: 2}
    assert rec.of("<Task: flaky>[1]")[2] == (
        "<Task: flaky>[1]: Failed(\"Error during execution of task: ValueError('first try')\") "
        '-> Retrying("Retrying Task (after attempt 1 of 2)")'
    )


class _RecordingExecutor(Executor):
    """Runs submissions in order but remembers them: proves children go through the executor."""

    def __init__(self) -> None:
        self.inner = LocalExecutor()
        self.submitted: list[Any] = []

    def submit(self, fn: Any, *args: Any, **kwargs: Any) -> RunFuture:
        context = args[3] if len(args) > 3 else {}
        self.submitted.append((args[0].name, context.get("map_index")))
        return self.inner.submit(fn, *args, **kwargs)

    def wait_any(self, futures: Any) -> list[RunFuture]:
        return self.inner.wait_any(futures)


def test_children_are_submitted_to_the_flows_executor() -> None:
    """Each child is its own submission to the executor, so parallel executors run them at once;
    the parent itself is decided in the flow runner and is not submitted."""

    @task
    def work(x: int) -> int:
        return x

    with Flow("exec") as flow:
        work.map([1, 2, 3])
    executor = _RecordingExecutor()
    flow.run(executor=executor)
    assert executor.submitted == [("work", 0), ("work", 1), ("work", 2)]


def test_a_mapped_task_given_a_finished_state_is_not_run_again() -> None:
    """`task_states` with a finished Mapped state for a mapped task: its children do not rerun."""
    ran: list[int] = []

    @task
    def work(x: int) -> int:
        ran.append(x)
        return x

    with Flow("given") as flow:
        result = work.map([1, 2])
    previous = Mapped("done", result=[7, 8], map_states=[Success(result=7), Success(result=8)])
    state = flow.run(task_states={result: previous})
    assert ran == []
    assert state.result[result] is previous


def test_a_second_pass_reruns_only_the_mapped_children_left_retrying() -> None:
    """FlowRunner.run makes one pass, so a child that failed with retries left ends Retrying and
    its parent stays Mapped. Given those states back, the next pass keeps the finished children
    and runs the Retrying one again (with its upstream's current value), as Prefect 1 does."""
    calls: list[float] = []

    @task
    def numbers() -> list[float]:
        return [0.0, 1.0, 2.0]

    @task(max_retries=1, retry_delay=datetime.timedelta(0))
    def invert(x: float) -> float:
        calls.append(x)
        return 1 / x

    @task
    def same(x: float) -> float:
        return x

    with Flow("retry-map") as flow:
        got = numbers()
        inverted = invert.map(got)
        passed_on = same.map(inverted)

    first = FlowRunner(flow).run(return_tasks=flow.tasks)
    assert first.is_running()
    assert first.result[inverted].map_states[0].is_retrying()
    assert first.result[passed_on].map_states[0].is_pending()

    first.result[got].result[0] = 0.5
    second = FlowRunner(flow).run(task_states=first.result, return_tasks=flow.tasks)
    assert second.is_successful()
    assert second.result[inverted].result == [2.0, 1.0, 0.5]
    assert second.result[passed_on].result == [2.0, 1.0, 0.5]
    assert calls == [0.0, 1.0, 2.0, 0.5]


def test_a_mapped_state_given_without_upstream_results_maps_none_over_its_children() -> None:
    """A Mapped state with unfinished children, given with an upstream state that holds no
    result: each child runs with None, one per child the Mapped state records (Prefect 1)."""

    @task
    def numbers() -> list[int]:
        return [1, 2, 3]

    @task
    def same(x: Any) -> Any:
        return x

    with Flow("no-results") as flow:
        got = numbers()
        result = same.map(got)
    state = FlowRunner(flow).run(
        task_states={got: Success(), result: Mapped(map_states=[Pending(), Pending()])},
        return_tasks=[result],
    )
    assert state.is_successful()
    assert state.result[result].result == [None, None]


def test_a_task_subclass_maps_like_a_function_task() -> None:
    """Mapping is a Task feature, not a decorator one: a Task subclass maps the same way."""

    class Square(Task):
        def run(self, x: int) -> int:  # type: ignore[override]
            return x * x

    with Flow("cls-map") as flow:
        result = Square().map([2, 3])
    state = flow.run()
    assert state.result[result].result == [4, 9]


def test_a_map_with_every_argument_unmapped_runs_once_as_a_plain_task() -> None:
    """With nothing left to map over, Prefect 1 runs the task once as an ordinary task, and so
    does flowlight: its state is a plain Success, not Mapped."""

    @task
    def add(x: int, y: int) -> int:
        return x + y

    with Flow("nothing-mapped") as flow:
        result = add.map(unmapped(1), y=unmapped(2))
    final = flow.run().result[result]
    assert repr(final) == 'Success("Task run succeeded.")'
    assert final.result == 3


def test_an_unmapped_flattened_argument_gives_every_child_the_flat_list() -> None:
    """`unmapped(flatten(nested))`: each child receives the whole list, flattened one level."""

    @task
    def nested() -> list[list[int]]:
        return [[1], [2, 3]]

    @task
    def count_with(x: int, everything: list[int]) -> int:
        return x * len(everything) + sum(everything)

    with Flow("unmapped-flat") as flow:
        result = count_with.map([1, 2], everything=unmapped(flatten(nested())))
    assert flow.run().result[result].result == [1 * 3 + 6, 2 * 3 + 6]


def test_a_handler_that_raises_on_the_parents_transition_fails_the_map_without_children() -> None:
    """The parent's Pending -> Mapped goes through the task's handlers like any transition: a
    handler that raises ends the parent Failed("Unexpected error while calling state handlers:
    ...") and no child runs."""
    ran: list[int] = []

    def refuse_mapping(obj: Any, old: State, new: State) -> State:
        if new.is_mapped():
            raise RuntimeError("no maps today")
        return new

    @task(state_handlers=[refuse_mapping])
    def work(x: int) -> int:
        ran.append(x)
        return x

    with Flow("refused") as flow:
        result = work.map([1, 2])
    state = flow.run()
    parent = state.result[result]
    assert repr(parent) == (
        "Failed(\"Unexpected error while calling state handlers: RuntimeError('no maps today')\")"
    )
    assert ran == []
    assert repr(state) == 'Failed("Some reference tasks failed.")'


def test_a_reduce_with_all_finished_receives_the_exception_of_a_failed_child() -> None:
    """With the all_finished trigger the reduce step runs despite a failed child and receives
    that child's result: the exception object, in its place in the list."""
    from flowlight.triggers import all_finished

    @task
    def inv(x: int) -> float:
        return 1 / x

    @task(trigger=all_finished)
    def describe(xs: list[Any]) -> list[str]:
        return [type(x).__name__ for x in xs]

    with Flow("collect") as flow:
        result = describe(inv.map([1, 0, 2]))
    assert flow.run().result[result].result == ["float", "ZeroDivisionError", "float"]


def test_a_skipped_child_skips_only_its_own_pipeline_and_the_reduce() -> None:
    """Prefect 1: over a mapped edge each child decides from its own upstream child, so one
    skipped child skips only the child it feeds; a reduce step sees every child and skips."""
    from flowlight.engine import signals
    from flowlight.engine.state import Skipped

    rec = Recorder()

    @task
    def maybe(x: int) -> int:
        if x == 2:
            raise signals.SKIP("skip 2")
        return x

    @task(state_handlers=[rec])
    def inc(x: int) -> int:
        return x + 1

    @task
    def total(xs: list[int]) -> int:
        return sum(xs)

    with Flow("skips") as flow:
        incremented = inc.map(maybe.map([1, 2, 3]))
        summed = total(incremented)
    state = flow.run()
    parent = state.result[incremented]
    assert isinstance(parent, Mapped)
    assert [type(s) for s in parent.map_states] == [Success, Skipped, Success]
    assert [parent.result[0], parent.result[2]] == [2, 4]
    assert rec.lines[0] == '<Task: inc>: Pending() -> Mapped("Ready to proceed with mapping.")'
    assert isinstance(state.result[summed], Skipped)
    assert state.is_successful()


def test_mapping_over_a_skipped_task_skips_the_parent_without_children() -> None:
    """A skipped upstream skips the whole mapped task (no children), as it would a plain task."""
    from flowlight.engine import signals
    from flowlight.engine.state import Skipped

    ran: list[int] = []

    @task
    def nothing() -> list[int]:
        raise signals.SKIP("no input today")

    @task
    def work(x: int) -> int:
        ran.append(x)
        return x

    with Flow("skip-all") as flow:
        result = work.map(nothing())
    parent = flow.run().result[result]
    assert isinstance(parent, Skipped) and not isinstance(parent, Mapped)
    assert ran == []


def test_a_map_maps_over_the_arguments_given_and_leaves_defaults_to_the_function() -> None:
    """Prefect 1.4.1 binds only the arguments given: a defaulted argument is neither mapped over
    nor bound as a constant, so `.map()` works on a task with defaults (function or subclass),
    and a default can still be mapped over or given unmapped explicitly."""

    @task
    def scale(x: int, factor: int = 10, offset: int = 0) -> int:
        return x * factor + offset

    class Shift(Task):
        def run(self, x: int, by: int = 100) -> int:  # type: ignore[override]
            return x + by

    with Flow("defaults") as flow:
        plain = scale.map([1, 2, 3])
        offsets = scale.map([1, 2], offset=[5, 6])
        doubled = scale.map([1, 2], factor=unmapped(2))
        shifted = Shift().map([1, 2])
    assert [e.key for e in flow.edges_to(plain)] == ["x"] and plain not in flow.constants
    state = flow.run()
    assert state.result[plain].result == [10, 20, 30]
    assert state.result[offsets].result == [15, 26]
    assert state.result[doubled].result == [2, 4]
    assert state.result[shifted].result == [101, 102]
