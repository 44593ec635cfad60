"""Building flows: the functional and imperative APIs, and bad input caught before any run."""

from __future__ import annotations

import typing

import pytest

from flowlight import Edge, Flow, Parameter, Task, task
from flowlight.engine.flow_runner import FlowRunner
from flowlight.engine.state import Success


@task
def add(x: int, y: int = 1) -> int:
    return x + y


def test_calling_a_task_in_a_flow_binds_a_copy_with_edges_and_constants() -> None:
    with Flow("f") as flow:
        a = add(1)
        b = add(a, y=10)
    assert a is not add and b is not a and len(flow.tasks) == 2
    assert [(e.upstream_task, e.key) for e in flow.edges_to(b)] == [(a, "x")]
    assert flow.constants[a] == {"x": 1}  # as in Prefect 1.4.1: a default is not bound
    assert flow.run().result[b].result == 12


def test_slugs_are_unique_within_a_flow_and_the_tasks_keep_their_own() -> None:
    """As in Prefect 1: a flow names each task "name-tags-N" in `flow.slugs`; a task's own
    `slug` stays what it was given (None by default)."""
    with Flow("f") as flow:
        first, second = add(1), add(2, task_args={"tags": ["b", "a"]})
    assert flow.slugs == {first: "add-1", second: "add-a-b-1"}
    assert first.slug is None and second.slug is None


def test_imperative_api_and_reference_tasks() -> None:
    a, b = Task(name="a"), Task(name="b")
    flow = Flow("f")
    flow.add_edge(a, b)
    assert flow.terminal_tasks() == {b} and flow.root_tasks() == {a}
    flow.set_reference_tasks([a])
    assert flow.reference_tasks() == {a}
    assert isinstance(flow.run(), Success)


def test_upstream_tasks_without_data() -> None:
    order: list[str] = []

    @task
    def step(name: str) -> None:
        order.append(name)

    with Flow("f") as flow:
        first = step("first")
        step("second", upstream_tasks=[first])
    flow.run()
    assert order == ["first", "second"]


def test_a_cycle_is_refused_by_validate_and_by_an_edge_added_with_validate_true() -> None:
    """As in Prefect 1, edges are not checked for cycles as they are added (that would make
    building a long flow quadratic) unless validate=True; validate(), which every run calls
    first, names the cycle."""
    a, b = Task(name="a"), Task(name="b")
    flow = Flow("cyclic")
    flow.add_edge(a, b)
    with pytest.raises(ValueError, match=r"Cycle found; .* <Task: b> to <Task: a> would close"):
        flow.add_edge(b, a, validate=True)
    assert flow.add_edge(b, a) in flow.edges
    with pytest.raises(ValueError, match=r"Cycle found; .* cycle among tasks \['a', 'b'\]"):
        flow.validate()
    with pytest.raises(ValueError, match=r"has a cycle"):
        flow.run()


def test_config_flows_eager_edge_validation_checks_each_edge_as_it_is_added() -> None:
    """Not told, add_edge asks config.flows.eager_edge_validation as Prefect 1 does, so a team
    can catch cycles where they are made while a flow is being written."""
    from flowlight.utilities.configuration import set_temporary_config

    a, b = Task(name="a"), Task(name="b")
    flow = Flow("eager")
    flow.add_edge(a, b)
    with set_temporary_config({"flows.eager_edge_validation": True}):
        with pytest.raises(ValueError, match=r"Cycle found; flows must be acyclic"):
            flow.add_edge(b, a)
        assert flow.add_edge(b, a, validate=False) in flow.edges


def test_a_flow_runner_still_names_a_cycle_made_behind_the_api() -> None:
    """FlowRunner is public and may run a flow nobody validated: tasks that never become ready
    end the run with the cycle error validate() would have raised."""
    a, b, c = Task(name="a"), Task(name="b"), Task(name="c")
    flow = Flow("cyclic")
    flow.add_edge(a, b)
    flow.add_edge(b, c)
    back = Edge(c, b)
    flow._upstream[b].append(back)
    flow._downstream[c].append(back)
    state = FlowRunner(flow).run()
    assert state.is_failed()
    assert isinstance(state.result, ValueError)
    assert "has a cycle among tasks ['b', 'c']" in str(state.result)


def test_a_task_of_another_flow_joins_the_flow_it_is_used_in_as_in_prefect_1() -> None:
    """Prefect 1.4.1 lets two flows share a task, however the second one was built: the task is
    added to the second flow without the edges it has in the first (here, its argument), and runs
    there as that flow holds it. Whether the first flow is still alive makes no difference."""
    with Flow("first") as first:
        a = add(1)
    with Flow("second") as second:
        b = add(a)
    assert a in first.tasks and {a, b} <= second.tasks
    states = second.run().result
    assert "missing 1 required positional argument: 'x'" in states[a].message
    assert states[b].is_failed() and "all_successful" in states[b].message
    assert first.run().result[a].result == 2


def test_an_edge_key_that_the_task_does_not_take_is_refused_when_validating() -> None:
    """As Prefect 1.4.1 (eager edge validation off by default): the key is checked when the
    edge is added with validate=True, and otherwise the run says which argument is unknown."""
    flow = Flow("f")
    with pytest.raises(TypeError, match=r"unexpected keyword argument 'z': it has no argument"):
        flow.add_edge(Task(name="up"), add.copy(), key="z", validate=True)
    down = add.copy()
    flow.add_edge(Task(name="up"), down, key="z")
    assert "unexpected keyword argument 'z'" in flow.run().result[down].message


def test_calling_a_task_with_arguments_it_does_not_take_fails_at_bind() -> None:
    with pytest.raises(TypeError, match=r"<Task: add> was called with arguments"):  # noqa: SIM117
        with Flow("f"):
            add(1, 2, 3)


def test_parameters_unknown_and_missing_fail_before_the_run_starts() -> None:
    ran: list[int] = []

    @task
    def record(x: int) -> None:
        ran.append(x)

    with Flow("p") as flow:
        record(Parameter("x"))
    with pytest.raises(ValueError, match=r"did not receive the following required parameters: x"):
        flow.run()
    with pytest.raises(ValueError, match=r"received the following unexpected parameters: y"):
        flow.run(parameters={"x": 1, "y": 2})
    assert ran == []
    flow.run(parameters={"x": 5})
    assert ran == [5]


def test_parameter_default_is_used_when_not_given() -> None:
    with Flow("p") as flow:
        x = Parameter("x", default=2)
        doubled = add(x, y=x)
    assert flow.run().result[doubled].result == 4
    assert flow.run(parameters={"x": 5}).result[x].result == 5


def test_a_trigger_that_is_not_callable_fails_at_construction() -> None:
    with pytest.raises(TypeError, match=r"Task 'load' has trigger='all'"):
        Task(name="load", trigger="all")  # type: ignore[arg-type]


def test_retries_without_a_delay_are_refused_with_the_fix() -> None:
    with pytest.raises(ValueError, match=r"retry_delay=datetime.timedelta"):
        Task(name="t", max_retries=2)


def test_nout_unpacks_results() -> None:
    @task(nout=2)
    def pair() -> tuple[int, int]:
        return 1, 2

    with Flow("f") as flow:
        a, b = pair()
    state = flow.run()
    assert (state.result[a].result, state.result[b].result) == (1, 2)


def test_a_with_flow_block_has_its_own_context_holding_the_flow() -> None:
    """As in Prefect 1: `flowlight.context.flow` is the flow of the block, and what the block
    writes to the context is gone after it (nested blocks each have their own)."""
    import flowlight

    with Flow("outer") as outer:
        assert flowlight.context.get("flow") is outer
        flowlight.context.note = "outer"
        with Flow("inner") as inner:
            assert flowlight.context.get("flow") is inner
            flowlight.context.note = "inner"
        assert flowlight.context.note == "outer"
    assert "note" not in flowlight.context and "flow" not in flowlight.context


def test_validate_false_skips_the_edge_checks_and_the_run_still_refuses_a_cycle() -> None:
    first, second = Task(name="first"), Task(name="second")
    flow = Flow("f")
    flow.add_edge(first, second, key="x", validate=False)  # Task.run takes no x
    flow.add_edge(second, first, validate=False)  # a cycle
    assert len(flow.edges) == 2
    with pytest.raises(ValueError, match="cycle"):
        flow.run()
    a, b = Task(name="a"), Task(name="b")
    with pytest.raises(ValueError, match="cycle"):
        Flow("g", edges=[Edge(a, b), Edge(b, a)], validate=True)
    assert len(Flow("h", edges=[Edge(a, b), Edge(b, a)], validate=False).edges) == 2


def test_one_task_may_be_in_several_flows_through_the_imperative_api() -> None:
    """Prefect 1 lets one task instance be in many flows, each with its own edges."""
    up, down = Task(name="up"), Task(name="down")
    one, two = Flow("one"), Flow("two")
    for flow in (one, two):
        flow.add_edge(up, down)
    assert one.edges == two.edges and len(one.edges) == 1


def test_eager_edge_validation_setting_makes_every_edge_checked_when_added() -> None:
    """`config.flows.eager_edge_validation` (off by default) is what `add_edge(validate=None)`
    uses, so a program can have cycles and bad keys refused where they are made."""
    from flowlight import config
    from flowlight.utilities.configuration import set_temporary_config

    assert config.flows.eager_edge_validation is False
    a, b = Task(name="a"), Task(name="b")
    relaxed = Flow("relaxed")
    relaxed.add_edge(a, b)
    relaxed.add_edge(b, a)  # accepted now; validate() finds it
    with pytest.raises(ValueError, match="Cycle found"):
        relaxed.validate()
    with set_temporary_config({"flows.eager_edge_validation": True}):
        eager = Flow("eager")
        eager.add_edge(a, b)
        with pytest.raises(ValueError, match="cycle"):
            eager.add_edge(b, a)
        with pytest.raises(TypeError, match="no argument 'x'"):
            eager.add_edge(a, Task(name="c"), key="x")
        eager.add_edge(b, Task(name="d"), validate=False)  # an explicit False still wins


def test_replacing_a_parameter_with_a_value_makes_it_a_constant_of_the_copy_only() -> None:
    """A value put in place of a task that fed an argument becomes a constant of the task it
    fed, just as a value given in the call would; the flow it was copied from is unchanged."""
    with Flow("f") as original:
        x = Parameter("x")
        total = add(x, y=2)
    copied = original.copy()
    copied.replace(x, 40)
    assert copied.constants[total] == {"x": 40, "y": 2}
    assert original.constants[total] == {"y": 2}
    assert copied.run().result[total].result == 42
    assert original.run(x=1).result[total].result == 3


def test_run_on_schedule_setting_decides_when_run_is_not_told() -> None:
    """`flow.run()` follows the flow's schedule unless `run_on_schedule=False` or the setting
    `flows.run_on_schedule` is false."""
    import pendulum

    from flowlight.schedules import Schedule
    from flowlight.schedules.clocks import DatesClock
    from flowlight.utilities.configuration import set_temporary_config

    calls: list[int] = []

    @task
    def note() -> None:
        calls.append(1)

    past_only = Schedule(clocks=[DatesClock([pendulum.now("UTC").subtract(days=1)])])
    flow = Flow("f", tasks=[note], schedule=past_only)
    with pytest.raises(ValueError, match="no more scheduled runs"):
        flow.run()
    with set_temporary_config({"flows.run_on_schedule": False}):
        assert flow.run().is_successful()
    assert calls == [1]


def test_a_flow_saved_before_terminal_state_handler_existed_still_runs() -> None:
    """A flow unpickled from an older save has no `terminal_state_handler` attribute."""
    flow = Flow("old", tasks=[Task(name="t")])
    del flow.__dict__["terminal_state_handler"]
    assert flow.run().is_successful()


def test_asking_about_a_task_the_flow_does_not_hold_names_it_and_the_flow() -> None:
    """edges_to/from, upstream/downstream_tasks, sorted_tasks(root_tasks=...) and replace all
    refuse a stranger with Prefect 1's "was not found in Flow" wording."""
    held, stranger = Task(name="held"), Task(name="stranger")
    flow = Flow("f", tasks=[held])
    for ask in (
        flow.edges_to,
        flow.edges_from,
        flow.upstream_tasks,
        flow.downstream_tasks,
        lambda t: flow.sorted_tasks(root_tasks=[t]),
        lambda t: flow.replace(t, held),
    ):
        with pytest.raises(
            ValueError, match="<Task: stranger> was not found in Flow <Flow: name=f>"
        ):
            ask(stranger)


def test_run_refuses_return_tasks_and_being_called_inside_its_own_block() -> None:
    """flow.run() always returns every task's state, so return_tasks is refused (ValueError,
    as in Prefect 1); and it cannot run a flow whose `with` block is still open."""
    flow = Flow("f", tasks=[Task(name="t")])
    with pytest.raises(ValueError, match="`return_tasks` keyword cannot be provided"):
        flow.run(return_tasks=flow.tasks)
    with flow, pytest.raises(RuntimeError, match=r"`flow.run\(\)` from within a `Flow`"):
        flow.run()


@pytest.mark.parametrize(
    ("misuse", "kind", "prefect_words"),
    [
        (lambda: Flow(""), ValueError, "A name must be provided for the flow"),
        (
            lambda: Flow("f").add_task(1),
            TypeError,
            r"Tasks must be Task instances \(received <class 'int'>\)",
        ),
        (lambda: Flow("f").edges_to(Task()), ValueError, "was not found in Flow <Flow: name=f>"),
        (
            lambda: Flow("f").replace(Task(), Task()),
            ValueError,
            "was not found in Flow <Flow: name=f>",
        ),
        (
            lambda: Flow("f", tasks=[Task(slug="a"), Task(slug="a")]),
            ValueError,
            'A task with the slug "a" already exists in this flow',
        ),
        (
            lambda: Flow("f").run(return_tasks=[]),
            ValueError,
            r"The `return_tasks` keyword cannot be provided to `flow.run\(\)`",
        ),
    ],
)
def test_flow_misuse_errors_carry_prefect_1s_words(
    misuse: typing.Callable[[], object], kind: type[Exception], prefect_words: str
) -> None:
    """Each error keeps Prefect 1's exception type and key phrase, for code that matches on it."""
    with pytest.raises(kind, match=prefect_words):
        misuse()


def test_running_a_flow_inside_its_with_block_says_so_in_prefect_1s_words() -> None:
    """Prefect 1's RuntimeError for flow.run() inside the `with Flow` block; ours also shows
    where the call belongs."""
    with Flow("early") as flow, pytest.raises(RuntimeError) as raised:
        flow.run()
    assert raised.match(r"Don't call `flow.run\(\)` from within a `Flow` context manager")
    assert raised.match(r"with Flow\('early'\) as flow")


def test_binding_an_argument_twice_is_refused_in_prefect_1s_words() -> None:
    """With validation on, a second edge for an argument already bound fails with Prefect 1's
    "has already been assigned in this flow", naming the flow and the fix."""
    flow = Flow("twice")
    down = add.copy()
    flow.add_edge(Task(name="one"), down, key="x", validate=True)
    with pytest.raises(ValueError, match=r"already been assigned in this flow \('twice'\)"):
        flow.add_edge(Task(name="two"), down, key="x", validate=True)
